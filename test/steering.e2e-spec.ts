import { EscalationsService } from '@kepu/orders';
import type { Response } from 'supertest';
import { actualNotifications, expectedNotifications } from './support/notification-model';
import { outcome, problemMismatches } from './support/problem';
import { count, startTestApp, type TestApp } from './support/test-app';
import { drain, openTestQueues, startTestWorker, suitePrefix, type TestQueues, type TestWorker } from './support/test-worker';
import { waitFor } from './support/wait';
import { CHAOYANG, COMMUNITY_A1, COMMUNITY_B1, createWorld, HAIDIAN, orderBody, orderIn, type OrderJson, type Session, type World } from './support/world';

/** The machine's Redis, as the environment named it before any suite pointed elsewhere. */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** 0.001 h = 3.6 s: the dispatch and claim deadlines of this suite; urgent ones are a quarter (0.9 s). */
const SLA_HOURS = 0.001;
const SLA_MS = SLA_HOURS * 3600 * 1000;
const URGENT_FACTOR = 0.25;
const DAY_MS = 24 * 3600 * 1000;

interface EscalationJson {
  id: string;
  orderId: string;
  order: { code: string; title: string; status: string; communityCode: string; urgent: boolean };
  districtCode: string;
  stage: string;
  dueAt: string;
  breachedAt: string;
  status: string;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  note: string | null;
  resolvedAt: string | null;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * The coordinators' levers (API.md "Coordinators steering", DESIGN.md §10): reassign under a
 * racing claim, escalations opened by the SLA timers and resolved by the order's next step,
 * urgent orders, and series of recurring orders.
 */
describe('coordinators steering: reassign races, escalations, urgent orders, series', () => {
  let t: TestApp;
  let w: World;
  let worker: TestWorker;
  let queues: TestQueues;

  beforeAll(async () => {
    t = await startTestApp('steering', {
      REDIS_URL,
      QUEUE_PREFIX: suitePrefix('steering'),
      OUTBOX_POLL_MS: '100',
      SLA_DISPATCH_HOURS: String(SLA_HOURS),
      SLA_CLAIM_HOURS: String(SLA_HOURS),
      SLA_URGENT_FACTOR: String(URGENT_FACTOR),
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
  });

  const post = (who: Session, path: string, body: object = {}) => t.http().post(path).set(who.auth).send(body);
  const create = async (who: Session, overrides: Record<string, unknown> = {}, communityCode = COMMUNITY_A1): Promise<OrderJson> =>
    (await post(who, '/orders', orderBody(communityCode, overrides)).expect(201)).body as OrderJson;
  const escalationsOf = async (orderId: string) =>
    (
      await t.db.query<{ id: string; stage: string; status: string; entered_seq: number; due_at: Date; resolved_at: Date | null }>(
        `SELECT id, stage, status, entered_seq, due_at, resolved_at FROM escalations WHERE order_id = $1 ORDER BY entered_seq`,
        [orderId],
      )
    ).rows;
  const worklist = async (who: Session, query: Record<string, string | number> = {}): Promise<EscalationJson[]> => {
    const items: EscalationJson[] = [];
    let cursor: string | null = null;
    do {
      const page = (await t.http().get('/escalations').query(cursor ? { ...query, cursor } : query).set(who.auth).expect(200)).body as Page<EscalationJson>;
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return items;
  };
  const openEscalation = (orderId: string, stage: string) =>
    waitFor(async () => (await escalationsOf(orderId)).find((e) => e.stage === stage && e.status === 'open'), 20_000, `an open ${stage} escalation of ${orderId}`, 100);

  describe('reassign races a claim', () => {
    it('a department claims while the coordinator reassigns, 25 times at once: exactly one wins each time, and the order is what the winner left', async () => {
      const orders = await Promise.all(Array.from({ length: 25 }, () => orderIn(t, w, 'dispatched')));
      const answers = await Promise.all(
        orders.map((order) =>
          Promise.all([
            post(w.deptHaidian, `/orders/${order.id}/claim`),
            post(w.deptHaidianB, `/orders/${order.id}/claim`),
            post(w.coordHaidian, `/orders/${order.id}/reassign`, { departmentId: w.departments.haidian2, reason: '超时改派' }),
          ]),
        ),
      );
      const winners: Record<string, number> = { claim: 0, reassign: 0 };
      for (const [i, order] of orders.entries()) {
        const [claimA, claimB, reassign] = answers[i] as [Response, Response, Response];
        const outcomes = [claimA, claimB, reassign].map(outcome);
        const row = (await t.db.query<{ status: string; version: number; department_id: string }>(`SELECT status, version, department_id FROM orders WHERE id = $1`, [order.id]))
          .rows[0];
        if (reassign.status === 200 && claimB.status === 200) {
          // Also a serial order: the reassignment won, then department B (the new one, haidian2) claimed the order it now holds.
          expect(outcome(claimA)).toEqual({ status: 409, code: 'ORDER_STATE_CONFLICT' });
          expect(row).toMatchObject({ status: 'claimed', version: 4, department_id: w.departments.haidian2 });
          winners.reassign = (winners.reassign ?? 0) + 1;
          continue;
        }
        expect(outcomes.filter((o) => o.status === 200)).toHaveLength(1);
        expect(outcomes.filter((o) => o.status !== 200)).toEqual([{ status: 409, code: 'ORDER_STATE_CONFLICT' }, { status: 409, code: 'ORDER_STATE_CONFLICT' }]);
        const log = (await t.db.query<{ seq: number; type: string; from_status: string; to_status: string }>(`SELECT seq, type, from_status, to_status FROM order_events WHERE order_id = $1 ORDER BY seq`, [order.id])).rows;
        // One unbroken chain ending where the order is, the winner's step last.
        log.forEach((e, n) => expect([e.seq, e.from_status]).toEqual([n + 1, n === 0 ? null : log[n - 1]?.to_status]));
        expect(log).toHaveLength(row?.version ?? -1);
        if (reassign.status === 200) {
          winners.reassign = (winners.reassign ?? 0) + 1;
          expect(row).toMatchObject({ status: 'dispatched', version: 3, department_id: w.departments.haidian2 });
          expect(log.at(-1)).toMatchObject({ type: 'order.reassigned', to_status: 'dispatched' });
          expect(await count(t.db, 'outbox', `order_id = $1 AND type = 'order.reassigned'`, [order.id])).toBe(2);
          expect(await count(t.db, 'outbox', `order_id = $1 AND type = 'order.claimed'`, [order.id])).toBe(0);
        } else {
          winners.claim = (winners.claim ?? 0) + 1;
          expect(row).toMatchObject({ status: 'claimed', version: 3, department_id: w.departments.haidian });
          expect(log.at(-1)).toMatchObject({ type: 'order.claimed', to_status: 'claimed' });
          expect(await count(t.db, 'outbox', `order_id = $1 AND type = 'order.reassigned'`, [order.id])).toBe(0);
        }
      }
      expect((winners.claim ?? 0) + (winners.reassign ?? 0)).toBe(25);
    }, 60_000);

    it('after the race the departments were told exactly as the notification rules say', async () => {
      await drain(t.db, queues, { timeoutMs: 40_000 });
      expect(await actualNotifications(t.db)).toEqual(await expectedNotifications(t.db));
    }, 60_000);
  });

  describe('escalations', () => {
    it('open at the breach → acknowledged with a note → resolved by the order\'s next step, in its transaction; refused once resolved', async () => {
      const order = await create(w.residentA1);
      const opened = await openEscalation(order.id, 'dispatch');
      expect(opened.due_at.getTime()).toBe(new Date(String(order.createdAt)).getTime() + SLA_MS);

      const listed = (await worklist(w.coordHaidian, { status: 'open' })).find((e) => e.orderId === order.id);
      expect(listed).toMatchObject({
        id: opened.id,
        stage: 'dispatch',
        status: 'open',
        districtCode: HAIDIAN,
        order: { code: order.code, title: order.title, status: 'submitted', communityCode: COMMUNITY_A1, urgent: false },
        acknowledgedBy: null,
        note: null,
        resolvedAt: null,
      });
      expect(new Date(String(listed?.breachedAt)).getTime()).toBeGreaterThanOrEqual(new Date(String(listed?.dueAt)).getTime());
      // the city sees it too; another district's coordinator does not, even asking for this district
      expect((await worklist(w.admin)).some((e) => e.id === opened.id)).toBe(true);
      expect((await worklist(w.coordChaoyang)).some((e) => e.id === opened.id)).toBe(false);
      expect((await worklist(w.coordChaoyang, { districtCode: HAIDIAN })).some((e) => e.id === opened.id)).toBe(false);
      expect((await worklist(w.coordHaidian, { districtCode: CHAOYANG })).some((e) => e.id === opened.id)).toBe(false);

      const acknowledged = (await post(w.coordHaidian, `/escalations/${opened.id}/acknowledge`, { note: '已电话督促社区，今日派单' }).expect(200)).body as EscalationJson;
      expect(acknowledged).toMatchObject({ id: opened.id, status: 'acknowledged', acknowledgedBy: w.coordHaidian.id, note: '已电话督促社区，今日派单', resolvedAt: null });
      expect((await worklist(w.coordHaidian, { status: 'acknowledged' })).map((e) => e.id)).toContain(opened.id);

      const dispatched = (await post(w.staffA1, `/orders/${order.id}/dispatch`, { departmentId: w.departments.haidian }).expect(200)).body as OrderJson;
      const [resolved] = await escalationsOf(order.id);
      expect(resolved).toMatchObject({ id: opened.id, status: 'resolved' });
      expect(resolved?.resolved_at?.toISOString()).toBe(dispatched.updatedAt);
      const again = await post(w.coordHaidian, `/escalations/${opened.id}/acknowledge`, { note: '再次' }).expect(409);
      expect(again.body.code).toBe('ESCALATION_RESOLVED');
      expect((await worklist(w.coordHaidian, { status: 'resolved' })).find((e) => e.id === opened.id)).toMatchObject({ status: 'resolved', note: '已电话督促社区，今日派单' });
    }, 40_000);

    it('reassign starts the claim stage again: the breached stretch resolves, the new one has its own deadline and escalation', async () => {
      const order = await orderIn(t, w, 'dispatched');
      const first = await openEscalation(order.id, 'claim');
      const moved = (await post(w.coordHaidian, `/orders/${order.id}/reassign`, { departmentId: w.departments.haidian2, reason: '超时未领单' }).expect(200)).body as OrderJson;
      expect((await escalationsOf(order.id)).find((e) => e.id === first.id)).toMatchObject({ status: 'resolved' });
      // The new stretch starts at the reassign (seq 3) and breaches again, once.
      const second = await waitFor(async () => (await escalationsOf(order.id)).find((e) => e.entered_seq === 3 && e.status === 'open'), 20_000, 'the new stretch\'s escalation', 100);
      expect(second.due_at.getTime()).toBe(new Date(String(moved.updatedAt)).getTime() + SLA_MS);
      await post(w.deptHaidian2, `/orders/${order.id}/claim`).expect(200);
      expect((await escalationsOf(order.id)).map((e) => [e.entered_seq, e.status])).toEqual([
        [2, 'resolved'],
        [3, 'resolved'],
      ]);
    }, 40_000);

    it('a breach opening while the order is dispatched, 30 orders at once: never an escalation left open on an order that moved on', async () => {
      const escalationsService = t.app.get(EscalationsService);
      const orders = await Promise.all(Array.from({ length: 30 }, () => create(w.residentA1)));
      const now = new Date();
      const results = await Promise.all(
        orders.map((order) =>
          Promise.all([
            escalationsService.openForBreach({ orderId: order.id, stage: 'dispatch', status: 'submitted', enteredSeq: 1, dueAt: now, breachedAt: now }),
            post(w.staffA1, `/orders/${order.id}/dispatch`, { departmentId: w.departments.haidian }).then((res) => res.status),
          ]),
        ),
      );
      expect(results.every(([, status]) => status === 200)).toBe(true);
      const left = await t.db.query(
        `SELECT e.order_id, e.status, o.status AS order_status FROM escalations e JOIN orders o ON o.id = e.order_id
          WHERE e.order_id = ANY($1::uuid[]) AND e.stage = 'dispatch' AND e.status <> 'resolved'`,
        [orders.map((o) => o.id)],
      );
      expect(left.rows).toEqual([]);
      // Those the timer opened before the dispatch are resolved with it, at its time.
      const opened = results.filter(([isOpened]) => isOpened).length;
      expect(await count(t.db, 'escalations', `order_id = ANY($1::uuid[]) AND stage = 'dispatch' AND status = 'resolved'`, [orders.map((o) => o.id)])).toBe(opened);
    }, 40_000);

    it('who may read and acknowledge: coordinators in scope; others 403; out of scope 404; bad input 400, nothing written', async () => {
      const order = await create(w.residentA1);
      const opened = await openEscalation(order.id, 'dispatch');
      for (const who of [w.residentA1, w.staffA1, w.deptHaidian, w.orgHaidian]) {
        expect(problemMismatches(await t.http().get('/escalations').set(who.auth), 403, 'FORBIDDEN')).toEqual([]);
        expect(problemMismatches(await post(who, `/escalations/${opened.id}/acknowledge`, {}), 403, 'FORBIDDEN')).toEqual([]);
      }
      expect(problemMismatches(await post(w.coordChaoyang, `/escalations/${opened.id}/acknowledge`, {}), 404, 'NOT_FOUND')).toEqual([]);
      expect(problemMismatches(await post(w.coordHaidian, `/escalations/00000000-0000-4000-8000-000000000000/acknowledge`, {}), 404, 'NOT_FOUND')).toEqual([]);
      for (const body of [{ note: 'x'.repeat(1001) }, { note: 42 }, { note: '好', extra: true }])
        expect(problemMismatches(await post(w.coordHaidian, `/escalations/${opened.id}/acknowledge`, body), 400, 'VALIDATION_FAILED')).toEqual([]);
      for (const query of [{ status: 'closed' }, { districtCode: '1101' }, { urgent: 'yes' }, { limit: 0 }, { cursor: 'not-a-cursor' }])
        expect(problemMismatches(await t.http().get('/escalations').query(query).set(w.coordHaidian.auth), 400, 'VALIDATION_FAILED')).toEqual([]);
      expect((await escalationsOf(order.id))[0]).toMatchObject({ status: 'open' });
      // an acknowledgement without a note is fine
      expect((await post(w.admin, `/escalations/${opened.id}/acknowledge`, {}).expect(200)).body).toMatchObject({ status: 'acknowledged', acknowledgedBy: w.admin.id, note: null });
    }, 40_000);
  });

  describe('urgent orders (应急科普)', () => {
    it('community staff and coordinators may; a resident may not; coordinators only urgent ones, in their district; nothing written on a refusal', async () => {
      const before = await count(t.db, 'orders');
      expect(problemMismatches(await post(w.residentA1, '/orders', orderBody(COMMUNITY_A1, { urgent: true })), 403, 'FORBIDDEN')).toEqual([]);
      expect(problemMismatches(await post(w.coordHaidian, '/orders', orderBody(COMMUNITY_A1)), 403, 'FORBIDDEN')).toEqual([]);
      expect(problemMismatches(await post(w.coordHaidian, '/orders', orderBody(COMMUNITY_B1, { urgent: true })), 403, 'FORBIDDEN')).toEqual([]);
      expect(problemMismatches(await post(w.deptHaidian, '/orders', orderBody(COMMUNITY_A1, { urgent: true })), 403, 'FORBIDDEN')).toEqual([]);
      expect(problemMismatches(await post(w.staffA1, '/orders', orderBody(COMMUNITY_A1, { urgent: 'yes' })), 400, 'VALIDATION_FAILED')).toEqual([]);
      expect(problemMismatches(await post(w.coordHaidian, '/orders', orderBody('110108999999', { urgent: true })), 422, 'UNKNOWN_COMMUNITY')).toEqual([]);
      expect(await count(t.db, 'orders')).toBe(before);

      const byStaff = await create(w.staffA1, { urgent: true });
      const byCoordinator = await create(w.coordHaidian, { urgent: true });
      const byAdmin = await create(w.admin, { urgent: true }, COMMUNITY_B1);
      const ordinary = await create(w.staffA1, { urgent: false });
      expect([byStaff.urgent, byCoordinator.urgent, byAdmin.urgent, ordinary.urgent]).toEqual([true, true, true, false]);
      expect((await t.http().get(`/orders/${byCoordinator.id}`).set(w.staffA1.auth).expect(200)).body).toMatchObject({ urgent: true, seriesId: null, status: 'submitted' });
      // the district's coordinators are told at once (the one who created it is the actor, not told)
      await drain(t.db, queues, { timeoutMs: 30_000 });
      const urgentNotices = async (orderId: string) =>
        (await t.db.query<{ username: string }>(`SELECT u.username FROM notifications n JOIN users u ON u.id = n.user_id WHERE n.order_id = $1 AND n.type = 'order.urgent'`, [orderId])).rows.map(
          (r) => r.username,
        );
      expect(await urgentNotices(byStaff.id)).toEqual([w.coordHaidian.username]);
      expect(await urgentNotices(byAdmin.id)).toEqual([w.coordChaoyang.username]);
      expect(await urgentNotices(ordinary.id)).toEqual([]);
      expect(await actualNotifications(t.db, byStaff.id)).toEqual(await expectedNotifications(t.db, byStaff.id));
    }, 40_000);

    it('every stage deadline is SLA_URGENT_FACTOR of the normal one', async () => {
      const urgent = await create(w.staffA1, { urgent: true });
      const ordinary = await create(w.staffA1);
      const [u] = await Promise.all([openEscalation(urgent.id, 'dispatch'), openEscalation(ordinary.id, 'dispatch')]);
      const [o] = await escalationsOf(ordinary.id);
      expect(u.due_at.getTime() - new Date(String(urgent.createdAt)).getTime()).toBe(Math.trunc(SLA_MS * URGENT_FACTOR));
      expect((o?.due_at.getTime() ?? 0) - new Date(String(ordinary.createdAt)).getTime()).toBe(SLA_MS);
      // the next stage too: dispatched, the claim deadline is a quarter as well
      const dispatched = (await post(w.staffA1, `/orders/${urgent.id}/dispatch`, { departmentId: w.departments.haidian }).expect(200)).body as OrderJson;
      const claim = await openEscalation(urgent.id, 'claim');
      expect(claim.due_at.getTime() - new Date(String(dispatched.updatedAt)).getTime()).toBe(Math.trunc(SLA_MS * URGENT_FACTOR));
      const breaches = (await t.db.query<{ stage: string; due_at: Date; entered_at: Date }>(`SELECT stage, due_at, entered_at FROM sla_breaches WHERE order_id = $1 ORDER BY entered_seq`, [urgent.id])).rows;
      expect(breaches.map((b) => [b.stage, b.due_at.getTime() - b.entered_at.getTime()])).toEqual([
        ['dispatch', Math.trunc(SLA_MS * URGENT_FACTOR)],
        ['claim', Math.trunc(SLA_MS * URGENT_FACTOR)],
      ]);
    }, 40_000);

    it('urgent orders come first in GET /orders and GET /escalations, across pages; ?urgent=true filters', async () => {
      const listAll = async (who: Session, query: Record<string, string | number>): Promise<OrderJson[]> => {
        const items: OrderJson[] = [];
        let cursor: string | null = null;
        do {
          const page = (await t.http().get('/orders').query(cursor ? { ...query, cursor } : query).set(who.auth).expect(200)).body as Page<OrderJson>;
          items.push(...page.items);
          cursor = page.nextCursor;
        } while (cursor !== null);
        return items;
      };
      await create(w.staffA1);
      const all = await listAll(w.staffA1, { limit: 100 });
      const paged = await listAll(w.staffA1, { limit: 3 });
      expect(paged.map((o) => o.id)).toEqual(all.map((o) => o.id));
      expect(new Set(paged.map((o) => o.id)).size).toBe(paged.length);
      const firstOrdinary = all.findIndex((o) => !o.urgent);
      expect(firstOrdinary).toBeGreaterThan(0);
      expect(all.slice(firstOrdinary).every((o) => !o.urgent)).toBe(true);
      // newest first within each part
      for (const part of [all.slice(0, firstOrdinary), all.slice(firstOrdinary)])
        for (let i = 1; i < part.length; i++) expect(String(part[i - 1]?.createdAt) >= String(part[i]?.createdAt)).toBe(true);
      const onlyUrgent = await listAll(w.staffA1, { urgent: 'true', limit: 2 });
      expect(onlyUrgent.map((o) => o.id)).toEqual(all.slice(0, firstOrdinary).map((o) => o.id));
      expect((await listAll(w.staffA1, { urgent: 'false' })).map((o) => o.id)).toEqual(all.slice(firstOrdinary).map((o) => o.id));

      const escalations = await worklist(w.coordHaidian, { limit: 2 });
      expect(escalations.map((e) => e.id)).toEqual((await worklist(w.coordHaidian, { limit: 100 })).map((e) => e.id));
      const firstOrdinaryEscalation = escalations.findIndex((e) => !e.order.urgent);
      expect(firstOrdinaryEscalation).toBeGreaterThan(0);
      expect(escalations.slice(firstOrdinaryEscalation).every((e) => !e.order.urgent)).toBe(true);
      for (const part of [escalations.slice(0, firstOrdinaryEscalation), escalations.slice(firstOrdinaryEscalation)])
        for (let i = 1; i < part.length; i++) expect(new Date(String(part[i - 1]?.breachedAt)) <= new Date(String(part[i]?.breachedAt))).toBe(true);
      expect((await worklist(w.coordHaidian, { urgent: 'true' })).every((e) => e.order.urgent)).toBe(true);
    }, 40_000);
  });

  describe('series (常态化)', () => {
    const seriesBody = (recurrence: unknown, overrides: Record<string, unknown> = {}) => ({ ...orderBody(COMMUNITY_A1, overrides), recurrence });
    const shifted = (iso: unknown, days: number) => new Date(new Date(String(iso)).getTime() + days * DAY_MS).toISOString();

    it('weekly: one order per occurrence, windows shifted a week each, one seriesId; each lives its own lifecycle', async () => {
      const res = await post(w.staffA1, '/order-series', seriesBody({ every: 'week', count: 4 })).expect(201);
      const { seriesId, orders } = res.body as { seriesId: string; orders: OrderJson[] };
      expect(seriesId).toMatch(/^[0-9a-f-]{36}$/);
      expect(orders).toHaveLength(4);
      const first = (orders[0]?.preferredWindows as { start: string; end: string }[])[0];
      orders.forEach((o, n) => {
        expect(o).toMatchObject({ status: 'submitted', version: 1, seriesId, urgent: false, communityCode: COMMUNITY_A1 });
        expect(o.preferredWindows).toEqual([{ start: shifted(first?.start, 7 * n), end: shifted(first?.end, 7 * n) }]);
      });
      expect(new Set(orders.map((o) => o.id)).size).toBe(4);
      expect(await count(t.db, 'orders', 'series_id = $1', [seriesId])).toBe(4);
      expect(await count(t.db, 'order_events', `order_id IN (SELECT id FROM orders WHERE series_id = $1) AND type = 'order.submitted'`, [seriesId])).toBe(4);
      await post(w.staffA1, `/orders/${orders[1]?.id}/dispatch`, { departmentId: w.departments.haidian }).expect(200);
      await post(w.staffA1, `/orders/${orders[2]?.id}/cancel`, { reason: '该周停办' }).expect(200);
      const statuses = await Promise.all(orders.map(async (o) => ((await t.http().get(`/orders/${o.id}`).set(w.staffA1.auth).expect(200)).body as OrderJson).status));
      expect(statuses).toEqual(['submitted', 'dispatched', 'cancelled', 'submitted']);
    });

    it('monthly: shifted by Shanghai calendar months, the time of day kept', async () => {
      const start = new Date(Date.now() + 10 * DAY_MS);
      start.setUTCHours(1, 0, 0, 0);
      const window = { start: start.toISOString(), end: new Date(start.getTime() + 2 * 3600 * 1000).toISOString() };
      const { orders } = (await post(w.staffA1, '/order-series', seriesBody({ every: 'month', count: 3 }, { preferredWindows: [window] })).expect(201)).body as { orders: OrderJson[] };
      const starts = orders.map((o) => new Date((o.preferredWindows as { start: string }[])[0]?.start ?? ''));
      const local = (d: Date) => new Date(d.getTime() + 8 * 3600 * 1000);
      starts.forEach((s, n) => {
        const expectedMonth = (local(start).getUTCMonth() + n) % 12;
        expect(local(s).getUTCMonth()).toBe(expectedMonth);
        expect(local(s).getUTCHours()).toBe(9);
        expect(local(s).getUTCDate()).toBeLessThanOrEqual(local(start).getUTCDate());
      });
    });

    it('an occurrence beyond the booking horizon → 422 SERIES_BEYOND_HORIZON; bad input → 400; other roles → 403; nothing written', async () => {
      // (the SLA timers of earlier tests' orders keep writing sla.breached meanwhile)
      const written = async () => ({ orders: await count(t.db, 'orders'), outbox: await count(t.db, 'outbox', `type <> 'sla.breached'`) });
      const before = await written();
      // windows 30 days out: the 7th monthly occurrence ends ~210 days out; 110 days out, the 12th weekly one 187 days out
      expect(problemMismatches(await post(w.staffA1, '/order-series', seriesBody({ every: 'month', count: 7 })), 422, 'SERIES_BEYOND_HORIZON')).toEqual([]);
      expect(problemMismatches(await post(w.staffA1, '/order-series', seriesBody({ every: 'week', count: 12 }, { preferredWindows: [{ start: shifted(new Date(), 110), end: shifted(new Date(), 110.1) }] })), 422, 'SERIES_BEYOND_HORIZON')).toEqual([]);
      for (const recurrence of [{ every: 'week', count: 1 }, { every: 'week', count: 13 }, { every: 'day', count: 3 }, { every: 'week', count: 2.5 }, { every: 'week' }, undefined, 'weekly'])
        expect(problemMismatches(await post(w.staffA1, '/order-series', seriesBody(recurrence)), 400, 'VALIDATION_FAILED')).toEqual([]);
      expect(problemMismatches(await post(w.staffA1, '/order-series', { ...seriesBody({ every: 'week', count: 2 }), title: '' }), 400, 'VALIDATION_FAILED')).toEqual([]);
      expect(problemMismatches(await post(w.staffA1, '/order-series', seriesBody({ every: 'week', count: 2 }, { communityCode: '110108002001' })), 403, 'FORBIDDEN')).toEqual([]);
      for (const who of [w.residentA1, w.deptHaidian, w.orgHaidian, w.coordHaidian, w.admin])
        expect(problemMismatches(await post(who, '/order-series', seriesBody({ every: 'week', count: 2 })), 403, 'FORBIDDEN')).toEqual([]);
      expect(problemMismatches(await t.http().post('/order-series').send(seriesBody({ every: 'week', count: 2 })), 401, 'UNAUTHENTICATED')).toEqual([]);
      expect(await written()).toEqual(before);
    });
  });
});
