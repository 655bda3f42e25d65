import { endOfQuietHours } from '@kepu/core';
import { startFakeProvider, type FakeProvider } from './support/fake-provider';
import { expectProblem, problemMismatches } from './support/problem';
import { count, startTestApp, type TestApp } from './support/test-app';
import { type ChildWorker, drain, killWorkerMidway, openTestQueues, spawnWorker, startTestWorker, suitePrefix, type TestQueues, type TestWorker } from './support/test-worker';
import { clearOfWindowEnd } from './support/wait';
import { CHAOYANG, COMMUNITY_A1, COMMUNITY_A2, HAIDIAN, createWorld, login, type Session, type World } from './support/world';

interface Accepted {
  id: string;
  recipients: number;
  status: string;
}

interface Progress {
  id: string;
  title: string;
  status: 'queued' | 'sending' | 'done';
  recipients: number;
  delivered: number;
  failed: number;
  pending: number;
  createdAt: string;
  finishedAt: string | null;
}

const body = (over: Record<string, unknown> = {}) => ({
  title: '暴雨预警',
  body: '今晚有暴雨，请减少外出。',
  roles: ['resident', 'community_staff'],
  channels: ['in_app'],
  ...over,
});

describe('broadcasts: coordinators and the city tell roles in districts (API.md "Coordinators steering")', () => {
  let provider: FakeProvider;
  let t: TestApp;
  let w: World;
  let queues: TestQueues;
  let worker: TestWorker | undefined;
  let children: ChildWorker[] = [];
  let texted: Session;
  let mailed: Session;
  let users = 0;

  /** A fresh account of a role (its own rate-limit counter as a sender). */
  const account = async (role: string, scope: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<Session> => {
    users += 1;
    const username = `bc-${role}-${users}`;
    const password = `${username}-pass-1`;
    await t.http().post('/users').set(w.admin.auth).send({ username, password, displayName: username, role, ...scope, ...extra }).expect(201);
    return login(t, username, password);
  };

  const post = (who: Session, payload: object, key?: string) => {
    const req = t.http().post('/broadcasts').set(who.auth);
    return (key === undefined ? req : req.set('Idempotency-Key', key)).send(payload);
  };
  const progress = async (who: Session, id: string): Promise<Progress> => (await t.http().get(`/broadcasts/${id}`).set(who.auth).expect(200)).body as Progress;
  const inboxTypes = async (who: Session): Promise<{ type: string; title: string }[]> =>
    ((await t.http().get('/me/notifications?limit=100').set(who.auth).expect(200)).body as { items: { type: string; title: string }[] }).items;
  const broadcastRows = () => count(t.db, 'broadcasts');

  beforeAll(async () => {
    provider = await startFakeProvider();
    t = await startTestApp('broadcasts', {
      QUEUE_PREFIX: suitePrefix('broadcasts'),
      NOTIFY_WEBHOOK_URL: provider.url,
      DELIVERY_ATTEMPTS: '2',
      DELIVERY_BACKOFF_MS: '50',
      OUTBOX_POLL_MS: '200',
    });
    queues = openTestQueues();
    w = await createWorld(t);
    texted = await account('resident', { communityCode: COMMUNITY_A1 }, { phone: '13911112222' });
    mailed = await account('resident', { communityCode: COMMUNITY_A2 }, { email: 'mailed@example.cn' });
    await t.http().put('/me/notification-preferences').set(texted.auth).send({ sms: true, email: false, wechat: false, quietHours: true }).expect(200);
    await t.http().put('/me/notification-preferences').set(mailed.auth).send({ sms: false, email: true, wechat: false, quietHours: true }).expect(200);
    worker = await startTestWorker();
    await drain(t.db, queues);
  }, 90_000);

  afterAll(async () => {
    for (const child of children) await child.kill('SIGKILL');
    await worker?.close();
    await queues?.obliterate().catch(() => undefined);
    await queues?.close();
    await t?.close();
    await provider?.close();
  }, 60_000);

  it('a city-wide broadcast reaches every resident and staff member of the districts in app, by SMS and e-mail, once; the sender and other districts are not told', async () => {
    provider.reset();
    const res = await post(w.admin, body({ districtCodes: [HAIDIAN], channels: ['in_app', 'sms', 'email'], urgent: true })).expect(202);
    const accepted = res.body as Accepted;
    // 海淀: residents a1, a1b, a2, texted, mailed; staff a1, a2.
    expect(accepted).toEqual({ id: expect.any(String), recipients: 7, status: 'queued' });
    await drain(t.db, queues);

    for (const who of [w.residentA1, w.residentA1b, w.residentA2, w.staffA1, w.staffA2, texted, mailed])
      expect((await inboxTypes(who)).filter((n) => n.type === 'broadcast')).toEqual([expect.objectContaining({ type: 'broadcast', title: '暴雨预警' })]);
    for (const who of [w.residentB1, w.staffB1, w.deptHaidian, w.orgHaidian, w.coordHaidian, w.admin]) expect((await inboxTypes(who)).filter((n) => n.type === 'broadcast')).toEqual([]);

    const deliveries = (
      await t.db.query<{ user_id: string; channel: string; status: string; not_before: Date; created_at: Date }>(
        `SELECT user_id, channel, status, not_before, created_at FROM deliveries WHERE source_id = $1 ORDER BY channel`,
        [accepted.id],
      )
    ).rows;
    expect(deliveries.map((d) => [d.user_id, d.channel, d.status])).toEqual([
      [mailed.id, 'email', 'delivered'],
      [texted.id, 'sms', 'delivered'],
    ]);
    // urgent: the SMS goes out at once, quiet hours or not
    expect(Math.abs(deliveries[1]!.not_before.getTime() - deliveries[1]!.created_at.getTime())).toBeLessThan(5000);
    const posted = provider.requests.filter((r) => r.body.type === 'broadcast');
    expect(posted.map((r) => [r.body.channel, r.body.to, r.body.title]).sort()).toEqual([
      ['email', 'mailed@example.cn', '暴雨预警'],
      ['sms', '13911112222', '暴雨预警'],
    ]);
    const repeated = await t.db.query(`SELECT user_id FROM notifications WHERE source_id = $1 GROUP BY user_id HAVING count(*) > 1`, [accepted.id]);
    expect(repeated.rows).toEqual([]);

    const done = await progress(w.admin, accepted.id);
    expect(done).toMatchObject({ id: accepted.id, status: 'done', recipients: 7, delivered: 7, failed: 0, pending: 0 });
    expect(Date.parse(done.finishedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(done.createdAt));
  }, 60_000);

  it('without urgent, SMS keep quiet hours (22:00–07:00 Asia/Shanghai) for users who keep them; other channels go at once', async () => {
    const accepted = (await post(w.admin, body({ districtCodes: [HAIDIAN], roles: ['resident'], channels: ['sms', 'email'] })).expect(202)).body as Accepted;
    await drain(t.db, queues, { isDeliveryDelayExpected: true });
    const rows = (
      await t.db.query<{ channel: string; not_before: Date; created_at: Date }>(`SELECT channel, not_before, created_at FROM deliveries WHERE source_id = $1 ORDER BY channel`, [accepted.id])
    ).rows;
    expect(rows.map((r) => r.channel)).toEqual(['email', 'sms']);
    const [email, sms] = rows;
    expect(Math.abs(email!.not_before.getTime() - email!.created_at.getTime())).toBeLessThan(5000);
    const quietEnd = endOfQuietHours(sms!.created_at);
    if (quietEnd) expect(sms!.not_before).toEqual(quietEnd);
    else expect(Math.abs(sms!.not_before.getTime() - sms!.created_at.getTime())).toBeLessThan(5000);
    // The in-app channel was not asked for: nobody's inbox has it.
    expect(await count(t.db, 'notifications', 'source_id = $1', [accepted.id])).toBe(0);
    expect((await progress(w.admin, accepted.id)).recipients).toBe(5);
    // Quiet hours end (the held SMS jobs made due now): they go, and nothing is left for the next test's drain.
    for (const job of await queues.deliveries.getDelayed()) await job.promote();
    await drain(t.db, queues);
    expect((await progress(w.admin, accepted.id)).pending).toBe(0);
  }, 60_000);

  describe('scope', () => {
    it('a district coordinator broadcasts to its own district (the default) and nowhere else: 403, nothing written', async () => {
      const own = (await post(w.coordHaidian, body({ roles: ['resident'] })).expect(202)).body as Accepted;
      expect(own.recipients).toBe(5);
      const explicit = (await post(w.coordHaidian, body({ roles: ['community_staff'], districtCodes: [HAIDIAN] })).expect(202)).body as Accepted;
      expect(explicit.recipients).toBe(2);
      const before = await broadcastRows();
      for (const districtCodes of [[CHAOYANG], [HAIDIAN, CHAOYANG]]) expectProblem(await post(w.coordHaidian, body({ districtCodes })), 403, 'FORBIDDEN');
      expect(await broadcastRows()).toBe(before);
      await drain(t.db, queues);
      expect((await inboxTypes(w.residentB1)).filter((n) => n.type === 'broadcast')).toEqual([]);
    });

    it('roles beyond residents and staff: departments serving the district (city-wide ones too), organisations serving it, its coordinators', async () => {
      const res = (await post(w.admin, body({ districtCodes: [CHAOYANG], roles: ['department_staff', 'org_admin', 'district_coordinator', 'city_admin'] })).expect(202)).body as Accepted;
      // 朝阳: dept-chaoyang, dept-city (city-wide); org-haidian2 (serves both), org-chaoyang; coord-chaoyang. No city admin: not in a district.
      expect(res.recipients).toBe(5);
      await drain(t.db, queues);
      for (const who of [w.deptChaoyang, w.deptCity, w.orgHaidian2, w.orgChaoyang, w.coordChaoyang]) expect((await inboxTypes(who)).some((n) => n.type === 'broadcast')).toBe(true);
      for (const who of [w.deptHaidian, w.orgHaidian, w.coordHaidian]) expect((await inboxTypes(who)).filter((n) => n.type === 'broadcast')).toHaveLength(0);
    });

    it('every other role is 403 FORBIDDEN for POST and the reads; nothing is written', async () => {
      const before = await broadcastRows();
      for (const who of [w.residentA1, w.staffA1, w.deptHaidian, w.orgHaidian]) {
        expectProblem(await post(who, body({ districtCodes: [HAIDIAN] })), 403, 'FORBIDDEN');
        expectProblem(await t.http().get('/broadcasts').set(who.auth), 403, 'FORBIDDEN');
      }
      expect(await broadcastRows()).toBe(before);
      expectProblem(await t.http().post('/broadcasts').send(body()), 401, 'UNAUTHENTICATED');
    });

    it('GET /broadcasts/:id: the sender and city_admin see it; another coordinator 404 (never 403); other roles 403; GET /broadcasts lists the own ones', async () => {
      const coordinator = await account('district_coordinator', { districtCode: HAIDIAN });
      const mine = (await post(coordinator, body()).expect(202)).body as Accepted;
      const theirs = (await post(w.admin, body({ districtCodes: [CHAOYANG] })).expect(202)).body as Accepted;
      const matrix: Record<string, number> = {};
      const who: Record<string, Session> = { sender: coordinator, admin: w.admin, coordHaidian: w.coordHaidian, coordChaoyang: w.coordChaoyang, resident: w.residentA1, staff: w.staffA1, dept: w.deptHaidian, org: w.orgHaidian };
      for (const [label, session] of Object.entries(who)) matrix[label] = (await t.http().get(`/broadcasts/${mine.id}`).set(session.auth)).status;
      expect(matrix).toEqual({ sender: 200, admin: 200, coordHaidian: 404, coordChaoyang: 404, resident: 403, staff: 403, dept: 403, org: 403 });
      expectProblem(await t.http().get(`/broadcasts/${theirs.id}`).set(coordinator.auth), 404, 'NOT_FOUND');
      expectProblem(await t.http().get(`/broadcasts/00000000-0000-4000-8000-000000000000`).set(w.admin.auth), 404, 'NOT_FOUND');

      const listed = (await t.http().get('/broadcasts').set(coordinator.auth).expect(200)).body as { items: Progress[]; nextCursor: string | null };
      expect(listed.items.map((b) => b.id)).toEqual([mine.id]);
      // city_admin: every broadcast, newest first, across pages of two without repeats
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = (await t.http().get(`/broadcasts?limit=2${cursor ? `&cursor=${cursor}` : ''}`).set(w.admin.auth).expect(200)).body as { items: Progress[]; nextCursor: string | null };
        seen.push(...page.items.map((b) => b.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toHaveLength(await broadcastRows());
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.slice(0, 2)).toEqual([theirs.id, mine.id]);
      await drain(t.db, queues);
    });
  });

  describe('bad input: 400/422 problem details, nothing written', () => {
    const long = (n: number) => 'x'.repeat(n);
    it.each([
      ['title missing', { title: undefined }, 'title'],
      ['title blank', { title: '   ' }, 'title'],
      ['title too long', { title: long(101) }, 'title'],
      ['body too long', { body: long(2001) }, 'body'],
      ['body not a string', { body: 42 }, 'body'],
      ['roles empty', { roles: [] }, 'roles'],
      ['roles unknown', { roles: ['mayor'] }, 'roles'],
      ['roles repeated', { roles: ['resident', 'resident'] }, 'roles'],
      ['roles too many', { roles: Array.from({ length: 8 }, () => 'resident') }, 'roles'],
      ['channels empty', { channels: [] }, 'channels'],
      ['channels unknown', { channels: ['fax'] }, 'channels'],
      ['channels too many', { channels: ['in_app', 'sms', 'email', 'wechat', 'sms'] }, 'channels'],
      ['districtCodes not codes', { districtCodes: ['1101'] }, 'districtCodes'],
      ['districtCodes empty', { districtCodes: [] }, 'districtCodes'],
      ['districtCodes too many', { districtCodes: Array.from({ length: 31 }, (_, i) => String(110100 + i)) }, 'districtCodes'],
      ['districtCodes a string', { districtCodes: HAIDIAN }, 'districtCodes'],
      ['urgent not a boolean', { urgent: 'yes' }, 'urgent'],
      ['an unknown field', { audience: 'all' }, 'audience'],
    ])('%s → 400 VALIDATION_FAILED', async (_label, over, field) => {
      const before = await broadcastRows();
      expectProblem(await post(w.admin, body(over)), 400, 'VALIDATION_FAILED', field);
      expect(await broadcastRows()).toBe(before);
    });

    it('an unknown district → 422 UNKNOWN_DISTRICT; a bad Idempotency-Key → 400; nothing written', async () => {
      const before = await broadcastRows();
      expectProblem(await post(w.admin, body({ districtCodes: [HAIDIAN, '119999'] })), 422, 'UNKNOWN_DISTRICT');
      expectProblem(await post(w.admin, body(), long(256)), 400, 'VALIDATION_FAILED', 'Idempotency-Key');
      expectProblem(await post(w.admin, body(), 'with space'), 400, 'VALIDATION_FAILED', 'Idempotency-Key');
      expect(await broadcastRows()).toBe(before);
    });
  });

  describe('idempotency and the hourly cap', () => {
    it('the same Idempotency-Key and body answer the first response again and send nothing twice; another body → 422 IDEMPOTENCY_KEY_REUSED', async () => {
      await clearOfWindowEnd(3600);
      const sender = await account('district_coordinator', { districtCode: HAIDIAN });
      const payload = body({ roles: ['resident'] });
      const first = await post(sender, payload, 'storm-1').expect(202);
      const again = await post(sender, { ...payload }, 'storm-1').expect(202);
      expect(again.body).toEqual(first.body);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expectProblem(await post(sender, { ...payload, title: '另一条' }, 'storm-1'), 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(await count(t.db, 'broadcasts', 'sender_id = $1', [sender.id])).toBe(1);
      // another sender's same key is another broadcast
      const other = await post(w.coordHaidian, payload, 'storm-1').expect(202);
      expect((other.body as Accepted).id).not.toBe((first.body as Accepted).id);
      await drain(t.db, queues);
      expect(await count(t.db, 'notifications', 'source_id = $1', [(first.body as Accepted).id])).toBe(5);
    });

    it('eight concurrent requests with one key: one broadcast, eight equal answers', async () => {
      await clearOfWindowEnd(3600);
      const sender = await account('district_coordinator', { districtCode: HAIDIAN });
      const answers = await Promise.all(Array.from({ length: 8 }, () => post(sender, body(), 'race-key')));
      expect(answers.map((a) => a.status)).toEqual(Array(8).fill(202));
      expect(new Set(answers.map((a) => (a.body as Accepted).id)).size).toBe(1);
      expect(await count(t.db, 'broadcasts', 'sender_id = $1', [sender.id])).toBe(1);
      await drain(t.db, queues);
    });

    it('BROADCASTS_PER_HOUR (6) accepted a sender, then 429 RATE_LIMITED with Retry-After; refused attempts and idempotent repeats do not count; other senders are not affected', async () => {
      await clearOfWindowEnd(3600);
      const sender = await account('district_coordinator', { districtCode: HAIDIAN });
      // refused attempts first: a district not its own, bad input
      expectProblem(await post(sender, body({ districtCodes: [CHAOYANG] })), 403, 'FORBIDDEN');
      expectProblem(await post(sender, body({ roles: [] })), 400, 'VALIDATION_FAILED', 'roles');
      for (let i = 0; i < 6; i += 1) await post(sender, body({ title: `第${i}条` }), `cap-${i}`).expect(202);
      // a repeat of an accepted key still answers (and does not count)
      await post(sender, body({ title: '第0条' }), 'cap-0').expect(202);
      const refused = await post(sender, body({ title: '第7条' }));
      expectProblem(refused, 429, 'RATE_LIMITED');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(3600);
      expect(await count(t.db, 'broadcasts', 'sender_id = $1', [sender.id])).toBe(6);
      await post(w.coordChaoyang, body()).expect(202);
      await drain(t.db, queues);
    });

    it('ten concurrent sends of a fresh sender: exactly six accepted, four 429', async () => {
      await clearOfWindowEnd(3600);
      const sender = await account('district_coordinator', { districtCode: CHAOYANG });
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => post(sender, body({ title: `并发${i}` }))));
      // anything but 202/429 shows its body in the failure
      const statuses = answers.map((a) => (a.status === 202 || a.status === 429 ? a.status : `${a.status} ${JSON.stringify(a.body)}`)).sort();
      expect(statuses).toEqual([202, 202, 202, 202, 202, 202, 429, 429, 429, 429]);
      for (const a of answers.filter((x) => x.status === 429)) expect(problemMismatches(a, 429, 'RATE_LIMITED')).toEqual([]);
      expect(await count(t.db, 'broadcasts', 'sender_id = $1', [sender.id])).toBe(6);
      await drain(t.db, queues);
    });
  });

  it('progress counts recipients, delivered, failed and pending: queued before the worker, done after, a delivery that failed its last attempt counted failed', async () => {
    await worker?.close();
    worker = undefined;
    const accepted = (await post(w.admin, body({ districtCodes: [HAIDIAN], roles: ['resident'], channels: ['in_app', 'sms'], urgent: true })).expect(202)).body as Accepted;
    const queued = await progress(w.admin, accepted.id);
    expect(queued).toMatchObject({ status: 'queued', recipients: 5, delivered: 0, failed: 0, pending: 5, finishedAt: null });

    provider.failNext(2); // the one SMS (texted) fails both of its DELIVERY_ATTEMPTS
    worker = await startTestWorker();
    await drain(t.db, queues);
    const done = await progress(w.admin, accepted.id);
    expect(done).toMatchObject({ status: 'done', recipients: 5, delivered: 4, failed: 1, pending: 0 });
    expect(done.finishedAt).not.toBeNull();
    expect((await t.db.query(`SELECT user_id, status FROM deliveries WHERE source_id = $1`, [accepted.id])).rows).toEqual([{ user_id: texted.id, status: 'failed' }]);
  }, 60_000);

  it('a broadcast to 10,000 users through a worker SIGKILLed mid-way, then restarted: each (user, channel) exactly once, one deliveryId per delivery at the provider', async () => {
    await worker?.close();
    worker = undefined;
    const { rows: communities } = await t.db.query<{ code: string }>(`SELECT code FROM communities WHERE district_code = '110101' ORDER BY code LIMIT 2`);
    const total = 10_000;
    await t.db.query(
      `INSERT INTO users (username, password_hash, display_name, role, community_code, phone)
       SELECT 'bulk-' || g, 'not-a-hash', '居民' || g, 'resident', CASE WHEN g % 2 = 0 THEN $1 ELSE $2 END, '139' || lpad(g::text, 8, '0')
       FROM generate_series(1, $3::int) g`,
      [communities[0]?.code, communities[1]?.code, total],
    );
    await t.db.query(`INSERT INTO notification_preferences (user_id, sms, quiet_hours) SELECT id, true, false FROM users WHERE username LIKE 'bulk-%'`);
    const coordinator = await account('district_coordinator', { districtCode: '110101' });
    provider.reset();

    const accepted = (await post(coordinator, body({ roles: ['resident'], channels: ['in_app', 'sms'] }), 'ten-thousand').expect(202)).body as Accepted;
    expect(accepted.recipients).toBe(total);
    const batches = (await t.db.query<{ batch_no: number; first_user_id: string }>(`SELECT batch_no, first_user_id FROM broadcast_batches WHERE broadcast_id = $1 ORDER BY batch_no`, [accepted.id])).rows;
    expect(batches).toHaveLength(20);

    // Hold the last batch mid-transaction: an uncommitted row under its first user's unique key makes
    // its INSERT wait, so the kill lands with a batch in flight (and deliveries, the provider being slow).
    const notificationCount = () => count(t.db, 'notifications', 'source_id = $1', [accepted.id]);
    const killedAt = await killWorkerMidway(t.db, provider, children, {
      hold: (blocker) =>
        blocker.query(`INSERT INTO notifications (user_id, source_id, type, title, body) VALUES ($1, $2, 'broadcast', 'held', 'held')`, [batches[19]!.first_user_id, accepted.id]),
      isUnderWay: async () => (await notificationCount()) > 0 && provider.requests.length >= 20,
      timeoutMs: 60_000,
      intervalMs: 20,
    });
    const atKill = await notificationCount();
    const postedAtKill = new Set(provider.requests.map((r) => r.body.deliveryId));
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(total);
    const midway = await progress(coordinator, accepted.id);
    expect(midway.status).toBe('sending');
    expect(midway.pending).toBeGreaterThan(0);
    expect(midway.delivered + midway.failed + midway.pending).toBe(total);

    provider.setLatency(0);
    const successor = await spawnWorker();
    children.push(successor);
    // The killed worker's jobs come back through BullMQ's stalled-job check (30–60 s).
    await drain(t.db, queues, { timeoutMs: 200_000 });

    const expectedUsers = (await t.db.query<{ id: string }>(`SELECT id FROM users WHERE username LIKE 'bulk-%' ORDER BY id`)).rows.map((r) => r.id);
    const told = (await t.db.query<{ user_id: string; n: string }>(`SELECT user_id, count(*) AS n FROM notifications WHERE source_id = $1 GROUP BY user_id ORDER BY user_id`, [accepted.id])).rows;
    expect(told.map((r) => r.user_id)).toEqual(expectedUsers);
    expect(told.filter((r) => r.n !== '1')).toEqual([]);
    const deliveries = (await t.db.query<{ id: string; user_id: string; status: string }>(`SELECT id, user_id, status FROM deliveries WHERE source_id = $1`, [accepted.id])).rows;
    expect(deliveries).toHaveLength(total);
    expect(new Set(deliveries.map((d) => d.user_id)).size).toBe(total);
    expect(deliveries.filter((d) => d.status !== 'delivered')).toEqual([]);

    const posted = provider.requests.filter((r) => r.body.type === 'broadcast');
    const deliveryIds = new Set(posted.map((r) => r.body.deliveryId));
    expect(deliveryIds.size).toBe(total);
    expect([...deliveryIds].sort()).toEqual(deliveries.map((d) => d.id).sort());
    // At-least-once towards the provider only for what the killed worker had already sent (same deliveryId), and at most once more.
    const repeats = [...deliveryIds].filter((id) => posted.filter((r) => r.body.deliveryId === id).length > 1);
    expect(repeats.filter((id) => !postedAtKill.has(id))).toEqual([]);
    expect(repeats.filter((id) => posted.filter((r) => r.body.deliveryId === id && r.at > killedAt).length > 1)).toEqual([]);

    expect(await progress(coordinator, accepted.id)).toMatchObject({ status: 'done', recipients: total, delivered: total, failed: 0, pending: 0 });

    await successor.kill('SIGTERM');
    expect((await successor.exited).code).toBe(0);
    children = [];
  }, 300_000);
});
