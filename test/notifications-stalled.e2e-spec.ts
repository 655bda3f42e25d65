import { JOB_IDS, QUEUES } from '@kepu/notifications';
import IORedis from 'ioredis';
import { startFakeProvider, type FakeProvider } from './support/fake-provider';
import { actualNotifications, expectedNotifications } from './support/notification-model';
import { startTestRedis, type TestRedis } from './support/redis-server';
import { startTestApp, type TestApp } from './support/test-app';
import { type ChildWorker, drain, openTestQueues, spawnWorker, suitePrefix, type TestQueues } from './support/test-worker';
import { waitFor } from './support/wait';
import { COMMUNITY_A2, createWorld, login, orderBody, type OrderJson, type Session, type World } from './support/world';

/**
 * A job interrupted twice: a worker is SIGKILLed while a fan-out and some
 * deliveries are in flight, the next worker takes them back and is SIGKILLed in
 * turn with the same jobs in flight. BullMQ fails a job that stalled more than
 * `maxStalledCount` (1 by default) without running it again ("job stalled more
 * than allowable limit"). The notifications of that message must still arrive,
 * and every delivery must end delivered or failed (listed for admins), never
 * stay pending for good.
 *
 * The first crash is stood for by the stall count it leaves on the jobs (two real
 * crashes and recoveries take over two minutes; run that way, the deliveries stayed
 * pending just the same).
 */
describe('notifications when the same jobs are interrupted by two worker crashes', () => {
  let redis: TestRedis;
  let provider: FakeProvider;
  let t: TestApp;
  let w: World;
  let queues: TestQueues;
  const children: ChildWorker[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    provider = await startFakeProvider();
    t = await startTestApp('notif-stalled', {
      QUEUE_BACKEND: 'redis',
      REDIS_URL: redis.url,
      QUEUE_PREFIX: suitePrefix('notif-stalled'),
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
    await queues?.obliterate().catch(() => undefined);
    await queues?.close();
    await t?.close();
    await redis?.stop();
    await provider?.close();
  }, 60_000);

  it('every notification arrives once and no delivery stays pending', async () => {
    const texted: Session[] = [];
    for (let i = 0; i < 5; i += 1) {
      const username = `stall-staff-${i}`;
      const password = `${username}-pass-1`;
      await t
        .http()
        .post('/users')
        .set(w.admin.auth)
        .send({ username, password, displayName: username, role: 'community_staff', communityCode: COMMUNITY_A2, phone: `1350000000${i}` })
        .expect(201);
      const session = await login(t, username, password);
      await t.http().put('/me/notification-preferences').set(session.auth).send({ sms: true, email: false, wechat: false, quietHours: false }).expect(200);
      texted.push(session);
    }
    const orders: OrderJson[] = [];
    for (let i = 0; i < 6; i += 1)
      orders.push((await t.http().post('/orders').set(w.residentA2.auth).send(orderBody(COMMUNITY_A2)).expect(201)).body as OrderJson);
    const orderIds = orders.map((o) => o.id);

    // The last two fan-outs wait on an uncommitted row under their unique key for as long as the
    // test holds it: whichever worker runs them, they are in flight when it is killed.
    const held = (
      await t.db.query<{ id: string }>(`SELECT id FROM outbox WHERE order_id = ANY($1::uuid[]) ORDER BY created_at DESC LIMIT 2`, [orderIds])
    ).rows.map((r) => r.id);
    const blocker = await t.db.connect();
    const redisClient = new IORedis(redis.url);
    try {
      await blocker.query('BEGIN');
      await blocker.query(
        `INSERT INTO notifications (user_id, source_id, type, title, body) SELECT $1, unnest($2::uuid[]), 'order.submitted', 'held', 'held'`,
        [w.staffA2.id, held],
      );
      // The provider answers after 4 s (within the webhook's 5 s): deliveries are in flight at the kill.
      provider.setLatency(4000);
      const first = await spawnWorker();
      children.push(first);
      await waitFor(
        async () =>
          provider.requests.length >= 5 &&
          (await Promise.all(held.map((id) => queues.notifications.getJobState(JOB_IDS.fanOut(id))))).every((state) => state === 'active'),
        30_000,
        'the held fan-outs and some deliveries in flight',
        10,
      );
      // These jobs have been interrupted once already: what BullMQ's stalled check writes when it
      // takes a job back from a dead worker (a real first crash and recovery takes another 30–60 s).
      const prefix = String(process.env.QUEUE_PREFIX);
      const inFlight = [
        ...held.map((id) => `${prefix}:${QUEUES.notifications}:${JOB_IDS.fanOut(id)}`),
        ...(await redisClient.lrange(`${prefix}:${QUEUES.deliveries}:active`, 0, -1)).map((id) => `${prefix}:${QUEUES.deliveries}:${id}`),
      ];
      for (const key of inFlight) await redisClient.hset(key, 'stc', 1);
      // The second crash.
      await first.kill('SIGKILL');
    } finally {
      redisClient.disconnect();
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    provider.setLatency(0);
    const second = await spawnWorker();
    children.push(second);
    // The survivor takes the stalled jobs back after their locks lapse (30–60 s).
    await drain(t.db, queues, { timeoutMs: 100_000 });

    const failedJobs = await queues.notifications.getFailed();
    const failedDeliveryJobs = await queues.deliveries.getFailed();
    const pending = await t.db.query<{ id: string }>(`SELECT id FROM deliveries WHERE order_id = ANY($1::uuid[]) AND status = 'pending'`, [orderIds]);
    const diagnosis = {
      failedFanOuts: failedJobs.map((j) => `${j.id}: ${j.failedReason}`),
      failedDeliveryJobs: failedDeliveryJobs.map((j) => `${j.id}: ${j.failedReason}`),
      pendingDeliveries: pending.rows.length,
    };
    // A job BullMQ gave up on must not lose its notifications, nor leave its delivery pending for good.
    expect(diagnosis).toEqual({ failedFanOuts: [], failedDeliveryJobs: expect.any(Array), pendingDeliveries: 0 });
    const expected = (await Promise.all(orderIds.map((id) => expectedNotifications(t.db, id)))).flat().sort();
    expect(expected).toHaveLength(6 * 6);
    expect((await Promise.all(orderIds.map((id) => actualNotifications(t.db, id)))).flat().sort()).toEqual(expected);
    const deliveries = await t.db.query<{ status: string }>(`SELECT status FROM deliveries WHERE order_id = ANY($1::uuid[])`, [orderIds]);
    expect(deliveries.rows).toHaveLength(6 * 5);
    expect(deliveries.rows.filter((d) => d.status !== 'delivered' && d.status !== 'failed')).toEqual([]);
  }, 150_000);
});
