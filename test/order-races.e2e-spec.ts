import type { Response } from 'supertest';
import { outcome, type Outcome } from './support/problem';
import { count, startTestApp, type TestApp } from './support/test-app';
import { COMMUNITY_A1, createWorld, HAIDIAN, login, orderBody, orderIn, type OrderJson, type Session, type World } from './support/world';

/**
 * Invariants 1 and 6 of DESIGN.md §8 under real concurrency: many requests in
 * flight at once against the listening API, never a mocked lock.
 */
describe('order races', () => {
  let t: TestApp;
  let w: World;

  beforeAll(async () => {
    t = await startTestApp('races');
    w = await createWorld(t);
  });
  afterAll(() => t.close());

  const createUser = async (username: string, role: string, scope: Record<string, string>): Promise<Session> => {
    await t.http().post('/users').set(w.admin.auth).send({ username, password: `${username}-pass-1`, displayName: username, role, ...scope }).expect(201);
    return login(t, username, `${username}-pass-1`);
  };
  const post = (who: Session, path: string, body: object = {}) => t.http().post(path).set(who.auth).send(body);
  const tally = (answers: Response[]): Record<string, number> => {
    const byOutcome: Record<string, number> = {};
    for (const { status, code } of answers.map(outcome)) {
      const key = status < 300 ? String(status) : `${status} ${String(code)}`;
      byOutcome[key] = (byOutcome[key] ?? 0) + 1;
    }
    return byOutcome;
  };
  const eventsOfType = (orderId: string, type: string) => count(t.db, 'order_events', 'order_id = $1 AND type = $2', [orderId, type]);
  const outboxOfType = (orderId: string, type: string) => count(t.db, 'outbox', 'order_id = $1 AND type = $2', [orderId, type]);
  interface OrderRow {
    status: string;
    version: number;
    organization_id: string | null;
  }
  const orderRow = async (orderId: string): Promise<OrderRow | undefined> =>
    ((await t.db.query(`SELECT status, version, organization_id FROM orders WHERE id = $1`, [orderId])).rows as OrderRow[])[0];
  /** The event log is one unbroken chain: seq 1..n, each step starting where the last ended, ending at the order's status. */
  const expectUnbrokenLog = async (orderId: string): Promise<{ type: string }[]> => {
    const rows = (await t.db.query(`SELECT seq, type, from_status, to_status FROM order_events WHERE order_id = $1 ORDER BY seq`, [orderId]))
      .rows as { seq: number; type: string; from_status: string | null; to_status: string }[];
    const order = await orderRow(orderId);
    rows.forEach((event, i) => {
      expect(event.seq).toBe(i + 1);
      expect(event.from_status).toBe(i === 0 ? null : rows[i - 1]?.to_status);
    });
    expect(rows.at(-1)?.to_status).toBe(order?.status);
    expect(rows.length).toBe(order?.version);
    return rows;
  };

  it('(a) 60 parallel claims by ten staff of the department: exactly one wins, 59 get 409 ORDER_STATE_CONFLICT', async () => {
    const extra = await Promise.all(
      Array.from({ length: 8 }, (_, i) => createUser(`dept-haidian-extra-${i}`, 'department_staff', { departmentId: w.departments.haidian })),
    );
    const staff = [w.deptHaidian, w.deptHaidianB, ...extra];
    const order = await orderIn(t, w, 'dispatched');

    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => post(staff[i % staff.length] as Session, `/orders/${order.id}/claim`)));

    expect(tally(answers)).toEqual({ '200': 1, '409 ORDER_STATE_CONFLICT': 59 });
    const winner = answers.find((res) => res.status === 200)?.body as OrderJson;
    expect(winner).toMatchObject({ status: 'claimed', version: order.version + 1 });
    expect(await orderRow(order.id)).toMatchObject({ status: 'claimed', version: order.version + 1 });
    expect(await eventsOfType(order.id, 'order.claimed')).toBe(1);
    expect(await outboxOfType(order.id, 'order.claimed')).toBe(1);
    await expectUnbrokenLog(order.id);
  });

  it('(b) 70 parallel accepts by the admins of seven organisations serving 海淀 on an open order: exactly one organisation gets it', async () => {
    const admins: Session[] = [w.orgHaidian, w.orgHaidian2];
    for (let i = 0; i < 5; i++) {
      const organization = (await post(w.admin, '/organizations', { name: `海淀科普队${i}`, districtCodes: [HAIDIAN] }).expect(201)).body as { id: string };
      admins.push(await createUser(`org-extra-${i}`, 'org_admin', { organizationId: organization.id }));
    }
    const organizationOf = new Map<Session, string>();
    await Promise.all(
      admins.map(async (admin) => organizationOf.set(admin, ((await t.http().get('/me').set(admin.auth).expect(200)).body as { organizationId: string }).organizationId)),
    );
    expect(new Set(organizationOf.values()).size).toBe(7);
    const order = await orderIn(t, w, 'claimed', { open: true });

    const callers = Array.from({ length: 70 }, (_, i) => admins[i % admins.length] as Session);
    const answers = await Promise.all(callers.map((admin) => post(admin, `/orders/${order.id}/accept`)));

    expect(tally(answers)).toEqual({ '200': 1, '409 ORDER_STATE_CONFLICT': 69 });
    const winnerIndex = answers.findIndex((res) => res.status === 200);
    const winningOrganization = organizationOf.get(callers[winnerIndex] as Session);
    expect(answers[winnerIndex]?.body).toMatchObject({ status: 'accepted', organizationId: winningOrganization, contactPhone: '13812341234' });
    expect(await orderRow(order.id)).toMatchObject({ status: 'accepted', version: order.version + 1, organization_id: winningOrganization });
    expect(await eventsOfType(order.id, 'order.accepted')).toBe(1);
    expect(await outboxOfType(order.id, 'order.accepted')).toBe(1);
    await expectUnbrokenLog(order.id);
    // The open call is closed: a losing organisation no longer reads the order, and another
    // accept from it, or from the winner, is still the lost race's 409.
    const loser = admins.find((admin) => organizationOf.get(admin) !== winningOrganization) as Session;
    await t.http().get(`/orders/${order.id}`).set(loser.auth).expect(404);
    expect(tally([await post(loser, `/orders/${order.id}/accept`), await post(callers[winnerIndex] as Session, `/orders/${order.id}/accept`)])).toEqual({ '409 ORDER_STATE_CONFLICT': 2 });
  });

  describe('(c) one Idempotency-Key sent 25 times at once', () => {
    const KEY = 'race-key-0001';
    let body: Record<string, unknown>;
    let firstId: string;

    it('creates one order; every 201 carries its id, the others are 409 IDEMPOTENCY_IN_PROGRESS', async () => {
      body = orderBody(COMMUNITY_A1, { title: '幂等并发测试' });
      const before = await count(t.db, 'orders', 'requester_id = $1', [w.residentA1.id]);

      const answers = await Promise.all(Array.from({ length: 25 }, () => post(w.residentA1, '/orders', body).set('Idempotency-Key', KEY)));

      expect(await count(t.db, 'orders', 'requester_id = $1', [w.residentA1.id])).toBe(before + 1);
      const created = answers.filter((res) => res.status === 201);
      const others = answers.filter((res) => res.status !== 201).map(outcome);
      expect(created.length).toBeGreaterThanOrEqual(1);
      expect(new Set(created.map((res) => (res.body as OrderJson).id)).size).toBe(1);
      expect(others).toEqual(others.map((): Outcome => ({ status: 409, code: 'IDEMPOTENCY_IN_PROGRESS' })));
      for (const res of answers.filter((r) => r.status === 409)) expect(res.headers['retry-after']).toBeDefined();
      firstId = (created[0]?.body as OrderJson).id;
      expect(await count(t.db, 'order_events', 'order_id = $1', [firstId])).toBe(1);
      expect(await count(t.db, 'outbox', 'order_id = $1', [firstId])).toBe(1);
    });

    it('the same key and body afterwards replays the first answer', async () => {
      const res = await post(w.residentA1, '/orders', body).set('Idempotency-Key', KEY).expect(201);
      expect(res.headers['idempotent-replayed']).toBe('true');
      expect(res.body).toMatchObject({ id: firstId, status: 'submitted', title: '幂等并发测试' });
    });

    it('the same key with another body is 422 IDEMPOTENCY_KEY_REUSED and creates nothing', async () => {
      const before = await count(t.db, 'orders');
      const res = await post(w.residentA1, '/orders', { ...body, expectedAttendance: 61 }).set('Idempotency-Key', KEY).expect(422);
      expect(res.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(await count(t.db, 'orders')).toBe(before);
    });

    it('another resident using the same key gets an order of its own, not the first one', async () => {
      const res = await post(w.residentA1b, '/orders', body).set('Idempotency-Key', KEY).expect(201);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
      expect(res.body.id).not.toBe(firstId);
      expect(res.body.requesterId).toBe(w.residentA1b.id);
    });
  });

  describe('(d) two different steps at once', () => {
    it('claim and decline of one dispatched order by two staff of the department: exactly one happens (×10)', async () => {
      const orders = await Promise.all(Array.from({ length: 10 }, () => orderIn(t, w, 'dispatched')));
      const rounds = await Promise.all(
        orders.map(async (order) => {
          const [claim, decline] = await Promise.all([
            post(w.deptHaidian, `/orders/${order.id}/claim`),
            post(w.deptHaidianB, `/orders/${order.id}/decline`, { reason: '人手不足' }),
          ]);
          return { order, claim: claim as Response, decline: decline as Response };
        }),
      );
      for (const { order, claim, decline } of rounds) {
        expect([claim.status, decline.status].filter((s) => s === 200)).toHaveLength(1);
        const log = (await expectUnbrokenLog(order.id)).map((e) => e.type);
        if (claim.status === 200) {
          expect(outcome(decline)).toEqual({ status: 409, code: 'ORDER_STATE_CONFLICT' });
          expect(log).toEqual(['order.submitted', 'order.dispatched', 'order.claimed']);
        } else {
          // Declined first: the order went back to the community, out of the department's sight (404), or the claim lost the update (409).
          expect([
            { status: 409, code: 'ORDER_STATE_CONFLICT' },
            { status: 404, code: 'NOT_FOUND' },
          ]).toContainEqual(outcome(claim));
          expect(log).toEqual(['order.submitted', 'order.dispatched', 'order.declined']);
          expect(await orderRow(order.id)).toMatchObject({ status: 'submitted' });
        }
      }
    });

    it('cancel by the requester and dispatch by community staff, both from the version they saw: exactly one wins (×10)', async () => {
      const orders = await Promise.all(Array.from({ length: 10 }, () => orderIn(t, w, 'submitted')));
      const rounds = await Promise.all(
        orders.map(async (order) => {
          const [cancel, dispatch] = await Promise.all([
            post(w.residentA1, `/orders/${order.id}/cancel`, { reason: '改期', expectedVersion: order.version }),
            post(w.staffA1, `/orders/${order.id}/dispatch`, { departmentId: w.departments.haidian, expectedVersion: order.version }),
          ]);
          return { order, cancel: cancel as Response, dispatch: dispatch as Response };
        }),
      );
      for (const { order, cancel, dispatch } of rounds) {
        expect([cancel.status, dispatch.status].sort()).toEqual([200, 409]);
        const loser = cancel.status === 200 ? dispatch : cancel;
        expect(outcome(loser)).toEqual({ status: 409, code: 'ORDER_STATE_CONFLICT' });
        const log = (await expectUnbrokenLog(order.id)).map((e) => e.type);
        expect(log).toEqual(['order.submitted', cancel.status === 200 ? 'order.cancelled' : 'order.dispatched']);
      }
    });

    it('cancel and dispatch without expectedVersion: the log is one chain and a cancelled order is never dispatched afterwards (×10)', async () => {
      const orders = await Promise.all(Array.from({ length: 10 }, () => orderIn(t, w, 'submitted')));
      await Promise.all(
        orders.map(async (order) => {
          const [cancel, dispatch] = await Promise.all([
            post(w.residentA1, `/orders/${order.id}/cancel`, { reason: '改期' }),
            post(w.staffA1, `/orders/${order.id}/dispatch`, { departmentId: w.departments.haidian }),
          ]);
          const log = (await expectUnbrokenLog(order.id)).map((e) => e.type);
          // Every 200 is exactly one event; a cancel that answered 200 is the end of the story.
          expect(log.length - 1).toBe([cancel, dispatch].filter((r) => r.status === 200).length);
          for (const res of [cancel, dispatch].filter((r) => r.status !== 200)) expect(outcome(res)).toEqual({ status: 409, code: 'ORDER_STATE_CONFLICT' });
          if (cancel.status === 200) expect(log.at(-1)).toBe('order.cancelled');
          else expect(log).toEqual(['order.submitted', 'order.dispatched']);
        }),
      );
    });
  });

  it('(e) two orders merged into each other at once (×12 pairs): never both merged, the loser gets 409 or 422', async () => {
    const pairs = await Promise.all(
      Array.from({ length: 12 }, async () => [await orderIn(t, w, 'submitted'), await orderIn(t, w, 'submitted')] as const),
    );
    const results = await Promise.all(
      pairs.map(async ([a, b]) => {
        const [aIntoB, bIntoA] = await Promise.all([
          post(w.staffA1, `/orders/${a.id}/merge`, { primaryOrderId: b.id }),
          post(w.staffA1, `/orders/${b.id}/merge`, { primaryOrderId: a.id }),
        ]);
        return { a, b, answers: [aIntoB, bIntoA] as Response[] };
      }),
    );
    for (const { a, b, answers } of results) {
      const rows = await Promise.all([orderRow(a.id), orderRow(b.id)]);
      const merged = rows.filter((row) => row?.status === 'merged').length;
      expect(merged).toBeLessThanOrEqual(1);
      expect(answers.filter((res) => res.status === 200)).toHaveLength(merged);
      for (const res of answers.filter((r) => r.status !== 200)) {
        expect([409, 422]).toContain(res.status);
        expect(['ORDER_STATE_CONFLICT', 'CONCURRENT_UPDATE', 'INVALID_MERGE_TARGET']).toContain(res.body.code);
      }
      // The surviving primary is still open, so the merge pointed somewhere real.
      const mergedIndex = rows.findIndex((row) => row?.status === 'merged');
      if (mergedIndex >= 0) expect(rows[1 - mergedIndex]?.status).toBe('submitted');
      await expectUnbrokenLog(a.id);
      await expectUnbrokenLog(b.id);
    }
  });
});
