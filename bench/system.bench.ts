// The whole system as `npm start` runs it (the CLI's supervisor: db:setup, then the
// built API and worker on the same machine), against the lean reference
// (bench/reference-orders-server.ts), alternated in one run on one fresh database:
//
//   1. POST /orders at 32 connections for 30 s, reference then system, BENCH_ROUNDS times;
//      after each system burst, how long until every created order's notifications are
//      in the inboxes; then a burst of transitions (dispatch) and the same wait.
//   2. RSS of the API and the worker before and after BENCH_RSS_ORDERS more orders.
//   3. What the other benches measure, run as they are (bench/orders.bench.ts: the API
//      alone; bench/notifications.bench.ts: the drain against a plain BullMQ no-op drain,
//      live commit → inbox at BENCH_LIVE_RATE orders/s, and the PostgreSQL queue backend),
//      their ratio lines collected into this report. BENCH_SYSTEM_OTHERS=0 skips them.
//
//   npm run bench:system                                          (builds first)
//   node -r ./test/support/register-ts.js bench/system.bench.ts   (uses the dist/ already built)
//
// Only 127.0.0.1 is targeted; its own database (BENCH_DATABASE, default kepu_bench_system)
// and Redis queue prefix; every child process is ended at the end.

import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { orderBody, preferredWindow } from '../test/support/order-body';
import { sleep } from '../test/support/wait';
import { cpuSeconds } from './support/cpu';
import { type BenchChild, createBenchDatabase, createChildren, envInt, expectStatus, httpRequest, type Json, log, requireBuilt, ROOT, runMain, TS_NODE_ARGS, benchPlatform } from './support/harness';

const env = process.env;
const CONFIG = {
  ...benchPlatform({ database: 'kepu_bench_system', apiPort: 3110, redisDb: 7, queuePrefix: '{kepu-bench-system}' }),
  referencePort: envInt('BENCH_REFERENCE_PORT', 3111),
  burstS: envInt('BENCH_DURATION_S', 30),
  warmupS: envInt('BENCH_WARMUP_S', 3),
  rounds: envInt('BENCH_ROUNDS', 2),
  connections: envInt('BENCH_CONNECTIONS', 32),
  staff: envInt('BENCH_STAFF', 3),
  inboxWaitS: envInt('BENCH_WAIT_S', 300),
  rssOrders: envInt('BENCH_RSS_ORDERS', 100_000),
  liveRate: envInt('BENCH_LIVE_RATE', 100),
  others: env.BENCH_SYSTEM_OTHERS !== '0',
  timeoutS: envInt('BENCH_TIMEOUT_S', 3600),
  logDir: path.join(ROOT, 'test-output', 'bench-system'),
};
const DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${CONFIG.database}`;
const ADMIN = { username: 'admin', password: 'bench-admin-pass-1' };
const PASSWORD = 'bench-user-pass-1';
const COMMUNITY = '110101001001';

const { startChild, stopChild, killAllNow, waitForHttp } = createChildren({ root: ROOT, logDir: CONFIG.logDir, env, stopGraceMs: 15_000 });
const request = (method: string, urlPath: string, options: Parameters<typeof httpRequest>[3] = {}) => httpRequest(CONFIG.apiPort, method, urlPath, { timeoutMs: 30_000, ...options });

/** What `npm start` reads, for a production-like run on loopback; logging left at its default (info). */
function appEnv(): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(CONFIG.apiPort),
    DATABASE_URL,
    REDIS_URL: CONFIG.redisUrl,
    QUEUE_PREFIX: CONFIG.queuePrefix,
    JWT_SECRET: CONFIG.jwtSecret,
    BOOTSTRAP_ADMIN_USERNAME: ADMIN.username,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    ACCESS_TOKEN_TTL_SECONDS: '7200',
    // one resident writes all the orders: far beyond a person's hourly limit
    WRITE_RATE_LIMIT_PER_HOUR: '1000000',
  };
}

/** The supervisor's children (API, worker) by what they run, from /proc. */
function childPids(parent: number): { api?: number; worker?: number } {
  const found: { api?: number; worker?: number } = {};
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent) continue;
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes('apps/api/src/main.js')) found.api = Number(entry);
      if (cmd.includes('apps/worker/src/main.js')) found.worker = Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function rssMb(pid: number | undefined): number | null {
  if (!pid) return null;
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : null;
}

interface Burst {
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
}

function burst(port: number, token: string, durationS: number, requests: autocannon.Options['requests'], body?: string): Promise<Burst> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}/orders`,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        ...(body ? { body } : {}),
        ...(requests ? { requests } : {}),
        connections: CONFIG.connections,
        duration: durationS,
        timeout: 30,
      },
      (err, r) =>
        err
          ? reject(err)
          : resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, ok: r['2xx'], non2xx: r.non2xx, errors: r.errors + r.timeouts }),
    );
    instance.on('error', () => {});
  });
}

/** Orders created by the resident since `since` (the API's answers are not all counted by autocannon when a run ends). */
async function ordersSince(pg: Client, since: Date): Promise<string[]> {
  const { rows } = await pg.query<{ id: string }>(`SELECT id FROM orders WHERE created_at >= $1`, [since]);
  return rows.map((r) => r.id);
}

/** Waits until `perOrder` notifications of messages `type` exist for each of `ids`; answers the wall-clock time or null. */
async function waitForInboxes(pg: Client, ids: string[], type: string, perOrder: number): Promise<{ at: number | null; arrived: number; expected: number }> {
  const expected = ids.length * perOrder;
  const deadline = Date.now() + CONFIG.inboxWaitS * 1000;
  for (;;) {
    const { rows } = await pg.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM notifications n JOIN outbox o ON o.id = n.source_id WHERE o.order_id = ANY($1::uuid[]) AND o.type = $2`,
      [ids, type],
    );
    const arrived = rows[0]?.n ?? 0;
    if (arrived >= expected) return { at: Date.now(), arrived, expected };
    if (Date.now() > deadline) return { at: null, arrived, expected };
    await sleep(200);
  }
}

/** Runs another bench as it is and keeps the lines of its report that match. */
function runBench(name: string, args: string[], extraEnv: NodeJS.ProcessEnv, keep: RegExp): Promise<string[]> {
  log(`running ${name}: node ${args.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...TS_NODE_ARGS, ...args], { cwd: ROOT, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => fs.appendFileSync(path.join(CONFIG.logDir, `${name}.err`), d));
    child.on('exit', (code) => {
      fs.writeFileSync(path.join(CONFIG.logDir, `${name}.txt`), out);
      const lines = out.split('\n').filter((l) => keep.test(l));
      resolve(code === 0 ? lines : [...lines, `${name} exited with code ${code} (see test-output/bench-system/${name}.err)`]);
    });
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  requireBuilt(['dist/apps/api/src/main.js', 'dist/apps/worker/src/main.js', 'dist/apps/cli/src/main.js'], 'npm run bench:system');
  fs.mkdirSync(CONFIG.logDir, { recursive: true });
  await createBenchDatabase(CONFIG.pgAdminUrl, CONFIG.database, appEnv());

  // The platform as `npm start` runs it: the CLI's supervisor with its API and worker.
  const platform = startChild('npm-start', ['dist/apps/cli/src/main.js', 'start'], appEnv());
  await waitForHttp('npm start', platform, CONFIG.apiPort, 120_000);
  const pids = childPids(platform.pid ?? 0);
  if (!pids.api || !pids.worker) throw new Error(`npm start's children not found: ${JSON.stringify(pids)}`);

  const admin = await expectStatus('admin login', request('POST', '/auth/login', { body: ADMIN }), [200, 201]);
  const createUser = (body: Record<string, string>): Promise<Json> =>
    expectStatus(`create ${body.username}`, request('POST', '/users', { token: admin.accessToken, body: { password: PASSWORD, ...body } }), [201]);
  await createUser({ username: 'bench-resident', displayName: '压测居民', role: 'resident', communityCode: COMMUNITY });
  const department = await expectStatus('create department', request('POST', '/departments', { token: admin.accessToken, body: { name: '压测科协', districtCode: COMMUNITY.slice(0, 6), topics: [] } }), [201]);
  for (let s = 0; s < CONFIG.staff; s++) {
    await createUser({ username: `bench-cstaff-${s}`, displayName: `社区工作者${s}`, role: 'community_staff', communityCode: COMMUNITY });
    await createUser({ username: `bench-dstaff-${s}`, displayName: `部门工作者${s}`, role: 'department_staff', departmentId: department.id });
  }
  const loginAs = async (username: string): Promise<string> => (await expectStatus(`login ${username}`, request('POST', '/auth/login', { body: { username, password: PASSWORD } }), [200, 201])).accessToken;
  const resident = await loginAs('bench-resident');
  const staff = await loginAs('bench-cstaff-0');
  const body = JSON.stringify(orderBody(COMMUNITY, { preferredWindows: [preferredWindow(14)], accessibilityNeeds: undefined, contactName: '王老师' }));

  const reference = startChild('reference', [...TS_NODE_ARGS, path.join(__dirname, 'reference-orders-server.ts')], {
    DATABASE_URL,
    JWT_SECRET: CONFIG.jwtSecret,
    PORT: String(CONFIG.referencePort),
    DATABASE_POOL_SIZE: '20',
  });
  await waitForHttp('reference', reference, CONFIG.referencePort, 30_000, [200, 404]);

  const pg = new Client({ connectionString: DATABASE_URL, application_name: 'kepu-bench-system' });
  await pg.connect();
  const lines: string[] = [];
  try {
    /**
     * The reference writes the same outbox rows as the API. Its bursts run with the worker
     * paused (SIGSTOP), and its rows are marked published before the worker goes on, so the
     * worker never works for the reference and the reference never shares the cores with it.
     */
    const referenceBurst = async (durationS: number): Promise<Burst> => {
      process.kill(pids.worker ?? 0, 'SIGSTOP');
      try {
        return await burst(CONFIG.referencePort, resident, durationS, undefined, body);
      } finally {
        await pg.query(`UPDATE outbox SET published_at = now() WHERE published_at IS NULL`);
        process.kill(pids.worker ?? 0, 'SIGCONT');
      }
    };
    log(`warm-up: ${CONFIG.warmupS}s each`);
    await referenceBurst(CONFIG.warmupS);
    const warmFrom = new Date();
    await burst(CONFIG.apiPort, resident, CONFIG.warmupS, undefined, body);
    const warm = await waitForInboxes(pg, await ordersSince(pg, warmFrom), 'order.submitted', CONFIG.staff);
    if (warm.at === null) throw new Error(`warm-up: ${warm.arrived} of ${warm.expected} notifications; see test-output/bench-system/npm-start.log`);
    await pg.query('ANALYZE');

    const rows: string[] = [];
    const ratios: number[] = [];
    const tails: number[] = [];
    for (let round = 1; round <= CONFIG.rounds; round++) {
      log(`round ${round}: reference`);
      const ref = await referenceBurst(CONFIG.burstS);
      log(`round ${round}: system (API + worker)`);
      const from = new Date();
      const cpu0 = { api: cpuSeconds(pids.api), worker: cpuSeconds(pids.worker) };
      const sys = await burst(CONFIG.apiPort, resident, CONFIG.burstS, undefined, body);
      const endedAt = Date.now();
      const ids = await ordersSince(pg, from);
      const inbox = await waitForInboxes(pg, ids, 'order.submitted', CONFIG.staff);
      const cpu = { api: (cpuSeconds(pids.api) ?? 0) - (cpu0.api ?? 0), worker: (cpuSeconds(pids.worker) ?? 0) - (cpu0.worker ?? 0) };
      const tail = inbox.at === null ? null : (inbox.at - endedAt) / 1000;
      if (tail !== null) tails.push(tail);
      ratios.push(sys.rps / ref.rps);
      rows.push(`| reference #${round} | ${ref.rps.toFixed(0)} | ${ref.p50} | ${ref.p99} | ${ref.ok} | ${ref.non2xx + ref.errors} | — |`);
      log(`reference #${round}: ${ref.rps.toFixed(0)} req/s; system: ${sys.rps.toFixed(0)} req/s, p99 ${sys.p99} ms, inboxes ${tail === null ? 'incomplete' : `${tail.toFixed(1)} s`} after the burst`);
      rows.push(
        `| system #${round} (npm start: API + worker) | ${sys.rps.toFixed(0)} | ${sys.p50} | ${sys.p99} | ${sys.ok} | ${sys.non2xx + sys.errors} | ` +
          `${tail === null ? `NOT within ${CONFIG.inboxWaitS}s (${inbox.arrived}/${inbox.expected})` : `${tail.toFixed(1)} s (${inbox.expected} notifications of ${ids.length} orders; CPU API ${cpu.api.toFixed(1)} s, worker ${cpu.worker.toFixed(1)} s)`} |`,
      );

      // Transitions with the worker on: the burst's orders dispatched, 32 connections.
      log(`round ${round}: dispatching ${ids.length} orders`);
      let next = 0;
      const tFrom = Date.now();
      const dispatched = await burst(CONFIG.apiPort, staff, Math.max(5, Math.ceil(ids.length / Math.max(1, sys.rps))), [
        {
          setupRequest: (req) => {
            const id = ids[next++ % ids.length];
            return { ...req, path: `/orders/${id}/dispatch`, body: JSON.stringify({ departmentId: department.id }) };
          },
        },
      ]);
      const tEnded = Date.now();
      const dIds = (await pg.query<{ order_id: string }>(`SELECT order_id FROM outbox WHERE type = 'order.dispatched' AND order_id = ANY($1::uuid[])`, [ids])).rows.map((r) => r.order_id);
      const dInbox = await waitForInboxes(pg, dIds, 'order.dispatched', CONFIG.staff);
      rows.push(
        `| system #${round}: dispatch of those orders | ${dispatched.rps.toFixed(0)} | ${dispatched.p50} | ${dispatched.p99} | ${dispatched.ok} | ${dispatched.non2xx + dispatched.errors} (409: already dispatched) | ` +
          `${dInbox.at === null ? `NOT within ${CONFIG.inboxWaitS}s (${dInbox.arrived}/${dInbox.expected})` : `${((dInbox.at - tEnded) / 1000).toFixed(1)} s (${dIds.length} orders dispatched in ${((tEnded - tFrom) / 1000).toFixed(0)} s)`} |`,
      );
    }
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    lines.push(
      `## Whole system: POST /orders, ${CONFIG.connections} connections, ${CONFIG.burstS} s per burst, alternated with the reference, ${CONFIG.rounds} rounds`,
      '',
      '| run | req/s | p50 ms | p99 ms | 2xx | not 2xx | every notification in the inboxes, after the burst ended |',
      '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
      ...rows,
      '',
      `ratio system/reference (req/s), per round: ${ratios.map((r) => r.toFixed(2)).join(', ')}; mean ${mean(ratios).toFixed(2)} (goal ≥ 0.35); inboxes complete after ${tails.map((t) => `${t.toFixed(1)} s`).join(', ')} (goal ≤ 60 s)`,
    );

    await stopChild(reference);

    // Memory: RSS after warm-up and the bursts, then after BENCH_RSS_ORDERS more orders (32 connections) and their notifications.
    if (CONFIG.rssOrders > 0) {
      const before = { api: rssMb(pids.api), worker: rssMb(pids.worker) };
      log(`memory: ${CONFIG.rssOrders} orders (RSS before: API ${before.api?.toFixed(0)} MB, worker ${before.worker?.toFixed(0)} MB)`);
      const from = new Date();
      let sent = 0;
      const t0 = Date.now();
      // RSS along the way, every tenth of the orders: a leak grows with them, a warming heap levels off.
      const samples: { sent: number; api: number | null; worker: number | null }[] = [];
      const step = Math.max(1, Math.floor(CONFIG.rssOrders / 10));
      await new Promise<void>((resolve, reject) => {
        const instance = autocannon(
          {
            url: `http://127.0.0.1:${CONFIG.apiPort}/orders`,
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${resident}` },
            body,
            connections: CONFIG.connections,
            amount: CONFIG.rssOrders,
            timeout: 30,
          },
          (err) => (err ? reject(err) : resolve()),
        );
        instance.on('response', () => {
          if (++sent % step === 0) samples.push({ sent, api: rssMb(pids.api), worker: rssMb(pids.worker) });
        });
        instance.on('error', () => {});
      });
      const ids = await ordersSince(pg, from);
      const inbox = await waitForInboxes(pg, ids, 'order.submitted', CONFIG.staff);
      await sleep(5000); // let the last jobs' garbage go
      const after = { api: rssMb(pids.api), worker: rssMb(pids.worker) };
      const growth = (a: number | null, b: number | null): string => (a === null || b === null ? '—' : `${(b - a >= 0 ? '+' : '')}${(b - a).toFixed(0)} MB`);
      lines.push(
        '',
        `## Memory: RSS before and after ${CONFIG.rssOrders} orders (${ids.length} created in ${((Date.now() - t0) / 1000).toFixed(0)} s, ${sent} answers; notifications ${inbox.at === null ? `INCOMPLETE ${inbox.arrived}/${inbox.expected}` : 'complete'})`,
        '',
        '| process | RSS before | RSS after | growth (goal ≤ +50 MB) |',
        '| --- | ---: | ---: | ---: |',
        `| API | ${before.api?.toFixed(0)} MB | ${after.api?.toFixed(0)} MB | ${growth(before.api, after.api)} |`,
        `| worker | ${before.worker?.toFixed(0)} MB | ${after.worker?.toFixed(0)} MB | ${growth(before.worker, after.worker)} |`,
        '',
        `RSS along the way (MB; orders answered: API / worker): ${samples.map((x) => `${x.sent}: ${x.api?.toFixed(0) ?? '—'} / ${x.worker?.toFixed(0) ?? '—'}`).join(', ')}`,
      );
    }
  } finally {
    await pg.end().catch(() => undefined);
    await stopChild(platform as BenchChild);
  }

  if (CONFIG.others) {
    lines.push('', '## The other benches, run as they are (their own databases), ratio lines');
    const apiAlone = await runBench('orders', ['bench/orders.bench.ts'], { BENCH_DATABASE: `${CONFIG.database}_orders` }, /^\| (reference|api) \(mean\)|^ratio/);
    lines.push('', '`bench/orders.bench.ts` (API alone, worker stopped, LOG_LEVEL=warn; goal ≥ 0.5):', ...apiAlone.map((l) => `    ${l}`));
    const pipeline = await runBench(
      'notifications-redis',
      ['bench/notifications.bench.ts'],
      { BENCH_DATABASE: `${CONFIG.database}_notif`, BENCH_QUEUE_PREFIX: `${CONFIG.queuePrefix}-n`, BENCH_REFERENCE_PREFIX: `${CONFIG.queuePrefix}-ref`, BENCH_RATE: String(CONFIG.liveRate) },
      /^\| (pipeline|BullMQ)|^ratios|^checks/,
    );
    lines.push('', `\`bench/notifications.bench.ts\` at ${CONFIG.liveRate} orders/s live, then the drain (goals: drain ≥ 0.5× BullMQ's; live p99 < 500 ms):`, ...pipeline.map((l) => `    ${l}`));
    const postgres = await runBench(
      'notifications-postgres',
      ['bench/notifications.bench.ts', '--backend', 'postgres'],
      { BENCH_DATABASE: `${CONFIG.database}_pgq` },
      /^\| pipeline, backlog|^\| BullMQ no-op: backlog|^ratios/,
    );
    lines.push('', '`bench/notifications.bench.ts --backend postgres` (QUEUE_BACKEND=postgres; goal ≥ 300 jobs/s):', ...postgres.map((l) => `    ${l}`));
  }

  const report = [
    `# bench:system ${new Date().toISOString()}`,
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (a shared machine: other work ran meanwhile)`,
    '',
    ...lines,
    '',
    `elapsed ${((Date.now() - started) / 1000).toFixed(0)} s`,
  ].join('\n');
  process.stdout.write(`${report}\n`);
}

runMain(main, { timeoutS: CONFIG.timeoutS, killAllNow });
