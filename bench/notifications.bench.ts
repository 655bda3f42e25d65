// Notifications end to end: orders taken through create → dispatch → claim against the
// built API while one built worker runs; how long until every in-app notification is in
// the inboxes, throughput, and commit→inbox latency; beside it, in the same run, plain
// BullMQ add + no-op process of as many jobs. See bench/README.md.
//
//   npm run bench:notifications                         (builds first)
//   node -r ./test/support/register-ts.js bench/notifications.bench.ts                   (uses the dist/ already built)
//   node -r ./test/support/register-ts.js bench/notifications.bench.ts --backend postgres
//
// Only 127.0.0.1 is targeted; every child process is ended at the end; the run is
// bounded by BENCH_TIMEOUT_S.

import { AppConfig } from '@kepu/config';
import * as bullmq from 'bullmq';
import IORedis from 'ioredis';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { orderBody as sharedOrderBody, preferredWindow } from '../test/support/order-body';
import { sleep } from '../test/support/wait';
import {
  type BenchChild,
  createBenchDatabase,
  createChildren,
  envInt,
  expectStatus,
  httpRequest,
  type Json,
  log,
  ROOT,
  runMain,
  TS_NODE_ARGS,
  withPg,
  benchPlatform,
} from './support/harness';

const env = process.env;
const int = envInt;

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  if (i !== -1) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`${flag}=`));
  return eq ? eq.slice(flag.length + 1) : undefined;
}

const CONFIG = {
  ...benchPlatform({ database: 'kepu_bench_notifications', apiPort: 3102, redisDb: 7, queuePrefix: '{kepu-bench}' }),
  backend: argValue('--backend') || env.BENCH_QUEUE_BACKEND || 'redis',
  referencePrefix: env.BENCH_REFERENCE_PREFIX || '{kepu-bench-ref}',
  referenceQueue: 'bench-noop',
  orders: int('BENCH_ORDERS', 300),
  warmupOrders: int('BENCH_WARMUP_ORDERS', 10),
  concurrency: int('BENCH_CONCURRENCY', 16),
  communities: int('BENCH_COMMUNITIES', 4),
  departments: int('BENCH_DEPARTMENTS', 2),
  staffPerUnit: int('BENCH_STAFF', 3),
  // Orders started per second in the live phase; 0 = as fast as the lanes go.
  rate: Number(env.BENCH_RATE || 0),
  drain: env.BENCH_DRAIN !== '0',
  waitS: int('BENCH_WAIT_S', 120),
  timeoutS: int('BENCH_TIMEOUT_S', 600),
  // Passed to the worker when set (the relay's poll fallback; its default is 1000 ms).
  outboxPollMs: env.BENCH_OUTBOX_POLL_MS || '',
  // Another build of the worker, for what-if experiments (e.g. a patched copy of dist/ under test-output/).
  workerEntry: env.BENCH_WORKER_ENTRY || 'dist/apps/worker/src/main.js',
  // Set to a directory to write a CPU profile of the worker over the live phase.
  cpuProfDir: env.BENCH_CPU_PROF_DIR || '',
  logDir: path.join(ROOT, 'test-output', 'bench'),
};
if (!['redis', 'postgres'].includes(CONFIG.backend)) throw new Error(`--backend must be redis or postgres, not ${CONFIG.backend}`);
const DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${CONFIG.database}`;
const ADMIN = { username: 'admin', password: 'bench-admin-pass-1' };
const DISTRICT = '110101';
const PASSWORD = 'bench-user-pass-1';
const TYPES = ['order.submitted', 'order.dispatched', 'order.claimed'];

const { startChild, stopChild, killAllNow, waitForHttp } = createChildren({ root: ROOT, logDir: CONFIG.logDir, env, appendLogs: true, stopGraceMs: 10_000 });
const request = (method: string, urlPath: string, options: Parameters<typeof httpRequest>[3] = {}) => httpRequest(CONFIG.apiPort, method, urlPath, { timeoutMs: 15_000, ...options });
const waitForApi = (name: string, child: BenchChild, timeoutMs: number) => waitForHttp(name, child, CONFIG.apiPort, timeoutMs);


function appEnv(): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'production',
    DATABASE_URL,
    REDIS_URL: CONFIG.redisUrl,
    QUEUE_BACKEND: CONFIG.backend,
    QUEUE_PREFIX: CONFIG.queuePrefix,
    JWT_SECRET: CONFIG.jwtSecret,
    BOOTSTRAP_ADMIN_USERNAME: ADMIN.username,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    // one login serves the whole run, which may outlast the 15-minute default
    ACCESS_TOKEN_TTL_SECONDS: '3600',
    LOG_LEVEL: 'warn',
    // the bench's few users write far more than people would (per-user write limits)
    WRITE_RATE_LIMIT_PER_HOUR: '1000000',
  };
}

function redisOptions(): { host: string; port: number; db: number; maxRetriesPerRequest: null } {
  const url = new URL(CONFIG.redisUrl);
  if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') throw new Error(`BENCH_REDIS_URL must point at 127.0.0.1, not ${url.hostname}`);
  return { host: url.hostname, port: Number(url.port || 6379), db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0, maxRetriesPerRequest: null };
}

/** The queue connection of the bench's own producer, as the platform builds it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Redis options or a pg pool config, by backend
function queueConnection(max = 10): any {
  if (CONFIG.backend === 'postgres') {
    bullmq.setDefaultBackendFactory(bullmq.createPostgresBackend);
    return { connectionString: DATABASE_URL, max };
  }
  return redisOptions();
}

/** Deletes every key under the bench's two prefixes (only those). */
async function flushBenchKeys(): Promise<void> {
  const redis = new IORedis(redisOptions());
  try {
    let deleted = 0;
    for (const prefix of [CONFIG.queuePrefix, CONFIG.referencePrefix]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) deleted += await redis.unlink(...keys);
      } while (cursor !== '0');
    }
    log(`flushed ${deleted} Redis keys under ${CONFIG.queuePrefix} and ${CONFIG.referencePrefix}`);
  } finally {
    redis.disconnect();
  }
}

async function freshDatabase(): Promise<void> {
  log(`QUEUE_BACKEND=${CONFIG.backend}`);
  await createBenchDatabase(CONFIG.pgAdminUrl, CONFIG.database, appEnv());
  if (CONFIG.backend === 'postgres') {
    // db:setup does this too when QUEUE_BACKEND=postgres; it is idempotent, and the bench must not depend on it.
    const version: unknown = await withPg(DATABASE_URL, (pg) => bullmq.runMigrations(pg));
    log(`BullMQ PostgreSQL schema at version ${version}`);
  }
}

/** The notifications processor's concurrency (NOTIFICATIONS_CONCURRENCY, else the configuration's default), so the reference Worker matches it. */
function notificationsConcurrency(): number {
  if (env.BENCH_REFERENCE_CONCURRENCY) return Number(env.BENCH_REFERENCE_CONCURRENCY);
  return Number(env.NOTIFICATIONS_CONCURRENCY || new AppConfig().notificationsConcurrency);
}

function orderBody(communityCode: string, i: number): Record<string, unknown> {
  return sharedOrderBody(communityCode, {
    title: `老年人防范电信诈骗讲座 ${i}`,
    description: 'A talk on phone scams for the elderly of our community, about 60 people, Saturday morning.',
    preferredWindows: [preferredWindow(14 + (i % 30))],
    accessibilityNeeds: undefined,
    contactName: '王老师',
  });
}

interface Session {
  id: string;
  token: string;
}

interface Accounts {
  communities: { code: string; resident: Session; staff: Session[] }[];
  departments: { id: string; staff: Session[] }[];
}

async function login(username: string): Promise<Session> {
  const res = await expectStatus(`login ${username}`, request('POST', '/auth/login', { body: { username, password: PASSWORD } }), [200, 201]);
  return { id: res.user.id, token: res.accessToken };
}

/** Communities of one district, each with a resident and staff; departments with staff. */
async function createAccounts(adminToken: string): Promise<Accounts> {
  const codes = await withPg(DATABASE_URL, async (pg) => {
    const { rows } = await pg.query<{ code: string }>(`SELECT code FROM communities WHERE district_code = $1 ORDER BY code LIMIT $2`, [DISTRICT, CONFIG.communities]);
    return rows.map((r) => r.code);
  });
  if (codes.length < CONFIG.communities) throw new Error(`district ${DISTRICT} has only ${codes.length} communities`);
  const createUser = (body: Record<string, string>): Promise<Json> =>
    expectStatus(`create ${body.username}`, request('POST', '/users', { token: adminToken, body: { password: PASSWORD, ...body } }), [201]);

  const communities: Accounts['communities'] = [];
  for (const [c, code] of codes.entries()) {
    await createUser({ username: `bench-resident-${c}`, displayName: `压测居民${c}`, role: 'resident', communityCode: code });
    const staff: Session[] = [];
    for (let s = 0; s < CONFIG.staffPerUnit; s++) {
      await createUser({ username: `bench-cstaff-${c}-${s}`, displayName: `社区工作者${c}-${s}`, role: 'community_staff', communityCode: code });
      staff.push(await login(`bench-cstaff-${c}-${s}`));
    }
    communities.push({ code, resident: await login(`bench-resident-${c}`), staff });
  }
  const departments: Accounts['departments'] = [];
  for (let d = 0; d < CONFIG.departments; d++) {
    const dept = await expectStatus(
      'create department',
      request('POST', '/departments', { token: adminToken, body: { name: `压测科协${d}`, districtCode: DISTRICT, topics: [] } }),
      [201],
    );
    const staff: Session[] = [];
    for (let s = 0; s < CONFIG.staffPerUnit; s++) {
      await createUser({ username: `bench-dstaff-${d}-${s}`, displayName: `部门工作者${d}-${s}`, role: 'department_staff', departmentId: dept.id });
      staff.push(await login(`bench-dstaff-${d}-${s}`));
    }
    departments.push({ id: dept.id, staff });
  }
  return { communities, departments };
}

/**
 * `count` orders through create → dispatch → claim, `concurrency` orders in flight.
 * Returns the order ids and the wall-clock times of the first request and the last answer.
 */
async function driveOrders(
  accounts: Accounts,
  count: number,
  offset: number,
  rate = 0,
): Promise<{ ids: string[]; transitions: number; startedAt: number; lastAnswerAt: number }> {
  const ids: string[] = [];
  let next = 0;
  let transitions = 0;
  const startedAt = Date.now();
  async function lane(): Promise<void> {
    while (next < count) {
      const k = next++;
      const i = offset + k;
      if (rate > 0) {
        const wait = startedAt + (k * 1000) / rate - Date.now();
        if (wait > 0) await sleep(wait);
      }
      const community = accounts.communities[i % accounts.communities.length];
      const department = accounts.departments[i % accounts.departments.length];
      if (!community || !department) throw new Error('no accounts');
      const order = await expectStatus('POST /orders', request('POST', '/orders', { token: community.resident.token, body: orderBody(community.code, i) }), [201]);
      ids.push(order.id);
      const staff = community.staff[i % community.staff.length];
      await expectStatus('dispatch', request('POST', `/orders/${order.id}/dispatch`, { token: staff?.token, body: { departmentId: department.id } }), [200, 201]);
      const claimer = department.staff[i % department.staff.length];
      await expectStatus('claim', request('POST', `/orders/${order.id}/claim`, { token: claimer?.token, body: {} }), [200, 201]);
      transitions += 3;
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONFIG.concurrency, count) }, lane));
  return { ids, transitions, startedAt, lastAnswerAt: Date.now() };
}

/** Notifications the rules call for: the community's staff, the department's staff, the requester. */
function expectedNotifications(count: number): number {
  return count * (CONFIG.staffPerUnit + CONFIG.staffPerUnit + 1);
}

async function countArrived(pg: Client, ids: string[]): Promise<number> {
  const { rows } = await pg.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM notifications n JOIN outbox o ON o.id = n.source_id WHERE o.order_id = ANY($1::uuid[])`,
    [ids],
  );
  return rows[0]?.n ?? 0;
}

/** Polls until `expected` notifications of `ids` exist; returns when (wall clock) or null on time-out. */
async function waitForInbox(pg: Client, ids: string[], expected: number, onFirst?: () => void): Promise<{ at: number | null; arrived: number }> {
  const deadline = Date.now() + CONFIG.waitS * 1000;
  for (;;) {
    const n = await countArrived(pg, ids);
    if (n > 0 && onFirst) {
      onFirst();
      onFirst = undefined;
    }
    if (n >= expected) return { at: Date.now(), arrived: n };
    if (Date.now() > deadline) return { at: null, arrived: n };
    await sleep(10);
  }
}

/** What PostgreSQL recorded for the orders `ids`: counts, wrong recipients, latencies by stage. */
async function pipelineStats(pg: Client, ids: string[]): Promise<Json> {
  const { rows: [s] } = await pg.query<Json>(
    `WITH m AS (SELECT id, type, created_at, published_at FROM outbox WHERE order_id = ANY($1::uuid[]) AND type = ANY($2::text[])),
          n AS (SELECT n.*, m.created_at AS committed_at, m.published_at
                FROM notifications n JOIN m ON m.id = n.source_id),
          lat AS (SELECT extract(epoch FROM created_at - committed_at) * 1000 AS ms,
                         extract(epoch FROM created_at - published_at) * 1000 AS after_relay_ms FROM n),
          relay AS (SELECT extract(epoch FROM published_at - created_at) * 1000 AS ms FROM m)
     SELECT (SELECT count(*) FROM m)::int AS jobs,
            (SELECT count(*) FROM m WHERE published_at IS NULL)::int AS unpublished,
            (SELECT count(*) FROM n)::int AS notifications,
            (SELECT json_object_agg(type, c) FROM (SELECT type, count(*)::int AS c FROM n GROUP BY type) t) AS by_type,
            (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM lat) AS p50,
            (SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) FROM lat) AS p99,
            (SELECT max(ms) FROM lat) AS max,
            (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM relay) AS relay_p50,
            (SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) FROM relay) AS relay_p99,
            (SELECT max(ms) FROM relay) AS relay_max,
            (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY after_relay_ms) FROM lat) AS fan_p50,
            (SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY after_relay_ms) FROM lat) AS fan_p99,
            (SELECT count(*) FROM lat WHERE ms > 900)::int AS over_900ms,
            (SELECT extract(epoch FROM min(created_at)) * 1000 FROM m) AS first_commit,
            (SELECT extract(epoch FROM max(created_at)) * 1000 FROM m) AS last_commit,
            (SELECT extract(epoch FROM min(created_at)) * 1000 FROM n) AS first_inbox,
            (SELECT extract(epoch FROM max(created_at)) * 1000 FROM n) AS last_inbox,
            (SELECT count(*) FROM deliveries d JOIN m ON m.id = d.source_id)::int AS deliveries`,
    [ids, TYPES],
  );
  // Anyone told who is not a recipient the rules name for that order.
  const { rows: [w] } = await pg.query<{ wrong: number }>(
    `SELECT count(*)::int AS wrong
     FROM notifications n JOIN outbox o ON o.id = n.source_id JOIN orders r ON r.id = o.order_id JOIN users u ON u.id = n.user_id
     WHERE o.order_id = ANY($1::uuid[]) AND NOT (
       (n.type = 'order.submitted' AND u.role = 'community_staff' AND u.community_code = r.community_code) OR
       (n.type = 'order.dispatched' AND u.role = 'department_staff' AND u.department_id = r.department_id) OR
       (n.type = 'order.claimed' AND u.id = r.requester_id))`,
    [ids],
  );
  const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return {
    ...s,
    wrong: w?.wrong,
    p50: num(s.p50),
    p99: num(s.p99),
    max: num(s.max),
    relay_p50: num(s.relay_p50),
    relay_p99: num(s.relay_p99),
    relay_max: num(s.relay_max),
    fan_p50: num(s.fan_p50),
    fan_p99: num(s.fan_p99),
    first_commit: num(s.first_commit),
    last_commit: num(s.last_commit),
    first_inbox: num(s.first_inbox),
    last_inbox: num(s.last_inbox),
  };
}

/** Commit times of the notified outbox rows of `ids`, as offsets (ms) from the first. */
async function commitOffsets(pg: Client, ids: string[]): Promise<number[]> {
  const { rows } = await pg.query<{ at: string }>(
    `SELECT extract(epoch FROM created_at - min(created_at) OVER ()) * 1000 AS at FROM outbox
     WHERE order_id = ANY($1::uuid[]) AND type = ANY($2::text[]) ORDER BY created_at`,
    [ids, TYPES],
  );
  return rows.map((r) => Number(r.at));
}

/** Same definition as PostgreSQL's percentile_cont (linear interpolation), unlike harness.percentile. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  // Same definition as PostgreSQL's percentile_cont: linear interpolation.
  const rank = p * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const low = sorted[lo] ?? 0;
  return low + ((sorted[hi] ?? 0) - low) * (rank - lo);
}

const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  return Number(r.stdout) || 100;
})();

/** CPU time (user + system, ms) a process has used so far, from /proc; null where there is none. */
function cpuMs(pid: number | string | undefined): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK; // utime, stime (fields 14 and 15)
  } catch {
    return null;
  }
}
/** CPU so far of every process whose command line contains `needle` (PostgreSQL backends show their database). */
function cpuByCommand(needle: string): Map<string, number> {
  const out = new Map<string, number>();
  let pids: string[] = [];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(needle)) continue;
      const ms = cpuMs(pid);
      if (ms !== null) out.set(pid, ms);
    } catch {
      // gone
    }
  }
  return out;
}
/** CPU used since `before` by the processes matching `needle` now (those that exited meanwhile are not counted). */
function cpuByCommandSince(needle: string, before: Map<string, number>): number {
  let total = 0;
  for (const [pid, ms] of cpuByCommand(needle)) total += ms - (before.get(pid) || 0);
  return total;
}
// The servers' processes: PostgreSQL backends of the bench database (their title names it) and redis-server.
const PG_NEEDLE = ` ${CONFIG.database} `;
const REDIS_NEEDLE = `redis-server ${new URL(CONFIG.redisUrl).hostname}:${new URL(CONFIG.redisUrl).port || 6379}`;
interface ServerSnapshot {
  pg: Map<string, number>;
  redis: Map<string, number> | null;
}
const serverSnapshot = (): ServerSnapshot => ({ pg: cpuByCommand(PG_NEEDLE), redis: CONFIG.backend === 'redis' ? cpuByCommand(REDIS_NEEDLE) : null });
function serverCpuSince(snapshot: ServerSnapshot): { pg: number; redis: number | null; total: number } {
  const pg = cpuByCommandSince(PG_NEEDLE, snapshot.pg);
  const redis = snapshot.redis ? cpuByCommandSince(REDIS_NEEDLE, snapshot.redis) : null;
  return { pg, redis, total: pg + (redis || 0) };
}
const cpuSince = (pid: number | undefined, before: number | null): number | null => {
  const now = cpuMs(pid);
  return now === null || before === null ? null : now - before;
};

// ---------------------------------------------------------------- reference

/** What the reference worker (support/noop-queue-worker.ts) answers over IPC. */
interface WorkerMessage {
  event: string;
  message?: string;
  done: [number, number][];
  failed: number;
  retried: number;
  errors: string[];
}

function ask(child: BenchChild, cmd: string, event: string, timeoutMs = 30_000): Promise<WorkerMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`reference worker did not answer ${cmd} within ${timeoutMs / 1000}s`));
    }, timeoutMs);
    function onMessage(m: WorkerMessage): void {
      if (m.event === 'error') {
        clearTimeout(timer);
        child.off('message', onMessage);
        reject(new Error(`reference worker: ${m.message}`));
      } else if (m.event === event) {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(m);
      }
    }
    child.on('message', onMessage);
    child.send({ cmd });
  });
}

/** Collects completion reports from the reference worker until `count` jobs are done. */
interface Collected {
  done: [number, number][];
  failed: number;
  retried: number;
  errors: string[];
  timedOut?: boolean;
}

async function collectReference(child: BenchChild, count: number): Promise<Collected> {
  const deadline = Date.now() + CONFIG.waitS * 1000;
  const done: [number, number][] = [];
  let failed = 0;
  let retried = 0;
  const errors: string[] = [];
  for (;;) {
    const r = await ask(child, 'report', 'report');
    done.push(...r.done);
    failed += r.failed;
    retried += r.retried;
    errors.push(...r.errors);
    if (done.length + failed >= count) return { done, failed, retried, errors };
    if (Date.now() > deadline) return { done, failed, retried, errors, timedOut: true };
    await sleep(10);
  }
}

function referenceJob(run: string, i: number): { name: string; data: { outboxId: string }; opts: bullmq.JobsOptions } {
  return {
    name: 'fan-out',
    data: { outboxId: randomUUID() },
    // The options the relay adds fan-out jobs with: the catalogue's defaults plus a deterministic id.
    opts: { jobId: `fan-out-${run}-${i}`, attempts: 8, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: { count: 1000 }, removeOnFail: { age: 30 * 24 * 3600 } },
  };
}

interface Row {
  name: string;
  jobs: number;
  expected?: number;
  arrived?: number;
  completed?: number;
  failed?: number;
  jobsPerS: number;
  notificationsPerS?: number;
  p50: number | null;
  p99: number | null;
  max: number | null | undefined;
  tail: number | null;
  cpuPerJob: number | null;
  serverCpuPerJob: number | null;
  retried?: number;
  errors?: string[];
}

function referenceRow(
  name: string,
  jobs: number,
  firstAddAt: number,
  lastAddAt: number,
  result: Collected,
  cpu: number | null,
  server: { total: number },
): Row & { failed: number; retried: number; errors: string[] } {
  const lat = result.done.map(([ts, fin]) => fin - ts).sort((a, b) => a - b);
  const finished = result.done.map(([, fin]) => fin);
  const lastFinished = Math.max(...finished);
  return {
    name,
    jobs,
    completed: result.done.length,
    failed: result.failed,
    jobsPerS: (result.done.length / (lastFinished - firstAddAt)) * 1000,
    p50: percentile(lat, 0.5),
    p99: percentile(lat, 0.99),
    max: lat[lat.length - 1],
    tail: lastFinished - lastAddAt,
    cpuPerJob: cpu === null ? null : cpu / jobs,
    serverCpuPerJob: server.total / jobs,
    retried: result.retried,
    errors: result.errors,
  };
}

/** 16 parallel producers (like the bench's 16 HTTP lanes) adding one job at a time, Worker running. */
async function referenceRaw(queue: bullmq.Queue, worker: BenchChild, count: number, run: string): Promise<ReturnType<typeof referenceRow>> {
  let next = 0;
  const cpu0 = cpuMs(worker.pid);
  const server0 = serverSnapshot();
  const firstAddAt = Date.now();
  async function lane(): Promise<void> {
    while (next < count) {
      const i = next++;
      const j = referenceJob(run, i);
      await queue.add(j.name, j.data, j.opts);
    }
  }
  await Promise.all(Array.from({ length: CONFIG.concurrency }, lane));
  const lastAddAt = Date.now();
  const result = await collectReference(worker, count);
  return referenceRow(`BullMQ no-op: ${CONFIG.concurrency} parallel adds`, count, firstAddAt, lastAddAt, result, cpuSince(worker.pid, cpu0), serverCpuSince(server0));
}

/** One add at each commit time of the pipeline's live phase: the same arrival pattern, Worker running. */
async function referencePaced(queue: bullmq.Queue, worker: BenchChild, offsets: number[], run: string): Promise<ReturnType<typeof referenceRow>> {
  const cpu0 = cpuMs(worker.pid);
  const server0 = serverSnapshot();
  const firstAddAt = Date.now();
  const pending: Promise<unknown>[] = [];
  for (const [i, at] of offsets.entries()) {
    const wait = firstAddAt + at - Date.now();
    if (wait > 1) await sleep(wait);
    const j = referenceJob(run, i);
    pending.push(queue.add(j.name, j.data, j.opts));
  }
  await Promise.all(pending);
  const lastAddAt = Date.now();
  const result = await collectReference(worker, offsets.length);
  return referenceRow('BullMQ no-op: adds at the pipeline\'s commit times', offsets.length, firstAddAt, lastAddAt, result, cpuSince(worker.pid, cpu0), serverCpuSince(server0));
}

/** A backlog: every job added (in 200s, as the relay does) with no Worker, then one started. */
async function referenceDrain(queue: bullmq.Queue, worker: BenchChild, count: number, run: string): Promise<ReturnType<typeof referenceRow>> {
  await ask(worker, 'stop', 'stopped');
  for (let i = 0; i < count; i += 200) {
    await queue.addBulk(Array.from({ length: Math.min(200, count - i) }, (_, k) => referenceJob(run, i + k)));
  }
  const startedAt = Date.now();
  const cpu0 = cpuMs(worker.pid);
  const server0 = serverSnapshot();
  await ask(worker, 'start', 'started');
  const result = await collectReference(worker, count);
  const cpu = cpuSince(worker.pid, cpu0);
  const server = serverCpuSince(server0);
  const finished = result.done.map(([, fin]) => fin).sort((a, b) => a - b);
  const last = finished.at(-1) ?? NaN;
  const span = last - (finished[0] ?? NaN);
  return {
    name: 'BullMQ no-op: backlog drain',
    jobs: count,
    completed: result.done.length,
    failed: result.failed,
    jobsPerS: (result.done.length / span) * 1000,
    p50: null,
    p99: null,
    max: null,
    tail: last - startedAt,
    cpuPerJob: cpu === null ? null : cpu / count,
    serverCpuPerJob: server.total / count,
    retried: result.retried,
    errors: result.errors,
  };
}

// ---------------------------------------------------------------- report

const fmt = (v: number | string | null | undefined, digits = 0): string => (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v)) ? '—' : Number(v).toFixed(digits));

function table(rows: Row[]): string {
  const head = '| run | jobs | notifications expected / arrived | jobs/s | notifications/s | p50 ms | p99 ms | max ms | until all done ms | worker CPU ms/job | server CPU ms/job |';
  const sep = '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |';
  const lines = rows.map(
    (r) =>
      `| ${r.name} | ${r.jobs} | ${r.expected === undefined ? '—' : `${r.expected} / ${r.arrived}`} | ${fmt(r.jobsPerS)} | ${fmt(r.notificationsPerS)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(r.max, 0)} | ${fmt(r.tail, 0)} | ${fmt(r.cpuPerJob, 2)} | ${fmt(r.serverCpuPerJob, 2)} |`,
  );
  return [head, sep, ...lines].join('\n');
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const started = Date.now();
  for (const entry of ['dist/apps/api/src/main.js', CONFIG.workerEntry, 'dist/apps/cli/src/main.js']) {
    if (!fs.existsSync(path.resolve(ROOT, entry))) throw new Error(`${entry} is missing: run \`npm run build\` (or \`npm run bench:notifications\`)`);
  }
  for (const name of ['api', 'worker', 'reference-worker']) fs.rmSync(path.join(CONFIG.logDir, `${name}.log`), { force: true });
  if (CONFIG.backend === 'redis') await flushBenchKeys();
  await freshDatabase();
  const concurrency = notificationsConcurrency();

  const api = startChild('api', ['dist/apps/api/src/main.js'], { ...appEnv(), PORT: String(CONFIG.apiPort) });
  const workerEnv = { ...appEnv(), ...(CONFIG.outboxPollMs ? { OUTBOX_POLL_MS: CONFIG.outboxPollMs } : {}), BENCH_CPU_PROF_DIR: CONFIG.cpuProfDir };
  const workerArgs = [...(CONFIG.cpuProfDir ? [...TS_NODE_ARGS, '--require', path.join(__dirname, 'support', 'cpu-profile.ts')] : []), CONFIG.workerEntry];
  let worker = startChild('worker', workerArgs, workerEnv, { ipc: Boolean(CONFIG.cpuProfDir) });
  await waitForApi('api', api, 60_000);

  const admin = await expectStatus('admin login', request('POST', '/auth/login', { body: ADMIN }), [200, 201]);
  const accounts = await createAccounts(admin.accessToken);
  log(
    `${CONFIG.communities} communities x ${CONFIG.staffPerUnit} staff, ${CONFIG.departments} departments x ${CONFIG.staffPerUnit} staff; ` +
      `${expectedNotifications(1)} notifications per order; backend ${CONFIG.backend}; notifications concurrency ${concurrency}`,
  );

  const pg = new Client({ connectionString: DATABASE_URL, application_name: 'kepu-bench' });
  await pg.connect();
  try {
    // Warm-up: also proves the worker is up and relaying before the clock starts.
    log(`warm-up: ${CONFIG.warmupOrders} orders`);
    const warm = await driveOrders(accounts, CONFIG.warmupOrders, 0);
    const warmArrived = await waitForInbox(pg, warm.ids, expectedNotifications(warm.ids.length));
    if (warmArrived.at === null) throw new Error(`warm-up: ${warmArrived.arrived} of ${expectedNotifications(warm.ids.length)} notifications after ${CONFIG.waitS}s; see test-output/bench/worker.log`);
    await pg.query('ANALYZE');

    // Live: transitions with the worker running.
    if (CONFIG.cpuProfDir) worker.send('cpu-profile:start');
    log(`live: ${CONFIG.orders} orders x 3 transitions, ${CONFIG.concurrency} in flight${CONFIG.rate ? `, ${CONFIG.rate} orders started per second` : ''}`);
    const liveCpu0 = { worker: cpuMs(worker.pid), api: cpuMs(api.pid), server: serverSnapshot() };
    const live = await driveOrders(accounts, CONFIG.orders, CONFIG.warmupOrders, CONFIG.rate);
    const liveApiCpu = cpuSince(api.pid, liveCpu0.api);
    const liveExpected = expectedNotifications(live.ids.length);
    const liveArrived = await waitForInbox(pg, live.ids, liveExpected);
    const liveWorkerCpu = cpuSince(worker.pid, liveCpu0.worker);
    const liveServer = serverCpuSince(liveCpu0.server);
    const liveConnections = (await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1`, [CONFIG.database])).rows[0]?.n;
    const livePgCpu = liveServer.pg;
    const liveRedisCpu = liveServer.redis;
    if (CONFIG.cpuProfDir) {
      const written = new Promise<void>((resolve) => worker.on('message', (m) => m === 'cpu-profile:written' && resolve()));
      worker.send('cpu-profile:stop');
      await Promise.race([written, sleep(15_000)]);
      const from = path.join(CONFIG.cpuProfDir, `api-${worker.pid}.cpuprofile`);
      if (fs.existsSync(from)) fs.renameSync(from, path.join(CONFIG.cpuProfDir, `worker-${worker.pid}.cpuprofile`));
    }
    await sleep(300); // anything extra (duplicates would be refused by the unique key, but count late arrivals)
    const liveStats = await pipelineStats(pg, live.ids);
    const liveSpan = liveStats.last_inbox - liveStats.first_commit;
    const rows: Row[] = [
      {
        name: 'pipeline, live: API → outbox → relay → BullMQ → fan-out → inbox',
        jobs: liveStats.jobs,
        expected: liveExpected,
        arrived: liveStats.notifications,
        jobsPerS: (liveStats.jobs / liveSpan) * 1000,
        notificationsPerS: (liveStats.notifications / liveSpan) * 1000,
        p50: liveStats.p50,
        p99: liveStats.p99,
        max: liveStats.max,
        tail: liveArrived.at === null ? null : liveArrived.at - live.lastAnswerAt,
        cpuPerJob: liveWorkerCpu === null ? null : liveWorkerCpu / liveStats.jobs,
        serverCpuPerJob: liveServer.total / liveStats.jobs,
      },
    ];
    const liveApiRate = (live.transitions / (live.lastAnswerAt - live.startedAt)) * 1000;
    const liveJobs = await pipelineJobTimes(pg, live.ids);
    const offsets = await commitOffsets(pg, live.ids);

    // Drain: the same number of orders committed with no worker, then one worker started.
    let drainStats: Json = null;
    let drainArrived: { at: number | null; arrived: number } | null = null;
    let drainExpected = 0;
    let drainWorkerStart = 0;
    if (CONFIG.drain) {
      log('drain: stopping the worker');
      await stopChild(worker);
      const backlog = await driveOrders(accounts, CONFIG.orders, CONFIG.warmupOrders + CONFIG.orders);
      drainExpected = expectedNotifications(backlog.ids.length);
      const before = await countArrived(pg, backlog.ids);
      log(`drain: ${backlog.ids.length} orders committed (${before} notifications so far); starting the worker`);
      drainWorkerStart = Date.now();
      worker = startChild('worker', [CONFIG.workerEntry], { ...workerEnv, BENCH_CPU_PROF_DIR: '' });
      // From the first inbox row: the worker's start-up (Nest, connections) is not per-job work.
      let drainCpu0: number | null = null;
      let drainServer0: ServerSnapshot | null = null;
      drainArrived = await waitForInbox(pg, backlog.ids, drainExpected, () => {
        drainCpu0 = cpuMs(worker.pid);
        drainServer0 = serverSnapshot();
      });
      const drainWorkerCpu = cpuSince(worker.pid, drainCpu0);
      const drainServer: { total: number | null } = drainServer0 ? serverCpuSince(drainServer0) : { total: null };
      await sleep(300);
      drainStats = await pipelineStats(pg, backlog.ids);
      const span = drainStats.last_inbox - drainStats.first_inbox;
      rows.push({
        name: 'pipeline, backlog drain (worker started on committed orders)',
        jobs: drainStats.jobs,
        expected: drainExpected,
        arrived: drainStats.notifications,
        jobsPerS: (drainStats.jobs / span) * 1000,
        notificationsPerS: (drainStats.notifications / span) * 1000,
        p50: null,
        p99: null,
        max: null,
        tail: drainArrived.at === null ? null : drainArrived.at - drainWorkerStart,
        cpuPerJob: drainWorkerCpu === null ? null : drainWorkerCpu / drainStats.jobs,
        serverCpuPerJob: drainServer.total === null ? null : drainServer.total / drainStats.jobs,
      });
    }
    await stopChild(worker);
    await stopChild(api);

    // Reference: plain BullMQ on the same backend, its own prefix / queue, one Worker, same concurrency.
    log(`reference: ${liveStats.jobs} no-op jobs per run, Worker concurrency ${concurrency}`);
    const refWorker = startChild(
      'reference-worker',
      [...TS_NODE_ARGS, path.join(__dirname, 'support', 'noop-queue-worker.ts')],
      {
        BENCH_QUEUE_BACKEND: CONFIG.backend,
        BENCH_REDIS_URL: CONFIG.redisUrl,
        BENCH_DATABASE_URL: DATABASE_URL,
        BENCH_QUEUE_NAME: CONFIG.referenceQueue,
        BENCH_QUEUE_PREFIX: CONFIG.referencePrefix,
        BENCH_CONCURRENCY: String(concurrency),
      },
      { ipc: true },
    );
    await ask(refWorker, 'start', 'started');
    const queue = new bullmq.Queue(CONFIG.referenceQueue, { connection: queueConnection(), prefix: CONFIG.referencePrefix });
    await queue.waitUntilReady();
    // Warm-up as the pipeline had: as many jobs as the warm-up's transitions.
    await referenceRaw(queue, refWorker, CONFIG.warmupOrders * 3, 'warm');
    const raw = await referenceRaw(queue, refWorker, liveStats.jobs, 'raw');
    const paced = await referencePaced(queue, refWorker, offsets, 'paced');
    const refRows = [raw, paced];
    if (CONFIG.drain) refRows.push(await referenceDrain(queue, refWorker, drainStats.jobs, 'drain'));
    await queue.close();
    await stopChild(refWorker);
    rows.push(...refRows);

    const queueFailed = await failedPipelineJobs();

    // ---- report
    const liveRow = rows[0];
    const drainRow = CONFIG.drain ? rows[1] : null;
    const refDrain = CONFIG.drain ? refRows[2] : null;
    const ratio = (a: number | null | undefined, b: number | null | undefined): string => (a && b ? (a / b).toFixed(2) : '—');
    const report = [
      `Notifications end to end, ${CONFIG.orders} orders x (create → dispatch → claim), ${CONFIG.concurrency} orders in flight${CONFIG.rate ? ` at most, ${CONFIG.rate} orders started per second in the live phase` : ''}, queue backend ${CONFIG.backend}`,
      `${CONFIG.communities} communities x ${CONFIG.staffPerUnit} community staff, ${CONFIG.departments} departments x ${CONFIG.staffPerUnit} department staff: ${expectedNotifications(1)} in-app notifications per order (${CONFIG.staffPerUnit} + ${CONFIG.staffPerUnit} + requester), 3 fan-out jobs per order`,
      `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; date ${new Date().toISOString()}`,
      '',
      table(rows),
      '',
      'pipeline p50/p99/max: notifications.created_at − outbox.created_at (SQL, same rows); "until all done": last inbox row visible − last transition answered (live), − worker started (drain), last completion − last add (reference).',
      'reference p50/p99/max: BullMQ job finishedOn − timestamp (add → complete); jobs/s: completions / (last completion − first add), for drains / (last − first completion).',
      'worker CPU ms/job: user + system CPU of the worker process (/proc) over the run, per fan-out job (pipeline: it also relays and runs the stage-timer job of each event; drain: from the first inbox row). ' +
        `server CPU ms/job: the same for the PostgreSQL backends of ${CONFIG.database}${CONFIG.backend === 'redis' ? ' and redis-server' : ''} (pipeline live: including the API's transactions and the bench's polling).`,
      `pipeline live: API ${liveApiRate.toFixed(0)} transitions/s over ${((live.lastAnswerAt - live.startedAt) / 1000).toFixed(1)} s, API CPU ${fmt(liveApiCpu === null ? null : liveApiCpu / live.transitions, 2)} ms/transition; ` +
        `commit → relay picked up p50 ${fmt(liveStats.relay_p50, 1)} / p99 ${fmt(liveStats.relay_p99, 1)} / max ${fmt(liveStats.relay_max)} ms; ` +
        `connections to ${CONFIG.database} at the end: ${liveConnections}; ` +
        `relay picked up → inbox p50 ${fmt(liveStats.fan_p50, 1)} / p99 ${fmt(liveStats.fan_p99, 1)} ms; notifications later than 900 ms: ${liveStats.over_900ms}` +
        (liveJobs
          ? `; fan-out jobs (${liveJobs.n} kept by BullMQ): added → taken p50 ${fmt(liveJobs.waitP50, 1)} / p99 ${fmt(liveJobs.waitP99, 1)} ms, taken → finished p50 ${fmt(liveJobs.runP50, 1)} / p99 ${fmt(liveJobs.runP99, 1)} ms, ${liveJobs.retried} needed more than one attempt`
          : ''),
      `CPU per order event (transition → its fan-out job) in the live phase: API ${fmt(Number(liveApiCpu) / live.transitions, 2)} ms, worker ${fmt(Number(liveWorkerCpu) / liveStats.jobs, 2)} ms, ` +
        `PostgreSQL backends of ${CONFIG.database} ${fmt(livePgCpu / liveStats.jobs, 2)} ms${liveRedisCpu === null ? '' : `, redis-server ${fmt(liveRedisCpu / liveStats.jobs, 2)} ms`}; ` +
        `${((Number(liveApiCpu) + Number(liveWorkerCpu) + livePgCpu + (liveRedisCpu || 0)) / ((liveArrived.at || Date.now()) - live.startedAt) / os.cpus().length * 100).toFixed(0)} % of the machine's ${os.cpus().length} cores over the phase`,
      `ratios pipeline/reference: live jobs/s ${ratio(liveRow.jobsPerS, raw.jobsPerS)} (vs ${CONFIG.concurrency} parallel adds); ` +
        `latency at the same arrival times p50 ${ratio(liveRow.p50, paced.p50)}x, p99 ${ratio(liveRow.p99, paced.p99)}x` +
        (drainRow ? `; backlog drain jobs/s ${ratio(drainRow.jobsPerS, refDrain?.jobsPerS)}` : ''),
      `checks: wrong recipients ${liveStats.wrong}${drainStats ? ` + ${drainStats.wrong}` : ''}; by type ${JSON.stringify(liveStats.by_type)}; ` +
        `unpublished outbox rows ${liveStats.unpublished}${drainStats ? ` + ${drainStats.unpublished}` : ''}; external deliveries ${liveStats.deliveries} (no preferences set: in-app only); ` +
        `failed jobs: pipeline ${queueFailed}, reference ${refRows.reduce((a, r) => a + r.failed, 0)} (attempts retried: ${refRows.reduce((a, r) => a + r.retried, 0)})`,
      ...refRows.filter((r) => r.errors.length > 0).map((r) => `reference errors in "${r.name}": ${r.errors.join('; ')}`),
      ...(liveArrived.at === null ? [`LIVE: only ${liveArrived.arrived} of ${liveExpected} notifications within ${CONFIG.waitS}s`] : []),
      ...(drainArrived && drainArrived.at === null ? [`DRAIN: only ${drainArrived.arrived} of ${drainExpected} notifications within ${CONFIG.waitS}s`] : []),
      ...(CONFIG.workerEntry !== 'dist/apps/worker/src/main.js' ? [`BENCH_WORKER_ENTRY: ${CONFIG.workerEntry}`] : []),
      ...(CONFIG.outboxPollMs ? [`OUTBOX_POLL_MS: ${CONFIG.outboxPollMs}`] : []),
      `elapsed ${((Date.now() - started) / 1000).toFixed(0)}s`,
    ].join('\n');
    process.stdout.write(`${report}\n`);
    if (CONFIG.cpuProfDir) log(`worker CPU profile in ${CONFIG.cpuProfDir}; summarise with: node -r ./test/support/register-ts.js bench/support/summarise-profile.ts ${CONFIG.cpuProfDir}/worker-*.cpuprofile`);
    const incomplete = liveArrived.at === null || (drainArrived && drainArrived.at === null) || liveStats.wrong > 0;
    if (incomplete) process.exitCode = 3;
  } finally {
    await pg.end().catch(() => undefined);
  }
}

/**
 * BullMQ's own times of the live phase's fan-out jobs (the queue keeps the last 1000
 * completed): add → taken by the worker, and taken → finished.
 */
async function pipelineJobTimes(pg: Client, ids: string[]): Promise<Json> {
  const { rows } = await pg.query<{ id: string }>(`SELECT id FROM outbox WHERE order_id = ANY($1::uuid[]) AND type = ANY($2::text[])`, [ids, TYPES]);
  const wanted = new Set(rows.map((r) => r.id));
  const queue = new bullmq.Queue('notifications', { connection: queueConnection(2), prefix: CONFIG.queuePrefix });
  try {
    const jobs = (await queue.getJobs(['completed'], 0, -1)).filter((j) => j && wanted.has((j.data as { outboxId: string }).outboxId) && j.processedOn && j.finishedOn);
    const wait = jobs.map((j) => Number(j.processedOn) - j.timestamp).sort((a, b) => a - b);
    const run = jobs.map((j) => Number(j.finishedOn) - Number(j.processedOn)).sort((a, b) => a - b);
    // attemptsMade counts the successful attempt too.
    const retried = jobs.filter((j) => j.attemptsMade > 1 || j.attemptsStarted > 1 || j.stalledCounter > 0).length;
    return { n: jobs.length, retried, waitP50: percentile(wait, 0.5), waitP99: percentile(wait, 0.99), runP50: percentile(run, 0.5), runP99: percentile(run, 0.99) };
  } catch (error) {
    log(`cannot read the pipeline's completed jobs: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  } finally {
    await queue.close().catch(() => undefined);
  }
}

/** Failed jobs left in the pipeline's notifications queue (its own prefix). */
async function failedPipelineJobs(): Promise<number | string> {
  const queue = new bullmq.Queue('notifications', { connection: queueConnection(2), prefix: CONFIG.queuePrefix });
  try {
    const counts = await queue.getJobCounts('failed');
    return counts.failed;
  } catch (error) {
    return `unknown (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    await queue.close().catch(() => undefined);
  }
}

runMain(main, { timeoutS: CONFIG.timeoutS, killAllNow });
