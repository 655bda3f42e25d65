// GET /scorecards/departments and /scorecards/organizations over 1,000,000 orders (about
// 2.9 million order events: dispatches, claims, offers, acceptances) in all 16 districts,
// beside the naive query over the order events computing the same figures (test/support/scorecards-naive.ts).
//
//   npm run bench:scorecards                                          (builds first)
//   node -r ./test/support/register-ts.js bench/scorecards.bench.ts   (uses the dist/ already built)
//
// BENCH_ORDERS (default 1,000,000), BENCH_DURATION_S (10), BENCH_CONNECTIONS (10), BENCH_NAIVE_RUNS (3),
// BENCH_REUSE_DB=1 measures the database a previous run seeded (after db:setup applies any newer migration; the
// scorecards are rebuilt when a migration emptied them, or always with BENCH_REBUILD=1). BENCH_DATABASE
// (kepu_bench_scorecards), BENCH_API_PORT (4230), BENCH_REDIS_URL and BENCH_QUEUE_PREFIX keep parallel runs apart. The API runs built (dist/); the
// rebuild of the scorecards (the same function `coverage:rebuild` runs) and the naive query run in-process.
// Only 127.0.0.1 is targeted; every child process is ended at the end; the run is bounded by
// BENCH_TIMEOUT_S. The result is printed and appended to bench/RESULTS.md.

import { rebuildScorecards } from '@kepu/coverage';
import { createDataSource } from '@kepu/db';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Client, Pool } from 'pg';
import { naiveScorecards } from '../test/support/scorecards-naive';
import { createBenchDatabase, createChildren, envInt, expectStatus, httpRequest, type Json, log, percentile, requireBuilt, ROOT, runDbSetup, runMain, withPg, benchPlatform } from './support/harness';
import { fireRecording, type RecordedLoad } from './support/load';

const env = process.env;
const int = envInt;

const CONFIG = {
  ...benchPlatform({ database: 'kepu_bench_scorecards', apiPort: 4230, redisDb: 12, queuePrefix: '{kepu-bench-scorecards}' }),
  orders: int('BENCH_ORDERS', 1_000_000),
  spanDays: int('BENCH_SPAN_DAYS', 730),
  departmentsPerDistrict: 3,
  cityWideDepartments: 2,
  organizationsPerDistrict: 4,
  durationS: int('BENCH_DURATION_S', 10),
  warmupS: int('BENCH_WARMUP_S', 3),
  connections: int('BENCH_CONNECTIONS', 10),
  naiveRuns: int('BENCH_NAIVE_RUNS', 3),
  reuse: env.BENCH_REUSE_DB === '1',
  rebuild: env.BENCH_REBUILD === '1',
  aimP95Ms: 50,
  timeoutS: int('BENCH_TIMEOUT_S', 2400),
  results: env.BENCH_RESULTS_FILE || path.join(__dirname, 'RESULTS.md'),
  logDir: path.join(ROOT, 'test-output', 'bench'),
};
if (!/^[a-z0-9_]+$/.test(CONFIG.database)) throw new Error(`BENCH_DATABASE must be a plain name (a-z, 0-9, _), not "${CONFIG.database}"`);
const DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${CONFIG.database}`;
const ADMIN = { username: 'admin', password: 'bench-admin-pass-1' };
const COORDINATOR = { username: 'bench-coord-haidian', password: 'bench-coord-pass-1' };
const HAIDIAN = '110108';
const SLA = { claimHours: 48, acceptHours: 72, urgentFactor: 0.25 };

const { startChild, stopChild, killAllNow, waitForHttp } = createChildren({ root: ROOT, logDir: CONFIG.logDir, env });
const request = (method: string, urlPath: string, options: Parameters<typeof httpRequest>[3] = {}) => httpRequest(CONFIG.apiPort, method, urlPath, { timeoutMs: 60_000, ...options });

function appEnv(): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'production',
    DATABASE_URL,
    REDIS_URL: CONFIG.redisUrl,
    QUEUE_PREFIX: CONFIG.queuePrefix,
    JWT_SECRET: CONFIG.jwtSecret,
    BOOTSTRAP_ADMIN_USERNAME: ADMIN.username,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    SLA_CLAIM_HOURS: String(SLA.claimHours),
    SLA_ACCEPT_HOURS: String(SLA.acceptHours),
    LOG_LEVEL: 'warn',
  };
}

interface DataCounts {
  orders: number;
  events: number;
  departments: number;
  organizations: number;
  orders_size: string;
  events_size: string;
}

/**
 * One statement per table, generate_series: departments (3 a district, 2 city-wide) and
 * organisations (4 a district); orders over every community and the last spanDays days in
 * every status; each order past `submitted` dispatched (one in ten declined and dispatched
 * again to another department), claimed after 0–95 h, offered (one in five as an open call
 * instead) and accepted after 0–119 h, with ratings on the rated ones.
 */
async function seed(pg: Client): Promise<DataCounts & { seedS: number }> {
  const t0 = Date.now();
  await pg.query(`SET synchronous_commit = off`);
  await pg.query(
    `INSERT INTO departments (name, district_code)
     SELECT d.name || '部门' || i, d.code FROM districts d CROSS JOIN generate_series(1, $1::int) i
     UNION ALL SELECT '市级部门' || i, NULL FROM generate_series(1, $2::int) i`,
    [CONFIG.departmentsPerDistrict, CONFIG.cityWideDepartments],
  );
  await pg.query(`INSERT INTO organizations (name) SELECT d.name || '志愿服务队' || i FROM districts d CROSS JOIN generate_series(1, $1::int) i`, [
    CONFIG.organizationsPerDistrict,
  ]);
  await pg.query(
    `INSERT INTO organization_districts (organization_id, district_code)
     SELECT o.id, d.code FROM organizations o JOIN districts d ON o.name LIKE d.name || '志愿服务队%'`,
  );
  await pg.query(
    `CREATE TEMP TABLE bench_subjects AS
     SELECT d.code AS district_code,
       (SELECT array_agg(id ORDER BY id) FROM departments WHERE district_code = d.code OR district_code IS NULL) AS departments,
       (SELECT array_agg(organization_id ORDER BY organization_id) FROM organization_districts WHERE district_code = d.code) AS organizations
     FROM districts d`,
  );
  await pg.query(`CREATE TEMP TABLE bench_communities AS SELECT code, subdistrict_code, district_code, (row_number() OVER (ORDER BY code) - 1)::int AS n FROM communities`);
  const communities = (await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM bench_communities`)).rows[0]?.n ?? 0;
  const admin = (await pg.query<{ id: string }>(`SELECT id FROM users WHERE username = $1`, [ADMIN.username])).rows[0]?.id;
  log(`seeding ${CONFIG.orders} orders over ${communities} communities and ${CONFIG.spanDays} days`);
  // The timeline of order g, in hours after its creation: d1 dispatch, [decline, d2 redispatch], claim, offer, accept.
  await pg.query(
    `CREATE UNLOGGED TABLE bench_plan AS
     SELECT g, c.code AS community_code, c.subdistrict_code, c.district_code, s.departments, s.organizations,
       (ARRAY['submitted','rejected','dispatched','claimed','accepted','scheduled','completed','rated','rated','closed','completed','rated','cancelled','expired'])[(1 + g % 14)::int] AS status,
       now() - ((g * 104729) % ($2::int * 1440)) * interval '1 minute' AS created,
       (g * 7) % 30 AS h_dispatch, g % 10 = 0 AS redispatched, (g * 13) % 96 AS h_claim, g % 5 = 0 AS open_call, (g * 17) % 120 AS h_accept
     FROM generate_series(1::bigint, $1::bigint) g
     JOIN bench_communities c ON c.n = ((g * 7) % $3::int)::int
     JOIN bench_subjects s ON s.district_code = c.district_code`,
    [CONFIG.orders, CONFIG.spanDays, communities],
  );
  const reached = (statuses: string[]) => `p.status IN (${statuses.map((s) => `'${s}'`).join(',')})`;
  const claimed = reached(['claimed', 'accepted', 'scheduled', 'completed', 'rated', 'closed']);
  const accepted = reached(['accepted', 'scheduled', 'completed', 'rated', 'closed']);
  const dispatched = `(${claimed} OR ${reached(['dispatched', 'cancelled', 'expired'])})`;
  const department = `p.departments[1 + (p.g + CASE WHEN p.redispatched THEN 1 ELSE 0 END) % array_length(p.departments, 1)]`;
  const organization = `p.organizations[1 + p.g % array_length(p.organizations, 1)]`;
  await pg.query(
    `INSERT INTO orders (id, code, status, community_code, subdistrict_code, district_code, requester_id, topic, audience, format, title, description,
       expected_attendance, preferred_windows, last_window_end, contact_name, contact_phone, department_id, organization_id, rating, created_at, updated_at)
     SELECT md5('bench-order-' || p.g)::uuid, 'KPS' || lpad(p.g::text, 8, '0'), p.status, p.community_code, p.subdistrict_code, p.district_code, $1,
       'health', 'elderly', 'lecture', '三率基准', '三率基准', 40, '[]', p.created + interval '60 days', '基准', '13800000000',
       CASE WHEN ${dispatched} THEN ${department} END, CASE WHEN ${accepted} THEN ${organization} END,
       CASE WHEN p.status = 'rated' THEN jsonb_build_object('content', 1 + p.g % 5, 'volunteers', 2 + p.g % 4, 'punctuality', 3 + p.g % 3) END,
       p.created, p.created
     FROM bench_plan p`,
    [admin],
  );
  log(`orders in ${((Date.now() - t0) / 1000).toFixed(0)}s; events`);
  const at = (hours: string) => `p.created + (${hours}) * interval '1 hour' + (p.g % 60) * interval '1 minute'`;
  const event = (seq: string, type: string, from: string, to: string, payload: string, hours: string, where: string) =>
    pg.query(
      `INSERT INTO order_events (order_id, seq, type, from_status, to_status, actor_role, payload, at)
       SELECT md5('bench-order-' || p.g)::uuid, ${seq}, '${type}', '${from}', '${to}', 'system', ${payload}, ${at(hours)} FROM bench_plan p WHERE ${where}`,
    );
  await event('1', 'order.submitted', 'submitted', 'submitted', `'{}'::jsonb`, '0', 'TRUE');
  const first = `p.departments[1 + p.g % array_length(p.departments, 1)]`;
  await event('2', 'order.dispatched', 'submitted', 'dispatched', `jsonb_build_object('departmentId', ${first})`, 'p.h_dispatch', dispatched);
  await event('3', 'order.declined', 'dispatched', 'submitted', `jsonb_build_object('departmentId', ${first}, 'reason', '不对口')`, 'p.h_dispatch + 5', `${dispatched} AND p.redispatched`);
  await event('4', 'order.dispatched', 'submitted', 'dispatched', `jsonb_build_object('departmentId', ${department})`, 'p.h_dispatch + 8', `${dispatched} AND p.redispatched`);
  const base = `CASE WHEN p.redispatched THEN 8 ELSE 0 END + p.h_dispatch`;
  await event('5', 'order.claimed', 'dispatched', 'claimed', `jsonb_build_object('departmentId', ${department})`, `${base} + p.h_claim`, claimed);
  await event(
    '6',
    "' || CASE WHEN p.open_call THEN 'order.opened' ELSE 'order.offered' END || '",
    'claimed',
    'claimed',
    `CASE WHEN p.open_call THEN '{}'::jsonb ELSE jsonb_build_object('organizationId', ${organization}) END`,
    `${base} + p.h_claim + 2`,
    `${claimed} AND p.status <> 'claimed' OR (p.status = 'claimed' AND p.g % 2 = 0)`,
  );
  await event('7', 'order.accepted', 'claimed', 'accepted', `jsonb_build_object('organizationId', ${organization})`, `${base} + p.h_claim + 2 + p.h_accept`, accepted);
  await event('8', 'order.completed', 'in_progress', 'completed', `'{}'::jsonb`, `${base} + p.h_claim + 200`, reached(['completed', 'rated', 'closed']));
  await pg.query(`DROP TABLE bench_plan`);
  // Vacuumed now rather than by autovacuum in the middle of the measurements.
  await pg.query(`VACUUM (ANALYZE) orders, order_events`);
  return { ...(await dataCounts(pg)), seedS: (Date.now() - t0) / 1000 };
}

async function dataCounts(pg: Client): Promise<DataCounts> {
  const { rows } = await pg.query<DataCounts>(
    `SELECT (SELECT count(*) FROM orders)::int AS orders, (SELECT count(*) FROM order_events)::int AS events,
            (SELECT count(*) FROM departments)::int AS departments, (SELECT count(*) FROM organizations)::int AS organizations,
            pg_size_pretty(pg_total_relation_size('orders')) AS orders_size, pg_size_pretty(pg_total_relation_size('order_events')) AS events_size`,
  );
  const [counts] = rows;
  if (!counts) throw new Error('no counts');
  return counts;
}

async function rebuild(): Promise<{ facts: number; rollups: number; seconds: number }> {
  const t0 = Date.now();
  const dataSource = createDataSource({ databaseUrl: DATABASE_URL, databasePoolSize: 1 });
  await dataSource.initialize();
  try {
    const result = await dataSource.transaction((manager) => rebuildScorecards(manager, SLA));
    await dataSource.query(`VACUUM (ANALYZE) scorecard_facts, scorecard_rollups`);
    return { ...result, seconds: (Date.now() - t0) / 1000 };
  } finally {
    await dataSource.destroy();
  }
}

type Period = { from: string; to: string };
type Kind = 'departments' | 'organizations';

async function measureNaive(kind: Kind, period: Period, districtCode: string | null) {
  const pool = new Pool({ connectionString: DATABASE_URL, max: 2 });
  const query = async <T>(sql: string, params: unknown[]): Promise<T[]> => (await pool.query(sql, params)).rows as T[];
  try {
    const times: number[] = [];
    let figures: Awaited<ReturnType<typeof naiveScorecards>> | undefined;
    for (let i = 0; i < CONFIG.naiveRuns; i++) {
      const t0 = process.hrtime.bigint();
      figures = await naiveScorecards(query, kind, period, { districtCode, ...SLA });
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return { times: times.sort((a, b) => a - b), figures };
  } finally {
    await pool.end();
  }
}

const FIGURES = ['received', 'responded', 'responseRate', 'resolved', 'resolutionRate', 'rated', 'averageRating', 'satisfiedRate', 'medianHoursToRespond'];
const EMPTY = { received: 0, responded: 0, responseRate: null, resolved: 0, resolutionRate: null, rated: 0, averageRating: null, satisfiedRate: null, medianHoursToRespond: null };

const fire = (urlPath: string | (() => string), token: string, durationS: number, connections = CONFIG.connections): Promise<RecordedLoad> =>
  fireRecording(CONFIG.apiPort, urlPath, token, durationS, connections);

/** The command as run, with the variables that change what is measured. */
function commandLine(): string {
  const vars = ['BENCH_DATABASE', 'BENCH_API_PORT', 'BENCH_REDIS_URL', 'BENCH_QUEUE_PREFIX', 'BENCH_ORDERS', 'BENCH_REUSE_DB', 'BENCH_REBUILD']
    .filter((name) => env[name])
    .map((name) => `${name}=${/^[\w./:-]+$/.test(env[name] ?? '') ? env[name] : `'${env[name]}'`}`);
  return [...vars, CONFIG.reuse ? 'node -r ./test/support/register-ts.js bench/scorecards.bench.ts' : 'npm run bench:scorecards'].join(' ');
}

async function main(): Promise<void> {
  const started = Date.now();
  requireBuilt(['dist/apps/api/src/main.js', 'dist/apps/cli/src/main.js'], 'npm run bench:scorecards');
  let counts: DataCounts & { seedS: number | null };
  let rebuilt: { facts: number; rollups: number; seconds: number } | null = null;
  if (CONFIG.reuse) {
    log(`BENCH_REUSE_DB=1: measuring ${CONFIG.database} as a previous run seeded it; db:setup for any newer migration`);
    runDbSetup(appEnv());
    counts = await withPg(DATABASE_URL, async (pg) => ({ ...(await dataCounts(pg)), seedS: null }));
    // A migration that changes the scorecard tables empties them for a rebuild (as the worker would do at start).
    const emptied = await withPg(DATABASE_URL, async (pg) => (await pg.query<{ empty: boolean }>(`SELECT NOT EXISTS (SELECT 1 FROM scorecard_facts) AS empty`)).rows[0]?.empty);
    if (CONFIG.rebuild || emptied) {
      log(`rebuilding the scorecards (${CONFIG.rebuild ? 'BENCH_REBUILD=1' : 'a migration emptied them'})`);
      rebuilt = await rebuild();
      log(`rebuilt in ${rebuilt.seconds.toFixed(0)}s: ${rebuilt.facts} facts, ${rebuilt.rollups} rollup rows`);
    }
  } else {
    await createBenchDatabase(CONFIG.pgAdminUrl, CONFIG.database, appEnv());
    counts = await withPg(DATABASE_URL, (pg) => seed(pg));
    log(`seeded in ${(counts.seedS ?? 0).toFixed(0)}s: ${JSON.stringify(counts)}`);
    log('rebuilding the scorecards (facts and rollups)');
    rebuilt = await rebuild();
    log(`rebuilt in ${rebuilt.seconds.toFixed(0)}s: ${rebuilt.facts} facts, ${rebuilt.rollups} rollup rows`);
  }
  const sizes = await withPg(DATABASE_URL, async (pg) => {
    const { rows } = await pg.query<{ facts: number; rollups: number; facts_size: string; rollups_size: string }>(
      `SELECT (SELECT count(*) FROM scorecard_facts)::int AS facts, (SELECT count(*) FROM scorecard_rollups)::int AS rollups,
              pg_size_pretty(pg_total_relation_size('scorecard_facts')) AS facts_size, pg_size_pretty(pg_total_relation_size('scorecard_rollups')) AS rollups_size`,
    );
    // A district coordinator for the district view.
    await pg.query(
      `INSERT INTO users (username, password_hash, display_name, role, district_code)
       SELECT $1, password_hash, '基准协调员', 'district_coordinator', $2 FROM users WHERE username = $3
       ON CONFLICT DO NOTHING`,
      [COORDINATOR.username, HAIDIAN, ADMIN.username],
    );
    return rows[0];
  });
  if (!sizes) throw new Error('no sizes');

  const api = startChild('api-scorecards', ['dist/apps/api/src/main.js'], { ...appEnv(), PORT: String(CONFIG.apiPort) });
  await waitForHttp('the API', api, CONFIG.apiPort, 60_000, [200, 503]);
  const token: string = (await expectStatus('admin login', request('POST', '/auth/login', { body: ADMIN }), [200])).accessToken;
  const coordinatorToken: string = (await expectStatus('coordinator login', request('POST', '/auth/login', { body: { ...COORDINATOR, password: ADMIN.password } }), [200])).accessToken;

  const cases: { name: string; kind: Kind; token: string; districtCode: string | null }[] = [
    { name: 'GET /scorecards/departments (city_admin, the city)', kind: 'departments', token, districtCode: null },
    { name: 'GET /scorecards/organizations (city_admin, the city)', kind: 'organizations', token, districtCode: null },
    { name: 'GET /scorecards/departments (district_coordinator, 海淀)', kind: 'departments', token: coordinatorToken, districtCode: HAIDIAN },
  ];
  const rows: string[] = [];
  const fmt = (ms: number | undefined): string => (ms === undefined ? 'n/a' : ms.toFixed(1));
  let worstP95 = 0;
  let failures = 0;
  const load = os.loadavg()[0] ?? 0;
  let period: Period | null = null;
  for (const c of cases) {
    const urlPath = `/scorecards/${c.kind}`;
    const first: Json[] = await expectStatus(urlPath, request('GET', urlPath, { token: c.token }), [200]);
    // The API's default period: the last 90 Shanghai days.
    const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    period = { from: new Date(Date.parse(`${today}T00:00:00Z`) - 89 * 86_400_000).toISOString().slice(0, 10), to: today };
    log(`${c.name}: ${first.length} rows, ${first.reduce((sum: number, r) => sum + Number(r.received), 0)} received in ${period.from}..${period.to}; naive, ${CONFIG.naiveRuns} runs`);
    const naive = await measureNaive(c.kind, period, c.districtCode);
    const mismatched = first.filter((row) => FIGURES.some((k) => JSON.stringify(row[k]) !== JSON.stringify(((naive.figures?.get(row.id) ?? EMPTY) as unknown as Record<string, unknown>)[k])));
    if (mismatched.length > 0) throw new Error(`${c.name}: figures differ from the naive query for ${mismatched.map((r) => r.name).join(', ')}`);
    log('equal to the naive query; warm-up');
    await fire(urlPath, c.token, CONFIG.warmupS);
    const single = await fire(urlPath, c.token, 5, 1);
    const { result, latencies } = await fire(urlPath, c.token, CONFIG.durationS);
    // 30 different periods (90 days ending on each of the last 30 days): no two concurrent requests share a computation.
    const lastDay = Date.parse(`${period.to}T00:00:00Z`);
    const varied = await fire(() => `${urlPath}?to=${new Date(lastDay - Math.floor(Math.random() * 30) * 86_400_000).toISOString().slice(0, 10)}`, c.token, CONFIG.durationS);
    const sorted = [...latencies].sort((a, b) => a - b);
    const variedSorted = [...varied.latencies].sort((a, b) => a - b);
    const singleSorted = [...single.latencies].sort((a, b) => a - b);
    worstP95 = Math.max(worstP95, percentile(sorted, 95) ?? Infinity, percentile(variedSorted, 95) ?? Infinity);
    failures += result.non2xx + result.errors + varied.result.non2xx + varied.result.errors + single.result.non2xx;
    const errors = (r: RecordedLoad) => `${r.result['2xx']} / ${r.result.non2xx} / ${r.result.errors + r.result.timeouts}`;
    rows.push(
      `| ${c.name}, ${CONFIG.connections} connections | ${fmt(percentile(sorted, 50))} | ${fmt(percentile(sorted, 95))} | ${result.requests.average.toFixed(0)} | ${errors({ result, latencies })} |`,
      `| ${c.name}, ${CONFIG.connections} connections, 30 different periods | ${fmt(percentile(variedSorted, 50))} | ${fmt(percentile(variedSorted, 95))} | ${varied.result.requests.average.toFixed(0)} | ${errors(varied)} |`,
      `| ${c.name}, 1 connection | ${fmt(percentile(singleSorted, 50))} | ${fmt(percentile(singleSorted, 95))} | ${single.result.requests.average.toFixed(0)} | ${errors(single)} |`,
      `| naive query over the order events, same figures (${CONFIG.naiveRuns} runs, one at a time) | ${fmt(percentile(naive.times, 50))} | ${fmt(percentile(naive.times, 95))} | ${(1000 / (percentile(naive.times, 50) ?? 1)).toFixed(2)} | |`,
    );
  }
  await stopChild(api);

  const report = [
    `三率 scorecards vs the naive query over the order events, default period ${period?.from}..${period?.to}`,
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; date ${new Date().toISOString()}; load (1 min) at the start of the measurements ${load.toFixed(2)}`,
    `data: ${counts.orders} orders (${counts.orders_size}), ${counts.events} order events (${counts.events_size}), ${counts.departments} departments, ${counts.organizations} organisations; ${counts.seedS === null ? 'seeded by a previous run (BENCH_REUSE_DB=1)' : `seeded over ${CONFIG.spanDays} days in ${counts.seedS.toFixed(0)}s`}`,
    `scorecards: ${rebuilt ? `rebuilt in ${rebuilt.seconds.toFixed(0)}s → ` : ''}${sizes.facts} facts (${sizes.facts_size}), ${sizes.rollups} rollup rows (${sizes.rollups_size})`,
    'check: every row of each answer equals the naive query',
    '',
    '| variant | p50 ms | p95 ms | req/s | 2xx / non-2xx / errors |',
    '| --- | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    `aim p95 < ${CONFIG.aimP95Ms} ms at ${CONFIG.connections} connections, every variant: ${worstP95 < CONFIG.aimP95Ms ? 'met' : 'missed'} (worst p95 ${fmt(worstP95)} ms)`,
    `elapsed ${((Date.now() - started) / 1000).toFixed(0)}s`,
  ].join('\n');
  process.stdout.write(`${report}\n`);
  fs.appendFileSync(
    CONFIG.results,
    `\n## GET /scorecards (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)\n\nCommand: \`${commandLine()}\`\n\n${report}\n`,
  );
  log(`appended to ${path.relative(ROOT, CONFIG.results)}`);
  if (failures > 0) process.exitCode = 3;
}

runMain(main, { timeoutS: CONFIG.timeoutS, killAllNow });
