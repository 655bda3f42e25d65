// GET /coverage/districts over 1,000,000 orders spread over all 7,535 communities,
// beside the naive GROUP BY over orders computing the same figures. See bench/README.md.
//
//   npm run bench:coverage                                          (builds first)
//   node -r ./test/support/register-ts.js bench/coverage.bench.ts   (uses the dist/ already built)
//
// The API and the CLI run built (dist/), as users run them; the naive GROUP BY and the
// worker's refresh are measured in-process from the libraries' source.
//
// Only 127.0.0.1 is targeted; every child process is ended at the end; the run
// is bounded by BENCH_TIMEOUT_S. The result is printed and appended to bench/RESULTS.md.

import { AUDIENCES as AUDIENCE_CATALOGUE, TOPICS as TOPIC_CATALOGUE } from '@kepu/core';
// The bench times the worker's own per-order refresh, an internal of the coverage library: imported from its file on purpose.
import { CoverageRepository } from '../libs/coverage/src/coverage.repository';
import { naiveCoverage } from '../test/support/coverage-naive';
import { createDataSource } from '@kepu/db';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Client, Pool, type QueryResultRow } from 'pg';
import { cpuDelta, cpuSnapshot } from './support/cpu';
import {
  createBenchDatabase,
  createChildren,
  envInt,
  expectStatus,
  httpRequest,
  type Json,
  log,
  percentile,
  requireBuilt,
  ROOT,
  runMain,
  withPg,
  benchPlatform,
} from './support/harness';
import { fireRecording, type RecordedLoad } from './support/load';

const env = process.env;
const int = envInt;

const CONFIG = {
  ...benchPlatform({ database: 'kepu_bench_coverage', apiPort: 4210, redisDb: 10, queuePrefix: '{kepu-bench-coverage}' }),
  orders: int('BENCH_ORDERS', 1_000_000),
  /** Orders are submitted over this many days up to today. */
  spanDays: int('BENCH_SPAN_DAYS', 730),
  durationS: int('BENCH_DURATION_S', 10),
  warmupS: int('BENCH_WARMUP_S', 3),
  connections: int('BENCH_CONNECTIONS', 10),
  naiveRuns: int('BENCH_NAIVE_RUNS', 10),
  refreshOrders: int('BENCH_REFRESH_ORDERS', 500),
  /** 1: measure the database a previous run seeded and rebuilt, without seeding again (for iterating on the read path). */
  reuse: env.BENCH_REUSE_DB === '1',
  aimP95Ms: 50,
  aimSpeedup: 20,
  timeoutS: int('BENCH_TIMEOUT_S', 1800),
  results: env.BENCH_RESULTS_FILE || path.join(__dirname, 'RESULTS.md'),
  logDir: path.join(ROOT, 'test-output', 'bench'),
};
const DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${CONFIG.database}`;
const ADMIN = { username: 'admin', password: 'bench-admin-pass-1' };

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
    LOG_LEVEL: 'warn',
  };
}

function cli(command: string, timeoutMs: number): string {
  const run = spawnSync(process.execPath, ['dist/apps/cli/src/main.js', command], { cwd: ROOT, env: { ...env, ...appEnv() }, encoding: 'utf8', timeout: timeoutMs });
  if (run.status !== 0) throw new Error(`${command} failed (status ${run.status}):\n${(run.stdout || '').slice(-2000)}\n${(run.stderr || '').slice(-2000)}`);
  return run.stdout;
}

const TOPICS = TOPIC_CATALOGUE.map((t) => t.code);
const AUDIENCES = AUDIENCE_CATALOGUE.map((a) => a.code);
const sqlArray = (values: string[]): string => `ARRAY[${values.map((v) => `'${v}'`).join(',')}]`;

/**
 * One statement per table, generate_series: orders over every community and the
 * last spanDays days (most delivered, the rest in every other status), the first
 * scheduling event of every scheduled order, service hours of delivered ones, and
 * SLA breaches of one order in eight.
 */
interface DataCounts {
  orders: number;
  communities: number;
  events: number;
  service_records: number;
  breaches: number;
  orders_size: string;
}

async function seed(pg: Client): Promise<DataCounts & { seedS: number | null }> {
  const t0 = Date.now();
  const first = async <T extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<T> => {
    const [row] = (await pg.query<T>(sql, params)).rows;
    if (!row) throw new Error(`no row from ${sql.slice(0, 60)}`);
    return row;
  };
  const admin = await first<{ id: string }>(`SELECT id FROM users WHERE username = $1`, [ADMIN.username]);
  const org = await first<{ id: string }>(`INSERT INTO organizations (name) VALUES ('基准测试志愿服务队') RETURNING id`);
  const volunteer = await first<{ id: string }>(
    `INSERT INTO volunteers (organization_id, display_name, phone, home_community_code, home_subdistrict_code, home_district_code, max_hours_per_week)
     SELECT $1, '基准志愿者', '13900001111', code, subdistrict_code, district_code, 40 FROM communities ORDER BY code LIMIT 1 RETURNING id`,
    [org.id],
  );
  await pg.query(`SET synchronous_commit = off`);
  await pg.query(`CREATE TEMP TABLE bench_communities AS SELECT code, subdistrict_code, district_code, (row_number() OVER (ORDER BY code) - 1)::int AS n FROM communities`);
  const communities = (await first<{ n: number }>(`SELECT count(*)::int AS n FROM bench_communities`)).n;
  log(`seeding ${CONFIG.orders} orders over ${communities} communities and ${CONFIG.spanDays} days`);
  // Statuses: 55 % delivered (completed / rated / closed), the rest spread over the others.
  await pg.query(
    `INSERT INTO orders (code, status, community_code, subdistrict_code, district_code, requester_id, topic, audience, format, title, description,
       expected_attendance, preferred_windows, last_window_end, contact_name, contact_phone, scheduled_start, scheduled_end, rating, created_at, updated_at)
     SELECT 'KPB' || lpad(g::text, 8, '0'), s.status, c.code, c.subdistrict_code, c.district_code, $1,
       (${sqlArray(TOPICS)})[(1 + g % 13)::int], (${sqlArray(AUDIENCES)})[(1 + (g / 13) % 7)::int], 'lecture', '基准订单', '覆盖率基准', 40, '[]',
       s.created + interval '30 days', '基准', '13800000000',
       CASE WHEN s.is_scheduled THEN s.event END, CASE WHEN s.is_scheduled THEN s.event + interval '2 hours' END,
       CASE WHEN s.status = 'rated' THEN jsonb_build_object('content', 1 + g % 5, 'volunteers', 1 + (g / 5) % 5, 'punctuality', 1 + (g / 25) % 5) END,
       s.created, s.created
     FROM generate_series(1::bigint, $2::bigint) g
     CROSS JOIN LATERAL (
       SELECT st.status, st.status IN ('scheduled','in_progress','completed','rated','closed') AS is_scheduled, cr.created,
              least(cr.created + (24 + (g * 7919) % 600) * interval '1 hour', now() - interval '3 hours') AS event
       FROM (SELECT CASE WHEN g % 20 < 6 THEN 'rated' WHEN g % 20 < 10 THEN 'completed' WHEN g % 20 < 11 THEN 'closed'
                         ELSE (ARRAY['submitted','dispatched','claimed','accepted','scheduled','in_progress','rejected','merged','cancelled'])[(1 + (g / 20) % 9)::int] END AS status) st
       CROSS JOIN (SELECT now() - ((g * 104729) % ($4::int * 1440)) * interval '1 minute' AS created) cr
     ) s
     JOIN bench_communities c ON c.n = ((g * 7) % $3::int)::int`,
    [admin.id, CONFIG.orders, communities, CONFIG.spanDays],
  );
  log(`orders in ${((Date.now() - t0) / 1000).toFixed(0)}s; events, service records, breaches`);
  await pg.query(
    `INSERT INTO order_events (order_id, seq, type, from_status, to_status, actor_role, at)
     SELECT id, 2, 'order.scheduled', 'accepted', 'scheduled', 'org_admin', created_at + (1 + abs(hashtext(code)) % 200) * interval '1 hour'
     FROM orders WHERE scheduled_start IS NOT NULL`,
  );
  await pg.query(
    `INSERT INTO service_records (order_id, volunteer_id, event_start, event_end, check_in_at, check_out_at, hours)
     SELECT id, $1, scheduled_start, scheduled_end, scheduled_start, scheduled_end, (abs(hashtext(code)) % 9) * 0.25
     FROM orders WHERE status IN ('completed','rated','closed')`,
    [volunteer.id],
  );
  await pg.query(
    `INSERT INTO sla_breaches (order_id, district_code, stage, entered_seq, entered_at, due_at)
     SELECT id, district_code, 'dispatch', 1, created_at, created_at + interval '1 day' FROM orders WHERE abs(hashtext(code)) % 8 = 0`,
  );
  await pg.query(`ANALYZE`);
  return { ...(await dataCounts(pg)), seedS: (Date.now() - t0) / 1000 };
}

async function dataCounts(pg: Client): Promise<DataCounts> {
  const { rows } = await pg.query<DataCounts>(
    `SELECT (SELECT count(*) FROM orders)::int AS orders, (SELECT count(DISTINCT community_code) FROM orders)::int AS communities,
            (SELECT count(*) FROM order_events)::int AS events, (SELECT count(*) FROM service_records)::int AS service_records,
            (SELECT count(*) FROM sla_breaches)::int AS breaches, pg_size_pretty(pg_total_relation_size('orders')) AS orders_size`,
  );
  const [counts] = rows;
  if (!counts) throw new Error('no counts');
  return counts;
}

const fire = (urlPath: string | (() => string), token: string, durationS: number, connections = CONFIG.connections): Promise<RecordedLoad> =>
  fireRecording(CONFIG.apiPort, urlPath, token, durationS, connections);

type Period = Parameters<typeof naiveCoverage>[1];
type Figures = Awaited<ReturnType<typeof naiveCoverage>>;

/** The naive side: the same figures from plain GROUP BYs over orders (coverage-naive.ts), run one after another. */
async function measureNaive(period: Period): Promise<{ times: number[]; figures: Figures | undefined }> {
  const pool = new Pool({ connectionString: DATABASE_URL, max: 8 });
  const query = async <T>(sql: string, params: unknown[]): Promise<T[]> => (await pool.query(sql, params)).rows as T[];
  try {
    const times: number[] = [];
    let last: Figures | undefined;
    for (let i = 0; i < CONFIG.naiveRuns; i++) {
      const t0 = process.hrtime.bigint();
      last = await naiveCoverage(query, period, { by: 'district', districtCode: null });
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return { times: times.sort((a, b) => a - b), figures: last };
  } finally {
    await pool.end();
  }
}

/**
 * The worker's side: `BENCH_REFRESH_ORDERS` submitted orders are cancelled straight in SQL, then
 * each is refreshed as the coverage job does (CoverageRepository.refreshOrders, one at a time),
 * timed; a second refresh of each (a duplicate job, nothing to change) is timed too.
 */
async function measureRefresh(): Promise<{ orders: number; changed: number[]; duplicate: number[] }> {
  const dataSource = createDataSource({ databaseUrl: DATABASE_URL, databasePoolSize: 2 });
  await dataSource.initialize();
  try {
    const repository = new CoverageRepository(dataSource);
    const rows: { id: string }[] | [{ id: string }[], number] = await dataSource.query(
      `UPDATE orders SET status = 'cancelled', version = version + 1, updated_at = now()
       WHERE id IN (SELECT id FROM orders WHERE status = 'submitted' ORDER BY id LIMIT $1) RETURNING id`,
      [CONFIG.refreshOrders],
    );
    // TypeORM answers UPDATE … RETURNING with [rows, count]
    const returned = (Array.isArray(rows[0]) ? rows[0] : rows) as { id: string }[];
    const ids = returned.map((r) => r.id);
    const time = async (): Promise<number[]> => {
      const times: number[] = [];
      for (const id of ids) {
        const t0 = process.hrtime.bigint();
        await repository.refreshOrders([id]);
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      return times.sort((a, b) => a - b);
    };
    const changed = await time();
    const duplicate = await time();
    return { orders: ids.length, changed, duplicate };
  } finally {
    await dataSource.destroy();
  }
}

const FIGURES = ['communities', 'coveredCommunities', 'coverage', 'orders', 'ordersByStatus', 'slaBreaches', 'medianHoursToSchedule', 'volunteerHours', 'averageRating', 'byAudience', 'byTopic'];
const sameFigures = (row: Record<string, unknown>, expected: Record<string, unknown> | undefined): boolean => expected !== undefined && FIGURES.every((k) => JSON.stringify(row[k]) === JSON.stringify(expected[k]));

async function main(): Promise<void> {
  const started = Date.now();
  requireBuilt(['dist/apps/api/src/main.js', 'dist/apps/cli/src/main.js'], 'npm run bench:coverage');
  let counts: DataCounts & { seedS: number | null };
  let rebuildS: number | null = null;
  if (CONFIG.reuse) {
    log(`BENCH_REUSE_DB=1: measuring ${CONFIG.database} as a previous run left it`);
    counts = await withPg(DATABASE_URL, async (pg) => ({ ...(await dataCounts(pg)), seedS: null }));
  } else {
    await createBenchDatabase(CONFIG.pgAdminUrl, CONFIG.database, appEnv());
    counts = await withPg(DATABASE_URL, (pg) => seed(pg));
    log(`seeded in ${(counts.seedS ?? 0).toFixed(0)}s: ${JSON.stringify(counts)}`);
    const r0 = Date.now();
    log('coverage:rebuild');
    log(cli('coverage:rebuild', CONFIG.timeoutS * 1000).trim());
    rebuildS = (Date.now() - r0) / 1000;
  }
  const sizes = await withPg(DATABASE_URL, async (pg) => (await pg.query<{ rollups: number; rollups_size: string; served_rows: number; facts_size: string }>(
    `SELECT (SELECT count(*) FROM coverage_rollups)::int AS rollups, pg_size_pretty(pg_total_relation_size('coverage_rollups')) AS rollups_size,
            (SELECT count(*) FROM coverage_served_days)::int AS served_rows, pg_size_pretty(pg_total_relation_size('coverage_order_facts')) AS facts_size`,
  )).rows[0]);
  if (!sizes) throw new Error('no sizes');

  const api = startChild('api-coverage', ['dist/apps/api/src/main.js'], { ...appEnv(), PORT: String(CONFIG.apiPort) });
  await waitForHttp('the API', api, CONFIG.apiPort, 60_000, [200, 503]);
  const token: string = (await expectStatus('admin login', request('POST', '/auth/login', { body: ADMIN }), [200])).accessToken;
  const urlPath = '/coverage/districts';
  const first: Json[] = await expectStatus('GET /coverage/districts', request('GET', urlPath, { token }), [200]);
  const period = { from: first[0].from, to: first[0].to };
  log(`first answer: ${first.length} districts, ${first.reduce((sum: number, r) => sum + Number(r.orders), 0)} orders submitted in ${period.from}..${period.to}`);

  log(`naive GROUP BY over orders, ${CONFIG.naiveRuns} runs`);
  const naive = await measureNaive(period);
  const mismatched = first.filter((row) => !sameFigures(row, naive.figures?.get(row.districtCode) as Record<string, unknown> | undefined)).map((r) => r.districtCode);
  if (mismatched.length > 0) throw new Error(`rollup figures differ from the naive recomputation for ${mismatched.join(', ')}`);
  log('API figures equal the naive recomputation for every district');

  log(`warm-up ${CONFIG.warmupS}s`);
  await fire(urlPath, token, CONFIG.warmupS);
  log('one client alone, 5s');
  const single = await fire(urlPath, token, 5, 1);
  const singleSorted = [...single.latencies].sort((a, b) => a - b);
  log(`measuring: ${CONFIG.connections} connections, ${CONFIG.durationS}s`);
  const load = os.loadavg()[0] ?? 0;
  const cpuBefore = await cpuSnapshot(DATABASE_URL, CONFIG.database, api.pid);
  const { result, latencies } = await fire(urlPath, token, CONFIG.durationS);
  const cpu = cpuDelta(cpuBefore, await cpuSnapshot(DATABASE_URL, CONFIG.database, api.pid));
  // The same load with 30 different periods (90 days ending on each of the last 30 days): identical
  // concurrent requests share one computation, so this is closer to what each request costs alone.
  const lastDay = Date.parse(`${period.to}T00:00:00Z`);
  const variedPath = () => `/coverage/districts?to=${new Date(lastDay - Math.floor(Math.random() * 30) * 86_400_000).toISOString().slice(0, 10)}`;
  log(`measuring: ${CONFIG.connections} connections, 30 different periods, ${CONFIG.durationS}s`);
  const variedCpuBefore = await cpuSnapshot(DATABASE_URL, CONFIG.database, api.pid);
  const varied = await fire(variedPath, token, CONFIG.durationS);
  const variedCpu = cpuDelta(variedCpuBefore, await cpuSnapshot(DATABASE_URL, CONFIG.database, api.pid));
  await stopChild(api);
  const variedSorted = [...varied.latencies].sort((a, b) => a - b);
  log(`worker refresh: ${CONFIG.refreshOrders} orders changed and refreshed one at a time, then again`);
  const refresh = await measureRefresh();

  const sorted = [...latencies].sort((a, b) => a - b);
  const fmt = (ms: number | undefined): string => (ms === undefined ? 'n/a' : ms.toFixed(1));
  const p50 = percentile(sorted, 50);
  const p95 = percentile(sorted, 95);
  const single50 = percentile(singleSorted, 50) ?? NaN;
  const single95 = percentile(singleSorted, 95);
  const naive50 = percentile(naive.times, 50) ?? NaN;
  const naive95 = percentile(naive.times, 95);
  const speedup = naive50 / single50;
  const report = [
    `GET /coverage/districts (city_admin, all 16 districts, default period ${period.from}..${period.to}) vs the naive GROUP BY over orders`,
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; date ${new Date().toISOString()}`,
    `data: ${counts.orders} orders (${counts.orders_size}) over ${counts.communities} communities, ${counts.events} scheduling events, ${counts.service_records} service records, ${counts.breaches} SLA breaches; ${counts.seedS === null ? 'seeded by a previous run (BENCH_REUSE_DB=1)' : `seeded over ${CONFIG.spanDays} days in ${counts.seedS.toFixed(0)}s`}`,
    `rollups: ${rebuildS === null ? 'as rebuilt by that run' : `coverage:rebuild in ${rebuildS.toFixed(0)}s`} → ${sizes.rollups} rollup rows (${sizes.rollups_size}), ${sizes.served_rows} served-days rows, facts ${sizes.facts_size}`,
    'check: the API\'s figures equal the naive recomputation for all 16 districts',
    '',
    `| variant | p50 ms | p95 ms | req/s | 2xx / non-2xx / errors |`,
    '| --- | ---: | ---: | ---: | --- |',
    `| API, ${CONFIG.connections} connections (autocannon, ${CONFIG.durationS}s) | ${fmt(p50)} | ${fmt(p95)} | ${result.requests.average.toFixed(0)} | ${result['2xx']} / ${result.non2xx} / ${result.errors + result.timeouts} |`,
    `| API, ${CONFIG.connections} connections, 30 different periods (${CONFIG.durationS}s) | ${fmt(percentile(variedSorted, 50))} | ${fmt(percentile(variedSorted, 95))} | ${varied.result.requests.average.toFixed(0)} | ${varied.result['2xx']} / ${varied.result.non2xx} / ${varied.result.errors + varied.result.timeouts} |`,
    `| API, 1 connection (autocannon, 5s) | ${fmt(single50)} | ${fmt(single95)} | ${single.result.requests.average.toFixed(0)} | ${single.result['2xx']} / ${single.result.non2xx} / ${single.result.errors + single.result.timeouts} |`,
    `| naive GROUP BY over orders (${CONFIG.naiveRuns} runs, one at a time) | ${fmt(naive50)} | ${fmt(naive95)} | ${(1000 / naive50).toFixed(2)} | |`,
    '',
    ...(cpu && result['2xx'] > 0
      ? [`CPU per request at ${CONFIG.connections} connections: API ${((cpu.api * 1000) / result['2xx']).toFixed(1)} ms + PostgreSQL ${((cpu.db * 1000) / result['2xx']).toFixed(1)} ms (same period: concurrent requests share a computation)`]
      : []),
    ...(variedCpu && varied.result['2xx'] > 0
      ? [`CPU per request, 30 different periods: API ${((variedCpu.api * 1000) / varied.result['2xx']).toFixed(1)} ms + PostgreSQL ${((variedCpu.db * 1000) / varied.result['2xx']).toFixed(1)} ms`]
      : []),
    `worker refresh of one order (CoverageRepository.refreshOrders, one at a time, ${refresh.orders} orders): after a change p50 ${fmt(percentile(refresh.changed, 50))} / p95 ${fmt(percentile(refresh.changed, 95))} ms; a duplicate job p50 ${fmt(percentile(refresh.duplicate, 50))} / p95 ${fmt(percentile(refresh.duplicate, 95))} ms`,
    '',
    `aim p95 < ${CONFIG.aimP95Ms} ms at ${CONFIG.connections} connections: ${p95 !== undefined && p95 < CONFIG.aimP95Ms ? 'met' : 'missed'} (1 connection: ${single95 !== undefined && single95 < CONFIG.aimP95Ms ? 'met' : 'missed'});` +
      ` speed-up naive p50 / API p50 (1 connection): ${speedup.toFixed(0)}× (aim ≥ ${CONFIG.aimSpeedup}×: ${speedup >= CONFIG.aimSpeedup ? 'met' : 'missed'})`,
    `machine load (1-minute average) when the measurement started: ${load.toFixed(2)} on ${os.cpus().length} cores`,
    `elapsed ${((Date.now() - started) / 1000).toFixed(0)}s`,
  ].join('\n');
  process.stdout.write(`${report}\n`);
  fs.appendFileSync(CONFIG.results, `\n## GET /coverage/districts (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)\n\nCommand: \`${CONFIG.reuse ? 'BENCH_REUSE_DB=1 node -r ./test/support/register-ts.js bench/coverage.bench.ts' : 'npm run bench:coverage'}\`\n\n${report}\n`);
  log(`appended to ${path.relative(ROOT, CONFIG.results)}`);
  if (result.non2xx + single.result.non2xx + varied.result.non2xx > 0 || result.errors + varied.result.errors > 0) process.exitCode = 3;
}

runMain(main, { timeoutS: CONFIG.timeoutS, killAllNow });
