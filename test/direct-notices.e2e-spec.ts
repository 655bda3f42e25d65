import { FanOutService, OutboxService } from '@kepu/notifications';
import { DataSource } from 'typeorm';
import { startFakeProvider, type FakeProvider } from './support/fake-provider';
import { count, startTestApp, type TestApp } from './support/test-app';
import { drain, openTestQueues, startTestWorker, suitePrefix, type TestQueues, type TestWorker } from './support/test-worker';
import { createWorld, type World } from './support/world';

/**
 * Messages about no order (a sign-up code to a phone with no account, an
 * application decision): written with OutboxService in the caller's transaction,
 * fanned out to the users or the bare phone the payload lists, exactly once.
 */
describe('direct notices (messages about no order)', () => {
  let t: TestApp;
  let w: World;
  let worker: TestWorker;
  let queues: TestQueues;
  let provider: FakeProvider;

  beforeAll(async () => {
    provider = await startFakeProvider();
    t = await startTestApp('direct-notices', {
      QUEUE_PREFIX: suitePrefix('direct-notices'),
      NOTIFY_WEBHOOK_URL: provider.url,
      OUTBOX_POLL_MS: '200',
    });
    worker = await startTestWorker();
    queues = openTestQueues();
    w = await createWorld(t);
  }, 60_000);

  afterAll(async () => {
    await worker?.close();
    await queues?.obliterate();
    await queues?.close();
    await t?.close();
    await provider?.close();
  });

  const append = (type: string, payload: Record<string, unknown>) =>
    t.app.get(DataSource).transaction((manager) => t.app.get(OutboxService).append(manager, [{ type, orderId: null, payload }]));
  const outboxId = async (type: string): Promise<string> =>
    (await t.db.query<{ id: string }>(`SELECT id FROM outbox WHERE type = $1 ORDER BY created_at DESC LIMIT 1`, [type])).rows[0]!.id;

  it('a code goes by SMS to the bare phone, at once, with no inbox row; a second fan-out sends nothing more', async () => {
    await append('auth.phone_code', { phone: '13900001111', code: '482913', minutes: '5' });
    await drain(t.db, queues);
    const sms = provider.accepted().filter((r) => r.body.type === 'auth.phone_code');
    expect(sms).toHaveLength(1);
    expect(sms[0]!.body).toMatchObject({ channel: 'sms', to: '13900001111', userId: null, orderId: null });
    expect(sms[0]!.body.body).toContain('482913');
    const id = await outboxId('auth.phone_code');
    expect(await count(t.db, 'notifications', 'source_id = $1', [id])).toBe(0);

    await worker.app.get(FanOutService).fanOut(id); // a job run twice
    await drain(t.db, queues);
    expect(await count(t.db, 'deliveries', 'source_id = $1', [id])).toBe(1);
    expect(provider.accepted().filter((r) => r.body.type === 'auth.phone_code')).toHaveLength(1);
  });

  it('listed users get the inbox notice with the payload’s facts in the text, once', async () => {
    await append('volunteer_application.rejected', { userIds: [w.residentA1.id, w.residentB1.id], organizationName: '海淀科技馆志愿服务队', reason: '名额已满' });
    await drain(t.db, queues);
    const id = await outboxId('volunteer_application.rejected');
    await worker.app.get(FanOutService).fanOut(id);
    const rows = (await t.db.query<{ user_id: string; body: string; order_id: string | null }>(`SELECT user_id, body, order_id FROM notifications WHERE source_id = $1`, [id])).rows;
    expect(rows.map((r) => r.user_id).sort()).toEqual([w.residentA1.id, w.residentB1.id].sort());
    expect(rows.every((r) => r.body.includes('海淀科技馆志愿服务队') && r.body.includes('名额已满') && r.order_id === null)).toBe(true);
    const inbox = await t.http().get('/me/notifications').set(w.residentA1.auth).expect(200);
    expect((inbox.body as { items: { type: string }[] }).items.map((n) => n.type)).toContain('volunteer_application.rejected');
  });

  it('nothing is relayed from a transaction that rolls back', async () => {
    const before = await count(t.db, 'outbox');
    await expect(
      t.app.get(DataSource).transaction(async (manager) => {
        await t.app.get(OutboxService).append(manager, [{ type: 'auth.phone_code', orderId: null, payload: { phone: '13900002222', code: '111111' } }]);
        throw new Error('the caller failed after writing');
      }),
    ).rejects.toThrow('the caller failed');
    expect(await count(t.db, 'outbox')).toBe(before);
  });
});
