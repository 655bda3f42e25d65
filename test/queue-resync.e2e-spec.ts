import { Redis } from 'ioredis';
import { startFakeProvider, type FakeProvider } from './support/fake-provider';
import { startTestRedis, type TestRedis } from './support/redis-server';
import { startTestApp, type TestApp } from './support/test-app';
import { openTestQueues, startTestWorker, suitePrefix, type TestQueues, type TestWorker } from './support/test-worker';
import { waitFor } from './support/wait';
import { COMMUNITY_A1, COMMUNITY_A2, createWorld, login, orderBody, type OrderJson, type World } from './support/world';

/**
 * Found by `npm run chaos` with CHAOS_REDIS_FAULT=wipe: a Redis that comes back empty
 * had lost the fan-outs, deliveries and stage timers already published, for good.
 * The worker now notices (its marker key is gone) and re-enqueues them from PostgreSQL.
 */
describe('queue resync: Redis back without its data', () => {
  const prefix = suitePrefix('queue-resync');
  let redis: TestRedis;
  let provider: FakeProvider;
  let t: TestApp;
  let w: World;
  let queues: TestQueues;
  let worker: TestWorker | undefined;

  beforeAll(async () => {
    redis = await startTestRedis();
    provider = await startFakeProvider();
    t = await startTestApp('queue-resync', {
      QUEUE_BACKEND: 'redis',
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      NOTIFY_WEBHOOK_URL: provider.url,
      DELIVERY_ATTEMPTS: '20',
      DELIVERY_BACKOFF_MS: '50',
      OUTBOX_POLL_MS: '200',
    });
    queues = openTestQueues();
    w = await createWorld(t);
  }, 60_000);

  afterAll(async () => {
    await worker?.close();
    await queues?.close();
    await t?.close();
    await redis?.stop();
    await provider?.close();
  }, 60_000);

  const isDelayed = async (jobId: string) => (await (await queues.timers.getJob(jobId))?.isDelayed()) === true;

  it('re-enqueues lost fan-outs, pending deliveries and every order timer once Redis is back empty', async () => {
    // A community A2 staff member with SMS on: their deliveries are what the failing provider keeps pending.
    await t
      .http()
      .post('/users')
      .set(w.admin.auth)
      .send({ username: 'resync-staff', password: 'resync-staff-pass-1', displayName: 'resync', role: 'community_staff', communityCode: COMMUNITY_A2, phone: '13700000001' })
      .expect(201);
    const texted = await login(t, 'resync-staff', 'resync-staff-pass-1');
    await t.http().put('/me/notification-preferences').set(texted.auth).send({ sms: true, email: false, wechat: false, quietHours: false }).expect(200);

    worker = await startTestWorker();
    const marker = new Redis(redis.url);
    try {
      await waitFor(async () => (await marker.exists(`${prefix}:queues-since`)) === 1, 20_000, 'the worker to set its marker');
    } finally {
      marker.disconnect();
    }

    const waiting = (await t.http().post('/orders').set(w.residentA1.auth).send(orderBody(COMMUNITY_A1)).expect(201)).body as OrderJson;
    await waitFor(async () => (await isDelayed(`sla-${waiting.id}-dispatch`)) && (await isDelayed(`expire-${waiting.id}`)), 20_000, 'the timers of the new order');

    provider.setAlwaysFail(true);
    const texting = (await t.http().post('/orders').set(w.residentA2.auth).send(orderBody(COMMUNITY_A2)).expect(201)).body as OrderJson;
    const deliveryOf = async () =>
      (await t.db.query<{ status: string; attempts: number }>(`SELECT status, attempts FROM deliveries WHERE order_id = $1 AND user_id = $2`, [texting.id, texted.id])).rows[0];
    await waitFor(async () => ((await deliveryOf())?.attempts ?? 0) >= 1, 20_000, 'a failed delivery attempt');

    // A message the relay had published whose fan-out job Redis then lost: published, and nobody told.
    const { rows } = await t.db.query<{ id: string }>(
      `INSERT INTO outbox (type, order_id, payload, published_at) VALUES ('order.submitted', $1, $2, now()) RETURNING id`,
      [waiting.id, JSON.stringify({ orderId: waiting.id, actorId: w.residentA1.id })],
    );
    const lostId = rows[0]?.id;

    await redis.stop();
    await redis.start(); // empty: no persistence
    provider.setAlwaysFail(false);

    await waitFor(
      async () => {
        const told = await t.db.query<{ user_id: string }>(`SELECT user_id FROM notifications WHERE source_id = $1`, [lostId]);
        return told.rows.length === 1 && told.rows[0]?.user_id === w.staffA1.id;
      },
      30_000,
      'the lost fan-out to run again',
    );
    await waitFor(async () => (await deliveryOf())?.status === 'delivered', 30_000, 'the pending delivery to be sent');
    await waitFor(async () => (await isDelayed(`sla-${waiting.id}-dispatch`)) && (await isDelayed(`expire-${waiting.id}`)), 30_000, 'the timers again');

    // Nothing twice: one inbox row per (message, user), one accepted request per delivery.
    const { rows: twice } = await t.db.query(`SELECT source_id, user_id FROM notifications GROUP BY source_id, user_id HAVING count(*) > 1`);
    expect(twice).toEqual([]);
    const accepted = provider.accepted().filter((r) => r.body.orderId === texting.id);
    expect(accepted).toHaveLength(1);
  }, 120_000);
});
