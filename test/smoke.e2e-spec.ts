import { DataSource } from 'typeorm';
import { startTestApp, type TestApp } from './support/test-app';
import { drain, openTestQueues, startTestWorker, suitePrefix, type TestQueues, type TestWorker } from './support/test-worker';
import { COMMUNITY_A1, createWorld, orderBody, type OrderJson, type World } from './support/world';

/**
 * The platform end to end in a few requests: API and worker against the real
 * PostgreSQL and Redis. `.ci/run` runs it on every supported Node version (the
 * whole suite runs on the machine's own Node).
 */
describe(`smoke on Node ${process.version}`, () => {
  let t: TestApp;
  let w: World;
  let worker: TestWorker;
  let queues: TestQueues;

  beforeAll(async () => {
    t = await startTestApp('smoke', { QUEUE_PREFIX: suitePrefix('smoke'), OUTBOX_POLL_MS: '200' });
    worker = await startTestWorker();
    queues = openTestQueues();
    w = await createWorld(t);
  }, 60_000);

  afterAll(async () => {
    await worker?.close();
    await queues?.obliterate();
    await queues?.close();
    await t?.close();
  });

  it('is healthy, takes an order, moves it, and the worker tells the department', async () => {
    const health = await t.http().get('/health').expect(200);
    expect((health.body as { status: string }).status).toBe('ok');

    const order = (await t.http().post('/orders').set(w.residentA1.auth).send(orderBody(COMMUNITY_A1)).expect(201)).body as OrderJson;
    expect(order.status).toBe('submitted');
    await t.http().post(`/orders/${order.id}/dispatch`).set(w.staffA1.auth).send({ departmentId: w.departments.haidian }).expect(200);
    const claimed = (await t.http().post(`/orders/${order.id}/claim`).set(w.deptHaidian.auth).send({}).expect(200)).body as OrderJson;
    expect(claimed.status).toBe('claimed');

    await drain(t.db, queues);
    const inbox = (await t.http().get('/me/notifications').set(w.deptHaidianB.auth).expect(200)).body as { items: { type: string; orderId: string }[] };
    expect(inbox.items).toContainEqual(expect.objectContaining({ type: 'order.dispatched', orderId: order.id }));
    const docs = (await t.http().get('/docs-json').expect(200)).body as { openapi: string; paths: Record<string, unknown> };
    expect(docs.openapi).toMatch(/^3\./);
    expect(Object.keys(docs.paths)).toContain('/orders/{id}/claim');
  });

  it("runs its statements without PostgreSQL's JIT (it compiled the refreshes on every call)", async () => {
    const [{ jit }] = await t.app.get(DataSource).query<[{ jit: string }]>('SHOW jit');
    expect(jit).toBe('off');
  });
});
