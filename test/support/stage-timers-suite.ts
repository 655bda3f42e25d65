import { actualNotifications, expectedNotifications, told } from './notification-model';
import { startTestApp, type TestApp } from './test-app';
import { drain, openTestQueues, startTestWorker, suitePrefix, type TestQueues, type TestWorker } from './test-worker';
import { waitFor } from './wait';
import { COMMUNITY_A1, createWorld, orderBody, type OrderJson, type Session, type World } from './world';

/** The machine's Redis, as the environment named it before any suite of this file pointed elsewhere. */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** 0.0005 h = 1.8 s: the dispatch deadline of these tests. The other stages keep their days. */
const SLA_DISPATCH_HOURS = 0.0005;
const SLA_DISPATCH_MS = SLA_DISPATCH_HOURS * 3600 * 1000;

/**
 * Stage timers as durable delayed jobs, with tiny durations: a breach is recorded
 * and told to the district's coordinators only; a stage finished in time breaches
 * nothing; an order whose last preferred window ends unscheduled expires.
 */
export function describeStageTimers(backend: 'redis' | 'postgres'): void {
  describe(`stage timers on the ${backend} queue backend (SLA_DISPATCH_HOURS=${SLA_DISPATCH_HOURS})`, () => {
    let t: TestApp;
    let w: World;
    let worker: TestWorker;
    let queues: TestQueues;

    beforeAll(async () => {
      t = await startTestApp(`timers-${backend}`, {
        QUEUE_BACKEND: backend,
        REDIS_URL,
        QUEUE_PREFIX: suitePrefix(`timers-${backend}`),
        OUTBOX_POLL_MS: '200',
        SLA_DISPATCH_HOURS: String(SLA_DISPATCH_HOURS),
      });
      worker = await startTestWorker();
      queues = openTestQueues();
      w = await createWorld(t);
    }, 60_000);

    afterAll(async () => {
      await worker?.close();
      if (backend === 'redis') await queues?.obliterate();
      await queues?.close();
      await t?.close();
    });

    const create = async (who: Session, overrides: Record<string, unknown> = {}): Promise<OrderJson> =>
      (await t.http().post('/orders').set(who.auth).send(orderBody(COMMUNITY_A1, overrides)).expect(201)).body as OrderJson;
    const dispatch = (order: { id: string }) =>
      t.http().post(`/orders/${order.id}/dispatch`).set(w.staffA1.auth).send({ departmentId: w.departments.haidian }).expect(200);
    const breaches = async (orderId: string) =>
      (
        await t.db.query<{ stage: string; district_code: string; entered_at: Date; due_at: Date; breached_at: Date }>(
          `SELECT stage, district_code, entered_at, due_at, breached_at FROM sla_breaches WHERE order_id = $1`,
          [orderId],
        )
      ).rows;

    it('an order left submitted past its deadline: one breach recorded, sla.breached to the district coordinator only; one dispatched in time: none', async () => {
      const late = await create(w.residentA1);
      const inTime = await create(w.residentA1);
      await dispatch(inTime);

      const [breach] = await waitFor(async () => {
        const rows = await breaches(late.id);
        return rows.length > 0 ? rows : null;
      }, 15_000, 'the SLA breach of the order left submitted');
      expect(breach).toMatchObject({ stage: 'dispatch', district_code: '110108' });
      expect(breach?.due_at.getTime()).toBe((breach?.entered_at.getTime() ?? 0) + SLA_DISPATCH_MS);
      expect(breach?.breached_at.getTime()).toBeGreaterThanOrEqual(breach?.due_at.getTime() ?? Infinity);

      // Past the in-time order's deadline too, and long enough for a timer to fire twice.
      const createdAt = new Date(String(inTime.createdAt)).getTime();
      await waitFor(() => Date.now() > createdAt + SLA_DISPATCH_MS + 1500, 10_000, 'the deadline to pass');
      await drain(t.db, queues);
      expect(await breaches(late.id)).toHaveLength(1);
      expect(await breaches(inTime.id)).toEqual([]);

      expect(await actualNotifications(t.db, late.id)).toEqual(
        told(late.id, [
          [w.staffA1, 'order.submitted'],
          [w.coordHaidian, 'sla.breached'],
        ]),
      );
      expect(await actualNotifications(t.db, inTime.id)).toEqual(
        told(inTime.id, [
          [w.staffA1, 'order.submitted'],
          [w.deptHaidian, 'order.dispatched'],
          [w.deptHaidianB, 'order.dispatched'],
        ]),
      );
      const breachNotice = (await t.db.query<{ body: string }>(`SELECT body FROM notifications WHERE order_id = $1 AND type = 'sla.breached'`, [late.id])).rows;
      expect(breachNotice[0]?.body).toContain(String(late.code));
      // The order itself is untouched by the breach.
      expect((await t.http().get(`/orders/${late.id}`).set(w.staffA1.auth).expect(200)).body.status).toBe('submitted');
    });

    it('an order whose only preferred window ends unscheduled expires: event by the system, requester and coordinators told', async () => {
      const start = new Date(Date.now() + 1500);
      const end = new Date(Date.now() + 3500);
      const order = await create(w.residentA1, { preferredWindows: [{ start: start.toISOString(), end: end.toISOString() }] });
      await dispatch(order);
      // Another order, whose window is weeks ahead, must not expire.
      const later = await create(w.residentA1);
      await dispatch(later);

      await waitFor(
        async () => (await t.http().get(`/orders/${order.id}`).set(w.staffA1.auth).expect(200)).body.status === 'expired',
        20_000,
        'the order to expire',
        100,
      );
      expect(Date.now()).toBeGreaterThanOrEqual(end.getTime());
      const events = (await t.http().get(`/orders/${order.id}/events`).set(w.staffA1.auth).expect(200)).body as {
        type: string;
        fromStatus: string;
        toStatus: string;
        actorRole: string;
        actorId: string | null;
      }[];
      expect(events.at(-1)).toMatchObject({ type: 'order.expired', fromStatus: 'dispatched', toStatus: 'expired', actorRole: 'system', actorId: null });
      expect(events.filter((e) => e.type === 'order.expired')).toHaveLength(1);

      await drain(t.db, queues);
      expect(await actualNotifications(t.db, order.id)).toEqual(
        told(order.id, [
          [w.staffA1, 'order.submitted'],
          [w.deptHaidian, 'order.dispatched'],
          [w.deptHaidianB, 'order.dispatched'],
          [w.residentA1, 'order.expired'],
          [w.coordHaidian, 'order.expired'],
        ]),
      );
      expect((await t.http().get(`/orders/${later.id}`).set(w.staffA1.auth).expect(200)).body.status).toBe('dispatched');
      expect(await breaches(order.id)).toEqual([]);
    });

    it('a stage left and entered again in quick succession (declined back to submitted): the new stretch still breaches, once', async () => {
      // The three steps of each order reach the worker together, as after a backlog (a worker
      // restart, a Redis outage): their stage-changed jobs run side by side.
      await worker.close();
      const orders: OrderJson[] = [];
      for (let i = 0; i < 16; i += 1) {
        const order = await create(w.residentA1);
        await dispatch(order);
        await t.http().post(`/orders/${order.id}/decline`).set(w.deptHaidian.auth).send({ reason: '转交其他部门' }).expect(200);
        orders.push(order);
      }
      worker = await startTestWorker();
      const lastDecline = Math.max(
        ...(await t.db.query<{ at: Date }>(`SELECT max(at) AS at FROM order_events WHERE type = 'order.declined' AND order_id = ANY($1::uuid[])`, [orders.map((o) => o.id)])).rows.map(
          (r) => r.at.getTime(),
        ),
      );
      await waitFor(() => Date.now() > lastDecline + SLA_DISPATCH_MS + 3000, 15_000, 'the deadlines to pass');
      await drain(t.db, queues);
      const missing: string[] = [];
      for (const order of orders) {
        const rows = await breaches(order.id);
        if (rows.length !== 1) {
          // What the timer of the stage looks like now, to tell a lost timer from a stale one.
          const timer = await queues.timers.getJob(`sla-${order.id}-dispatch`);
          const entered = await t.db.query<{ seq: number }>(`SELECT max(seq) AS seq FROM order_events WHERE order_id = $1 AND to_status = 'submitted'`, [order.id]);
          const timerText = timer ? `timer for enteredSeq ${String((timer.data as { enteredSeq?: number }).enteredSeq)} (${await timer.getState()})` : 'no timer';
          missing.push(`${order.id}: ${rows.length} breaches; stage entered at seq ${entered.rows[0]?.seq}; ${timerText}`);
        }
      }
      expect(missing).toEqual([]);
      for (const order of orders)
        expect((await actualNotifications(t.db, order.id)).filter((k) => k.includes('sla.breached'))).toEqual(
          told(order.id, [[w.coordHaidian, 'sla.breached']]),
        );
    }, 60_000);

    it('everything these timers caused is exactly what the rules call for', async () => {
      await drain(t.db, queues);
      expect(await actualNotifications(t.db)).toEqual(await expectedNotifications(t.db));
    });
  });
}
