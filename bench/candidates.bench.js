'use strict';
// GET /orders/:id/candidates latency with 50,000 volunteers, one organisation
// holding 5,000 of them. See bench/README.md.
//
//   npm run bench:candidates          (builds first)
//   node bench/candidates.bench.js    (uses the dist/ already built)
//
// Only 127.0.0.1 is targeted; every child process is ended at the end; the run
// is bounded by BENCH_TIMEOUT_S. The result is printed and appended to bench/RESULTS.md.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createChildren, expectStatus, httpRequest, log, withPg, runMain } = require('./support/harness');
const autocannon = require('autocannon');

const ROOT = path.resolve(__dirname, '..');
const env = process.env;
const int = (name, fallback) => (env[name] ? Number(env[name]) : fallback);

const CONFIG = {
  pgAdminUrl: env.BENCH_PG_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  // BENCH_DATABASE: another name when several people bench on one server (it is dropped and recreated).
  database: env.BENCH_DATABASE || 'kepu_bench_candidates',
  apiPort: int('BENCH_API_PORT', 3104),
  jwtSecret: 'bench-jwt-secret-0123456789abcdef',
  // Its own Redis database index and queue prefix, away from the developers', the tests' and the other benches' queues.
  redisUrl: env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379/9',
  queuePrefix: env.BENCH_QUEUE_PREFIX || '{kepu-bench-candidates}',
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
const TOPICS = ['health', 'medicine_use', 'digital_skills', 'anti_fraud', 'emergency', 'fire_safety', 'food_safety', 'environment', 'agriculture', 'ai_frontier', 'astronomy', 'experiments', 'psychology'];

const { startChild, stopChild, killAllNow, waitForHttp, children } = createChildren({ root: ROOT, logDir: CONFIG.logDir, env });
const request = (method, urlPath, options = {}) => httpRequest(CONFIG.apiPort, method, urlPath, { timeoutMs: 30_000, ...options });
const waitForApi = (child, timeoutMs) => waitForHttp('the API', child, CONFIG.apiPort, timeoutMs, [200, 503]);

function appEnv() {
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

async function freshDatabase() {
  await withPg(CONFIG.pgAdminUrl, async (pg) => {
    await pg.query(`DROP DATABASE IF EXISTS ${CONFIG.database} WITH (FORCE)`);
    await pg.query(`CREATE DATABASE ${CONFIG.database}`);
  });
  log(`created database ${CONFIG.database}; running db:setup`);
  const setup = spawnSync(process.execPath, ['dist/apps/cli/src/main.js', 'db:setup'], { cwd: ROOT, env: { ...env, ...appEnv() }, encoding: 'utf8', timeout: 300_000 });
  if (setup.status !== 0) throw new Error(`db:setup failed (status ${setup.status}):\n${(setup.stdout || '').slice(-2000)}\n${(setup.stderr || '').slice(-2000)}`);
}

/** The order's preferred window: two weeks ahead, 09:00–11:00 in Beijing. */
function eventWindow() {
  const start = new Date(Date.now() + 14 * 24 * 3600 * 1000);
  start.setUTCHours(1, 0, 0, 0);
  return { start, end: new Date(start.getTime() + 2 * 3600 * 1000) };
}

/** Through the API, as users would: accounts of every role the walk needs, then an order accepted by the big organisation. */
async function acceptedOrder(window) {
  const admin = (await expectStatus('admin login', request('POST', '/auth/login', { body: ADMIN }), [200])).accessToken;
  const as = (token) => ({ post: (p, body) => expectStatus(`POST ${p}`, request('POST', p, { token, body }), [200, 201]) });
  const department = await as(admin).post('/departments', { name: '海淀区科协', districtCode: DISTRICT, topics: ['anti_fraud'] });
  const organization = await as(admin).post('/organizations', { name: '海淀科普志愿服务总队', districtCodes: [DISTRICT] });
  const user = async (username, role, scope) => {
    await as(admin).post('/users', { username, password: PASSWORD, displayName: username, role, ...scope });
    return (await expectStatus(`${username} login`, request('POST', '/auth/login', { body: { username, password: PASSWORD } }), [200])).accessToken;
  };
  const resident = await user('bench-resident', 'resident', { communityCode: COMMUNITY });
  const staff = await user('bench-staff', 'community_staff', { communityCode: COMMUNITY });
  const dept = await user('bench-dept', 'department_staff', { departmentId: department.id });
  const orgAdmin = await user('bench-org', 'org_admin', { organizationId: organization.id });
  let order = await as(resident).post('/orders', {
    communityCode: COMMUNITY,
    topic: 'anti_fraud',
    audience: 'elderly',
    format: 'lecture',
    title: '老年人防范电信诈骗讲座',
    description: 'A talk on phone scams for the elderly of our community, about 60 people.',
    expectedAttendance: 60,
    preferredWindows: [{ start: window.start.toISOString(), end: window.end.toISOString() }],
    accessibilityNeeds: ['wheelchair'],
    contactName: '王老师',
    contactPhone: '13812341234',
  });
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
async function seed(pg, { order, organizationId }, window) {
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
  const [{ all: communityCount }] = (await pg.query(`SELECT count(*)::int AS all FROM bench_communities`)).rows;
  const [{ n: districtCommunityCount }] = (await pg.query(`SELECT count(*)::int AS n FROM bench_district_communities`)).rows;

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
  const { rows: orderColumns } = await pg.query(
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
  const { rows: [counts] } = await pg.query(
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
  log(`seeded in ${((Date.now() - t0) / 1000).toFixed(1)}s: ${JSON.stringify(counts)}`);
  return counts;
}

/** autocannon reports p97.5 but not p95: every latency is kept and the percentiles computed exactly. */
function fire(urlPath, token, durationS, connections = CONFIG.connections) {
  return new Promise((resolve, reject) => {
    const latencies = [];
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${CONFIG.apiPort}${urlPath}`,
        headers: { authorization: `Bearer ${token}` },
        connections,
        duration: durationS,
        timeout: 10,
      },
      (err, result) => (err ? reject(err) : resolve({ result, latencies })),
    );
    instance.on('response', (_client, _status, _bytes, responseTimeMs) => latencies.push(responseTimeMs));
    instance.on('error', () => {});
  });
}

/** CPU seconds (user + system) a process has used, from /proc (Linux); null elsewhere. */
function cpuSeconds(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** CPU used by the API process and by this database's PostgreSQL backends: what a request costs, whatever else the machine runs. */
async function cpuSnapshot(apiPid) {
  const { rows } = await withPg(DATABASE_URL, (pg) => pg.query(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [CONFIG.database]));
  const backends = new Map(rows.map((r) => [r.pid, cpuSeconds(r.pid)]));
  return { api: cpuSeconds(apiPid), backends };
}

function cpuDelta(before, after) {
  if (before.api === null || after.api === null) return null;
  let db = 0;
  for (const [pid, seconds] of after.backends) if (seconds !== null) db += seconds - (before.backends.get(pid) ?? 0);
  return { api: after.api - before.api, db };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

async function main() {
  const started = Date.now();
  for (const entry of ['dist/apps/api/src/main.js', 'dist/apps/cli/src/main.js']) {
    if (!fs.existsSync(path.join(ROOT, entry))) throw new Error(`${entry} is missing: run \`npm run build\` (or \`npm run bench:candidates\`)`);
  }
  await freshDatabase();
  const window = eventWindow();
  const api = startChild('api-candidates', ['dist/apps/api/src/main.js'], { ...appEnv(), PORT: String(CONFIG.apiPort) });
  await waitForApi(api, 60_000);
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
  const cpuBefore = await cpuSnapshot(api.pid);
  const load = os.loadavg()[0];
  const { result, latencies } = await fire(urlPath, walk.orgAdmin, CONFIG.durationS);
  const cpu = cpuDelta(cpuBefore, await cpuSnapshot(api.pid));
  await stopChild(api);

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
  const fmt = (ms) => (ms === undefined ? 'n/a' : ms.toFixed(1));
  const verdict = row.p95 < CONFIG.aimP95Ms ? 'met' : 'missed';
  const report = [
    `GET /orders/:id/candidates, ${CONFIG.connections} connections, ${CONFIG.durationS}s after ${CONFIG.warmupS}s warm-up`,
    `machine: ${os.cpus().length} cores (${os.cpus()[0] && os.cpus()[0].model}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; date ${new Date().toISOString()}`,
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
