import { QUEUES } from '@kepu/notifications';
import { login, type Session } from './support/world';
import { ADMIN, startTestApp, type TestApp } from './support/test-app';

/** With QUEUE_BACKEND=postgres nothing needs Redis: the board and the queue gauges read BullMQ's PostgreSQL tables. */
describe('queue dashboard and metrics on the PostgreSQL queue backend', () => {
  let t: TestApp;
  let admin: Session;

  beforeAll(async () => {
    // Redis is pointed at a closed port to prove it is not used; the harness migrates BullMQ's schema.
    t = await startTestApp('ops_pg_backend', { QUEUE_BACKEND: 'postgres', REDIS_URL: 'redis://127.0.0.1:1' });
    admin = await login(t, ADMIN.username, ADMIN.password);
  });
  afterAll(() => t.close());

  it('lists every queue of the catalogue on the board', async () => {
    await t.http().get('/admin/queues').set(admin.auth).expect(200);
    const api = await t.http().get('/admin/queues/api/queues').set(admin.auth).expect(200);
    expect((api.body as { queues: { name: string }[] }).queues.map((q) => q.name).sort()).toEqual(Object.values(QUEUES).sort());
  });

  it('reports queue depths from PostgreSQL', async () => {
    const res = await t.http().get('/metrics').expect(200);
    for (const queue of Object.values(QUEUES)) {
      expect(res.text).toContain(`kepu_queue_jobs{queue="${queue}",state="waiting"} 0`);
      expect(res.text).toContain(`kepu_metrics_source_up{source="queue:${queue}"} 1`);
    }
  });
});
