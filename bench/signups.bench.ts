// Event sign-ups (POST /events/:orderId/signups): 200 residents racing for the 50 seats of
// one event at the same instant, then a steady mix of sign-ups (1–4 attendees) across 100
// other events with autocannon. The built API and a built worker run as users run them,
// on a database of the bench's own (BENCH_DATABASE). Prints p50/p99 and req/s, and the
// count check: the race's event has exactly its seats confirmed and everyone else waiting;
// no event has more confirmed attendees than seats. During the race one client asks GET /me
// over and over: how the rest of the API answers while a rush waits for one event's lock.
// BENCH_BEFORE_DIST=<another build's dist/> runs the same on that build first (its own
// database), for same-run ratios. See bench/README.md.
//
//   npm run bench:signups                                             (builds first)
//   node -r ./test/support/register-ts.js bench/signups.bench.ts       (uses the dist/ already built)
//
// Only 127.0.0.1 is targeted; every child process is ended at the end; the run is
// bounded by BENCH_TIMEOUT_S.

import { hashPassword } from '@kepu/auth';
import os from 'node:os';
import path from 'node:path';
import { orderBody } from '../test/support/order-body';
import {
  createBenchDatabase,
  createChildren,
  envInt,
  expectStatus,
  flushQueueKeys,
  httpRequest,
  type HttpAnswer,
  log,
  percentile,
  requireBuilt,
  ROOT,
  runMain,
  withPg,
  benchPlatform,
} from './support/harness';
import { fireRecordingRequests } from './support/load';

const env = process.env;
const CONFIG = {
  ...benchPlatform({ database: 'kepu_bench_signups', apiPort: 3109, redisDb: 7, queuePrefix: '{kepu-bench-signups}' }),
  /** Another build's dist/ (e.g. main's) run first, the same way, for same-run ratios. */
  beforeDist: env.BENCH_BEFORE_DIST ? path.resolve(env.BENCH_BEFORE_DIST) : '',
  racers: envInt('BENCH_RACERS', 200),
  raceSeats: envInt('BENCH_RACE_SEATS', 50),
  events: envInt('BENCH_EVENTS', 100),
  eventSeats: envInt('BENCH_EVENT_SEATS', 40),
  durationS: envInt('BENCH_DURATION_S', 20),
  connections: envInt('BENCH_CONNECTIONS', 16),
  /** DATABASE_POOL_SIZE of the API and of the worker: the default 20 each does not fit beside other suites on a shared PostgreSQL of max_connections 100. */
  poolSize: envInt('BENCH_POOL_SIZE', 10),
  timeoutS: envInt('BENCH_TIMEOUT_S', 900),
  logDir: path.join(ROOT, 'test-output', 'bench'),
};
const DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${CONFIG.database}`;
const ADMIN = { username: 'admin', password: 'bench-admin-pass-1' };
const PASSWORD = 'bench-user-pass-1';
const DISTRICT = '110108';
/** Requests of setup at once (orders through their lifecycle, logins). */
const SETUP_AT_ONCE = 8;
const HOUR_MS = 3600 * 1000;
const DAY_MS = 24 * HOUR_MS;

const { startChild, stopChild, killAllNow, waitForHttp } = createChildren({ root: ROOT, logDir: CONFIG.logDir, env, stopGraceMs: 10_000 });
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
    LOG_LEVEL: 'warn',
    DATABASE_POOL_SIZE: String(CONFIG.poolSize),
    // Every resident of the bench logs in from 127.0.0.1; the staff write far more than a person would.
    LOGIN_RATE_LIMIT_PER_MINUTE: '100000',
    WRITE_RATE_LIMIT_PER_HOUR: '1000000',
  };
}

async function inBatches<T, R>(items: readonly T[], atOnce: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += atOnce) results.push(...(await Promise.all(items.slice(i, i + atOnce).map((item, j) => work(item, i + j)))));
  return results;
}

async function login(username: string): Promise<string> {
  return (await expectStatus(`login ${username}`, request('POST', '/auth/login', { body: { username, password: PASSWORD } }), [200])).accessToken;
}

interface Staff {
  community: string;
  departmentId: string;
  organizationId: string;
  resident: string;
  communityStaff: string;
  departmentStaff: string;
  orgAdmin: string;
  venueId: string;
}

/** The people who order, dispatch, take, accept, schedule and publish the events, through the API. */
async function createStaff(adminToken: string): Promise<Staff> {
  const community = await withPg(DATABASE_URL, async (pg) => (await pg.query<{ code: string }>(`SELECT code FROM communities WHERE district_code = $1 ORDER BY code LIMIT 1`, [DISTRICT])).rows[0]?.code);
  if (!community) throw new Error(`no community in ${DISTRICT}: are the Beijing regions imported?`);
  const as = (token: string) => ({ token });
  const department = await expectStatus('create department', request('POST', '/departments', { ...as(adminToken), body: { name: '压测区科协', districtCode: DISTRICT, topics: ['anti_fraud'] } }), [201]);
  const organization = await expectStatus('create organisation', request('POST', '/organizations', { ...as(adminToken), body: { name: '压测科普志愿服务队', districtCodes: [DISTRICT] } }), [201]);
  const user = (body: Record<string, unknown>) => expectStatus(`create ${String(body.username)}`, request('POST', '/users', { ...as(adminToken), body: { password: PASSWORD, ...body } }), [201]);
  await user({ username: 'bench-requester', displayName: '压测居民', role: 'resident', communityCode: community });
  await user({ username: 'bench-cstaff', displayName: '社区工作者', role: 'community_staff', communityCode: community });
  await user({ username: 'bench-dstaff', displayName: '部门工作者', role: 'department_staff', departmentId: department.id });
  await user({ username: 'bench-org', displayName: '志愿队管理员', role: 'org_admin', organizationId: organization.id });
  const communityStaff = await login('bench-cstaff');
  const venue = await expectStatus(
    'create venue',
    request('POST', '/venues', { token: communityStaff, body: { name: '压测社区活动中心', communityCode: community, kind: 'community_room', capacity: 500, accessibility: ['wheelchair'] } }),
    [201],
  );
  return {
    community,
    departmentId: department.id,
    organizationId: organization.id,
    resident: await login('bench-requester'),
    communityStaff,
    departmentStaff: await login('bench-dstaff'),
    orgAdmin: await login('bench-org'),
    venueId: venue.id,
  };
}

/** 00:00 in Beijing, `days` from today. */
function beijingMidnight(days: number): number {
  const local = Date.now() + 8 * HOUR_MS;
  return local - (local % DAY_MS) - 8 * HOUR_MS + days * DAY_MS;
}

/**
 * Event `i`: an order taken through its lifecycle as people would (create, dispatch, claim,
 * offer, accept, schedule at the venue, publish with `seats`); four two-hour slots a day, so
 * no two events hold the venue at once.
 */
async function publishedEvent(s: Staff, i: number, seats: number): Promise<string> {
  const day = 3 + Math.floor(i / 4);
  const start = beijingMidnight(day) + (8 + (i % 4) * 3) * HOUR_MS;
  const window = { start: new Date(beijingMidnight(day) + 7 * HOUR_MS).toISOString(), end: new Date(beijingMidnight(day) + 21 * HOUR_MS).toISOString() };
  const order = await expectStatus('POST /orders', request('POST', '/orders', { token: s.resident, body: orderBody(s.community, { title: `防范电信诈骗讲座（第${i + 1}场）`, preferredWindows: [window] }) }), [201]);
  const step = (name: string, token: string, body: unknown = {}) => expectStatus(name, request('POST', `/orders/${order.id}/${name}`, { token, body }), [200, 201]);
  await step('dispatch', s.communityStaff, { departmentId: s.departmentId });
  await step('claim', s.departmentStaff);
  await step('offer', s.departmentStaff, { organizationId: s.organizationId });
  await step('accept', s.orgAdmin);
  await step('schedule', s.orgAdmin, { start: new Date(start).toISOString(), end: new Date(start + 2 * HOUR_MS).toISOString(), venueId: s.venueId, volunteerIds: [], openSlots: 1 });
  await step('publish', s.orgAdmin, { seats });
  return order.id as string;
}

/**
 * The residents who sign up. Written straight into the table with one password hash (as
 * bench:broadcast writes its audience: creating accounts is not what is measured), then
 * each logs in through the API.
 */
async function createResidents(community: string, n: number): Promise<string[]> {
  const hash = await hashPassword(PASSWORD);
  await withPg(DATABASE_URL, (pg) =>
    pg.query(
      `INSERT INTO users (username, password_hash, display_name, role, community_code, phone)
       SELECT 'bench-attendee-' || g, $1, '居民' || g, 'resident', $2, '137' || lpad(g::text, 8, '0') FROM generate_series(1, $3::int) g`,
      [hash, community, n],
    ),
  );
  return inBatches(
    Array.from({ length: n }, (_, g) => `bench-attendee-${g + 1}`),
    SETUP_AT_ONCE,
    (username) => login(username),
  );
}

interface Row {
  name: string;
  requests: number;
  p50: number;
  p99: number;
  rps: number;
  non2xx: number;
}

/** Every racer posts at the same instant (one connection each); latencies and statuses per request. Meanwhile one client asks GET /me, one request after another. */
async function race(orderId: string, tokens: string[], probeToken: string): Promise<{ row: Row; statuses: Map<number, number>; probe: Row }> {
  const startedAt = performance.now();
  let isRacing = true;
  const probeMs: number[] = [];
  let probeFailed = 0;
  const probing = (async () => {
    while (isRacing) {
      const t0 = performance.now();
      const res = await request('GET', '/me', { token: probeToken });
      probeMs.push(performance.now() - t0);
      if (res.status !== 200) probeFailed++;
    }
  })();
  const answers = await Promise.all(
    tokens.map(async (token) => {
      const t0 = performance.now();
      const res: HttpAnswer = await request('POST', `/events/${orderId}/signups`, { token, body: { attendees: 1 } });
      return { status: res.status, ms: performance.now() - t0 };
    }),
  );
  const wallS = (performance.now() - startedAt) / 1000;
  isRacing = false;
  await probing;
  const latencies = answers.map((a) => a.ms).sort((a, b) => a - b);
  const statuses = new Map<number, number>();
  for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
  probeMs.sort((a, b) => a - b);
  return {
    row: {
      name: `race: ${tokens.length} residents at once for ${CONFIG.raceSeats} seats`,
      requests: answers.length,
      p50: percentile(latencies, 50) ?? NaN,
      p99: percentile(latencies, 99) ?? NaN,
      rps: answers.length / wallS,
      non2xx: answers.filter((a) => a.status < 200 || a.status >= 300).length,
    },
    statuses,
    probe: {
      name: 'GET /me during the race, one at a time',
      requests: probeMs.length,
      p50: percentile(probeMs, 50) ?? NaN,
      p99: percentile(probeMs, 99) ?? NaN,
      rps: probeMs.length / wallS,
      non2xx: probeFailed,
    },
  };
}

/** Sign-ups across the events: request k is resident ⌊k / events⌋ on event k mod events, so no pair repeats, with 1–4 attendees. */
async function steadyMix(orderIds: string[], tokens: string[]): Promise<Row> {
  let k = 0;
  const pairs = orderIds.length * tokens.length;
  const { result, latencies } = await fireRecordingRequests(
    CONFIG.apiPort,
    () => {
      const n = k++ % pairs;
      const orderId = orderIds[n % orderIds.length] as string;
      const token = tokens[Math.floor(n / orderIds.length)] as string;
      return { method: 'POST', path: `/events/${orderId}/signups`, token, body: { attendees: 1 + (n % 4) } };
    },
    CONFIG.durationS,
    CONFIG.connections,
  );
  if (k > pairs) log(`warning: ${k} requests for ${pairs} (resident, event) pairs: some repeated (409 ALREADY_SIGNED_UP); raise BENCH_RACERS or lower BENCH_DURATION_S`);
  latencies.sort((a, b) => a - b);
  return {
    name: `steady mix: ${CONFIG.connections} connections, ${CONFIG.durationS} s, ${orderIds.length} events of ${CONFIG.eventSeats} seats`,
    requests: latencies.length,
    p50: percentile(latencies, 50) ?? NaN,
    p99: percentile(latencies, 99) ?? NaN,
    rps: latencies.length / CONFIG.durationS,
    non2xx: result.non2xx + result.errors + result.timeouts,
  };
}

interface EventCounts {
  order_id: string;
  seats: number;
  confirmed_people: number;
  waitlisted: number;
  waitlisted_people: number;
  signups: number;
  counter_confirmed: number;
  counter_waitlisted: number;
}

/** Seats and sign-ups per event from the rows, beside the event's own counters in people (what GET /events shows). */
async function eventCounts(orderIds: string[]): Promise<EventCounts[]> {
  return withPg(DATABASE_URL, async (pg) =>
    (
      await pg.query<EventCounts>(
        `SELECT e.order_id, e.seats, e.confirmed AS counter_confirmed, e.waitlisted AS counter_waitlisted,
                coalesce(sum(s.attendees) FILTER (WHERE s.status = 'confirmed'), 0)::int AS confirmed_people,
                count(s.id) FILTER (WHERE s.status = 'waitlisted')::int AS waitlisted,
                coalesce(sum(s.attendees) FILTER (WHERE s.status = 'waitlisted'), 0)::int AS waitlisted_people, count(s.id)::int AS signups
         FROM events e LEFT JOIN event_signups s ON s.order_id = e.order_id WHERE e.order_id = ANY($1::uuid[])
         GROUP BY e.order_id, e.seats, e.confirmed, e.waitlisted`,
        [orderIds],
      )
    ).rows,
  );
}

/** One build's run on a database of its own: the race, the steady mix, the count checks. */
async function phase(label: string, dist: string): Promise<{ lines: string[]; ok: boolean; isCountExact: boolean; race: Row; probe: Row; mix: Row }> {
  await flushQueueKeys(CONFIG.redisUrl, CONFIG.queuePrefix);
  await createBenchDatabase(CONFIG.pgAdminUrl, CONFIG.database, appEnv());
  const api = startChild(`signups-api-${label}`, [path.join(dist, 'apps/api/src/main.js')], { ...appEnv(), PORT: String(CONFIG.apiPort) });
  const worker = startChild(`signups-worker-${label}`, [path.join(dist, 'apps/worker/src/main.js')], appEnv());
  try {
    await waitForHttp('api', api, CONFIG.apiPort, 60_000);
    const adminToken = (await expectStatus('admin login', request('POST', '/auth/login', { body: ADMIN }), [200])).accessToken;
    const staff = await createStaff(adminToken);
    log(`${label}: publishing 1 + ${CONFIG.events} events through their lifecycle`);
    const raceEvent = await publishedEvent(staff, 0, CONFIG.raceSeats);
    const mixEvents = await inBatches(
      Array.from({ length: CONFIG.events }, (_, i) => i + 1),
      SETUP_AT_ONCE,
      (i) => publishedEvent(staff, i, CONFIG.eventSeats),
    );
    log(`${label}: ${CONFIG.racers} residents log in`);
    const tokens = await createResidents(staff.community, CONFIG.racers);

    log(`${label}: race: ${CONFIG.racers} sign-ups at once for ${CONFIG.raceSeats} seats`);
    const raced = await race(raceEvent, tokens, staff.communityStaff);
    log(`${label}: steady mix: ${CONFIG.durationS} s over ${CONFIG.events} events`);
    const mixed = await steadyMix(mixEvents, tokens);

    const [raceCounts] = await eventCounts([raceEvent]);
    const shown = await expectStatus('GET /events/:id', request('GET', `/events/${raceEvent}`, { token: tokens[0] }), [200]);
    const mixCounts = await eventCounts(mixEvents);
    const overbooked = mixCounts.filter((e) => e.confirmed_people > e.seats || e.counter_confirmed !== e.confirmed_people || e.counter_waitlisted !== e.waitlisted_people);
    const mixSignups = mixCounts.reduce((sum, e) => sum + e.signups, 0);
    const full = mixCounts.filter((e) => e.confirmed_people === e.seats).length;
    // Exact: the seats confirmed, everyone else whose sign-up was taken (201) waiting; a refused one (e.g. 503 when the pool
    // wait times out) wrote nothing. Every answer a 201 is checked apart (non-2xx).
    const accepted = raced.statuses.get(201) ?? 0;
    const exact =
      raceCounts !== undefined &&
      raceCounts.confirmed_people === CONFIG.raceSeats &&
      raceCounts.waitlisted === accepted - CONFIG.raceSeats &&
      raceCounts.signups === accepted &&
      shown.confirmed === CONFIG.raceSeats &&
      shown.waitlisted === accepted - CONFIG.raceSeats;
    // autocannon stops counting at the end of the duration: the requests then in flight (at most one per connection) still commit.
    const rowsMatch = mixSignups >= mixed.requests && mixSignups <= mixed.requests + CONFIG.connections;
    const isCountExact = exact && overbooked.length === 0 && rowsMatch;
    const ok = isCountExact && raced.row.non2xx === 0 && raced.probe.non2xx === 0 && mixed.non2xx === 0;

    const fmt = (v: number) => v.toFixed(1);
    const lines = [
      `${label} (${path.relative(ROOT, dist) || dist}): load average at the end ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}; date ${new Date().toISOString()}`,
      '',
      '| phase | requests | p50 ms | p99 ms | req/s | non-2xx |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...[raced.row, raced.probe, mixed].map((r) => `| ${r.name} | ${r.requests} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.rps)} | ${r.non2xx} |`),
      '',
      `count check, race: ${raceCounts?.confirmed_people} confirmed attendees for ${raceCounts?.seats} seats, ${raceCounts?.waitlisted} waiting, ${raceCounts?.signups} sign-up rows ` +
        `(expected ${CONFIG.raceSeats}, ${accepted - CONFIG.raceSeats} and ${accepted}: the ${accepted} answered 201); GET /events/:id shows confirmed ${shown.confirmed}, waitlisted ${shown.waitlisted}, status ${shown.status}; ` +
        `statuses ${[...raced.statuses.entries()].map(([s, n]) => `${s}×${n}`).join(', ')} → ${exact ? 'exact' : 'WRONG'}${accepted === CONFIG.racers ? '' : ` (but ${CONFIG.racers - accepted} racers were refused: see test-output/bench/signups-api-${label}.log)`}`,
      `count check, steady mix: ${mixSignups} sign-up rows for ${mixed.requests} answers (+ at most ${CONFIG.connections} in flight when the run stopped); ${full} of ${mixCounts.length} events full; ` +
        `${overbooked.length} events with more confirmed attendees than seats or counters that disagree with the rows → ${overbooked.length === 0 && rowsMatch ? 'ok' : 'WRONG'}`,
      '',
    ];
    return { lines, ok, isCountExact, race: raced.row, probe: raced.probe, mix: mixed };
  } finally {
    await stopChild(worker);
    await stopChild(api);
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  requireBuilt(['dist/apps/api/src/main.js', 'dist/apps/worker/src/main.js', 'dist/apps/cli/src/main.js'], 'npm run bench:signups');
  const header = [
    `Event sign-ups (POST /events/:orderId/signups), built API + worker (one process each, DATABASE_POOL_SIZE=${CONFIG.poolSize}), NODE_ENV=production, queue backend redis`,
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; load average at the start ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
    '',
  ];
  const before = CONFIG.beforeDist ? await phase('before', CONFIG.beforeDist) : null;
  const after = await phase('this code', path.join(ROOT, 'dist'));
  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
  const ratios = before
    ? [
        `ratios this code / before (same run): race p99 ${ratio(after.race.p99, before.race.p99)}, race req/s ${ratio(after.race.rps, before.race.rps)}, ` +
          `GET /me during the race p99 ${ratio(after.probe.p99, before.probe.p99)}, steady mix req/s ${ratio(after.mix.rps, before.mix.rps)}, mix p99 ${ratio(after.mix.p99, before.mix.p99)}`,
      ]
    : [];
  process.stdout.write(`${[...header, ...(before?.lines ?? []), ...after.lines, ...ratios, `elapsed ${((Date.now() - started) / 1000).toFixed(0)}s`].join('\n')}\n`);
  // The counts must be exact for both builds; refused requests (503) fail only this code's run: the build before may give them, that is what it measures.
  if (!after.ok || (before !== null && !before.isCountExact)) process.exitCode = 1;
}

runMain(main, { timeoutS: CONFIG.timeoutS, killAllNow });
