// Broadcasts beside the order notifications: order-notification commit → inbox latency
// (p50/p99) while a 100,000-recipient broadcast drains, against the same order load with
// no broadcast before and after it. The built API and one built worker run as in
// production. See bench/README.md.
//
//   npm run bench:broadcast                                                (builds first)
//   node -r ./test/support/register-ts.js bench/broadcast.bench.ts          (uses the dist/ already built)
//
// Only 127.0.0.1 is targeted; every child process is ended at the end; the run is
// bounded by BENCH_TIMEOUT_S.

import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { orderBody as sharedOrderBody, preferredWindow } from '../test/support/order-body';
import { sleep } from '../test/support/wait';
import { createBenchDatabase, createChildren, envInt, expectStatus, flushQueueKeys, httpRequest, type Json, log, requireBuilt, ROOT, runMain, withPg, benchPlatform } from './support/harness';

const env = process.env;
const CONFIG = {
  ...benchPlatform({ database: 'kepu_bench_broadcast', apiPort: 3104, redisDb: 7, queuePrefix: '{kepu-bench-broadcast}' }),
  recipients: envInt('BENCH_RECIPIENTS', 100_000),
  /** Share of the recipients with SMS on (quiet hours off): each is one external delivery. */
  smsPercent: envInt('BENCH_SMS_PERCENT', 20),
  /** Orders started per second in each phase, each taken create → dispatch → claim. */
  rate: envInt('BENCH_RATE', 4),
  phaseS: envInt('BENCH_PHASE_S', 30),
  waitS: envInt('BENCH_WAIT_S', 600),
  timeoutS: envInt('BENCH_TIMEOUT_S', 1800),
  logDir: path.join(ROOT, 'test-output', 'bench'),
};
const DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${CONFIG.database}`;
const ADMIN = { username: 'admin', password: 'bench-admin-pass-1' };
const PASSWORD = 'bench-user-pass-1';
const DISTRICT = '110101';
const TYPES = ['order.submitted', 'order.dispatched', 'order.claimed'];
const STAFF = 3;

const { startChild, stopChild, killAllNow, waitForHttp } = createChildren({ root: ROOT, logDir: CONFIG.logDir, env, stopGraceMs: 10_000 });
const request = (method: string, urlPath: string, options: Parameters<typeof httpRequest>[3] = {}) => httpRequest(CONFIG.apiPort, method, urlPath, { timeoutMs: 120_000, ...options });

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
    LOG_LEVEL: 'warn',
  };
}

const flushBenchKeys = () => flushQueueKeys(CONFIG.redisUrl, CONFIG.queuePrefix);

interface Accounts {
  community: string;
  resident: string;
  staff: string[];
  departmentId: string;
  deptStaff: string[];
}

async function login(username: string): Promise<string> {
  return (await expectStatus(`login ${username}`, request('POST', '/auth/login', { body: { username, password: PASSWORD } }), [200])).accessToken;
}

/** The order side: one community of another district with a resident and staff, a department with staff. */
async function createAccounts(adminToken: string): Promise<Accounts> {
  const community = await withPg(DATABASE_URL, async (pg) => (await pg.query<{ code: string }>(`SELECT code FROM communities WHERE district_code = '110102' ORDER BY code LIMIT 1`)).rows[0]?.code);
  if (!community) throw new Error('no community in 110102: are the Beijing regions imported?');
  const user = (body: Record<string, unknown>) => expectStatus(`create ${String(body.username)}`, request('POST', '/users', { token: adminToken, body: { password: PASSWORD, ...body } }), [201]);
  await user({ username: 'bench-resident', displayName: '压测居民', role: 'resident', communityCode: community });
  const staff: string[] = [];
  for (let s = 0; s < STAFF; s++) {
    await user({ username: `bench-cstaff-${s}`, displayName: `社区工作者${s}`, role: 'community_staff', communityCode: community });
    staff.push(await login(`bench-cstaff-${s}`));
  }
  const dept = await expectStatus('create department', request('POST', '/departments', { token: adminToken, body: { name: '压测科协', districtCode: '110102', topics: [] } }), [201]);
  const deptStaff: string[] = [];
  for (let s = 0; s < STAFF; s++) {
    await user({ username: `bench-dstaff-${s}`, displayName: `部门工作者${s}`, role: 'department_staff', departmentId: dept.id });
    deptStaff.push(await login(`bench-dstaff-${s}`));
  }
  return { community, resident: await login('bench-resident'), staff, departmentId: dept.id, deptStaff };
}

/** The broadcast's audience: residents of the district's communities, written straight into the database (the API would take hours). */
async function createRecipients(): Promise<void> {
  await withPg(DATABASE_URL, async (pg) => {
    await pg.query(
      `INSERT INTO users (username, password_hash, display_name, role, community_code, phone)
       SELECT 'bench-bc-' || g, 'not-a-login', '居民' || g, 'resident', c.code, '139' || lpad(g::text, 8, '0')
       FROM generate_series(1, $1::int) g
       JOIN LATERAL (SELECT code FROM communities WHERE district_code = $2 ORDER BY code OFFSET (g % 50) LIMIT 1) c ON true`,
      [CONFIG.recipients, DISTRICT],
    );
    await pg.query(
      `INSERT INTO notification_preferences (user_id, sms, quiet_hours)
       SELECT id, true, false FROM users WHERE username LIKE 'bench-bc-%' AND (substr(username, 10)::int % 100) < $1`,
      [CONFIG.smsPercent],
    );
    await pg.query('ANALYZE');
  });
}

/** Orders at `rate` a second for `seconds`, each create → dispatch → claim; returns their ids. */
async function driveOrders(a: Accounts, seconds: number, offset: number): Promise<string[]> {
  const ids: string[] = [];
  const total = CONFIG.rate * seconds;
  const startedAt = Date.now();
  const one = async (i: number) => {
    const wait = startedAt + (i * 1000) / CONFIG.rate - Date.now();
    if (wait > 0) await sleep(wait);
    const body = sharedOrderBody(a.community, { title: `防范电信诈骗讲座 ${offset + i}`, preferredWindows: [preferredWindow(14 + (i % 30))], accessibilityNeeds: undefined });
    const order = await expectStatus('POST /orders', request('POST', '/orders', { token: a.resident, body }), [201]);
    ids.push(order.id);
    await expectStatus('dispatch', request('POST', `/orders/${order.id}/dispatch`, { token: a.staff[i % STAFF], body: { departmentId: a.departmentId } }), [200]);
    await expectStatus('claim', request('POST', `/orders/${order.id}/claim`, { token: a.deptStaff[i % STAFF], body: {} }), [200]);
  };
  await Promise.all(Array.from({ length: total }, (_, i) => one(i)));
  return ids;
}

/** In-app notifications the rules call for per order: community staff, department staff, the requester. */
const perOrder = STAFF + STAFF + 1;

async function waitForInbox(pg: Client, ids: string[]): Promise<boolean> {
  const deadline = Date.now() + CONFIG.waitS * 1000;
  while (Date.now() < deadline) {
    const { rows } = await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM notifications n JOIN outbox o ON o.id = n.source_id WHERE o.order_id = ANY($1::uuid[])`, [ids]);
    if ((rows[0]?.n ?? 0) >= ids.length * perOrder) return true;
    await sleep(100);
  }
  return false;
}

interface Latency {
  events: number;
  notifications: number;
  p50: number;
  p99: number;
  max: number;
}

/** Commit → inbox: notifications.created_at − outbox.created_at of the orders' events. */
async function latency(pg: Client, ids: string[]): Promise<Latency> {
  const { rows } = await pg.query<Json>(
    `WITH m AS (SELECT id, created_at FROM outbox WHERE order_id = ANY($1::uuid[]) AND type = ANY($2::text[])),
          lat AS (SELECT extract(epoch FROM n.created_at - m.created_at) * 1000 AS ms FROM notifications n JOIN m ON m.id = n.source_id)
     SELECT (SELECT count(*) FROM m)::int AS events, (SELECT count(*) FROM lat)::int AS notifications,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, max(ms) AS max FROM lat`,
    [ids, TYPES],
  );
  const r = rows[0];
  return { events: r.events, notifications: r.notifications, p50: Number(r.p50), p99: Number(r.p99), max: Number(r.max) };
}

async function main(): Promise<void> {
  const started = Date.now();
  requireBuilt(['dist/apps/api/src/main.js', 'dist/apps/worker/src/main.js', 'dist/apps/cli/src/main.js'], 'npm run bench:broadcast');
  await flushBenchKeys();
  await createBenchDatabase(CONFIG.pgAdminUrl, CONFIG.database, appEnv());
  log(`writing ${CONFIG.recipients} recipients (${CONFIG.smsPercent} % with SMS on)`);
  await createRecipients();

  const api = startChild('broadcast-api', ['dist/apps/api/src/main.js'], { ...appEnv(), PORT: String(CONFIG.apiPort) });
  const worker = startChild('broadcast-worker', ['dist/apps/worker/src/main.js'], appEnv());
  await waitForHttp('api', api, CONFIG.apiPort, 60_000);
  const adminToken = (await expectStatus('admin login', request('POST', '/auth/login', { body: ADMIN }), [200])).accessToken;
  const accounts = await createAccounts(adminToken);

  const pg = new Client({ connectionString: DATABASE_URL, application_name: 'kepu-bench' });
  await pg.connect();
  const rows: { name: string; l: Latency; note: string }[] = [];
  try {
    log('warm-up: 3 s of orders');
    const warm = await driveOrders(accounts, 3, 0);
    if (!(await waitForInbox(pg, warm))) throw new Error('warm-up notifications did not arrive; see test-output/bench/broadcast-worker.log');

    log(`phase 1: ${CONFIG.phaseS} s of orders at ${CONFIG.rate}/s, no broadcast`);
    const before = await driveOrders(accounts, CONFIG.phaseS, 1000);
    if (!(await waitForInbox(pg, before))) throw new Error('phase 1 notifications did not arrive');
    rows.push({ name: 'orders alone (before)', l: await latency(pg, before), note: '' });

    log(`phase 2: a broadcast to ${CONFIG.recipients} residents (in_app + sms), orders at the same rate while it drains`);
    const posted = Date.now();
    const accepted = await expectStatus(
      'POST /broadcasts',
      request('POST', '/broadcasts', {
        token: adminToken,
        body: { title: '暴雨红色预警', body: '今夜有特大暴雨，请居民减少外出，注意安全。', districtCodes: [DISTRICT], roles: ['resident'], channels: ['in_app', 'sms'] },
      }),
      [202],
    );
    const acceptMs = Date.now() - posted;
    log(`broadcast ${accepted.id}: ${accepted.recipients} recipients, accepted in ${acceptMs} ms`);
    const during = await driveOrders(accounts, CONFIG.phaseS, 2000);
    const atEnd = await expectStatus('GET /broadcasts/:id', request('GET', `/broadcasts/${accepted.id}`, { token: adminToken }), [200]);
    if (!(await waitForInbox(pg, during))) throw new Error('phase 2 notifications did not arrive');
    const inAppAtEnd = (await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM notifications WHERE source_id = $1`, [accepted.id])).rows[0]?.n;
    rows.push({
      name: `orders while the broadcast drains`,
      l: await latency(pg, during),
      note: `at the end of the phase the broadcast was "${atEnd.status}": ${inAppAtEnd} of ${accepted.recipients} inboxes written, ${atEnd.pending} recipients pending`,
    });

    log('waiting for the broadcast to finish');
    let done: Json = null;
    const deadline = Date.now() + CONFIG.waitS * 1000;
    while (Date.now() < deadline) {
      done = await expectStatus('GET /broadcasts/:id', request('GET', `/broadcasts/${accepted.id}`, { token: adminToken }), [200]);
      if (done.status === 'done') break;
      await sleep(1000);
    }
    const counts = (
      await pg.query<Json>(
        `SELECT (SELECT count(*) FROM notifications WHERE source_id = $1)::int AS in_app,
                (SELECT count(DISTINCT user_id) FROM notifications WHERE source_id = $1)::int AS in_app_users,
                (SELECT count(*) FROM deliveries WHERE source_id = $1)::int AS deliveries,
                (SELECT count(*) FROM deliveries WHERE source_id = $1 AND status = 'delivered')::int AS delivered_sms`,
        [accepted.id],
      )
    ).rows[0];

    log(`phase 3: ${CONFIG.phaseS} s of orders, broadcast done`);
    const after = await driveOrders(accounts, CONFIG.phaseS, 3000);
    if (!(await waitForInbox(pg, after))) throw new Error('phase 3 notifications did not arrive');
    rows.push({ name: 'orders alone (after)', l: await latency(pg, after), note: '' });

    const fmt = (v: number) => v.toFixed(1);
    const report = [
      `Order notifications beside a broadcast: ${CONFIG.rate} orders/s x (create → dispatch → claim) for ${CONFIG.phaseS} s per phase, ${perOrder} in-app notifications per order`,
      `broadcast: ${accepted.recipients} residents of ${DISTRICT}, channels in_app + sms (${CONFIG.smsPercent} % have SMS on, quiet hours off), log provider; queue backend redis`,
      `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}; date ${new Date().toISOString()}`,
      '',
      '| phase | order events | notifications | commit → inbox p50 ms | p99 ms | max ms | |',
      '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
      ...rows.map((r) => `| ${r.name} | ${r.l.events} | ${r.l.notifications} | ${fmt(r.l.p50)} | ${fmt(r.l.p99)} | ${fmt(r.l.max)} | ${r.note} |`),
      '',
      `broadcast: POST answered in ${acceptMs} ms; status ${done?.status} after ${((Date.parse(done?.finishedAt ?? '') - Date.parse(done?.createdAt ?? '')) / 1000).toFixed(1)} s ` +
        `(recipients ${done?.recipients}, delivered ${done?.delivered}, failed ${done?.failed}, pending ${done?.pending}); ` +
        `in-app rows ${counts.in_app} for ${counts.in_app_users} users, SMS deliveries ${counts.deliveries} (${counts.delivered_sms} delivered)`,
      `elapsed ${((Date.now() - started) / 1000).toFixed(0)}s`,
    ].join('\n');
    process.stdout.write(`${report}\n`);
  } finally {
    await pg.end().catch(() => undefined);
    await stopChild(worker);
    await stopChild(api);
  }
}

runMain(main, { timeoutS: CONFIG.timeoutS, killAllNow });
