// Chaos run: two built API and two built worker processes on their own database and
// their own redis-server, a mixed load of virtual users for CHAOS_DURATION seconds, and
// meanwhile a worker and an API killed with SIGKILL (and restarted) and Redis restarted.
// Then a ledger check of what the platform promises whatever crashes: no lost and no
// duplicate inbox rows, no duplicate provider deliveries, no double booking, and a pending
// timer for every order in a timed stage. See bench/README.md.
//
//   npm run chaos                      (builds first)
//   CHAOS_DURATION=20 node -r ./test/support/register-ts.js bench/chaos.ts
//
// Only 127.0.0.1 is targeted; every child process is ended at the end; the run is
// bounded by CHAOS_TIMEOUT_S. Exit status 1 when a ledger check fails.

import { hashPassword } from '@kepu/auth/password';
import { EXPIRABLE_STATUSES, NOTIFICATION_RULES, type OrderStatus, SLA_STAGE_OF_STATUS } from '@kepu/core';
import { JOB_IDS } from '@kepu/notifications/queue-catalogue';
import * as bullmq from 'bullmq';
import IORedis from 'ioredis';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { orderBody as sharedOrderBody } from '../test/support/order-body';
import { answersPing } from '../test/support/redis-server';
import { sleep } from '../test/support/wait';
import { type BenchChild, createBenchDatabase, createChildren, envInt, type Json, log, ROOT, runMain, withPg } from './support/harness';

const env = process.env;
const num = envInt;

const DURATION_S = num('CHAOS_DURATION', 60);
const CONFIG = {
  durationS: DURATION_S,
  apiPorts: [num('CHAOS_API_PORT', 4700), num('CHAOS_API_PORT', 4700) + 1],
  providerPort: num('CHAOS_PROVIDER_PORT', 4710),
  redisPort: num('CHAOS_REDIS_PORT', 6390),
  pgAdminUrl: env.CHAOS_PG_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  // CHAOS_DATABASE: another name when several people run it on one server (it is dropped and recreated).
  database: env.CHAOS_DATABASE || 'kepu_chaos',
  queuePrefix: '{kepu-chaos}',
  jwtSecret: 'chaos-jwt-secret-0123456789abcdef',
  users: num('CHAOS_USERS', 8),
  /** Every SLA stage gets this deadline, so breaches (timer jobs that fire) happen during the faults. */
  slaSeconds: num('CHAOS_SLA_SECONDS', 20),
  providerFailureRate: num('CHAOS_PROVIDER_FAILURE_RATE', 0.05),
  /**
   * `restart`: SIGTERM (Redis writes its AOF and exits) and start again; `kill`: SIGKILL (the AOF is
   * fsynced every second); `wipe`: SIGKILL and start empty (a Redis without persistence: outside what README supports).
   */
  redisFault: env.CHAOS_REDIS_FAULT || 'restart',
  faults: {
    worker: num('CHAOS_KILL_WORKER_AT', Math.round(DURATION_S * 0.25)),
    api: num('CHAOS_KILL_API_AT', Math.round(DURATION_S * 0.42)),
    redis: num('CHAOS_RESTART_REDIS_AT', Math.round(DURATION_S * 0.58)),
  },
  restartAfterMs: num('CHAOS_RESTART_AFTER_MS', 1000),
  drainTimeoutS: num('CHAOS_DRAIN_TIMEOUT_S', 150),
  timeoutS: num('CHAOS_TIMEOUT_S', 600),
};
const DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${CONFIG.database}`;
const REDIS_URL = `redis://127.0.0.1:${CONFIG.redisPort}`;
const ADMIN = { username: 'admin', password: 'chaos-admin-pass-1' };
const HAIDIAN = '110108';
const COMMUNITIES = ['110108001001', '110108002001'];
const PASSWORD = 'chaos-user-pass-1';
/** Pools small enough that schedules collide (409 VENUE_CONFLICT / VOLUNTEER_CONFLICT), large enough for a minute of events. */
const VOLUNTEERS_PER_ORG = 24;
const VENUES = 24;
const LOG_DIR = path.join(ROOT, 'test-output', 'chaos');

function pick<T>(items: T[]): T {
  const item = items[Math.floor(Math.random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}
const started = Date.now();
const elapsed = (): number => (Date.now() - started) / 1000;

const { startChild, stopChild, killAllNow, waitForHttp, children } = createChildren({
  root: ROOT,
  logDir: LOG_DIR,
  appendLogs: true,
  env: {
    ...env,
    NODE_ENV: 'production',
    LOG_LEVEL: env.CHAOS_LOG_LEVEL || 'warn',
    DATABASE_URL,
    DATABASE_POOL_SIZE: '10',
    REDIS_URL,
    QUEUE_BACKEND: 'redis',
    QUEUE_PREFIX: CONFIG.queuePrefix,
    JWT_SECRET: CONFIG.jwtSecret,
    BOOTSTRAP_ADMIN_USERNAME: ADMIN.username,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${CONFIG.providerPort}/deliveries`,
    DELIVERY_ATTEMPTS: '10',
    DELIVERY_BACKOFF_MS: '200',
    OUTBOX_POLL_MS: '500',
    LOGIN_RATE_LIMIT_PER_MINUTE: '1000',
    // the benchmark's one user writes far more than a person would (per-user write limits)
    WRITE_RATE_LIMIT_PER_HOUR: '1000000',
    SLA_DISPATCH_HOURS: String(CONFIG.slaSeconds / 3600),
    SLA_CLAIM_HOURS: String(CONFIG.slaSeconds / 3600),
    SLA_ACCEPT_HOURS: String(CONFIG.slaSeconds / 3600),
    SLA_SCHEDULE_HOURS: String(CONFIG.slaSeconds / 3600),
  },
});

// ---------------------------------------------------------------- redis-server of our own

/** A redis-server on CONFIG.redisPort with AOF (as README and docker/compose.yaml run it), its files under test-output/chaos/redis. */
function createRedis(): { start: () => Promise<void>; stop: (signal?: NodeJS.Signals) => Promise<void>; wipe: () => void; kill: () => void } {
  const dir = path.join(LOG_DIR, 'redis');
  let child: ChildProcess | null = null;
  const redis = {
    async start() {
      fs.mkdirSync(dir, { recursive: true });
      const out = fs.openSync(path.join(LOG_DIR, 'redis.log'), 'a');
      child = spawn(
        'redis-server',
        ['--port', String(CONFIG.redisPort), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction'],
        { stdio: ['ignore', out, out] },
      );
      fs.closeSync(out);
      const deadline = Date.now() + 15_000;
      while (!(await answersPing(CONFIG.redisPort))) {
        if (Date.now() > deadline) throw new Error(`redis-server on ${CONFIG.redisPort} did not answer; see test-output/chaos/redis.log`);
        await sleep(100);
      }
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      const running = child;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill(signal);
      await exited;
      child = null;
    },
    wipe() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
    kill() {
      if (child) child.kill('SIGKILL');
    },
  };
  process.on('exit', () => redis.kill());
  return redis;
}

// ---------------------------------------------------------------- the fake webhook provider

/** API.md's webhook provider: records every POST (deliveryId, who, what), answers 200, or 500 at CONFIG.providerFailureRate. */
/** One POST the provider got: the delivery's JSON with what the provider made of it. */
type ProviderRequest = Json & { idempotencyKey: string | string[] | undefined; status: number; at: number };

interface Provider {
  requests: ProviderRequest[];
  close: () => Promise<void>;
}

function startProvider(): Promise<Provider> {
  const requests: ProviderRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Json = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end();
        return;
      }
      const status = Math.random() < CONFIG.providerFailureRate ? 500 : 200;
      requests.push({ ...body, idempotencyKey: req.headers['idempotency-key'], status, at: Date.now() });
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: status === 200 }));
    });
  });
  server.keepAliveTimeout = 1000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(CONFIG.providerPort, '127.0.0.1', () => resolve({ requests, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) }));
  });
}

// ---------------------------------------------------------------- HTTP with outcome counting

const outcomes = new Map<string, number>(); // `${kind} ${outcome}` → count
function count(kind: string, outcome: string): void {
  const key = `${kind}\t${outcome}`;
  outcomes.set(key, (outcomes.get(key) || 0) + 1);
}

let portTurn = 0;
/**
 * One request to one of the two APIs (alternating). Network errors (a killed API) are
 * counted and the request is sent again to the other API: with the same Idempotency-Key
 * for creates; a transition that committed before its process died answers 409 then,
 * which the caller resolves by reading the order.
 */
interface Answer {
  status: number;
  body: Json;
  code: string | undefined;
  isRetry: boolean;
}

async function send(
  kind: string,
  method: string,
  urlPath: string,
  { token, body, idempotencyKey, timeoutMs = 10_000, retryForMs = 30_000 }: { token?: string; body?: unknown; idempotencyKey?: string; timeoutMs?: number; retryForMs?: number } = {},
): Promise<Answer> {
  const deadline = Date.now() + retryForMs;
  let isRetry = false;
  for (;;) {
    const port = CONFIG.apiPorts[portTurn++ % CONFIG.apiPorts.length];
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    try {
      const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      let json: Json = null;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      const code: string | undefined = json && typeof json === 'object' ? json.code : undefined;
      if (res.status === 409 && code === 'IDEMPOTENCY_IN_PROGRESS' && Date.now() < deadline + 75_000) {
        // The first attempt's process died after claiming the key; it is taken over after 60 s.
        count(kind, '409 IDEMPOTENCY_IN_PROGRESS (waited, retried)');
        await sleep(1000);
        isRetry = true;
        continue;
      }
      count(kind, `${res.status}${code && res.status >= 400 ? ` ${code}` : ''}${res.headers.get('idempotent-replayed') ? ' (replayed)' : ''}`);
      return { status: res.status, body: json, code, isRetry };
    } catch (caught) {
      const error = caught as Error & { cause?: { code?: string } };
      count(kind, `network error (${error.cause?.code || error.name}), retried`);
      if (Date.now() > deadline) throw new Error(`${method} ${urlPath}: no API answered for ${retryForMs / 1000}s (${error.message})`);
      isRetry = true;
      await sleep(200);
    }
  }
}

class StepFailed extends Error {}

/** A transition: 200, or (after a retried network error) a 409 whose order already shows the wanted effect. */
async function transition(kind: string, _vu: VirtualUser, token: string, orderId: string, action: string, body: unknown, isDone: (order: Json) => boolean): Promise<Json> {
  const res = await send(kind, 'POST', `/orders/${orderId}/${action}`, { token, body });
  if (res.status === 200 || res.status === 201) return res.body;
  if (res.isRetry && res.status === 409) {
    const now = await send('GET /orders/:id', 'GET', `/orders/${orderId}`, { token });
    if (now.status === 200 && isDone(now.body)) {
      count(kind, '409 after a retry: had committed before the crash');
      return now.body;
    }
  }
  throw new StepFailed(`${action} ${orderId}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
}

// ---------------------------------------------------------------- setup

async function createDatabase(): Promise<void> {
  await createBenchDatabase(CONFIG.pgAdminUrl, CONFIG.database, {
    DATABASE_URL,
    REDIS_URL,
    BOOTSTRAP_ADMIN_USERNAME: ADMIN.username,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    NODE_ENV: 'production',
    JWT_SECRET: CONFIG.jwtSecret,
    LOG_LEVEL: 'warn',
  });
}

async function ok(what: string, promise: Promise<Answer>): Promise<Json> {
  const res = await promise;
  if (res.status >= 300) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
  return res.body;
}

interface Session {
  id: string;
  username: string;
  token: string;
}

interface Community {
  code: string;
  staff: Session[];
  residents: VirtualUser[];
}

type VirtualUser = Session & { community: Community };

interface World {
  admin: Session;
  department: string;
  communities: Community[];
  deptStaff: Session[];
  orgs: { id: string; admins: Session[]; volunteers: Session[] }[];
  venues: string[];
}

async function loginAs(username: string, password = PASSWORD): Promise<Session> {
  const body = await ok(`login ${username}`, send('setup', 'POST', '/auth/login', { body: { username, password } }));
  return { id: body.user.id, username, token: body.accessToken };
}

/**
 * Through the API as the bootstrap admin: one department and two organisations in 海淀,
 * residents (the virtual users) and staff of two communities, department staff, org
 * admins, a coordinator; volunteers with logins and venues in SQL (as the test worlds do).
 * Residents and community staff have every external channel on, without quiet hours,
 * so their notifications reach the fake provider.
 */
async function createWorld(): Promise<World> {
  const admin = await loginAs(ADMIN.username, ADMIN.password);
  const post = (p: string, body: unknown): Promise<Json> => ok(`POST ${p}`, send('setup', 'POST', p, { token: admin.token, body }));
  const department: string = (await post('/departments', { name: '海淀区科协', districtCode: HAIDIAN, topics: ['anti_fraud'] })).id;
  const orgIds: string[] = [
    (await post('/organizations', { name: '海淀科普志愿服务队', districtCodes: [HAIDIAN] })).id,
    (await post('/organizations', { name: '海淀青年科普队', districtCodes: [HAIDIAN] })).id,
  ];
  let serial = 0;
  const user = async (role: string, scope: Record<string, string>, isReachable = false): Promise<Session> => {
    const username = `chaos-${role.replace('_', '-')}-${++serial}`;
    const contact = isReachable ? { phone: `1390000${String(serial).padStart(4, '0')}`, email: `${username}@example.org`, wechatOpenId: `wx-${username}` } : {};
    await post('/users', { username, password: PASSWORD, displayName: username, role, ...scope, ...contact });
    const session = await loginAs(username);
    if (isReachable)
      await ok('preferences', send('setup', 'PUT', '/me/notification-preferences', { token: session.token, body: { sms: true, email: true, wechat: true, quietHours: false } }));
    return session;
  };
  const communities: Community[] = [];
  for (const code of COMMUNITIES) {
    const staff = [await user('community_staff', { communityCode: code }, true), await user('community_staff', { communityCode: code })];
    communities.push({ code, staff, residents: [] });
  }
  for (let i = 0; i < CONFIG.users; i++) {
    const community = communities[i % communities.length];
    if (!community) throw new Error('no community');
    community.residents.push({ ...(await user('resident', { communityCode: community.code }, i % 2 === 0)), community });
  }
  const deptStaff = [await user('department_staff', { departmentId: department }), await user('department_staff', { departmentId: department })];
  const orgs: World['orgs'] = [];
  for (const id of orgIds) orgs.push({ id, admins: [await user('org_admin', { organizationId: id }), await user('org_admin', { organizationId: id })], volunteers: [] });
  await user('district_coordinator', { districtCode: HAIDIAN });

  const hash = await hashPassword(PASSWORD);
  const always = JSON.stringify([1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: '00:00', end: '24:00' })));
  const venues: string[] = [];
  await withPg(DATABASE_URL, async (pg) => {
    for (const org of orgs) {
      for (let i = 0; i < VOLUNTEERS_PER_ORG; i++) {
        const name = `chaos-volunteer-${org.admins[0]?.username}-${i}`;
        const { rows: [v] } = await pg.query<Json>(
          `INSERT INTO volunteers (organization_id, display_name, phone, home_community_code, home_subdistrict_code, home_district_code, audiences, formats, availability, max_hours_per_week)
           SELECT $1, $2, '13900001111', c.code, c.subdistrict_code, c.district_code, '{elderly}', '{lecture}', $3, 168 FROM communities c WHERE c.code = $4 RETURNING id`,
          [org.id, name, always, COMMUNITIES[i % 2]],
        );
        await pg.query(`INSERT INTO volunteer_skills (volunteer_id, topic, level) VALUES ($1, 'anti_fraud', 2)`, [v.id]);
        const { rows: [u] } = await pg.query<Json>(
          `INSERT INTO users (username, password_hash, display_name, role, organization_id, volunteer_id) VALUES ($1, $2, $1, 'volunteer', $3, $4) RETURNING id`,
          [name, hash, org.id, v.id],
        );
        await pg.query(`UPDATE volunteers SET user_id = $2 WHERE id = $1`, [v.id, u.id]);
        org.volunteers.push({ ...(await loginAs(name)), id: v.id });
      }
    }
    for (let i = 0; i < VENUES; i++) {
      const { rows: [venue] } = await pg.query<Json>(
        `INSERT INTO venues (name, owner_type, community_code, subdistrict_code, district_code, kind, capacity, accessibility)
         SELECT $1, 'city', c.code, c.subdistrict_code, c.district_code, 'community_room', 200, '{wheelchair}' FROM communities c WHERE c.code = $2 RETURNING id`,
        [`chaos 活动室 ${i + 1}`, COMMUNITIES[i % 2]],
      );
      venues.push(venue.id);
    }
  });
  return { admin, department, communities, deptStaff, orgs, venues };
}

// ---------------------------------------------------------------- the load

const MIN = 60_000;
const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Scenarios per order (a virtual user runs one after the other until the end):
 * full    create → dispatch → claim → offer → accept → schedule (a slot starting within the
 *         hour, a venue and 1–2 volunteers drawn from small pools, so schedules collide) →
 *         volunteers confirm → check-in → check-out → complete → rate (1 in 8 rated low);
 * later   the same up to schedule, on a slot three days ahead (stays scheduled: reminders);
 * cancel  cancelled by the requester after 0–3 steps;
 * idle    left after 0–3 steps (its SLA timer fires during the run).
 */
type Scenario = 'full' | 'later' | 'cancel' | 'idle';

function chooseScenario(): Scenario {
  const r = Math.random();
  if (r < 0.6) return 'full';
  if (r < 0.72) return 'later';
  if (r < 0.86) return 'cancel';
  return 'idle';
}

function orderBody(community: string, windowStart: number, windowEnd: number): Record<string, unknown> {
  return sharedOrderBody(community, {
    description: '面向社区老年人的防诈骗知识讲座，含互动问答。',
    expectedAttendance: 40,
    preferredWindows: [{ start: iso(windowStart), end: iso(windowEnd) }],
  });
}

type ScenarioCounts = { started: number; finished: number; stopped: number; failed: number };
const scenarios = new Map<string, ScenarioCounts>();
function scenarioCount(name: string, field: keyof ScenarioCounts): void {
  const s = scenarios.get(name) || { started: 0, finished: 0, stopped: 0, failed: 0 };
  s[field]++;
  scenarios.set(name, s);
}

async function runOrder(world: World, vu: VirtualUser, scenario: Scenario): Promise<'done' | 'stopped'> {
  const now = Date.now();
  const isLater = scenario === 'later';
  const windowStart = isLater ? now + 3 * 24 * 60 * MIN : now + 5 * MIN;
  const windowEnd = windowStart + 10 * 60 * MIN;
  const key = randomUUID();
  const created = await send('POST /orders', 'POST', '/orders', { token: vu.token, body: orderBody(vu.community.code, windowStart, windowEnd), idempotencyKey: key });
  if (created.status !== 201) throw new StepFailed(`create: ${created.status} ${JSON.stringify(created.body).slice(0, 300)}`);
  const id: string = created.body.id;
  createdOrders.add(id);
  const stopAfter = scenario === 'cancel' || scenario === 'idle' ? Math.floor(Math.random() * 4) : Infinity;
  const staff = pick(vu.community.staff);
  const dept = pick(world.deptStaff);
  const org = pick(world.orgs);
  const orgAdmin = pick(org.admins);
  const steps = [
    () => transition('POST dispatch', vu, staff.token, id, 'dispatch', { departmentId: world.department }, (o) => o.status !== 'submitted'),
    () => transition('POST claim', vu, dept.token, id, 'claim', {}, (o) => o.status !== 'dispatched'),
    () => transition('POST offer', vu, dept.token, id, 'offer', { organizationId: org.id }, (o) => o.offeredOrganizationId === org.id || o.status !== 'claimed'),
  ];
  for (const [i, step] of steps.entries()) {
    if (i === stopAfter) break;
    if (stopping) return 'stopped';
    await step();
  }
  if (scenario === 'cancel') {
    await transition('POST cancel', vu, vu.token, id, 'cancel', { reason: '活动取消' }, (o) => o.status === 'cancelled');
    return 'done';
  }
  if (scenario === 'idle' || stopping) return 'done';
  await transition('POST accept', vu, orgAdmin.token, id, 'accept', {}, (o) => o.status !== 'claimed');

  // schedule: a 20-minute slot on a 5-minute grid starting within 2 h (check-in opens 2 h before the start),
  // a venue and volunteers drawn from the pools; retried on a conflict
  let volunteers: Session[] | null = [];
  for (let attempt = 0; ; attempt++) {
    if (stopping && attempt > 0) return 'stopped';
    const base = isLater ? windowStart : Math.ceil((Date.now() + 10 * MIN) / (5 * MIN)) * 5 * MIN;
    const start = base + Math.floor(Math.random() * 21) * 5 * MIN;
    volunteers = [...org.volunteers].sort(() => Math.random() - 0.5).slice(0, 1 + Math.floor(Math.random() * 2));
    const body = { start: iso(start), end: iso(start + 20 * MIN), venueId: pick(world.venues), volunteerIds: volunteers.map((v) => v.id) };
    const res = await send('POST schedule', 'POST', `/orders/${id}/schedule`, { token: orgAdmin.token, body });
    if (res.status === 200) break;
    if (res.status === 409 && ['VENUE_CONFLICT', 'VOLUNTEER_CONFLICT'].includes(res.code ?? '') && attempt < 8) continue;
    if (res.isRetry && res.status === 409) {
      const now2 = await send('GET /orders/:id', 'GET', `/orders/${id}`, { token: orgAdmin.token });
      if (now2.status === 200 && now2.body.status !== 'accepted') {
        count('POST schedule', '409 after a retry: had committed before the crash');
        // the volunteers are the ones of the committed attempt: read them back from the assignments below
        volunteers = null;
        break;
      }
    }
    throw new StepFailed(`schedule ${id}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  }
  if (isLater || stopping) return 'done';

  // the invited volunteers confirm (their invitations are found in GET /me/assignments)
  const confirmed: Session[] = [];
  for (const v of volunteers ?? org.volunteers) {
    const mine = await send('GET /me/assignments', 'GET', '/me/assignments?limit=100', { token: v.token });
    const invitation = Array.isArray(mine.body) ? mine.body.find((a: Json) => a.orderId === id && ['invited', 'confirmed'].includes(a.status)) : undefined;
    if (!invitation) continue;
    if (invitation.status === 'invited') {
      const res = await send('POST confirm', 'POST', `/assignments/${invitation.id}/confirm`, { token: v.token });
      if (res.isRetry && res.status === 409) count('POST confirm', '409 after a retry: had committed before the crash');
      else if (res.status !== 200) throw new StepFailed(`confirm: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    confirmed.push(v);
  }
  if (confirmed.length === 0) throw new StepFailed(`no invitation of ${id} found`);
  const volunteer = confirmed[0] as Session;
  await transition('POST check-in', vu, volunteer.token, id, 'check-in', {}, (o) => o.status === 'in_progress');
  const out = await send('POST check-out', 'POST', `/orders/${id}/check-out`, { token: volunteer.token, body: {} });
  if (out.isRetry && out.status === 409) count('POST check-out', '409 after a retry: had committed before the crash');
  else if (out.status !== 200) throw new StepFailed(`check-out: ${out.status} ${JSON.stringify(out.body).slice(0, 300)}`);
  if (stopping) return 'done';
  await transition('POST complete', vu, orgAdmin.token, id, 'complete', { attendance: 35, summary: '讲座顺利完成。' }, (o) => o.status === 'completed');
  const low = Math.random() < 0.125;
  const score = low ? 2 : 5;
  await transition('POST rating', vu, vu.token, id, 'rating', { content: score, volunteers: 5, punctuality: 5 }, (o) => o.status === 'rated');
  return 'done';
}

let stopping = false;
let loadStartedAt = 0;
/** Every order id a create answered (201, first or replayed): compared with the orders table. */
const createdOrders = new Set<string>();

async function virtualUser(world: World, vu: VirtualUser): Promise<void> {
  while (!stopping) {
    const scenario = chooseScenario();
    scenarioCount(scenario, 'started');
    try {
      const result = await runOrder(world, vu, scenario);
      scenarioCount(scenario, result === 'done' ? 'finished' : 'stopped');
    } catch (caught) {
      const error = caught as Error;
      scenarioCount(scenario, 'failed');
      if (!(error instanceof StepFailed)) log(`vu ${vu.username}: ${error.message}`);
      else log(`vu ${vu.username} (${scenario}): ${error.message}`);
      await sleep(200);
    }
  }
}

// ---------------------------------------------------------------- faults

const faults: { what: string; at: number; back: number }[] = [];
async function killAndRestart(name: string, procs: BenchChild[], index: number, startFn: () => BenchChild, port?: number): Promise<void> {
  const victim = procs[index];
  if (!victim) throw new Error(`no ${name}`);
  victim.isStopping = true;
  victim.kill('SIGKILL');
  const at = elapsed();
  await new Promise<void>((r) => (victim.exitCode !== null || victim.signalCode ? r() : victim.once('exit', () => r())));
  await sleep(CONFIG.restartAfterMs);
  const restarted = startFn();
  procs[index] = restarted;
  if (port) await waitForHttp(name, restarted, port, 60_000, [200, 503]);
  faults.push({ what: `SIGKILL ${name} (pid ${victim.pid}), restarted`, at, back: elapsed() });
}

// ---------------------------------------------------------------- drain and ledger

interface Queues {
  connection: IORedis;
  notifications: bullmq.Queue;
  deliveries: bullmq.Queue;
  timers: bullmq.Queue;
}

function queues(): Queues {
  const connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null, lazyConnect: false });
  const make = (name: string): bullmq.Queue => new bullmq.Queue(name, { connection, prefix: CONFIG.queuePrefix });
  return { connection, notifications: make('notifications'), deliveries: make('deliveries'), timers: make('timers') };
}

/** Until the outbox is published, no job waits or runs, no delivery is pending and no SLA timer is overdue; bounded. */
async function drain(pg: Client, q: Queues): Promise<{ isDrained: boolean; state: string }> {
  const deadline = Date.now() + CONFIG.drainTimeoutS * 1000;
  // SLA timers of orders left in a stage at the end fire up to CHAOS_SLA_SECONDS later.
  const earliestQuiet = Date.now() + (CONFIG.slaSeconds + 3) * 1000;
  let quietRounds = 0;
  let last = '';
  while (Date.now() < deadline) {
    const { rows: [db] } = await pg.query<Json>(`SELECT
        (SELECT count(*)::int FROM outbox WHERE published_at IS NULL) AS unpublished,
        (SELECT count(*)::int FROM deliveries WHERE status = 'pending') AS pending_deliveries`);
    // 'paused' is not a JobType in BullMQ 6's types; asked for as before, it counts what the backend still keeps there.
    const busyStates = ['waiting', 'active', 'delayed', 'prioritized', 'paused'] as bullmq.JobType[];
    const n = await q.notifications.getJobCounts(...busyStates);
    const d = await q.deliveries.getJobCounts(...busyStates);
    const t = await q.timers.getJobCounts(...(['waiting', 'active', 'prioritized', 'paused'] as bullmq.JobType[]));
    const busy = db.unpublished + db.pending_deliveries + Object.values(n).reduce((a, b) => a + b, 0) + Object.values(d).reduce((a, b) => a + b, 0) + Object.values(t).reduce((a, b) => a + b, 0);
    last = `unpublished outbox ${db.unpublished}, pending deliveries ${db.pending_deliveries}, notifications jobs ${JSON.stringify(n)}, deliveries jobs ${JSON.stringify(d)}, timers ${JSON.stringify(t)}`;
    quietRounds = busy === 0 ? quietRounds + 1 : 0;
    if (quietRounds >= 3 && Date.now() >= earliestQuiet) return { isDrained: true, state: last };
    await sleep(1000);
  }
  return { isDrained: false, state: last };
}

/** SQL of each recipient relation of notification-rules.ts, over one outbox row `o` (this check's own reading of DESIGN.md §5). */
const RELATION_SQL: Record<string, string> = {
  requester: `u.id = o.requester_id`,
  community_staff: `u.role = 'community_staff' AND u.community_code = o.community_code`,
  department_staff: `u.role = 'department_staff' AND u.department_id = o.department`,
  offered_org_admins: `u.role = 'org_admin' AND u.organization_id = o.offered`,
  accepting_org_admins: `u.role = 'org_admin' AND u.organization_id = o.accepting`,
  involved_org_admins: `u.role = 'org_admin' AND u.organization_id IN (o.offered, o.accepting)`,
  serving_org_admins: `u.role = 'org_admin' AND EXISTS (SELECT 1 FROM organization_districts od WHERE od.organization_id = u.organization_id AND od.district_code = o.district_code)`,
  district_coordinators: `u.role = 'district_coordinator' AND u.district_code = o.district_code`,
  listed_volunteers: `EXISTS (SELECT 1 FROM volunteers v WHERE v.user_id = u.id AND v.id = ANY(o.volunteers))`,
  confirmed_volunteers: `EXISTS (SELECT 1 FROM assignments a JOIN volunteers v ON v.id = a.volunteer_id WHERE a.order_id = o.order_id AND a.status = 'confirmed' AND v.user_id = u.id)`,
};

/**
 * The (outbox message, user) pairs the rules call for: every notified outbox row of an
 * order, each recipient relation of its type's rule resolved against the order as it
 * is now (relations do not change after they are set in this load), active users, never
 * the actor.
 */
function expectedRecipientsSql(): string {
  const parts: string[] = [];
  for (const [type, rule] of Object.entries(NOTIFICATION_RULES))
    for (const kind of rule.recipients) {
      if (!RELATION_SQL[kind]) throw new Error(`the chaos check does not know recipient kind ${kind}`);
      parts.push(`SELECT o.source_id, u.id AS user_id FROM o JOIN users u ON ${RELATION_SQL[kind]} WHERE o.type = '${type}'`);
    }
  return `WITH o AS (
      SELECT ob.id AS source_id, ob.type, ob.order_id, ob.payload->>'actorId' AS actor, ord.requester_id, ord.community_code, ord.district_code,
             coalesce((ob.payload->>'departmentId')::uuid, ord.department_id) AS department,
             coalesce((ob.payload->>'organizationId')::uuid, ord.offered_organization_id) AS offered,
             coalesce(ord.organization_id, (ob.payload->>'organizationId')::uuid) AS accepting,
             ARRAY(SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(ob.payload->'volunteerIds') = 'array' THEN ob.payload->'volunteerIds' ELSE '[]'::jsonb END))::uuid[] AS volunteers
      FROM outbox ob JOIN orders ord ON ord.id = ob.order_id),
    r AS (${parts.join('\n      UNION ')})
    SELECT r.source_id, r.user_id FROM r JOIN users u ON u.id = r.user_id JOIN o ON o.source_id = r.source_id
    WHERE u.is_active AND u.id::text IS DISTINCT FROM o.actor`;
}

interface Check {
  name: string;
  n: number;
  detail: string;
  pass: boolean;
}

async function ledger(pg: Client, q: Queues, provider: Provider): Promise<{ checks: Check[]; inbox: Json }> {
  const checks: Check[] = [];
  const check = (name: string, n: number, detail = ''): number => checks.push({ name, n, detail, pass: n === 0 });

  await pg.query(`CREATE TEMP TABLE expected AS ${expectedRecipientsSql()}`);
  const { rows: [inbox] } = await pg.query<Json>(`SELECT
      (SELECT count(*)::int FROM expected) AS expected,
      (SELECT count(*)::int FROM notifications) AS actual,
      (SELECT count(*)::int FROM expected e WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.source_id = e.source_id AND n.user_id = e.user_id)) AS lost,
      (SELECT count(*)::int FROM notifications n WHERE NOT EXISTS (SELECT 1 FROM expected e WHERE e.source_id = n.source_id AND e.user_id = n.user_id)) AS unexpected,
      (SELECT count(*)::int FROM outbox WHERE published_at IS NULL) AS unpublished`);
  check('lost inbox rows (expected by the rules, absent)', inbox.lost, `${inbox.expected} expected, ${inbox.actual} present`);
  check('inbox rows nobody should have got', inbox.unexpected);
  check('outbox rows never published', inbox.unpublished);

  // Same user, same event, same type: per outbox message (the unique key), and per order and type
  // across messages (an event written twice, e.g. a create or transition applied twice); in this load
  // only sla.breached repeats legitimately on one order, once per stage.
  const { rows: [dup] } = await pg.query<Json>(`SELECT
      (SELECT count(*)::int FROM (SELECT 1 FROM notifications GROUP BY user_id, source_id, type, channel HAVING count(*) > 1) x) AS per_message,
      (SELECT count(*)::int FROM (SELECT 1 FROM notifications n JOIN outbox ob ON ob.id = n.source_id
         GROUP BY n.user_id, n.order_id, n.type, coalesce(ob.payload->>'stage', '') HAVING count(*) > 1) x) AS per_order_event`);
  check('duplicate inbox rows (same user, message, type)', dup.per_message);
  check('duplicate inbox rows (same user, order, event type)', dup.per_order_event);

  // The provider's side: each logical delivery (message, user, channel) must arrive under one deliveryId.
  const accepted = provider.requests.filter((r) => r.status === 200);
  const byLogical = new Map<string, Set<string>>();
  const timesById = new Map<string, number[]>(); // deliveryId → times it was accepted
  for (const r of accepted) {
    const logical = `${r.orderId}|${r.type}|${r.userId}|${r.channel}|${r.body}`;
    if (!byLogical.has(logical)) byLogical.set(logical, new Set());
    byLogical.get(logical)?.add(r.deliveryId);
    timesById.set(r.deliveryId, [...(timesById.get(r.deliveryId) || []), r.at]);
  }
  const dupLogical = [...byLogical.values()].filter((ids) => ids.size > 1).length;
  const repeated = [...timesById.values()].filter((times) => times.length > 1);
  const repeats = repeated.length;
  // When the repeats arrived (s from the start of the load): they cluster at the faults.
  const repeatTimes = repeated.map((times) => times.map((t) => ((t - loadStartedAt) / 1000).toFixed(1)).join('/')).join(', ');
  const keyMismatch = provider.requests.filter((r) => r.idempotencyKey !== r.deliveryId).length;
  check('deliveries received under 2+ deliveryIds (same message, user, channel)', dupLogical, `${accepted.length} accepted of ${provider.requests.length} requests; ${repeats} deliveryIds accepted more than once (at-least-once repeats, same id${repeats ? `, at ${repeatTimes} s` : ''})`);
  check('provider requests whose Idempotency-Key ≠ deliveryId', keyMismatch);

  // Expected external deliveries: each expected inbox row of a user with channels on and an address.
  const { rows: expectedDeliveries } = await pg.query<Json>(`
    SELECT e.source_id, e.user_id, ch.channel, d.id AS delivery_id, d.status
    FROM expected e JOIN users u ON u.id = e.user_id JOIN notification_preferences np ON np.user_id = u.id
    CROSS JOIN LATERAL (VALUES ('sms', np.sms AND u.phone IS NOT NULL), ('email', np.email AND u.email IS NOT NULL), ('wechat', np.wechat AND u.wechat_open_id IS NOT NULL)) ch(channel, is_on)
    LEFT JOIN deliveries d ON d.source_id = e.source_id AND d.user_id = e.user_id AND d.channel = ch.channel
    WHERE ch.is_on`);
  const acceptedIds = new Set(accepted.map((r) => r.deliveryId));
  const lostDeliveries = expectedDeliveries.filter((d: Json) => !d.delivery_id || !acceptedIds.has(d.delivery_id)).length;
  const { rows: byStatus } = await pg.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM deliveries GROUP BY status ORDER BY status`);
  check('lost external deliveries (expected, never accepted by the provider)', lostDeliveries, `${expectedDeliveries.length} expected; rows by status ${byStatus.map((r) => `${r.status} ${r.n}`).join(', ')}`);

  const { rows: [overlap] } = await pg.query<Json>(`SELECT
      (SELECT count(*)::int FROM bookings a JOIN bookings b ON a.venue_id = b.venue_id AND a.id < b.id AND a.during && b.during WHERE a.status = 'active' AND b.status = 'active') AS bookings,
      (SELECT count(*)::int FROM assignments a JOIN assignments b ON a.volunteer_id = b.volunteer_id AND a.id < b.id AND a.during && b.during
         WHERE a.status IN ('invited', 'confirmed') AND b.status IN ('invited', 'confirmed')) AS assignments,
      (SELECT count(*)::int FROM bookings WHERE status = 'active') AS active_bookings`);
  check('overlapping active bookings (same venue)', overlap.bookings, `${overlap.active_bookings} active bookings`);
  check('overlapping active assignments (same volunteer)', overlap.assignments);

  const { rows: orderIds } = await pg.query<{ id: string }>(`SELECT id FROM orders`);
  const inDb = new Set(orderIds.map((r) => r.id));
  check('orders no create answered (a create applied twice)', [...inDb].filter((id) => !createdOrders.has(id)).length, `${inDb.size} orders, ${createdOrders.size} ids answered`);
  check('orders answered 201 but absent', [...createdOrders].filter((id) => !inDb.has(id)).length);

  const timers = await timerCheck(pg, q);
  check('orders in a timed stage without a pending timer', timers.missing.length, `${timers.checked} timers checked over ${timers.orders} orders; ${timers.breached} SLA timers already fired (breach recorded)${timers.missing.length ? `; e.g. ${timers.missing.slice(0, 3).join(', ')}` : ''}`);
  return { checks, inbox };
}

/**
 * The timers an order must have now (StageTimersService): in an SLA stage its
 * sla-<order>-<stage> (or, once due, the breach recorded for that stretch) and
 * expire-<order>; scheduled: the 24 h / 2 h reminders still ahead; completed: the
 * rating reminder and the close timer. Pending = delayed, waiting, active or prioritized.
 */
async function timerCheck(pg: Client, q: Queues): Promise<{ missing: string[]; checked: number; breached: number; orders: number }> {
  const { rows } = await pg.query<{ id: string; status: OrderStatus; scheduled_start: Date | null; entered_seq: number }>(`
    SELECT o.id, o.status, o.scheduled_start,
      (SELECT seq FROM order_events e WHERE e.order_id = o.id AND e.to_status = o.status AND e.from_status IS DISTINCT FROM e.to_status ORDER BY seq DESC LIMIT 1) AS entered_seq
    FROM orders o`);
  const { rows: breaches } = await pg.query<{ order_id: string; stage: string; entered_seq: number }>(`SELECT order_id, stage, entered_seq FROM sla_breaches`);
  const breached = new Set(breaches.map((b) => `${b.order_id}|${b.stage}|${b.entered_seq}`));
  const missing: string[] = [];
  let checked = 0;
  let breachedCount = 0;
  const pending = async (jobId: string): Promise<boolean> => {
    checked++;
    const job = await q.timers.getJob(jobId);
    if (!job) return false;
    return ['delayed', 'waiting', 'active', 'prioritized', 'waiting-children'].includes(await job.getState());
  };
  for (const o of rows) {
    const stage = SLA_STAGE_OF_STATUS[o.status];
    if (stage) {
      if (breached.has(`${o.id}|${stage}|${o.entered_seq}`)) breachedCount++;
      else if (!(await pending(JOB_IDS.slaDue(o.id, stage)))) missing.push(`${o.status} ${o.id} sla`);
    }
    if (EXPIRABLE_STATUSES.includes(o.status) && !(await pending(JOB_IDS.expireDue(o.id)))) missing.push(`${o.status} ${o.id} expire`);
    if (o.status === 'scheduled' && o.scheduled_start)
      for (const [kind, lead] of [['24h', 24 * 3600_000], ['2h', 2 * 3600_000]] as const)
        if (o.scheduled_start.getTime() - lead > Date.now() + 5000 && !(await pending(JOB_IDS.reminderDue(o.id, kind)))) missing.push(`scheduled ${o.id} remind-${kind}`);
    if (o.status === 'completed') {
      if (!(await pending(JOB_IDS.ratingReminderDue(o.id)))) missing.push(`completed ${o.id} rate-remind`);
      if (!(await pending(JOB_IDS.closeDue(o.id)))) missing.push(`completed ${o.id} close`);
    }
  }
  return { missing, checked, breached: breachedCount, orders: rows.length };
}

// ---------------------------------------------------------------- report

function table(headers: string[], rows: (string | number)[][]): string {
  const widths = headers.map((h, i) => Math.max(String(h).length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells: (string | number)[]): string => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(headers), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  log(`chaos: ${CONFIG.durationS}s of load, ${CONFIG.users} virtual users; worker killed at ${CONFIG.faults.worker}s, API at ${CONFIG.faults.api}s, Redis ${CONFIG.redisFault} at ${CONFIG.faults.redis}s`);
  fs.mkdirSync(LOG_DIR, { recursive: true });
  for (const f of fs.readdirSync(LOG_DIR)) if (f.endsWith('.log')) fs.rmSync(path.join(LOG_DIR, f));
  const redis = createRedis();
  redis.wipe();
  await redis.start();
  await createDatabase();
  const provider = await startProvider();

  const apiArgs = ['dist/apps/api/src/main.js'];
  const workerArgs = ['dist/apps/worker/src/main.js'];
  const startApi = (i: number) => (): BenchChild => startChild(`api-${i + 1}`, apiArgs, { PORT: String(CONFIG.apiPorts[i]) });
  const startWorker = (i: number) => (): BenchChild => startChild(`worker-${i + 1}`, workerArgs, {});
  const apis = [startApi(0)(), startApi(1)()];
  const workers = [startWorker(0)(), startWorker(1)()];
  await Promise.all(apis.map((a, i) => waitForHttp(`api-${i + 1}`, a, CONFIG.apiPorts[i] ?? 0, 90_000)));
  log('APIs up; creating accounts');
  const world = await createWorld();
  const vus = world.communities.flatMap((c) => c.residents);
  log(`${vus.length} virtual users, ${world.orgs.length * VOLUNTEERS_PER_ORG} volunteers, ${world.venues.length} venues; load for ${CONFIG.durationS}s`);

  const loadStart = Date.now();
  loadStartedAt = loadStart;
  // Each fault at its own time, whatever the others are doing (a restart can take a while on a loaded machine).
  const at = (s: number): Promise<void> => sleep(Math.max(0, loadStart + s * 1000 - Date.now()));
  const t = (): string => ((Date.now() - loadStart) / 1000).toFixed(1);
  const faultsDone = Promise.all([
    at(CONFIG.faults.worker).then(() => {
      log(`t=${t()}s SIGKILL worker-1`);
      return killAndRestart('worker-1', workers, 0, startWorker(0));
    }),
    at(CONFIG.faults.api).then(() => {
      log(`t=${t()}s SIGKILL api-1`);
      return killAndRestart('api-1', apis, 0, startApi(0), CONFIG.apiPorts[0]);
    }),
    at(CONFIG.faults.redis).then(async () => {
      log(`t=${t()}s Redis ${CONFIG.redisFault}`);
      const t0 = elapsed();
      await redis.stop(CONFIG.redisFault === 'restart' ? 'SIGTERM' : 'SIGKILL');
      if (CONFIG.redisFault === 'wipe') redis.wipe();
      await sleep(CONFIG.restartAfterMs);
      await redis.start();
      const how = ({ restart: 'SIGTERM (AOF flushed), started again', kill: 'SIGKILL (AOF fsync every second), started again', wipe: 'SIGKILL, started again EMPTY' } as Record<string, string>)[CONFIG.redisFault];
      faults.push({ what: `Redis ${how} on the same port`, at: t0, back: elapsed() });
    }),
  ]);
  const load = vus.map((vu) => virtualUser(world, vu));
  await sleep(CONFIG.durationS * 1000);
  stopping = true;
  log('load stopped; waiting for the virtual users to finish their step');
  await faultsDone;
  await Promise.race([Promise.all(load), sleep(90_000)]);
  const loadS = (Date.now() - loadStart) / 1000;

  const pg = new Client({ connectionString: DATABASE_URL, application_name: 'kepu-chaos' });
  await pg.connect();
  const q = queues();
  try {
    log('draining: outbox, queues, deliveries, due SLA timers');
    const drained = await drain(pg, q);
    log(drained.isDrained ? 'drained' : `NOT drained after ${CONFIG.drainTimeoutS}s: ${drained.state}`);
    const { checks, inbox } = await ledger(pg, q, provider);
    if (!drained.isDrained) checks.push({ name: `drained within ${CONFIG.drainTimeoutS}s`, n: 1, detail: drained.state, pass: false });
    const { rows: statuses } = await pg.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM orders GROUP BY status ORDER BY n DESC`);
    const { rows: [events] } = await pg.query<Json>(`SELECT (SELECT count(*)::int FROM order_events) AS events, (SELECT count(*)::int FROM outbox) AS outbox, (SELECT count(*)::int FROM sla_breaches) AS breaches`);

    const requestRows: [string, string, number][] = [...outcomes.entries()]
      .filter(([k]) => !k.startsWith('setup'))
      .map(([k, n]): [string, string, number] => [k.split('\t')[0] ?? '', k.split('\t')[1] ?? '', n])
      .sort((a, b) => a[0].localeCompare(b[0]) || b[2] - a[2]);
    const totalRequests = requestRows.reduce((a, r) => a + r[2], 0);
    const report = [
      `Chaos run: 2 API + 2 worker processes (built), ${vus.length} virtual users for ${CONFIG.durationS}s (load ended after ${loadS.toFixed(1)}s), SLA deadlines ${CONFIG.slaSeconds}s, provider failing ${(CONFIG.providerFailureRate * 100).toFixed(0)}% of requests`,
      `machine: ${os.cpus().length} cores, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; date ${new Date().toISOString()}`,
      '',
      `Requests by outcome (${totalRequests} in all):`,
      table(['request', 'outcome', 'count'], requestRows),
      '',
      'Scenarios (orders):',
      table(['scenario', 'started', 'finished', 'stopped by the end', 'failed'], [...scenarios.entries()].map(([name, s]) => [name, s.started, s.finished || 0, s.stopped || 0, s.failed || 0])),
      '',
      `Orders by status: ${statuses.map((s) => `${s.status} ${s.n}`).join(', ')}; ${events.events} order events, ${events.outbox} outbox messages, ${events.breaches} SLA breaches; ${inbox.actual} inbox rows; ${provider.requests.length} provider requests`,
      '',
      'Faults:',
      table(['t (s)', 'fault', 'back at (s)'], [...faults].sort((a, b) => a.at - b.at).map((f) => [(f.at - (loadStart - started) / 1000).toFixed(1), f.what, (f.back - (loadStart - started) / 1000).toFixed(1)])),
      '',
      'Ledger:',
      table(['check', 'count', 'result', 'detail'], checks.map((c) => [c.name, c.n, c.pass ? 'PASS' : 'FAIL', c.detail])),
      '',
      `elapsed ${elapsed().toFixed(0)}s; child logs in test-output/chaos/`,
    ].join('\n');
    process.stdout.write(`${report}\n`);
    if (checks.some((c) => !c.pass)) process.exitCode = 1;
  } finally {
    await pg.end().catch(() => undefined);
    await Promise.all([q.notifications.close(), q.deliveries.close(), q.timers.close()]).catch(() => undefined);
    q.connection.disconnect();
    for (const child of [...children]) await stopChild(child);
    await provider.close();
    await redis.stop();
  }
}

runMain(main, { timeoutS: CONFIG.timeoutS, killAllNow });
