import { startFakeProvider, type FakeProvider } from './support/fake-provider';
import { actualNotifications, expectedNotifications } from './support/notification-model';
import { expectProblem } from './support/problem';
import { startTestRedis, type TestRedis } from './support/redis-server';
import { startTestApp, type TestApp } from './support/test-app';
import { type ChildWorker, drain, killWorkerMidway, openTestQueues, spawnWorker, startTestWorker, suitePrefix, type TestQueues, type TestWorker } from './support/test-worker';
import { COMMUNITY_A1, COMMUNITY_A2, COMMUNITY_B1, createWorld, login, orderBody, type OrderJson, type Session, type World } from './support/world';

interface DeliveryRow {
  id: string;
  user_id: string;
  channel: string;
  status: string;
  attempts: number;
  last_error: string | null;
}

describe('notifications under faults: Redis down, worker killed, provider failing', () => {
  let redis: TestRedis;
  let provider: FakeProvider;
  let t: TestApp;
  let w: World;
  let queues: TestQueues;
  let worker: TestWorker | undefined;
  let children: ChildWorker[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    provider = await startFakeProvider();
    t = await startTestApp('notif-faults', {
      QUEUE_BACKEND: 'redis',
      REDIS_URL: redis.url,
      QUEUE_PREFIX: suitePrefix('notif-faults'),
      NOTIFY_WEBHOOK_URL: provider.url,
      DELIVERY_ATTEMPTS: '3',
      DELIVERY_BACKOFF_MS: '50',
      OUTBOX_POLL_MS: '200',
    });
    queues = openTestQueues();
    w = await createWorld(t);
  }, 60_000);

  afterAll(async () => {
    for (const child of children) await child.kill('SIGKILL');
    await worker?.close();
    await queues?.obliterate().catch(() => undefined);
    await queues?.close();
    await t?.close();
    await redis?.stop();
    await provider?.close();
  }, 60_000);

  const create = async (who: Session, community: string): Promise<OrderJson> =>
    (await t.http().post('/orders').set(who.auth).send(orderBody(community)).expect(201)).body as OrderJson;

  /** A community_staff user with a phone (and an e-mail), with the given channel preferences. */
  const reachableStaff = async (username: string, community: string, phone: string, prefs: Record<string, boolean>): Promise<Session> => {
    const password = `${username}-pass-1`;
    await t
      .http()
      .post('/users')
      .set(w.admin.auth)
      .send({ username, password, displayName: username, role: 'community_staff', communityCode: community, phone, email: `${username}@example.cn` })
      .expect(201);
    const session = await login(t, username, password);
    await t.http().put('/me/notification-preferences').set(session.auth).send({ sms: false, email: false, wechat: false, quietHours: false, ...prefs }).expect(200);
    return session;
  };

  it('Redis stopped during 50 transitions: every call succeeds; once it is back every notification arrives exactly once', async () => {
    worker = await startTestWorker();
    await drain(t.db, queues);
    await redis.stop();

    // 10 orders × (create, dispatch, claim, offer, accept) = 50 transitions, all committed without Redis.
    const statuses: number[] = [];
    const orderIds: string[] = [];
    const step = async (who: Session, path: string, body: object) => {
      const res = await t.http().post(path).set(who.auth).send(body);
      statuses.push(res.status);
      return res.body as OrderJson;
    };
    for (let i = 0; i < 10; i += 1) {
      const order = await step(w.residentA1, '/orders', orderBody(COMMUNITY_A1));
      orderIds.push(order.id);
      await step(w.staffA1, `/orders/${order.id}/dispatch`, { departmentId: w.departments.haidian });
      await step(w.deptHaidian, `/orders/${order.id}/claim`, {});
      await step(w.deptHaidian, `/orders/${order.id}/offer`, { organizationId: w.organizations.haidian });
      await step(w.orgHaidian, `/orders/${order.id}/accept`, {});
    }
    expect(statuses.filter((s) => s < 200 || s >= 300)).toEqual([]);
    expect(statuses).toHaveLength(50);
    const backlog = await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM outbox WHERE published_at IS NULL AND order_id = ANY($1::uuid[])`, [orderIds]);
    expect(Number(backlog.rows[0]?.n)).toBe(50);
    const { rows: early } = await t.db.query(`SELECT 1 FROM notifications WHERE order_id = ANY($1::uuid[])`, [orderIds]);
    expect(early).toEqual([]);

    await redis.start();
    await drain(t.db, queues, { timeoutMs: 40_000 });

    const counts = await t.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM notifications WHERE order_id = ANY($1::uuid[]) GROUP BY source_id, user_id`,
      [orderIds],
    );
    expect(counts.rows.every((r) => r.n === '1')).toBe(true);
    // Per order: submitted → staff (1), dispatched → department (2), claimed → requester (1),
    // offered → organisation (1), accepted → requester and department (3).
    expect(counts.rows).toHaveLength(10 * 8);
    const expected = (await Promise.all(orderIds.map((id) => expectedNotifications(t.db, id)))).flat().sort();
    const actual = (await Promise.all(orderIds.map((id) => actualNotifications(t.db, id)))).flat().sort();
    expect(actual).toEqual(expected);
    await worker.close();
    worker = undefined;
  }, 80_000);

  it('worker SIGKILLed in the middle of a 500-notification run and restarted: every notification once, one deliveryId per delivery at the provider', async () => {
    // Ten more staff of community A2 with SMS on: each order submitted there tells eleven people and texts ten.
    const texted: Session[] = [];
    for (let i = 0; i < 10; i += 1) texted.push(await reachableStaff(`kill-staff-${i}`, COMMUNITY_A2, `1370000000${i}`, { sms: true }));
    provider.reset();

    // The outbox fills while no worker runs: 48 orders × 11 = 528 notifications, 480 SMS.
    const orders: OrderJson[] = [];
    for (let i = 0; i < 48; i += 1) orders.push(await create(w.residentA2, COMMUNITY_A2));
    const orderIds = orders.map((o) => o.id);
    const total = 48 * 11;
    const expected = (await Promise.all(orderIds.map((id) => expectedNotifications(t.db, id)))).flat().sort();
    expect(expected).toHaveLength(total);

    // Hold the last few fan-outs mid-transaction (fewer than the worker's concurrency, so the rest
    // go on): a row under the same unique key, uncommitted, makes their INSERT wait, so the kill is
    // guaranteed to land with fan-outs in flight, and deliveries too (the provider answers slowly).
    const held = (
      await t.db.query<{ id: string }>(`SELECT id FROM outbox WHERE order_id = ANY($1::uuid[]) ORDER BY created_at DESC LIMIT 4`, [orderIds])
    ).rows.map((r) => r.id);
    const notificationCount = async () =>
      Number((await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM notifications WHERE order_id = ANY($1::uuid[])`, [orderIds])).rows[0]?.n);
    const killedAt = await killWorkerMidway(t.db, provider, children, {
      hold: (blocker) =>
        blocker.query(`INSERT INTO notifications (user_id, source_id, type, title, body) SELECT $1, unnest($2::uuid[]), 'order.submitted', 'held', 'held'`, [w.staffA2.id, held]),
      isUnderWay: async () => (await notificationCount()) > 0 && provider.requests.length >= 20,
      timeoutMs: 30_000,
      intervalMs: 10,
    });
    const atKill = await notificationCount();
    const postedAtKill = new Set(provider.requests.map((r) => r.body.deliveryId));
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(total);

    provider.setLatency(0);
    const successor = await spawnWorker();
    children.push(successor);
    // Jobs the killed worker held are taken back once their locks lapse: BullMQ's stalled-job
    // check (every 30 s, lock 30 s) needs two passes, so this takes 30–60 s.
    await drain(t.db, queues, { timeoutMs: 100_000 });

    expect(await notificationCount()).toBe(total);
    expect((await Promise.all(orderIds.map((id) => actualNotifications(t.db, id)))).flat().sort()).toEqual(expected);
    const repeated = await t.db.query(
      `SELECT source_id, user_id FROM notifications WHERE order_id = ANY($1::uuid[]) GROUP BY 1, 2 HAVING count(*) > 1`,
      [orderIds],
    );
    expect(repeated.rows).toEqual([]);

    const deliveries = (
      await t.db.query<DeliveryRow>(`SELECT id, user_id, channel, status, attempts, last_error FROM deliveries WHERE order_id = ANY($1::uuid[])`, [orderIds])
    ).rows;
    expect(deliveries).toHaveLength(48 * 10);
    expect(deliveries.filter((d) => d.status !== 'delivered')).toEqual([]);
    expect(new Set(deliveries.map((d) => d.user_id))).toEqual(new Set(texted.map((s) => s.id)));
    const posted = provider.requests.filter((r) => r.body.type === 'order.submitted' && orderIds.includes(String(r.body.orderId)));
    const deliveryIds = new Set(posted.map((r) => r.body.deliveryId));
    expect([...deliveryIds].sort()).toEqual(deliveries.map((d) => d.id).sort());
    expect(posted.filter((r) => r.idempotencyKey !== r.body.deliveryId)).toEqual([]);
    // At-least-once towards the provider: only a delivery the killed worker had already sent
    // (its answer lost with the process) may be sent again, under the same deliveryId.
    const repeats = [...deliveryIds].filter((id) => posted.filter((r) => r.body.deliveryId === id).length > 1);
    expect(repeats.filter((id) => !postedAtKill.has(id))).toEqual([]);
    // …and the successor sent each of those at most once more.
    expect(repeats.filter((id) => posted.filter((r) => r.body.deliveryId === id && r.at > killedAt).length > 1)).toEqual([]);

    await successor.kill('SIGTERM');
    expect((await successor.exited).code).toBe(0);
    children = [];
  }, 150_000);

  describe('a provider that fails', () => {
    let mailB1: Session;
    const deliveryOf = async (orderId: string): Promise<DeliveryRow> => {
      const { rows } = await t.db.query<DeliveryRow>(
        `SELECT id, user_id, channel, status, attempts, last_error FROM deliveries WHERE order_id = $1 AND type = 'order.submitted'`,
        [orderId],
      );
      expect(rows).toHaveLength(1);
      return rows[0] as DeliveryRow;
    };

    beforeAll(async () => {
      worker = await startTestWorker();
      // The only user of community B1 with an external channel: one e-mail per order submitted there.
      mailB1 = await reachableStaff('mail-b1', COMMUNITY_B1, '13600000001', { email: true });
    });

    it('failing twice then succeeding: delivered on the third attempt, every attempt under the same deliveryId', async () => {
      provider.reset();
      provider.failNext(2);
      const order = await create(w.residentB1, COMMUNITY_B1);
      await drain(t.db, queues);
      const delivery = await deliveryOf(order.id);
      expect(delivery).toMatchObject({ user_id: mailB1.id, channel: 'email', status: 'delivered', attempts: 3, last_error: null });
      const attempts = provider.requests.filter((r) => r.body.deliveryId === delivery.id);
      expect(attempts.map((r) => r.status)).toEqual([500, 500, 200]);
      expect(attempts.map((r) => r.idempotencyKey)).toEqual([delivery.id, delivery.id, delivery.id]);
      expect(attempts[0]?.body.to).toBe('mail-b1@example.cn');
    });

    it('always failing: failed after DELIVERY_ATTEMPTS=3, kept, and listed for city_admin only', async () => {
      provider.reset();
      provider.setAlwaysFail(true);
      const order = await create(w.residentB1, COMMUNITY_B1);
      await drain(t.db, queues);
      provider.setAlwaysFail(false);
      const delivery = await deliveryOf(order.id);
      expect(delivery).toMatchObject({ status: 'failed', attempts: 3 });
      expect(delivery.last_error).toContain('500');
      expect(provider.requests.filter((r) => r.body.deliveryId === delivery.id)).toHaveLength(3);
      // The in-app notification is unaffected.
      expect(await actualNotifications(t.db, order.id)).toContain(`mail-b1 order.submitted ${order.id}`);
      // The dead letter stays in the queue too.
      expect(await (await queues.deliveries.getJob(`deliver-${delivery.id}`))?.getState()).toBe('failed');

      const listed = (await t.http().get('/admin/deliveries?status=failed').set(w.admin.auth).expect(200)).body as {
        items: { id: string; status: string; attempts: number; userId: string; channel: string; orderId: string; lastError: string | null }[];
      };
      expect(listed.items.find((d) => d.id === delivery.id)).toMatchObject({ status: 'failed', attempts: 3, userId: mailB1.id, channel: 'email', orderId: order.id });
      expect(listed.items.every((d) => d.status === 'failed')).toBe(true);
      for (const who of [w.coordChaoyang, w.staffB1, mailB1, w.deptCity, w.orgHaidian, w.residentB1])
        expectProblem(await t.http().get('/admin/deliveries?status=failed').set(who.auth), 403, 'FORBIDDEN');
      expectProblem(await t.http().get('/admin/deliveries?status=lost').set(w.admin.auth), 400, 'VALIDATION_FAILED');
    });
  });
});
