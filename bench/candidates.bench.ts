// GET /orders/:id/candidates latency with 50,000 volunteers, one organisation
// holding 5,000 of them. See bench/README.md.
//
//   npm run bench:candidates                                          (builds first)
//   node -r ./test/support/register-ts.js bench/candidates.bench.ts   (uses the dist/ already built)
//
// Only 127.0.0.1 is targeted; every child process is ended at the end; the run
// is bounded by BENCH_TIMEOUT_S. The result is printed and appended to bench/RESULTS.md.

import { TOPICS as TOPIC_CATALOGUE } from '@kepu/core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'pg';
import { orderBody, preferredWindow } from '../test/support/order-body';
import { cpuDelta, cpuSnapshot } from './support/cpu';
import { fireRecording, type RecordedLoad } from './support/load';
import {
  createBenchDatabase,
  createChildren,
  envInt,
  expectStatus,
  httpRequest,
  type Json,
  log,
  type BenchChild,
  percentile,
  requireBuilt,
  ROOT,
  runMain,
  TS_NODE_ARGS,
  withPg,
  benchPlatform,
} from './support/harness';

const env = process.env;
const int = envInt;

const CONFIG = {
  ...benchPlatform({ database: 'kepu_bench_candidates', apiPort: 3104, redisDb: 9, queuePrefix: '{kepu-bench-candidates}' }),
  volunteers: int('BENCH_VOLUNTEERS', 50_000),
  bigOrganization: int('BENCH_BIG_ORGANIZATION', 5_000),
  otherOrganizations: int('BENCH_OTHER_ORGANIZATIONS', 45),
  pastOrders: int('BENCH_PAST_ORDERS', 20_000),
  venues: int('BENCH_VENUES', 3_000),
  durationS: int('BENCH_DURATION_S', 10),
  warmupS: int('BENCH_WARMUP_S', 3),
  connections: int('BENCH_CONNECTIONS', 10),
  aimP95Ms: 100,
  timeoutS: int('BENCH_TIMEOUT_S', 900),
  // Set to a directory to write a CPU profile of the API taken during the measured 10-connection run.
  cpuProfDir: env.BENCH_CPU_PROF_DIR || '',
  // SQL run on the bench database after seeding, for what-if experiments (an extra index...).
  setupSql: env.BENCH_SETUP_SQL || '',
  results: env.BENCH_RESULTS_FILE || path.join(__dirname, 'RESULTS.md'),
  logDir: path.join(ROOT, 'test-output', 'bench'),
};
const DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${CONFIG.database}`;
const ADMIN = { username: 'admin', password: 'bench-admin-pass-1' };
const PASSWORD = 'bench-user-pass-1';
// 海淀区: 学院路街道's first community orders; the organisation serves the district.
const DISTRICT = '110108';
const COMMUNITY = '110108001001';
const TOPICS = TOPIC_CATALOGUE.map((t) => t.code);

const { startChild, stopChild, killAllNow, waitForHttp } = createChildren({ root: ROOT, logDir: CONFIG.logDir, env });
const request = (method: string, urlPath: string, options: Parameters<typeof httpRequest>[3] = {}) => httpRequest(CONFIG.apiPort, method, urlPath, { timeoutMs: 30_000, ...options });
const waitForApi = (child: BenchChild, timeoutMs: number) => waitForHttp('the API', child, CONFIG.apiPort, timeoutMs, [200, 503]);

function appEnv(): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'production',
    DATABASE_URL,
    REDIS_URL: CONFIG.redisUrl,
    QUEUE_PREFIX: CONFIG.queuePrefix,
    JWT_SECRET: CONFIG.jwtSecret,
    BOOTSTRAP_ADMIN_USERNAME: ADMIN.username,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    // one login serves the whole run, which may outlast the 15-minute default
    ACCESS_TOKEN_TTL_SECONDS: '3600',
    LOG_LEVEL: 'warn',
  };
}

/** The order's preferred window: two weeks ahead, 09:00–11:00 in Beijing. */
interface EventWindow {
  start: Date;
  end: Date;
}

function eventWindow(): EventWindow {
  const { start, end } = preferredWindow(14);
  return { start: new Date(start), end: new Date(end) };
}

interface Walk {
  order: Json;
  organizationId: string;
  orgAdmin: string;
}

/** Through the API, as users would: accounts of every role the walk needs, then an order accepted by the big organisation. */
async function acceptedOrder(window: EventWindow): Promise<Walk> {
  const admin: string = (await expectStatus('admin login', request('POST', '/auth/login', { body: ADMIN }), [200])).accessToken;
  const as = (token: string) => ({ post: (p: string, body: unknown): Promise<Json> => expectStatus(`POST ${p}`, request('POST', p, { token, body }), [200, 201]) });
  const department = await as(admin).post('/departments', { name: '海淀区科协', districtCode: DISTRICT, topics: ['anti_fraud'] });
  const organization = await as(admin).post('/organizations', { name: '海淀科普志愿服务总队', districtCodes: [DISTRICT] });
  const user = async (username: string, role: string, scope: Record<string, string>): Promise<string> => {
    await as(admin).post('/users', { username, password: PASSWORD, displayName: username, role, ...scope });
    return (await expectStatus(`${username} login`, request('POST', '/auth/login', { body: { username, password: PASSWORD } }), [200])).accessToken;
  };
  const resident = await user('bench-resident', 'resident', { communityCode: COMMUNITY });
  const staff = await user('bench-staff', 'community_staff', { communityCode: COMMUNITY });
  const dept = await user('bench-dept', 'department_staff', { departmentId: department.id });
  const orgAdmin = await user('bench-org', 'org_admin', { organizationId: organization.id });
  let order = await as(resident).post(
    '/orders',
    orderBody(COMMUNITY, {
      description: 'A talk on phone scams for the elderly of our community, about 60 people.',
      preferredWindows: [{ start: window.start.toISOString(), end: window.end.toISOString() }],
      contactName: '王老师',
    }),
  );
  order = await as(staff).post(`/orders/${order.id}/dispatch`, { departmentId: department.id });
  order = await as(dept).post(`/orders/${order.id}/claim`, {});
  order = await as(dept).post(`/orders/${order.id}/offer`, { organizationId: organization.id });
  order = await as(orgAdmin).post(`/orders/${order.id}/accept`, {});
  if (order.status !== 'accepted') throw new Error(`order walk ended in ${order.status}`);
  return { order, organizationId: organization.id, orgAdmin };
}

/**
 * 50,000 volunteers with generate_series: the big organisation's 5,000 live in
 * the order's district, the others' anywhere in Beijing. Each has about three
 * skills, two or three weekly windows, a weekly cap; some are inactive, some
 * away; past events with hours, ratings and no-shows; assignments in the
 * slot's week (a few overlapping the slot); venues across the city, a few booked.
 */
async function seed(pg: Client, { order, organizationId }: Walk, window: EventWindow): Promise<Record<string, number>> {
  const t0 = Date.now();
  await pg.query('BEGIN');
  await pg.query(
    `INSERT INTO organizations (name) SELECT '科普志愿服务队 ' || g FROM generate_series(1, $1) g`,
    [CONFIG.otherOrganizations],
  );
  await pg.query(
    `INSERT INTO organization_districts (organization_id, district_code)
     SELECT o.id, d.code
     FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM organizations WHERE id <> $1) o
     JOIN (SELECT code, row_number() OVER (ORDER BY code) - 1 AS n FROM districts WHERE province_code = '11') d ON d.n = o.n % 16`,
    [organizationId],
  );
  // Communities numbered 0..n-1 overall and inside the order's district, for deterministic spreading.
  await pg.query(`CREATE TEMP TABLE bench_communities AS SELECT code, subdistrict_code, district_code, row_number() OVER (ORDER BY code) - 1 AS n FROM communities`);
  await pg.query(`CREATE TEMP TABLE bench_district_communities AS SELECT code, subdistrict_code, district_code, row_number() OVER (ORDER BY code) - 1 AS n FROM communities WHERE district_code = $1`, [DISTRICT]);
  await pg.query(`CREATE TEMP TABLE bench_orgs AS SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM organizations WHERE id <> $1`, [organizationId]);
  const communityCount = (await pg.query<{ all: number }>(`SELECT count(*)::int AS all FROM bench_communities`)).rows[0]?.all;
  const districtCommunityCount = (await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM bench_district_communities`)).rows[0]?.n;

  const weekdays = `jsonb_build_array(
      jsonb_build_object('weekday', 1 + g % 7, 'start', '08:00', 'end', '18:00'),
      jsonb_build_object('weekday', 1 + (g / 7) % 7, 'start', '13:00', 'end', '21:00'),
      jsonb_build_object('weekday', 6 + g % 2, 'start', '09:00', 'end', '12:00'))`;
  const common = `'志愿者 ' || g, '139' || lpad((g % 100000000)::text, 8, '0'),
      c.code, c.subdistrict_code, c.district_code,
      CASE g % 5 WHEN 0 THEN ARRAY['elderly','general'] WHEN 1 THEN ARRAY['youth'] WHEN 2 THEN ARRAY['farmers','workers'] WHEN 3 THEN ARRAY['elderly'] ELSE ARRAY['new_economy_workers','general'] END,
      ARRAY['lecture','consultation'], ARRAY['zh'], ${weekdays},
      CASE WHEN g % 50 = 0 THEN jsonb_build_array(jsonb_build_object('start', $2::timestamptz - interval '1 day', 'end', $2::timestamptz + interval '1 day')) ELSE '[]'::jsonb END,
      4 + g % 17, g % 20 <> 0`;
  const columns = `organization_id, display_name, phone, home_community_code, home_subdistrict_code, home_district_code,
      audiences, formats, languages, availability, unavailable, max_hours_per_week, is_active`;
  await pg.query(
    `INSERT INTO volunteers (${columns})
     SELECT $1, ${common} FROM generate_series(1, $3) g JOIN bench_district_communities c ON c.n = g % $4`,
    [organizationId, window.start, CONFIG.bigOrganization, districtCommunityCount],
  );
  await pg.query(
    `INSERT INTO volunteers (${columns})
     SELECT o.id, ${common}
     FROM generate_series($3 + 1, $1::int) g
     JOIN bench_communities c ON c.n = (g * 7919) % $4
     JOIN bench_orgs o ON o.n = g % $5`,
    [CONFIG.volunteers, window.start, CONFIG.bigOrganization, communityCount, CONFIG.otherOrganizations],
  );
  // About three of the thirteen topics each, levels 1–3.
  await pg.query(
    `INSERT INTO volunteer_skills (volunteer_id, topic, level)
     SELECT v.id, t.code, 1 + abs(hashtext(v.id::text || t.code)) % 3
     FROM volunteers v CROSS JOIN unnest($1::text[]) AS t(code)
     WHERE abs(hashtext(t.code || v.id::text)) % 13 < 3`,
    [TOPICS],
  );
  await pg.query(
    `INSERT INTO volunteer_skills (volunteer_id, topic, level)
     SELECT v.id, 'health', 1 FROM volunteers v WHERE NOT EXISTS (SELECT 1 FROM volunteer_skills s WHERE s.volunteer_id = v.id)`,
  );

  // Past events: copies of the order, completed and rated.
  const { rows: orderColumns } = await pg.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'orders' AND column_name NOT IN ('id', 'code', 'status', 'rating') ORDER BY ordinal_position`,
  );
  const copied = orderColumns.map((c) => c.column_name).join(', ');
  await pg.query(
    `INSERT INTO orders (code, status, rating, ${copied})
     SELECT 'KPBENCH' || lpad(g::text, 8, '0'), 'rated', jsonb_build_object('content', 4, 'volunteers', 1 + g % 5, 'punctuality', 5), ${copied}
     FROM orders o, generate_series(1, $2) g WHERE o.id = $1`,
    [order.id, CONFIG.pastOrders],
  );
  await pg.query(`CREATE TEMP TABLE bench_past AS SELECT id, row_number() OVER (ORDER BY code) - 1 AS n FROM orders WHERE code LIKE 'KPBENCH%'`);
  await pg.query(`CREATE TEMP TABLE bench_volunteers AS SELECT id, organization_id, row_number() OVER (ORDER BY created_at, id) - 1 AS n FROM volunteers`);
  // 0–7 past service records each over the last 180 days, one in twenty a no-show.
  await pg.query(
    `INSERT INTO service_records (order_id, volunteer_id, event_start, event_end, check_in_at, check_out_at, hours, is_no_show)
     SELECT p.id, v.id, s.at, s.at + interval '2 hours',
            CASE WHEN (v.n + k) % 20 = 0 THEN NULL ELSE s.at END,
            CASE WHEN (v.n + k) % 20 = 0 THEN NULL ELSE s.at + interval '2 hours' END,
            CASE WHEN (v.n + k) % 20 = 0 THEN 0 ELSE 2 END,
            (v.n + k) % 20 = 0
     FROM bench_volunteers v
     CROSS JOIN generate_series(0, 6) k
     JOIN bench_past p ON p.n = (v.n * 7 + k * 13) % $1
     CROSS JOIN LATERAL (SELECT now() - ((k * 23 + v.n % 20) || ' days')::interval AS at) s
     WHERE k < v.n % 8`,
    [CONFIG.pastOrders],
  );
  // In the slot's week: one 2-hour assignment for three in ten, on their own weekday afternoon;
  // one in twenty-five also holds the slot's morning (busy).
  await pg.query(
    `INSERT INTO assignments (order_id, volunteer_id, organization_id, during, status)
     SELECT p.id, v.id, v.organization_id, tstzrange(d.at, d.at + interval '2 hours'), 'confirmed'
     FROM bench_volunteers v
     JOIN bench_past p ON p.n = v.n % $1
     CROSS JOIN LATERAL (SELECT $2::timestamptz + (((v.n % 7) - 3) || ' days')::interval + interval '5 hours' AS at) d
     WHERE v.n % 10 < 3`,
    [CONFIG.pastOrders, window.start],
  );
  await pg.query(
    `INSERT INTO assignments (order_id, volunteer_id, organization_id, during, status)
     SELECT p.id, v.id, v.organization_id, tstzrange($2::timestamptz + interval '30 minutes', $2::timestamptz + interval '90 minutes'), 'invited'
     FROM bench_volunteers v JOIN bench_past p ON p.n = (v.n + 1) % $1
     WHERE v.n % 25 = 0`,
    [CONFIG.pastOrders, window.start],
  );
  // Last month's assignments, ended: history the query must step over.
  await pg.query(
    `INSERT INTO assignments (order_id, volunteer_id, organization_id, during, status)
     SELECT p.id, v.id, v.organization_id, tstzrange(now() - ((v.n % 30 + 1) || ' days')::interval, now() - ((v.n % 30 + 1) || ' days')::interval + interval '2 hours'),
            (ARRAY['confirmed','declined','cancelled'])[1 + v.n % 3]
     FROM bench_volunteers v JOIN bench_past p ON p.n = (v.n + 2) % $1`,
    [CONFIG.pastOrders],
  );
  // Venues across the city; one in ten in the order's district; some booked over the slot.
  await pg.query(
    `INSERT INTO venues (name, owner_type, owner_id, community_code, subdistrict_code, district_code, kind, capacity, accessibility)
     SELECT '场地 ' || g, 'city', NULL, c.code, c.subdistrict_code, c.district_code,
            (ARRAY['science_base','practice_station','community_room','school','museum','other'])[1 + g % 6],
            (ARRAY[30, 50, 80, 120, 200, 500])[1 + g % 6],
            CASE WHEN g % 3 = 0 THEN ARRAY[]::text[] ELSE ARRAY['wheelchair'] END
     FROM generate_series(1, $1) g
     JOIN bench_communities c ON c.n = (g * 104729) % $2
     UNION ALL
     SELECT '区内场地 ' || g, 'community', c.code, c.code, c.subdistrict_code, c.district_code, 'community_room',
            (ARRAY[40, 60, 100, 150])[1 + g % 4], CASE WHEN g % 4 = 0 THEN ARRAY[]::text[] ELSE ARRAY['wheelchair','large_print'] END
     FROM generate_series(1, $1 / 10) g
     JOIN bench_district_communities c ON c.n = g % $3`,
    [CONFIG.venues, communityCount, districtCommunityCount],
  );
  await pg.query(
    `INSERT INTO bookings (venue_id, order_id, during, status)
     SELECT v.id, p.id, tstzrange($2::timestamptz, $2::timestamptz + interval '2 hours'), 'active'
     FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM venues WHERE district_code = $3) v
     JOIN bench_past p ON p.n = v.n
     WHERE v.n % 5 = 0 AND v.n < $1`,
    [CONFIG.pastOrders, window.start, DISTRICT],
  );
  await pg.query('COMMIT');
  // A live database has planner statistics and a visibility map (autovacuum); one seeded a second ago has neither.
  await pg.query('VACUUM ANALYZE');
  const { rows: [counts] } = await pg.query<Record<string, number>>(
    `SELECT (SELECT count(*) FROM volunteers)::int AS volunteers,
            (SELECT count(*) FROM volunteers WHERE organization_id = $1)::int AS in_organization,
            (SELECT count(*) FROM volunteer_skills s JOIN volunteers v ON v.id = s.volunteer_id WHERE v.organization_id = $1 AND s.topic = 'anti_fraud')::int AS skilled_in_topic,
            (SELECT count(*) FROM volunteer_skills)::int AS skills,
            (SELECT count(*) FROM assignments)::int AS assignments,
            (SELECT count(*) FROM service_records)::int AS service_records,
            (SELECT count(*) FROM orders)::int AS orders,
            (SELECT count(*) FROM venues)::int AS venues,
            (SELECT count(*) FROM venues WHERE district_code = $2)::int AS venues_in_district,
            (SELECT count(*) FROM bookings)::int AS bookings`,
    [organizationId, DISTRICT],
  );
  if (!counts) throw new Error('no counts');
  log(`seeded in ${((Date.now() - t0) / 1000).toFixed(1)}s: ${JSON.stringify(counts)}`);
  return counts;
}

const fire = (urlPath: string, token: string, durationS: number, connections = CONFIG.connections): Promise<RecordedLoad> =>
  fireRecording(CONFIG.apiPort, urlPath, token, durationS, connections);

async function main(): Promise<void> {
  const started = Date.now();
  requireBuilt(['dist/apps/api/src/main.js', 'dist/apps/worker/src/main.js', 'dist/apps/cli/src/main.js'], 'npm run bench:candidates');
  await createBenchDatabase(CONFIG.pgAdminUrl, CONFIG.database, appEnv());
  const window = eventWindow();
  const apiArgs: string[] = [];
  if (CONFIG.cpuProfDir) {
    fs.mkdirSync(CONFIG.cpuProfDir, { recursive: true });
    apiArgs.push(...TS_NODE_ARGS, '--require', path.join(__dirname, 'support', 'cpu-profile.ts'));
  }
  apiArgs.push('dist/apps/api/src/main.js');
  const api = startChild('api-candidates', apiArgs, { ...appEnv(), PORT: String(CONFIG.apiPort), BENCH_CPU_PROF_DIR: CONFIG.cpuProfDir }, { ipc: Boolean(CONFIG.cpuProfDir) });
  await waitForApi(api, 60_000);
  // The worker beside the API, as `npm start` runs them: it fans out the walk's and the seed's messages meanwhile.
  const worker = startChild('worker-candidates', ['dist/apps/worker/src/main.js'], appEnv());
  const walk = await acceptedOrder(window);
  const counts = await withPg(DATABASE_URL, (pg) => seed(pg, walk, window));
  if (CONFIG.setupSql) {
    log(`BENCH_SETUP_SQL: ${CONFIG.setupSql}`);
    await withPg(DATABASE_URL, (pg) => pg.query(CONFIG.setupSql));
  }

  const query = new URLSearchParams({ start: window.start.toISOString(), end: window.end.toISOString() });
  const urlPath = `/orders/${walk.order.id}/candidates?${query}`;
  const first = await expectStatus('GET candidates', request('GET', urlPath, { token: walk.orgAdmin }), [200]);
  if (first.volunteers.length === 0 || first.venues.length === 0) throw new Error(`no candidates: ${JSON.stringify(first).slice(0, 300)}`);
  log(`first answer: ${first.volunteers.length} volunteers (best ${first.volunteers[0].score}), ${first.venues.length} venues`);

  log(`warm-up ${CONFIG.warmupS}s`);
  await fire(urlPath, walk.orgAdmin, CONFIG.warmupS);
  log('one client alone, 5s');
  const single = await fire(urlPath, walk.orgAdmin, 5, 1);
  const singleSorted = [...single.latencies].sort((a, b) => a - b);
  log(`measuring: ${CONFIG.connections} connections, ${CONFIG.durationS}s`);
  const cpuBefore = await cpuSnapshot(DATABASE_URL, CONFIG.database, api.pid);
  const load = os.loadavg()[0] ?? 0;
  if (CONFIG.cpuProfDir) api.send('cpu-profile:start');
  const { result, latencies } = await fire(urlPath, walk.orgAdmin, CONFIG.durationS);
  const cpu = cpuDelta(cpuBefore, await cpuSnapshot(DATABASE_URL, CONFIG.database, api.pid));
  if (CONFIG.cpuProfDir) {
    const written = new Promise<void>((resolve) => api.on('message', (m) => m === 'cpu-profile:written' && resolve()));
    api.send('cpu-profile:stop');
    await Promise.race([written, new Promise((r) => setTimeout(r, 15_000))]);
    log(`CPU profile in ${CONFIG.cpuProfDir}; summarise with: node -r ./test/support/register-ts.js bench/support/summarise-profile.ts ${CONFIG.cpuProfDir}/*.cpuprofile`);
  }
  await stopChild(api);
  await stopChild(worker);

  const sorted = [...latencies].sort((a, b) => a - b);
  const row = {
    rps: result.requests.average,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
  const fmt = (ms: number | undefined): string => (ms === undefined ? 'n/a' : ms.toFixed(1));
  const verdict = row.p95 !== undefined && row.p95 < CONFIG.aimP95Ms ? 'met' : 'missed';
  const report = [
    `GET /orders/:id/candidates, ${CONFIG.connections} connections, ${CONFIG.durationS}s after ${CONFIG.warmupS}s warm-up`,
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; date ${new Date().toISOString()}`,
    `data: ${counts.volunteers} volunteers, ${counts.in_organization} in the accepting organisation (${counts.skilled_in_topic} skilled in the order's topic), ${counts.skills} skills, ${counts.assignments} assignments, ${counts.service_records} service records, ${counts.orders} orders, ${counts.venues} venues (${counts.venues_in_district} in the district), ${counts.bookings} bookings`,
    `answer: ${first.volunteers.length} volunteers, ${first.venues.length} venues`,
    '',
    `| metric | ${CONFIG.connections} connections | 1 connection | aim |`,
    '| --- | ---: | ---: | ---: |',
    `| p50 ms | ${fmt(row.p50)} | ${fmt(percentile(singleSorted, 50))} | |`,
    `| p95 ms | ${fmt(row.p95)} | ${fmt(percentile(singleSorted, 95))} | < ${CONFIG.aimP95Ms} at ${CONFIG.connections} connections (${verdict}) |`,
    `| p99 ms | ${fmt(row.p99)} | ${fmt(percentile(singleSorted, 99))} | |`,
    `| req/s | ${row.rps.toFixed(0)} | ${single.result.requests.average.toFixed(0)} | |`,
    `| 2xx / non-2xx / errors | ${row.ok} / ${row.non2xx} / ${row.errors} | ${single.result['2xx']} / ${single.result.non2xx} / ${single.result.errors + single.result.timeouts} | all 2xx |`,
    ...(cpu && row.ok > 0
      ? [`| CPU per request: API + PostgreSQL ms | ${((cpu.api * 1000) / row.ok).toFixed(1)} + ${((cpu.db * 1000) / row.ok).toFixed(1)} | | |`]
      : []),
    '',
    `machine load (1-minute average) when the measurement started: ${load.toFixed(2)} on ${os.cpus().length} cores`,
    ...(CONFIG.setupSql ? ['', `BENCH_SETUP_SQL: ${CONFIG.setupSql}`] : []),
    '',
    `elapsed ${((Date.now() - started) / 1000).toFixed(0)}s`,
  ].join('\n');
  process.stdout.write(`${report}\n`);
  fs.appendFileSync(CONFIG.results, `\n## GET /orders/:id/candidates (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)\n\nCommand: \`npm run bench:candidates\`\n\n${report}\n`);
  log(`appended to ${path.relative(ROOT, CONFIG.results)}`);
  if (row.non2xx + single.result.non2xx > 0 || row.errors > 0) process.exitCode = 3;
}

runMain(main, { timeoutS: CONFIG.timeoutS, killAllNow });
