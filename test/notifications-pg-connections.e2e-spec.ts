import { loadConfig } from '@kepu/config';
import { QUEUE_POOL_PER_INSTANCE, QUEUES } from '@kepu/notifications';
import { tcpConnectionsOf } from './support/process-connections';
import { startTestApp, type TestApp } from './support/test-app';
import { TEST_SERVER_URL } from './support/test-database';
import { type ChildWorker, drain, openTestQueues, spawnWorker, suitePrefix, type TestQueues } from './support/test-worker';
import { createWorld, orderIn, type World } from './support/world';

/**
 * README, deployment: "PostgreSQL scales up first (pool size × processes ≤
 * max_connections)", DATABASE_POOL_SIZE being the connections of one process.
 * A worker must keep to that on either queue backend, or two or three workers on
 * QUEUE_BACKEND=postgres exhaust a default PostgreSQL (max_connections 100):
 * "sorry, too many clients already", jobs left active, requests hanging.
 */
const POOL_SIZE = 5;
/**
 * Beyond the pool on the PostgreSQL queue backend: the relay's LISTEN, and for each of
 * the worker's queues and their workers (one each) BullMQ's own small pool and LISTEN
 * (libs/notifications/src/queue.module.ts; the README's deployment section).
 */
const QUEUE_BACKEND_ALLOWANCE = 1 + 2 * Object.keys(QUEUES).length * (QUEUE_POOL_PER_INSTANCE + 1);
const PG_PORT = Number(new URL(TEST_SERVER_URL).port || 5432);

describe('a worker holds a bounded number of PostgreSQL connections: DATABASE_POOL_SIZE, plus the queue backend\'s fixed share', () => {
  let t: TestApp;
  let w: World;
  let queues: TestQueues;
  let worker: ChildWorker | undefined;

  beforeAll(async () => {
    t = await startTestApp('pg-connections', { QUEUE_BACKEND: 'postgres', QUEUE_PREFIX: suitePrefix('pg-connections'), OUTBOX_POLL_MS: '200' });
    queues = openTestQueues();
    w = await createWorld(t);
  }, 60_000);

  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await queues?.close();
    await t?.close();
  }, 60_000);

  /** Runs a worker child through a burst of transitions; returns the most connections it held at once. */
  async function peakConnections(env: Record<string, string>, workQueues: TestQueues): Promise<number> {
    worker = await spawnWorker({ DATABASE_POOL_SIZE: String(POOL_SIZE), ...env });
    const child = worker;
    let peak = 0;
    const sampler = setInterval(() => {
      void tcpConnectionsOf(child.pid, PG_PORT).then((n) => (peak = Math.max(peak, n)));
    }, 20);
    try {
      const orders = await Promise.all(Array.from({ length: 12 }, () => orderIn(t, w, 'accepted')));
      await Promise.all(orders.slice(0, 6).map((o) => t.http().post(`/orders/${o.id}/cancel`).set(w.staffA1.auth).send({ reason: '并发' }).expect(200)));
      await drain(t.db, workQueues, { timeoutMs: 30_000 });
    } finally {
      clearInterval(sampler);
      await child.kill('SIGTERM');
      worker = undefined;
    }
    return peak;
  }

  it('on the redis backend (the measure itself: pool and relay only)', async () => {
    // Same database, queues in the machine's Redis: the worker's relay publishes there, its processors take them.
    const redisQueues = openTestQueues(Object.assign(loadConfig(), { queueBackend: 'redis' as const }));
    try {
      const peak = await peakConnections({ QUEUE_BACKEND: 'redis' }, redisQueues);
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThanOrEqual(POOL_SIZE + 1);
    } finally {
      await redisQueues.obliterate();
      await redisQueues.close();
    }
  }, 90_000);

  it('on the postgres backend', async () => {
    const peak = await peakConnections({ QUEUE_BACKEND: 'postgres' }, queues);
    expect(peak).toBeLessThanOrEqual(POOL_SIZE + QUEUE_BACKEND_ALLOWANCE);
  }, 90_000);
});
