// A mixed load on the built API: 70 % reads (GET /orders lists and GET /orders/:id
// across roles), 20 % creates (POST /orders with an Idempotency-Key, some of them
// retried with the same key), 10 % transitions (dispatch, claim, offer, accept,
// release on a pre-seeded pool of orders, cycling), 64 connections for 60 s; then
// the reads alone against the API and against bench/reference-reads-server.ts.
// See bench/README.md.
//
//   npm run bench:mixed                                                              (builds first)
//   BENCH_DURATION_S=10 node -r ./test/support/register-ts.js bench/mixed.bench.ts   (a short check on the dist/ already built)
//
// Only 127.0.0.1 is targeted; every child process is ended at the end; the run
// is bounded by BENCH_TIMEOUT_S.

import autocannon from 'autocannon';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { orderBody as baseOrderBody } from '../test/support/order-body';
import {
  createBenchDatabase,
  createChildren,
  envInt,
  expectStatus,
  httpRequest,
  log,
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
  ...benchPlatform({ database: 'kepu_bench_mixed', apiPort: 4600, redisDb: 7, queuePrefix: '{kepu-bench-mixed}' }),
  referencePort: int('BENCH_REFERENCE_PORT', 4601),
  durationS: int('BENCH_DURATION_S', int('BENCH_DURATION', 60)),
  readsDurationS: int('BENCH_READS_DURATION_S', 15),
  warmupS: int('BENCH_WARMUP_S', 3),
  connections: int('BENCH_CONNECTIONS', 64),
  pool: int('BENCH_POOL', 2000),
  residents: int('BENCH_RESIDENTS', 8),
  timeoutS: int('BENCH_TIMEOUT_S', 900),
  logDir: path.join(ROOT, 'test-output', 'bench'),
};
const MIX = { read: 0.7, create: 0.2, transition: 0.1 };
const DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${CONFIG.database}`;
const ADMIN = { username: 'admin', password: 'bench-admin-pass-1' };
const COMMUNITIES = ['110101001001', '110101001002'];
const TOPICS = ['health', 'anti_fraud', 'digital_skills', 'emergency', 'fire_safety', 'food_safety', 'environment', 'astronomy'];
const AUDIENCES = ['elderly', 'youth', 'general', 'workers'];

const { startChild, stopChild, killAllNow, waitForHttp } = createChildren({ root: ROOT, logDir: path.join(CONFIG.logDir, 'mixed'), env });

function appEnv(): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'production',
    DATABASE_URL,
    REDIS_URL: CONFIG.redisUrl,
    QUEUE_PREFIX: '{kepu-bench-mixed}',
    JWT_SECRET: CONFIG.jwtSecret,
    BOOTSTRAP_ADMIN_USERNAME: ADMIN.username,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    LOG_LEVEL: 'warn',
    // the benchmark's one user writes far more than a person would (per-user write limits)
    WRITE_RATE_LIMIT_PER_HOUR: '1000000',
  };
}

let serial = 0;
/** Orders spread over topics, audiences, days and hours, so the lists are not one repeated row. */
function orderBody(communityCode: string): Record<string, unknown> {
  serial += 1;
  const day = 24 * 3600 * 1000;
  const start = new Date(Date.now() + (7 + (serial % 120)) * day);
  start.setUTCHours(1 + (serial % 8), 0, 0, 0);
  return baseOrderBody(communityCode, {
    topic: TOPICS[serial % TOPICS.length],
    audience: AUDIENCES[Math.floor(serial / TOPICS.length) % AUDIENCES.length],
    title: `科普讲座 #${serial}`,
    description: 'A talk for the community, about 60 people, one hour with questions.',
    preferredWindows: [{ start: start.toISOString(), end: new Date(start.getTime() + 2 * 3600 * 1000).toISOString() }],
    accessibilityNeeds: undefined,
    contactName: '王老师',
  });
}

interface Account {
  username?: string;
  role: string;
  token: string;
  id?: string;
  scope?: Record<string, string>;
}

interface Accounts {
  admin: Account;
  departmentId: string;
  organizationId: string;
  residents: Account[];
  staff: Record<string, Account>;
  dept: Account;
  org: Account;
  coordinator: Account;
}

interface Entry {
  id: string;
  community: string;
}

type State = 'submitted' | 'dispatched' | 'claimed' | 'offered' | 'accepted';
type Pool = Record<State | 'all', Entry[]>;
type Who = 'staff' | 'dept' | 'org';
type Kind = 'read' | 'create' | 'create-retry' | 'transition';
type Mix = { read: number; create: number; transition: number };

interface KindStats {
  n: number;
  ok: number;
  expected409: number;
  unexpected: number;
  statuses: Record<number, number>;
  latencies: number[];
}

interface Stats {
  kinds: Record<Kind, KindStats>;
  samples: string[];
}

/** What setupRequest leaves for onResponse on the same connection. */
interface Context {
  sentAt: bigint;
  kind: Kind;
  entry?: Entry | null;
  community?: string;
  from?: State;
}

/** Accounts of every role the mix uses, through the API. */
async function createAccounts(): Promise<Accounts> {
  const port = CONFIG.apiPort;
  const admin = await expectStatus('admin login', httpRequest(port, 'POST', '/auth/login', { body: ADMIN }), [200]);
  const token: string = admin.accessToken;
  const district = (COMMUNITIES[0] ?? '').slice(0, 6);
  const department = await expectStatus('department', httpRequest(port, 'POST', '/departments', { token, body: { name: '东城区科协', districtCode: district } }), [201]);
  const organization = await expectStatus('organization', httpRequest(port, 'POST', '/organizations', { token, body: { name: '东城科普志愿服务队', districtCodes: [district] } }), [201]);
  const user = async (username: string, role: string, scope: Record<string, string>): Promise<Account> => {
    const password = `${username}-pass-1`;
    await expectStatus(`user ${username}`, httpRequest(port, 'POST', '/users', { token, body: { username, password, displayName: username, role, ...scope } }), [201]);
    const session = await expectStatus(`login ${username}`, httpRequest(port, 'POST', '/auth/login', { body: { username, password } }), [200]);
    return { username, role, token: session.accessToken, id: session.user.id, scope };
  };
  const residents: Account[] = [];
  for (let i = 0; i < CONFIG.residents; i++) residents.push(await user(`resident-${i}`, 'resident', { communityCode: COMMUNITIES[i % COMMUNITIES.length] ?? '' }));
  const staff: Record<string, Account> = {};
  for (const c of COMMUNITIES) staff[c] = await user(`staff-${c}`, 'community_staff', { communityCode: c });
  const dept = await user('dept-1', 'department_staff', { departmentId: department.id });
  const org = await user('org-1', 'org_admin', { organizationId: organization.id });
  const coordinator = await user('coord-1', 'district_coordinator', { districtCode: district });
  return { admin: { token, role: 'city_admin' }, departmentId: department.id, organizationId: organization.id, residents, staff, dept, org, coordinator };
}

/** The pool: orders by the state the next transition starts from. */
function createPool(): Pool {
  return { submitted: [], dispatched: [], claimed: [], offered: [], accepted: [], all: [] };
}
// state → [action, next state, who]
const NEXT: Record<State, [action: string, next: State, who: Who]> = {
  submitted: ['dispatch', 'dispatched', 'staff'],
  dispatched: ['claim', 'claimed', 'dept'],
  claimed: ['offer', 'offered', 'dept'],
  offered: ['accept', 'accepted', 'org'],
  accepted: ['release', 'claimed', 'org'],
};
const STATES = Object.keys(NEXT) as State[];

async function seedPool(accounts: Accounts, pool: Pool, n: number): Promise<void> {
  log(`seeding ${n} orders through the API, spread over the transition states`);
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      const resident = accounts.residents[i % accounts.residents.length];
      const community = resident?.scope?.communityCode;
      if (!resident || !community) throw new Error('no resident');
      const order = await expectStatus('seed create', httpRequest(CONFIG.apiPort, 'POST', '/orders', { token: resident.token, body: orderBody(community) }), [201]);
      const entry: Entry = { id: order.id, community };
      // walk it 0–4 steps so every state has orders to start from
      let state: State = 'submitted';
      for (let step = 0; step < i % 5; step++) {
        const [action, to, who]: [string, State, Who] = NEXT[state];
        await expectStatus(`seed ${action}`, httpRequest(CONFIG.apiPort, 'POST', `/orders/${entry.id}/${action}`, { token: actorFor(accounts, who, entry).token, body: bodyFor(accounts, action) }), [200]);
        state = to;
      }
      pool[state].push(entry);
      pool.all.push(entry);
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
}

function actorFor(accounts: Accounts, who: Who, entry: Entry): Account {
  if (who === 'staff') {
    const staff = accounts.staff[entry.community];
    if (!staff) throw new Error(`no staff for ${entry.community}`);
    return staff;
  }
  return who === 'dept' ? accounts.dept : accounts.org;
}

function bodyFor(accounts: Accounts, action: string): Record<string, string> {
  if (action === 'dispatch') return { departmentId: accounts.departmentId };
  if (action === 'offer') return { organizationId: accounts.organizationId };
  if (action === 'release') return { reason: '志愿者不足' };
  return {};
}

function pick<T>(xs: T[]): T {
  const x = xs[Math.floor(Math.random() * xs.length)];
  if (x === undefined) throw new Error('pick from an empty list');
  return x;
}

/** Per-kind counters and latencies, filled by onResponse. */
function createStats(): Stats {
  const kindStats = (): KindStats => ({ n: 0, ok: 0, expected409: 0, unexpected: 0, statuses: {}, latencies: [] });
  return { kinds: { read: kindStats(), create: kindStats(), 'create-retry': kindStats(), transition: kindStats() }, samples: [] };
}

/**
 * One autocannon request whose setupRequest draws the kind by the mix and fills in
 * method, path, token and body; onResponse records the outcome and moves the pool.
 */
function mixedRequest(accounts: Accounts, pool: Pool, stats: Stats, mix: Mix): autocannon.Request {
  const recentKeys: { key: string; body: string; token: string }[] = [];
  const readers = [accounts.admin, accounts.coordinator, accounts.dept, accounts.org, ...Object.values(accounts.staff), ...accounts.residents.slice(0, 2)];
  // Who may read one order: the city, the district, the order's own community staff.
  const byIdReaders = (entry: Entry): Account[] => [accounts.admin, accounts.coordinator, ...(accounts.staff[entry.community] ? [accounts.staff[entry.community] as Account] : [])];
  const json = (token: string): Record<string, string> => ({ 'content-type': 'application/json', authorization: `Bearer ${token}` });
  return {
    method: 'GET',
    path: '/health',
    setupRequest(req: autocannon.Request, context: Context): autocannon.Request {
      const r = Math.random();
      context.sentAt = process.hrtime.bigint();
      if (r < mix.read) {
        context.kind = 'read';
        if (Math.random() < 0.5) {
          const who = pick(readers);
          return { ...req, method: 'GET', path: `/orders?limit=20`, headers: { authorization: `Bearer ${who.token}` }, body: undefined };
        }
        const entry = pick(pool.all);
        const who = pick(byIdReaders(entry));
        return { ...req, method: 'GET', path: `/orders/${entry.id}`, headers: { authorization: `Bearer ${who.token}` }, body: undefined };
      }
      if (r < mix.read + mix.create) {
        if (recentKeys.length > 0 && Math.random() < 0.1) {
          const retry = pick(recentKeys);
          context.kind = 'create-retry';
          context.entry = null;
          return { ...req, method: 'POST', path: '/orders', headers: { ...json(retry.token), 'idempotency-key': retry.key }, body: retry.body };
        }
        const resident = pick(accounts.residents);
        const key = randomUUID();
        const community = resident.scope?.communityCode ?? '';
        const body = JSON.stringify(orderBody(community));
        recentKeys.push({ key, body, token: resident.token });
        if (recentKeys.length > 200) recentKeys.shift();
        context.kind = 'create';
        context.community = community;
        return { ...req, method: 'POST', path: '/orders', headers: { ...json(resident.token), 'idempotency-key': key }, body };
      }
      // A transition on an order in a state that has one; several connections may pick the same order: 409 for the losers.
      const state = pick(STATES.filter((s) => pool[s].length > 0));
      const entry = pick(pool[state]);
      const [action, , who] = NEXT[state];
      context.kind = 'transition';
      context.entry = entry;
      context.from = state;
      return { ...req, method: 'POST', path: `/orders/${entry.id}/${action}`, headers: json(actorFor(accounts, who, entry).token), body: JSON.stringify(bodyFor(accounts, action)) };
    },
    onResponse(status: number, body: string, context: Context): void {
      const k = stats.kinds[context.kind];
      k.n += 1;
      k.latencies.push(Number(process.hrtime.bigint() - context.sentAt) / 1e6);
      k.statuses[status] = (k.statuses[status] || 0) + 1;
      const isOk = status >= 200 && status < 300;
      // Expected conflicts: a transition that lost a race on its order (409, or 404 when the winner's change took the
      // order out of the actor's scope, e.g. a release withdrew the offer an accept relied on), a retry whose first
      // request is still running (409 IDEMPOTENCY_IN_PROGRESS).
      const isExpected409 = (status === 409 && (context.kind === 'transition' || context.kind === 'create-retry')) || (status === 404 && context.kind === 'transition');
      if (isOk) k.ok += 1;
      else if (isExpected409) k.expected409 += 1;
      else {
        k.unexpected += 1;
        if (stats.samples.length < 10) stats.samples.push(`${context.kind} ${status} ${String(body).slice(0, 200)}`);
      }
      if (context.kind === 'create' && status === 201) {
        try {
          const entry: Entry = { id: (JSON.parse(body) as { id: string }).id, community: context.community ?? '' };
          pool.submitted.push(entry);
          pool.all.push(entry);
        } catch {
          // counted above
        }
      }
      if (context.kind === 'transition' && isOk && context.from && context.entry) {
        const list = pool[context.from];
        const i = list.indexOf(context.entry);
        if (i >= 0) {
          list.splice(i, 1);
          pool[NEXT[context.from][1]].push(context.entry);
        }
      }
    },
  };
}

function fire(port: number, request: autocannon.Request, durationS: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url: `http://127.0.0.1:${port}`, connections: CONFIG.connections, duration: durationS, timeout: 10, requests: [request] },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    instance.on('error', () => {});
  });
}

/** Index floor(p·n): the results in RESULTS.md were computed so; harness.percentile is nearest rank. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

interface Row {
  name: string;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  n: number;
  ok: number;
  expected409: number;
  unexpected: number;
  errors: number | string;
}

function row(name: string, stats: Stats, durationS: number, errors: number): Row {
  const all = Object.values(stats.kinds);
  const latencies = all.flatMap((k) => k.latencies).sort((a, b) => a - b);
  const n = all.reduce((a, k) => a + k.n, 0);
  const sum = (f: 'ok' | 'expected409' | 'unexpected'): number => all.reduce((a, k) => a + k[f], 0);
  return { name, rps: n / durationS, p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), n, ok: sum('ok'), expected409: sum('expected409'), unexpected: sum('unexpected'), errors };
}

function kindRows(stats: Stats, durationS: number): Row[] {
  return Object.entries(stats.kinds)
    .filter(([, k]) => k.n > 0)
    .map(([name, k]) => {
      const sorted = [...k.latencies].sort((a, b) => a - b);
      return { name: `  ${name}`, rps: k.n / durationS, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), n: k.n, ok: k.ok, expected409: k.expected409, unexpected: k.unexpected, errors: '' };
    });
}

const pad = (s: string | number, n: number): string => String(s).padStart(n);
const ms = (x: number | string): string => (typeof x === 'number' ? x.toFixed(1) : x);
function table(rows: Row[]): string {
  const head = '| run | req/s | p50 ms | p95 ms | p99 ms | requests | 2xx | expected conflicts | other non-2xx | errors |';
  const sep = '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |';
  return [head, sep, ...rows.map((r) => `| ${r.name} | ${pad(r.rps.toFixed(0), 6)} | ${pad(ms(r.p50), 6)} | ${pad(ms(r.p95), 6)} | ${pad(ms(r.p99), 6)} | ${pad(r.n, 7)} | ${pad(r.ok, 7)} | ${pad(r.expected409, 4)} | ${pad(r.unexpected, 4)} | ${pad(r.errors, 4)} |`)].join('\n');
}

async function run(name: string, port: number, accounts: Accounts, pool: Pool, mix: Mix, durationS: number): Promise<{ stats: Stats; result: autocannon.Result; row: Row }> {
  const stats = createStats();
  log(`${name}: ${CONFIG.connections} connections, ${durationS}s`);
  const result = await fire(port, mixedRequest(accounts, pool, stats, mix), durationS);
  return { stats, result, row: row(name, stats, durationS, result.errors + result.timeouts) };
}

async function main(): Promise<void> {
  const started = Date.now();
  requireBuilt(['dist/apps/api/src/main.js', 'dist/apps/cli/src/main.js'], 'npm run bench:mixed');
  await createBenchDatabase(CONFIG.pgAdminUrl, CONFIG.database, appEnv());
  const api = startChild('api', ['dist/apps/api/src/main.js'], { ...appEnv(), PORT: String(CONFIG.apiPort) });
  await waitForHttp('api', api, CONFIG.apiPort, 60_000);
  const accounts = await createAccounts();
  const pool = createPool();
  await seedPool(accounts, pool, CONFIG.pool);
  const reference = startChild('reference', [...TS_NODE_ARGS, path.join(__dirname, 'reference-reads-server.ts')], { DATABASE_URL, JWT_SECRET: CONFIG.jwtSecret, PORT: String(CONFIG.referencePort), DATABASE_POOL_SIZE: '20' });
  await waitForHttp('reference', reference, CONFIG.referencePort, 15_000);
  await withPg(DATABASE_URL, (pg) => pg.query('ANALYZE'));

  const { n: ordersBefore, t0 } = await withPg(DATABASE_URL, async (pg) => {
    const [first] = (await pg.query<{ n: number; t0: Date }>('SELECT count(*)::int AS n, now() AS t0 FROM orders')).rows;
    if (!first) throw new Error('no count');
    return first;
  });
  log(`warm-up ${CONFIG.warmupS}s`);
  const warm = await run('warm-up', CONFIG.apiPort, accounts, pool, MIX, CONFIG.warmupS);
  const mixed = await run('api, mixed 70/20/10', CONFIG.apiPort, accounts, pool, MIX, CONFIG.durationS);
  const readsOnly = { read: 1, create: 0, transition: 0 };
  const apiReads = await run('api, reads only', CONFIG.apiPort, accounts, pool, readsOnly, CONFIG.readsDurationS);
  const refReads = await run('reference, reads only', CONFIG.referencePort, accounts, pool, readsOnly, CONFIG.readsDurationS);

  // Invariants after the load: one order per Idempotency-Key, every order's version its last event.
  const checks = await withPg(DATABASE_URL, async (pg) => {
    const count = async (sql: string, params: unknown[] = []): Promise<number> => (await pg.query<{ n: number }>(sql, params)).rows[0]?.n ?? 0;
    return {
      orders: await count('SELECT count(*)::int AS n FROM orders'),
      // Every order of the load came with a key (the seed's did not): one order per completed key, no more.
      ordersOfLoad: await count('SELECT count(*)::int AS n FROM orders WHERE created_at >= $1', [t0]),
      keysOfLoad: await count('SELECT count(*)::int AS n FROM idempotency_records WHERE created_at >= $1 AND response_status = 201', [t0]),
      versionMismatches: await count('SELECT count(*)::int AS n FROM orders o WHERE o.version <> (SELECT max(seq) FROM order_events e WHERE e.order_id = o.id)'),
    };
  });
  await stopChild(reference);
  await stopChild(api);

  const created = warm.stats.kinds.create.ok + mixed.stats.kinds.create.ok;
  const ratio = apiReads.row.rps / refReads.row.rps;
  const load = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  const report = [
    `mixed load: ${Math.round(MIX.read * 100)}% reads (GET /orders?limit=20 and GET /orders/:id, 9 roles), ${Math.round(MIX.create * 100)}% creates (POST /orders with Idempotency-Key, 10% of them retries), ${Math.round(MIX.transition * 100)}% transitions (dispatch/claim/offer/accept/release on a pool of ${CONFIG.pool} seeded orders); ${CONFIG.connections} connections, ${CONFIG.durationS}s after ${CONFIG.warmupS}s warm-up; reads-only runs ${CONFIG.readsDurationS}s each`,
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; load average at the end ${load}; date ${new Date().toISOString()}`,
    '',
    table([mixed.row, ...kindRows(mixed.stats, CONFIG.durationS), apiReads.row, refReads.row]),
    '',
    `ratio api/reference on reads only (req/s): ${ratio.toFixed(2)}`,
    `status codes (mixed): ${Object.entries(mixed.stats.kinds).map(([k, v]) => `${k} ${JSON.stringify(v.statuses)}`).join('; ')}`,
    `checks: orders ${ordersBefore} before the load, ${checks.orders} after (${created} creates answered 201); orders created under load ${checks.ordersOfLoad}, Idempotency-Keys answered 201 ${checks.keysOfLoad} (equal: no key made two orders); orders whose version is not their last event: ${checks.versionMismatches}`,
    ...(mixed.stats.samples.length ? [`unexpected answers (first ${mixed.stats.samples.length}): ${mixed.stats.samples.join(' | ')}`] : []),
    `elapsed ${((Date.now() - started) / 1000).toFixed(0)}s`,
  ].join('\n');
  process.stdout.write(`${report}\n`);
  const unexpected: number = mixed.row.unexpected + apiReads.row.unexpected + refReads.row.unexpected;
  if (unexpected > 0 || checks.versionMismatches > 0 || checks.ordersOfLoad !== checks.keysOfLoad) process.exitCode = 3;
}

runMain(main, { timeoutS: CONFIG.timeoutS, killAllNow });
