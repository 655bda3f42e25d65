import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import {
  acceptedOrder,
  at,
  createVenue,
  createVolunteer,
  createVolunteersWithLogin,
  createVolunteerWithLogin,
  scheduleBody,
  type VolunteerSpec,
  type VolunteerWithLogin,
  wideWindows,
} from './support/fulfilment-world';
import { expectProblem, outcome, problemMismatches } from './support/problem';
import { count, startTestApp, type TestApp } from './support/test-app';
import { createWorld, orderIn, type OrderJson, type Session, type World } from './support/world';

interface AssignmentJson {
  id: string;
  orderId: string;
  status: string;
  isSlotClaim: boolean;
}

interface OpenTaskJson {
  orderId: string;
  openSlots: number;
  score: number;
  breakdown: Record<string, number>;
  venue: { id: string } | null;
}

/**
 * Volunteers claim tasks (DESIGN.md §4): open slots are capacity-limited under any
 * concurrency, a withdrawal reopens one, and each volunteer sees the tasks ranked for them.
 */
describe('open slots', () => {
  let t: TestApp;
  let w: World;
  let org: string;

  beforeAll(async () => {
    t = await startTestApp('open_slots');
    w = await createWorld(t);
    org = w.organizations.haidian;
  });
  afterAll(() => t.close());

  const post = (who: Session, path: string, body: object = {}) => t.http().post(path).set(who.auth).send(body);
  const get = (who: Session, path: string) => t.http().get(path).set(who.auth);
  const volunteer = (spec: Partial<VolunteerSpec> = {}) => createVolunteerWithLogin(t, { organizationId: org, ...spec });
  const tally = (answers: Response[]): Record<string, number> => {
    const byOutcome: Record<string, number> = {};
    for (const { status, code } of answers.map(outcome)) {
      const key = status < 300 ? String(status) : `${status} ${String(code)}`;
      byOutcome[key] = (byOutcome[key] ?? 0) + 1;
    }
    return byOutcome;
  };
  const orderRow = async (id: string) => (await t.db.query<{ status: string; version: number; open_slots: number }>(`SELECT status, version, open_slots FROM orders WHERE id = $1`, [id])).rows[0];
  /** seq 1..n without a gap, n = version, each event starting where the last ended. */
  const expectUnbrokenLog = async (orderId: string) => {
    const rows = (await t.db.query<{ seq: number; type: string; from_status: string | null; to_status: string }>(`SELECT seq, type, from_status, to_status FROM order_events WHERE order_id = $1 ORDER BY seq`, [orderId])).rows;
    rows.forEach((event, i) => {
      expect(event.seq).toBe(i + 1);
      expect(event.from_status).toBe(i === 0 ? null : rows[i - 1]?.to_status);
    });
    expect(rows.length).toBe((await orderRow(orderId))?.version);
    return rows;
  };
  const scheduledWithSlots = async (openSlots: number, overrides: Record<string, unknown> = {}, order?: OrderJson): Promise<OrderJson> => {
    const accepted = order ?? (await orderIn(t, w, 'accepted'));
    return (await post(w.orgHaidian, `/orders/${accepted.id}/schedule`, scheduleBody(accepted, await createVenue(t), { openSlots, ...overrides })).expect(200)).body as OrderJson;
  };

  it('30 volunteers claim 3 open slots at once: exactly 3 × 201 confirmed, 27 × 409 SLOTS_FULL; a withdrawal reopens one for another', async () => {
    const crowd = await createVolunteersWithLogin(t, 30, { organizationId: org });
    const order = await scheduledWithSlots(3);

    const tasks = (await get(crowd[0]?.session as Session, '/me/open-tasks').expect(200)).body as OpenTaskJson[];
    expect(tasks.find((task) => task.orderId === order.id)).toMatchObject({ openSlots: 3 });

    const answers = await Promise.all(crowd.map((v) => post(v.session, `/orders/${order.id}/slots/claim`)));

    expect(tally(answers)).toEqual({ '201': 3, '409 SLOTS_FULL': 27 });
    for (const res of answers.filter((r) => r.status === 201)) expect(res.body).toMatchObject({ orderId: order.id, status: 'confirmed', isSlotClaim: true });
    expect(await orderRow(order.id)).toEqual({ status: 'scheduled', version: order.version + 3, open_slots: 0 });
    expect(await count(t.db, 'assignments', `order_id = $1 AND status = 'confirmed' AND is_slot_claim`, [order.id])).toBe(3);
    expect(await count(t.db, 'assignments', `order_id = $1`, [order.id])).toBe(3);
    expect((await expectUnbrokenLog(order.id)).filter((e) => e.type === 'assignment.claimed')).toHaveLength(3);

    const winners = crowd.filter((_, i) => answers[i]?.status === 201) as VolunteerWithLogin[];
    const losers = crowd.filter((_, i) => answers[i]?.status !== 201) as VolunteerWithLogin[];
    const [winner] = winners as [VolunteerWithLogin];
    const [loser, secondLoser] = losers as [VolunteerWithLogin, VolunteerWithLogin];
    // Nothing left to claim: the task disappears from the losers' lists (and the order from their view), not from the winners'.
    expect(((await get(loser.session, '/me/open-tasks').expect(200)).body as OpenTaskJson[]).map((task) => task.orderId)).not.toContain(order.id);
    await get(loser.session, `/orders/${order.id}`).expect(404);
    await get(winner.session, `/orders/${order.id}`).expect(200);

    const claimId = (answers.find((r) => r.status === 201)?.body as AssignmentJson).id;
    const winnerOfClaim = crowd[answers.findIndex((r) => r.status === 201)] as VolunteerWithLogin;
    expectProblem(await post(loser.session, `/assignments/${claimId}/withdraw`), 404, 'NOT_FOUND');
    expect((await post(winnerOfClaim.session, `/assignments/${claimId}/withdraw`).expect(200)).body).toMatchObject({ id: claimId, status: 'withdrawn', isSlotClaim: true });
    expect(await orderRow(order.id)).toMatchObject({ open_slots: 1, version: order.version + 4 });
    const withdrawn = (await t.db.query<{ payload: Record<string, unknown> }>(`SELECT payload FROM outbox WHERE order_id = $1 AND type = 'assignment.withdrawn'`, [order.id])).rows;
    expect(withdrawn.map((r) => r.payload)).toEqual([
      expect.objectContaining({ orderId: order.id, assignmentId: claimId, volunteerId: winnerOfClaim.id, isSlotClaim: true, organizationId: org, eventSeq: order.version + 4 }),
    ]);

    const reclaims = await Promise.all([post(loser.session, `/orders/${order.id}/slots/claim`), post(secondLoser.session, `/orders/${order.id}/slots/claim`)]);
    expect(tally(reclaims)).toEqual({ '201': 1, '409 SLOTS_FULL': 1 });
    expect(await orderRow(order.id)).toEqual({ status: 'scheduled', version: order.version + 5, open_slots: 0 });
    expect(await count(t.db, 'assignments', `order_id = $1 AND status = 'confirmed'`, [order.id])).toBe(3);
    expectProblem(await post(winnerOfClaim.session, `/orders/${order.id}/slots/claim`), 409, 'SLOTS_FULL');
    await expectUnbrokenLog(order.id);
  });

  it('open tasks are the ones a volunteer may claim, ranked for them by the matching score, best first', async () => {
    const me = await volunteer({ skills: [{ topic: 'anti_fraud', level: 3 }], audiences: ['elderly'] });
    const forElderly = await scheduledWithSlots(2, {}, await acceptedOrder(t, w, wideWindows(60)));
    const forYouth = await scheduledWithSlots(2, {}, await acceptedOrder(t, w, { ...wideWindows(62), audience: 'youth' }));
    const otherTopic = await scheduledWithSlots(2, {}, await acceptedOrder(t, w, { ...wideWindows(64), topic: 'astronomy' }));
    const noSlots = await acceptedOrder(t, w, wideWindows(66));
    await post(w.orgHaidian, `/orders/${noSlots.id}/schedule`, scheduleBody(noSlots, await createVenue(t), { volunteerIds: [(await createVolunteer(t, { organizationId: org })).id] })).expect(200);

    const tasks = (await get(me.session, '/me/open-tasks').expect(200)).body as OpenTaskJson[];
    const ids = tasks.map((task) => task.orderId);
    expect(ids).toEqual(expect.arrayContaining([forElderly.id, forYouth.id]));
    expect(ids).not.toContain(otherTopic.id);
    expect(ids).not.toContain(noSlots.id);
    expect(ids.indexOf(forElderly.id)).toBeLessThan(ids.indexOf(forYouth.id));
    const elderly = tasks.find((task) => task.orderId === forElderly.id) as OpenTaskJson;
    expect(elderly).toMatchObject({ openSlots: 2, venue: { id: forElderly.venueId }, breakdown: { topicLevel: 30, audience: 15, proximity: 20 } });
    expect(tasks.find((task) => task.orderId === forYouth.id)?.breakdown.audience).toBe(0);
    for (const task of tasks) expect(task.score).toBeCloseTo(Object.values(task.breakdown).reduce((a, b) => a + b, 0), 1);
    const scores = tasks.map((task) => task.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));

    // Once on the event (here by claiming it), it is no longer an open task for them.
    await post(me.session, `/orders/${forElderly.id}/slots/claim`).expect(201);
    expect(((await get(me.session, '/me/open-tasks').expect(200)).body as OpenTaskJson[]).map((task) => task.orderId)).not.toContain(forElderly.id);
    expectProblem(await post(me.session, `/orders/${forElderly.id}/slots/claim`), 409, 'VOLUNTEER_CONFLICT');
  });

  it('refuses a claim the volunteer may not make, names why, and writes nothing', async () => {
    const order = await scheduledWithSlots(5, {}, await acceptedOrder(t, w, wideWindows(70)));
    const overlapping = await acceptedOrder(t, w, wideWindows(70));
    const busy = await volunteer();
    await post(w.orgHaidian, `/orders/${overlapping.id}/schedule`, { start: at(70, 9), end: at(70, 12), venueId: await createVenue(t), volunteerIds: [busy.id] }).expect(200);
    const before = await orderRow(order.id);
    const assignmentsBefore = await count(t.db, 'assignments', 'order_id = $1', [order.id]);

    const otherOrg = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian2 });
    const cases: [string, Session, number, string, string[]?][] = [
      ['not skilled in the topic', (await volunteer({ skills: [{ topic: 'astronomy', level: 3 }] })).session, 422, 'NOT_ELIGIBLE', ['not_skilled']],
      ['never available', (await volunteer({ availability: [] })).session, 422, 'NOT_ELIGIBLE', ['unavailable']],
      ['inactive', (await volunteer({ isActive: false })).session, 422, 'NOT_ELIGIBLE', ['inactive']],
      ['over the weekly cap', (await volunteer({ maxHoursPerWeek: 1 })).session, 422, 'NOT_ELIGIBLE', ['over_weekly_cap']],
      ['busy at an overlapping time', busy.session, 409, 'VOLUNTEER_CONFLICT'],
      ['a volunteer of another organisation', otherOrg.session, 404, 'NOT_FOUND'],
      ['an organisation admin', w.orgHaidian, 403, 'FORBIDDEN'],
      ['a resident', w.residentA1, 403, 'FORBIDDEN'],
    ];
    const found: string[] = [];
    for (const [name, who, status, code, reasons] of cases) {
      const res = await post(who, `/orders/${order.id}/slots/claim`);
      found.push(...problemMismatches(res, status, code).map((m) => `${name}: ${m}`));
      if (reasons) {
        const errors = (res.body as { errors?: { message: string }[] }).errors ?? [];
        if (JSON.stringify(errors.map((e) => e.message)) !== JSON.stringify(reasons)) found.push(`${name}: errors ${JSON.stringify(errors)}`);
      }
    }
    // Not scheduled (yet), or gone: not a task anyone can claim.
    const accepted = await orderIn(t, w, 'accepted');
    found.push(...problemMismatches(await post(busy.session, `/orders/${accepted.id}/slots/claim`), 404, 'NOT_FOUND').map((m) => `accepted order: ${m}`));
    found.push(...problemMismatches(await post(busy.session, `/orders/${randomUUID()}/slots/claim`), 404, 'NOT_FOUND').map((m) => `no order: ${m}`));
    expect(found).toEqual([]);
    expect(await orderRow(order.id)).toEqual(before);
    expect(await count(t.db, 'assignments', 'order_id = $1', [order.id])).toBe(assignmentsBefore);
    expect(((await get(otherOrg.session, '/me/open-tasks').expect(200)).body as OpenTaskJson[]).map((task) => task.orderId)).not.toContain(order.id);
    expect(((await get(busy.session, '/me/open-tasks').expect(200)).body as OpenTaskJson[]).map((task) => task.orderId)).not.toContain(order.id);
  });

  it('one volunteer claiming two overlapping events at once gets one of them: the exclusion constraint decides', async () => {
    const first = await scheduledWithSlots(10, {}, await acceptedOrder(t, w, wideWindows(80)));
    const second = await acceptedOrder(t, w, wideWindows(80));
    await post(w.orgHaidian, `/orders/${second.id}/schedule`, { start: at(80, 9), end: at(80, 10), venueId: await createVenue(t), openSlots: 10 }).expect(200);
    const racers = await createVolunteersWithLogin(t, 6, { organizationId: org });

    const answers = await Promise.all(racers.flatMap((v) => [post(v.session, `/orders/${first.id}/slots/claim`), post(v.session, `/orders/${second.id}/slots/claim`)]));

    const found: string[] = [];
    racers.forEach((v, i) => {
      const pair = tally([answers[2 * i] as Response, answers[2 * i + 1] as Response]);
      if (JSON.stringify(pair) !== JSON.stringify({ '201': 1, '409 VOLUNTEER_CONFLICT': 1 }) && JSON.stringify(pair) !== JSON.stringify({ '409 VOLUNTEER_CONFLICT': 1, '201': 1 }))
        found.push(`${v.name}: ${JSON.stringify(pair)}`);
    });
    expect(found).toEqual([]);
    const slotsLeft = Number((await orderRow(first.id))?.open_slots) + Number((await orderRow(second.id))?.open_slots);
    expect(slotsLeft).toBe(20 - racers.length);
    expect(
      await count(
        t.db,
        'assignments a1 JOIN assignments a2 ON a1.volunteer_id = a2.volunteer_id AND a1.id < a2.id AND a1.during && a2.during',
        `a1.status IN ('invited','confirmed') AND a2.status IN ('invited','confirmed')`,
      ),
    ).toBe(0);
  });

  it('withdraw and decline: only before the event starts, only from the right state; a declined claim reopens its slot too', async () => {
    const order = await scheduledWithSlots(2, {}, await acceptedOrder(t, w, wideWindows(90)));
    const [a, b] = [await volunteer(), await volunteer()];
    const claimA = (await post(a.session, `/orders/${order.id}/slots/claim`).expect(201)).body as AssignmentJson;
    const claimB = (await post(b.session, `/orders/${order.id}/slots/claim`).expect(201)).body as AssignmentJson;
    expect(await orderRow(order.id)).toMatchObject({ open_slots: 0 });

    expect((await post(b.session, `/assignments/${claimB.id}/decline`, { reason: '临时出差' }).expect(200)).body).toMatchObject({ status: 'declined' });
    expect(await orderRow(order.id)).toMatchObject({ open_slots: 1 });
    expectProblem(await post(b.session, `/assignments/${claimB.id}/withdraw`), 409, 'ASSIGNMENT_STATE_CONFLICT');
    expectProblem(await post(a.session, `/assignments/${claimA.id}/confirm`), 409, 'ASSIGNMENT_STATE_CONFLICT');

    // The event has started (moved into the past behind the API's back): too late to withdraw.
    await t.db.query(`UPDATE assignments SET during = tstzrange(now() - interval '1 hour', now() + interval '1 hour') WHERE id = $1`, [claimA.id]);
    const before = await orderRow(order.id);
    expectProblem(await post(a.session, `/assignments/${claimA.id}/withdraw`), 409, 'EVENT_STARTED');
    expectProblem(await post(a.session, `/assignments/${claimA.id}/decline`, { reason: '来不及' }), 409, 'EVENT_STARTED');
    expect(await orderRow(order.id)).toEqual(before);
    expect(await count(t.db, 'assignments', `id = $1 AND status = 'confirmed'`, [claimA.id])).toBe(1);
    await expectUnbrokenLog(order.id);
  });
});
