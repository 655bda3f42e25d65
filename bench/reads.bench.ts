// GET /orders for an org_admin and a volunteer over 1,000,000 orders: the plans
// (EXPLAIN (ANALYZE, BUFFERS)) of main's visibility filter and of this code's,
// and the p95 at 10 connections with the API and the worker running as
// `npm start` runs them. See bench/README.md.
//
//   npm run bench:reads                                          (builds first)
//   node -r ./test/support/register-ts.js bench/reads.bench.ts   (uses the dist/ already built)
//
// The database (BENCH_DATABASE, default kepu_bench_reads) is seeded once and
// reused by later runs (BENCH_RESEED=1 seeds it again). BENCH_BEFORE_DIST=<dir>
// (a dist/ built from main) also measures main's API in the same run, on the
// same data with this branch's indexes dropped for that part. BENCH_SEED_ONLY=1 stops
// after seeding.
//
// Only 127.0.0.1 is targeted; every child process is ended at the end; the run
// is bounded by BENCH_TIMEOUT_S. The result is printed and appended to bench/RESULTS.md.

import type { Actor } from '@kepu/core';
// The bench captures the SQL the repository sends (to EXPLAIN it), an internal of the orders library: imported from its file on purpose.
import { OrdersRepository } from '../libs/orders/src/orders.repository';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { cpuDelta, cpuSnapshot } from './support/cpu';
import {
  type BenchChild,
  createBenchDatabase,
  createChildren,
  envInt,
  expectStatus,
  httpRequest,
  log,
  percentile,
  requireBuilt,
  ROOT,
  runMain,
  withPg,
  benchPlatform,
} from './support/harness';
import { fireRecording } from './support/load';

const env = process.env;
const int = envInt;

const CONFIG = {
  ...benchPlatform({ database: 'kepu_bench_reads', apiPort: 4240, redisDb: 11, queuePrefix: '{kepu-bench-reads}' }),
  orders: int('BENCH_ORDERS', 1_000_000),
  organizations: int('BENCH_ORGANIZATIONS', 50),
  spanDays: int('BENCH_SPAN_DAYS', 730),
  durationS: int('BENCH_DURATION_S', 10),
  warmupS: int('BENCH_WARMUP_S', 3),
  connections: int('BENCH_CONNECTIONS', 10),
  reseed: env.BENCH_RESEED === '1',
  beforeDist: env.BENCH_BEFORE_DIST || '',
  aimP95Ms: 50,
  timeoutS: int('BENCH_TIMEOUT_S', 3600),
  results: env.BENCH_RESULTS_FILE || path.join(__dirname, 'RESULTS.md'),
  logDir: path.join(ROOT, 'test-output', 'bench'),
};
const DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${CONFIG.database}`;
const ADMIN = { username: 'admin', password: 'bench-admin-pass-1' };
const PASSWORD = 'bench-user-pass-1';
const ORG_ADMIN = { username: 'bench-reads-org', password: PASSWORD };
const VOLUNTEER = { username: 'bench-reads-volunteer', password: PASSWORD };
/** The measured organisation serves four of Beijing's sixteen districts. */
const DISTRICTS = ['110101', '110105', '110108', '110115'];
/** The indexes migration 1764399600000 adds: dropped while main's query is measured. */
const NEW_INDEXES = ['orders_organization_urgent_idx', 'orders_offered_urgent_idx', 'orders_open_call_idx', 'orders_claimable_idx'];
/** …and the one it drops, main's, restored meanwhile. */
const MAIN_OFFERED_INDEX = `CREATE INDEX IF NOT EXISTS orders_offered_idx ON orders (offered_organization_id) WHERE offered_organization_id IS NOT NULL`;

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
    ACCESS_TOKEN_TTL_SECONDS: '3600',
    PORT: String(CONFIG.apiPort),
    LOG_LEVEL: 'warn',
  };
}

function cli(command: string, timeoutMs: number): string {
  const run = spawnSync(process.execPath, ['dist/apps/cli/src/main.js', command], { cwd: ROOT, env: { ...env, ...appEnv() }, encoding: 'utf8', timeout: timeoutMs });
  if (run.status !== 0) throw new Error(`${command} failed (status ${run.status}):\n${(run.stdout || '').slice(-2000)}\n${(run.stderr || '').slice(-2000)}`);
  return run.stdout;
}

interface Seeded {
  organization_id: string;
  org_admin_user_id: string;
  volunteer_user_id: string;
  volunteer_id: string;
  orders: number;
  seeded_at: Date;
}

/** The seed's own record: which run made the data and who the measured accounts are. */
async function seededBefore(): Promise<Seeded | null> {
  try {
    return await withPg(DATABASE_URL, async (pg) => {
      const { rows } = await pg.query<Seeded>(`SELECT * FROM bench_reads_seed`);
      return rows[0]?.orders === CONFIG.orders ? rows[0] : null;
    });
  } catch {
    return null; // no database or no record: seed
  }
}

/** `npm start` (db:setup, then the API and the worker) from `distRoot`, answering on the bench's port. */
async function startPlatform(name: string, distRoot: string): Promise<BenchChild> {
  const child = startChild(name, [path.join(distRoot, 'dist/apps/cli/src/main.js'), 'start'], appEnv());
  await waitForHttp(name, child, CONFIG.apiPort, 180_000, [200]);
  return child;
}

async function login(who: { username: string; password: string }): Promise<string> {
  return (await expectStatus(`${who.username} login`, request('POST', '/auth/login', { body: who }), [200])).accessToken;
}

/**
 * Accounts through the API (the organisation, its admin, a volunteer with a login), then
 * 1,000,000 orders in one statement: every status, 2 % urgent, spread over every community;
 * those past acceptance belong to one of 50 organisations (a third were offered to it, a third
 * opened to the district's organisations first), open calls waiting in every district, open
 * slots on scheduled events. The volunteer has 60 live assignments and 300 service records,
 * 2,000 other volunteers 200,000 assignments.
 */
async function seed(): Promise<Seeded> {
  const t0 = Date.now();
  await createBenchDatabase(CONFIG.pgAdminUrl, CONFIG.database, appEnv());
  const api = startChild('api-reads-seed', ['dist/apps/api/src/main.js'], appEnv());
  await waitForHttp('the API', api, CONFIG.apiPort, 120_000, [200, 503]);
  const admin = await login(ADMIN);
  const post = async (token: string, p: string, body: unknown) => expectStatus(`POST ${p}`, request('POST', p, { token, body }), [200, 201]);
  const organization = await post(admin, '/organizations', { name: '基准读取志愿服务队', districtCodes: DISTRICTS });
  const orgAdmin = await post(admin, '/users', { ...ORG_ADMIN, displayName: '基准组织管理员', role: 'org_admin', organizationId: organization.id });
  const orgToken = await login(ORG_ADMIN);
  const volunteer = await post(orgToken, `/organizations/${organization.id}/volunteers`, {
    displayName: '基准志愿者',
    phone: '13900002222',
    homeCommunityCode: '110108001001',
    skills: [{ topic: 'health', level: 2 }],
    audiences: ['general'],
    formats: ['lecture'],
    availability: [{ weekday: 6, start: '09:00', end: '12:00' }],
    maxHoursPerWeek: 10,
    ...VOLUNTEER,
  });
  await stopChild(api);
  log(`accounts made; seeding ${CONFIG.orders} orders`);

  const seeded = await withPg(DATABASE_URL, async (pg: Client) => {
    await pg.query(`SET synchronous_commit = off`);
    const first = async <T extends object>(sql: string, params: unknown[] = []): Promise<T> => {
      const [row] = (await pg.query<T & Record<string, unknown>>(sql, params)).rows;
      if (!row) throw new Error(`no row from ${sql.slice(0, 60)}`);
      return row;
    };
    const requester = await first<{ id: string }>(`SELECT id FROM users WHERE username = $1`, [ADMIN.username]);
    await pg.query(`INSERT INTO organizations (name) SELECT '基准志愿服务队 ' || g FROM generate_series(2, $1::int) g`, [CONFIG.organizations]);
    // The measured organisation is number 0; the others serve four districts each, round the sixteen.
    await pg.query(
      `CREATE TEMP TABLE bench_orgs AS SELECT id, (row_number() OVER (ORDER BY id <> $1, id) - 1)::int AS n FROM organizations`,
      [organization.id],
    );
    await pg.query(`CREATE TEMP TABLE bench_districts AS SELECT code, (row_number() OVER (ORDER BY code) - 1)::int AS n FROM districts WHERE province_code = '11'`);
    await pg.query(
      `INSERT INTO organization_districts (organization_id, district_code)
       SELECT o.id, d.code FROM bench_orgs o JOIN bench_districts d ON (d.n - o.n + 64) % 16 < 4 WHERE o.n > 0`,
    );
    await pg.query(`CREATE TEMP TABLE bench_communities AS SELECT code, subdistrict_code, district_code, (row_number() OVER (ORDER BY code) - 1)::int AS n FROM communities`);
    const communities = (await first<{ n: number }>(`SELECT count(*)::int AS n FROM bench_communities`)).n;
    // h decorrelates the organisation, urgency and routing from the status (g % 20).
    await pg.query(
      `INSERT INTO orders (code, status, community_code, subdistrict_code, district_code, requester_id, topic, audience, format, title, description,
         expected_attendance, preferred_windows, last_window_end, contact_name, contact_phone, scheduled_start, scheduled_end,
         organization_id, offered_organization_id, is_open_to_organizations, open_slots, urgent, created_at, updated_at)
       SELECT 'KPR' || lpad(g::text, 8, '0'), s.status, c.code, c.subdistrict_code, c.district_code, $1,
         'health', 'general', 'lecture', '基准订单', '读取基准', 40, '[]', s.created + interval '30 days', '基准', '13800000000',
         CASE WHEN s.is_scheduled THEN s.created + interval '14 days' END, CASE WHEN s.is_scheduled THEN s.created + interval '14 days 2 hours' END,
         CASE WHEN s.is_taken THEN o.id END,
         CASE WHEN s.h % 3 = 0 AND (s.is_taken OR s.status = 'claimed') THEN o.id END,
         s.h % 3 = 1 AND (s.is_taken OR s.status IN ('claimed','cancelled','expired')),
         CASE WHEN s.status = 'scheduled' THEN s.h % 4 ELSE 0 END,
         s.h % 97 < 2, s.created, s.created
       FROM generate_series(1::bigint, $2::bigint) g
       CROSS JOIN LATERAL (
         SELECT st.status, st.status IN ('scheduled','in_progress','completed','rated','closed') AS is_scheduled,
                st.status IN ('accepted','scheduled','in_progress','completed','rated','closed') AS is_taken,
                abs(hashtext(g::text)) AS h, now() - ((g * 104729) % ($4::int * 1440)) * interval '1 minute' AS created
         FROM (SELECT CASE WHEN g % 20 < 6 THEN 'rated' WHEN g % 20 < 10 THEN 'completed' WHEN g % 20 < 11 THEN 'closed'
                           ELSE (ARRAY['submitted','dispatched','claimed','accepted','scheduled','in_progress','rejected','cancelled','expired'])[(1 + (g / 20) % 9)::int] END AS status) st
       ) s
       JOIN bench_communities c ON c.n = ((g * 7) % $3::int)::int
       JOIN bench_orgs o ON o.n = (s.h / 7) % $5::int`,
      [requester.id, CONFIG.orders, communities, CONFIG.spanDays, CONFIG.organizations],
    );
    log(`orders in ${((Date.now() - t0) / 1000).toFixed(0)}s; volunteers, assignments, service records`);
    await pg.query(
      `INSERT INTO volunteers (organization_id, display_name, phone, home_community_code, home_subdistrict_code, home_district_code, max_hours_per_week)
       SELECT o.id, '志愿者 ' || g, '13900000000', c.code, c.subdistrict_code, c.district_code, 10
       FROM generate_series(1, 2000) g JOIN bench_orgs o ON o.n = g % $1::int JOIN bench_communities c ON c.n = g`,
      [CONFIG.organizations],
    );
    // Disjoint one-minute ranges: no volunteer is ever double-booked.
    await pg.query(
      `INSERT INTO assignments (order_id, volunteer_id, organization_id, during, status)
       SELECT x.id, v.id, x.organization_id, tstzrange(timestamptz '2000-01-01' + x.n * interval '1 minute', timestamptz '2000-01-01' + (x.n + 1) * interval '1 minute'), 'confirmed'
       FROM (SELECT id, organization_id, row_number() OVER (ORDER BY id) AS n FROM orders WHERE organization_id IS NOT NULL AND abs(hashtext(code)) % 3 = 0 LIMIT 200000) x
       JOIN LATERAL (SELECT id FROM volunteers v WHERE v.organization_id = x.organization_id AND v.id <> $1 ORDER BY id OFFSET x.n % 40 LIMIT 1) v ON true`,
      [volunteer.id],
    );
    await pg.query(
      `INSERT INTO assignments (order_id, volunteer_id, organization_id, during, status)
       SELECT id, $1, organization_id, tstzrange(timestamptz '2001-01-01' + n * interval '1 day', timestamptz '2001-01-01' + n * interval '1 day' + interval '2 hours'), 'confirmed'
       FROM (SELECT id, organization_id, row_number() OVER (ORDER BY code) AS n FROM orders
             WHERE organization_id = $2 AND status IN ('scheduled','in_progress') ORDER BY code LIMIT 60) x`,
      [volunteer.id, organization.id],
    );
    await pg.query(
      `INSERT INTO service_records (order_id, volunteer_id, event_start, event_end, check_in_at, check_out_at, hours)
       SELECT id, $1, scheduled_start, scheduled_end, scheduled_start, scheduled_end, 2
       FROM orders WHERE organization_id = $2 AND status IN ('completed','rated','closed') ORDER BY code LIMIT 300`,
      [volunteer.id, organization.id],
    );
    await pg.query(`ANALYZE`);
    await pg.query(
      `CREATE TABLE bench_reads_seed AS SELECT $1::uuid AS organization_id, $2::uuid AS org_admin_user_id, $3::uuid AS volunteer_user_id,
         $4::uuid AS volunteer_id, $5::int AS orders, now() AS seeded_at`,
      [organization.id, orgAdmin.id, volunteer.userId, volunteer.id, CONFIG.orders],
    );
    return first<Seeded>(`SELECT * FROM bench_reads_seed`);
  });
  log(`seeded in ${((Date.now() - t0) / 1000).toFixed(0)}s; coverage:rebuild (else the worker rebuilds at its first start, during the measurement)`);
  log(cli('coverage:rebuild', CONFIG.timeoutS * 1000).trim());
  log(`seed and rebuild took ${((Date.now() - t0) / 1000).toFixed(0)}s`);
  return seeded;
}

function actors(seeded: Seeded): { role: string; actor: Actor }[] {
  const none = { communityCode: null, departmentId: null, districtCode: null };
  return [
    { role: 'org_admin', actor: { ...none, userId: seeded.org_admin_user_id, role: 'org_admin', organizationId: seeded.organization_id, volunteerId: null } },
    { role: 'volunteer', actor: { ...none, userId: seeded.volunteer_user_id, role: 'volunteer', organizationId: seeded.organization_id, volunteerId: seeded.volunteer_id } },
  ];
}

/** main's (a783133) first-page statements, as its OrdersRepository.listVisible sent them: the urgent part, then the rest. */
function mainStatements(actor: Actor): { sql: string; params: unknown[] }[] {
  const filter =
    actor.role === 'org_admin'
      ? `(o.organization_id = $1 OR o.offered_organization_id = $1 OR (o.is_open_to_organizations AND o.organization_id IS NULL AND o.district_code IN (SELECT district_code FROM organization_districts WHERE organization_id = $1)))`
      : `(EXISTS (SELECT 1 FROM assignments a WHERE a.order_id = o.id AND a.volunteer_id = $1 AND a.status IN ('invited','confirmed'))
    OR EXISTS (SELECT 1 FROM service_records r WHERE r.order_id = o.id AND r.volunteer_id = $1)
    OR (o.status = 'scheduled' AND o.open_slots > 0 AND o.organization_id = (SELECT organization_id FROM volunteers WHERE id = $1)))`;
  const param = actor.role === 'org_admin' ? actor.organizationId : actor.volunteerId;
  return [true, false].map((urgent) => ({
    sql: `SELECT o.* FROM orders o WHERE ${filter} AND ${urgent ? 'o.urgent' : 'NOT o.urgent'} ORDER BY o.created_at DESC, o.id DESC LIMIT $2`,
    params: [param, 21],
  }));
}

/** This code's statements for the same page: OrdersRepository.listVisible against a data source that records them. */
async function currentStatements(actor: Actor, filters: { urgent?: boolean } = {}): Promise<{ sql: string; params: unknown[] }[]> {
  const sent: { sql: string; params: unknown[] }[] = [];
  const recorder = { query: async (sql: string, params: unknown[]) => (sent.push({ sql, params }), []) } as unknown as DataSource;
  await new OrdersRepository(recorder).listVisible(actor, filters, 20);
  return sent;
}

interface Explained {
  lines: string[];
  ms: number;
  buffers: number;
}

/** EXPLAIN (ANALYZE, BUFFERS) of each statement: the plan's node lines, and the summed execution time and shared buffers of the top nodes. */
async function explain(pg: Client, statements: { sql: string; params: unknown[] }[]): Promise<Explained> {
  const out: Explained = { lines: [], ms: 0, buffers: 0 };
  for (const s of statements) {
    // Once to warm the cache as the load would, then the measured one.
    await pg.query(s.sql, s.params);
    const { rows } = await pg.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${s.sql}`, s.params);
    const text = rows.map((r) => r['QUERY PLAN']);
    const top = text.find((l) => /Buffers:/.test(l)) ?? '';
    out.buffers += Number(/shared hit=(\d+)/.exec(top)?.[1] ?? 0) + Number(/read=(\d+)/.exec(top)?.[1] ?? 0);
    out.ms += Number(/Execution Time: ([\d.]+)/.exec(text.join('\n'))?.[1] ?? 0);
    out.lines.push(...text.filter((l) => /->|^\S|Index Cond|Filter|Buffers|Rows Removed/.test(l) && !/Planning|Execution/.test(l)).map((l) => `    ${l}`), '    --');
  }
  return out;
}

interface Load {
  name: string;
  p50: number | undefined;
  p95: number | undefined;
  rps: number;
  ok: number;
  bad: number;
  cpu: string;
}

async function measure(name: string, child: BenchChild, urlPath: string, token: string): Promise<Load> {
  await fireRecording(CONFIG.apiPort, urlPath, token, CONFIG.warmupS, CONFIG.connections);
  const before = await cpuSnapshot(DATABASE_URL, CONFIG.database, child.pid);
  const { result, latencies } = await fireRecording(CONFIG.apiPort, urlPath, token, CONFIG.durationS, CONFIG.connections);
  const cpu = cpuDelta(before, await cpuSnapshot(DATABASE_URL, CONFIG.database, child.pid));
  const sorted = [...latencies].sort((a, b) => a - b);
  const ok = result['2xx'];
  return {
    name,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    rps: result.requests.average,
    ok,
    bad: result.non2xx + result.errors + result.timeouts,
    cpu: cpu && ok > 0 ? `PostgreSQL ${((cpu.db * 1000) / ok).toFixed(1)} ms` : 'n/a',
  };
}

const PATHS = [
  { what: 'first page (urgent first)', path: '/orders' },
  { what: 'urgent=false', path: '/orders?urgent=false' },
];

/** Both roles' pages under load against the platform `start`ed from distRoot. */
async function loadPhase(label: string, distRoot: string): Promise<Load[]> {
  const platform = await startPlatform(`start-reads-${label}`, distRoot);
  try {
    const tokens = { org_admin: await login(ORG_ADMIN), volunteer: await login(VOLUNTEER) };
    const loads: Load[] = [];
    for (const [role, token] of Object.entries(tokens)) {
      for (const p of PATHS) {
        const page = await expectStatus(`${role} GET ${p.path}`, request('GET', p.path, { token }), [200]);
        log(`${label} ${role} ${p.path}: ${page.items.length} orders, ${page.items.filter((o: { urgent: boolean }) => o.urgent).length} urgent; measuring`);
        loads.push(await measure(`${label}: ${role} ${p.what}`, platform, p.path, token));
      }
    }
    return loads;
  } finally {
    await stopPlatform(platform);
  }
}

async function stopPlatform(platform: BenchChild): Promise<void> {
  await stopChild(platform);
}

async function main(): Promise<void> {
  const started = Date.now();
  requireBuilt(['dist/apps/api/src/main.js', 'dist/apps/worker/src/main.js', 'dist/apps/cli/src/main.js'], 'npm run bench:reads');
  let seeded = CONFIG.reseed ? null : await seededBefore();
  const reused = seeded !== null;
  if (seeded) log(`reusing ${CONFIG.database}, seeded ${seeded.seeded_at.toISOString()} (BENCH_RESEED=1 to seed again)`);
  else seeded = await seed();
  if (env.BENCH_SEED_ONLY === '1') return;
  // db:setup brings a reused database to this code's migrations (the new indexes).
  cli('db:setup', 600_000);
  const counts = await withPg(DATABASE_URL, async (pg) => (await pg.query<{ orders: number; org: number; open_calls: number; urgent: number; claimable: number; assignments: number; records: number; size: string }>(
    `SELECT (SELECT count(*) FROM orders)::int AS orders,
            (SELECT count(*) FROM orders WHERE organization_id = $1 OR offered_organization_id = $1)::int AS org,
            (SELECT count(*) FROM orders WHERE is_open_to_organizations AND organization_id IS NULL)::int AS open_calls,
            (SELECT count(*) FROM orders WHERE urgent)::int AS urgent,
            (SELECT count(*) FROM orders WHERE status = 'scheduled' AND open_slots > 0 AND organization_id = $1)::int AS claimable,
            (SELECT count(*) FROM assignments)::int AS assignments, (SELECT count(*) FROM service_records WHERE volunteer_id = $2)::int AS records,
            pg_size_pretty(pg_total_relation_size('orders')) AS size`,
    [seeded?.organization_id, seeded?.volunteer_id],
  )).rows[0]);

  // Plans: main's statements with this branch's indexes dropped (in a transaction rolled back), then this code's.
  const plans: string[] = [];
  await withPg(DATABASE_URL, async (pg) => {
    for (const { role, actor } of actors(seeded)) {
      await pg.query('BEGIN');
      for (const index of NEW_INDEXES) await pg.query(`DROP INDEX IF EXISTS ${index}`);
      await pg.query(MAIN_OFFERED_INDEX);
      const before = await explain(pg, mainStatements(actor));
      await pg.query('ROLLBACK');
      const after = await explain(pg, await currentStatements(actor));
      const afterOrdinary = await explain(pg, await currentStatements(actor, { urgent: false }));
      plans.push(
        `${role}, first page: main ${before.ms.toFixed(1)} ms, ${before.buffers} buffers → this code ${after.ms.toFixed(1)} ms, ${after.buffers} buffers (urgent=false: ${afterOrdinary.ms.toFixed(1)} ms, ${afterOrdinary.buffers} buffers)`,
        `  main (a783133), without the new indexes:`,
        ...before.lines,
        `  this code:`,
        ...after.lines,
      );
    }
  });
  process.stdout.write(`${plans.join('\n')}\n`);

  const load = os.loadavg()[0] ?? 0;
  const loads: Load[] = [];
  if (CONFIG.beforeDist) {
    // main's platform on the same data without this branch's indexes (recreated afterwards from their definitions).
    const definitions = await withPg(DATABASE_URL, async (pg) => {
      const { rows } = await pg.query<{ def: string }>(`SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = ANY($1)`, [NEW_INDEXES]);
      for (const index of NEW_INDEXES) await pg.query(`DROP INDEX IF EXISTS ${index}`);
      await pg.query(MAIN_OFFERED_INDEX);
      return rows.map((r) => r.def);
    });
    try {
      loads.push(...(await loadPhase('main', path.resolve(CONFIG.beforeDist, '..'))));
    } finally {
      await withPg(DATABASE_URL, async (pg) => {
        await pg.query(`DROP INDEX IF EXISTS orders_offered_idx`);
        for (const def of definitions) await pg.query(def);
        await pg.query('ANALYZE orders');
      });
    }
  }
  loads.push(...(await loadPhase('this code', ROOT)));

  const fmt = (ms: number | undefined): string => (ms === undefined ? 'n/a' : ms.toFixed(1));
  const report = [
    `GET /orders (org_admin of an organisation serving 4 districts; a volunteer of it), ${CONFIG.connections} connections, ${CONFIG.durationS}s each after ${CONFIG.warmupS}s warm-up; API and worker as \`npm start\` runs them`,
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), node ${process.version}; date ${new Date().toISOString()}; 1-minute load average at the start of the load: ${load.toFixed(2)}`,
    `data: ${counts?.orders} orders (${counts?.size}), ${CONFIG.organizations} organisations; the organisation's own or offered: ${counts?.org}, open calls waiting (all districts): ${counts?.open_calls}, urgent: ${counts?.urgent}; the volunteer: ${counts?.claimable} claimable events of its organisation, ${counts?.records} service records, 60 live assignments (of ${counts?.assignments}); ${reused ? 'seeded by an earlier run' : 'seeded by this run'}`,
    '',
    'Plans (EXPLAIN (ANALYZE, BUFFERS), second run of each statement; a page is the urgent part, then the rest if the urgent part is short):',
    '',
    '```',
    ...plans,
    '```',
    '',
    `| run | p50 ms | p95 ms | req/s | 2xx | non-2xx / errors | CPU per request |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...loads.map((l) => `| ${l.name} | ${fmt(l.p50)} | ${fmt(l.p95)} | ${l.rps.toFixed(0)} | ${l.ok} | ${l.bad} | ${l.cpu} |`),
    '',
    `aim p95 < ${CONFIG.aimP95Ms} ms at ${CONFIG.connections} connections (this code): ${loads.filter((l) => l.name.startsWith('this code')).every((l) => l.p95 !== undefined && l.p95 < CONFIG.aimP95Ms) ? 'met' : 'missed'} on every row`,
    `elapsed ${((Date.now() - started) / 1000).toFixed(0)}s`,
  ].join('\n');
  process.stdout.write(`${report}\n`);
  const command = `${CONFIG.beforeDist ? `BENCH_BEFORE_DIST=${CONFIG.beforeDist} ` : ''}npm run bench:reads`;
  fs.appendFileSync(CONFIG.results, `\n## GET /orders for org_admin and volunteer at 1,000,000 orders (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)\n\nCommand: \`${command}\`\n\n${report}\n`);
  log(`appended to ${path.relative(ROOT, CONFIG.results)}`);
  if (loads.some((l) => l.bad > 0)) process.exitCode = 3;
}

runMain(main, { timeoutS: CONFIG.timeoutS, killAllNow });
