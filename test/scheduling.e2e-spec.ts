import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { acceptedOrder, at, createVenue, createVolunteer, createVolunteerWithLogin, scheduleBody, type VolunteerWithLogin, wideWindows } from './support/fulfilment-world';
import { expectProblem, problemMismatches } from './support/problem';
import { count, startTestApp, type TestApp } from './support/test-app';
import { drain, openTestQueues, startTestWorker, suitePrefix } from './support/test-worker';
import { createWorld, orderIn, type OrderJson, type Session, type World } from './support/world';

/**
 * Scheduling (DESIGN.md §3–4): accept → schedule → the volunteers answer; the rules
 * of schedule and reschedule, their scope, and that a refusal writes nothing.
 */
describe('scheduling and assignments', () => {
  let t: TestApp;
  let w: World;
  let org: string;

  beforeAll(async () => {
    t = await startTestApp('scheduling', { QUEUE_PREFIX: suitePrefix('scheduling'), OUTBOX_POLL_MS: '100' });
    w = await createWorld(t);
    org = w.organizations.haidian;
  });
  afterAll(() => t.close());

  const post = (who: Session, path: string, body: object = {}) => t.http().post(path).set(who.auth).send(body);
  const get = (who: Session, path: string) => t.http().get(path).set(who.auth);
  const volunteer = (spec: Partial<Parameters<typeof createVolunteerWithLogin>[1]> = {}) => createVolunteerWithLogin(t, { organizationId: org, ...spec });

  interface Trace {
    status: string;
    version: number;
    bookings: number;
    assignments: number;
    outbox: number;
    events: number;
  }
  /** Everything a transition on the order could have written. */
  const trace = async (orderId: string): Promise<Trace> => {
    const { rows } = await t.db.query<{ status: string; version: number }>(`SELECT status, version FROM orders WHERE id = $1`, [orderId]);
    return {
      status: rows[0]?.status ?? 'absent',
      version: rows[0]?.version ?? 0,
      bookings: await count(t.db, 'bookings', 'order_id = $1', [orderId]),
      assignments: await count(t.db, 'assignments', 'order_id = $1', [orderId]),
      outbox: await count(t.db, 'outbox', 'order_id = $1', [orderId]),
      events: await count(t.db, 'order_events', 'order_id = $1', [orderId]),
    };
  };
  const outboxOf = async (orderId: string, type: string) =>
    (await t.db.query<{ payload: Record<string, unknown> }>(`SELECT payload FROM outbox WHERE order_id = $1 AND type = $2 ORDER BY created_at`, [orderId, type])).rows.map(
      (r) => r.payload,
    );
  const assignmentsOf = async (orderId: string) =>
    (
      await t.db.query<{ id: string; volunteer_id: string; status: string; is_slot_claim: boolean; start: Date; end: Date }>(
        `SELECT id, volunteer_id, status, is_slot_claim, lower(during) AS start, upper(during) AS "end" FROM assignments WHERE order_id = $1`,
        [orderId],
      )
    ).rows;
  const assignmentOf = async (orderId: string, volunteerId: string) => (await assignmentsOf(orderId)).find((a) => a.volunteer_id === volunteerId && ['invited', 'confirmed'].includes(a.status));

  it('accept → schedule → confirm / decline / withdraw: booking, invitations, task.open and the organisation told', async () => {
    const venueId = await createVenue(t, { name: '学院路社区活动室', capacity: 80 });
    const [v1, v2, v3] = [await volunteer(), await volunteer(), await volunteer()] as [VolunteerWithLogin, VolunteerWithLogin, VolunteerWithLogin];
    const unskilled = await createVolunteer(t, { organizationId: org, skills: [{ topic: 'astronomy', level: 3 }] });
    const order = await orderIn(t, w, 'accepted');
    const window = (order.preferredWindows as { start: string; end: string }[])[0] as { start: string; end: string };

    const res = await post(w.orgHaidian, `/orders/${order.id}/schedule`, scheduleBody(order, venueId, { volunteerIds: [v1.id, v2.id], openSlots: 1 })).expect(200);
    expect(res.body).toMatchObject({ status: 'scheduled', version: order.version + 1, venueId, openSlots: 1, scheduledStart: window.start, scheduledEnd: window.end });

    const bookings = (await t.db.query(`SELECT venue_id, status, lower(during) AS start, upper(during) AS "end" FROM bookings WHERE order_id = $1`, [order.id])).rows;
    expect(bookings).toEqual([{ venue_id: venueId, status: 'active', start: new Date(window.start), end: new Date(window.end) }]);
    const invited = await assignmentsOf(order.id);
    expect(invited.map((a) => [a.volunteer_id, a.status, a.is_slot_claim]).sort()).toEqual([[v1.id, 'invited', false], [v2.id, 'invited', false]].sort());

    const [scheduled] = await outboxOf(order.id, 'order.scheduled');
    expect(scheduled?.when).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日 09:00–11:00$/);
    const invitations = await outboxOf(order.id, 'assignment.invited');
    expect(invitations).toHaveLength(2);
    for (const a of invited) expect(invitations).toContainEqual(expect.objectContaining({ volunteerIds: [a.volunteer_id], assignmentId: a.id, when: scheduled?.when }));
    const [taskOpen] = await outboxOf(order.id, 'task.open');
    expect(taskOpen?.volunteerIds).toEqual(expect.arrayContaining([v3.id]));
    expect(taskOpen?.volunteerIds).not.toEqual(expect.arrayContaining([v1.id]));
    expect(taskOpen?.volunteerIds).not.toEqual(expect.arrayContaining([v2.id]));
    expect(taskOpen?.volunteerIds).not.toEqual(expect.arrayContaining([unskilled.id]));

    // The volunteer sees the invitation, with where and what.
    // A bare array, as API.md gives it (the next page's cursor travels in X-Next-Cursor).
    const mine = (await get(v1.session, '/me/assignments').expect(200)).body as Record<string, unknown>[];
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      orderId: order.id,
      status: 'invited',
      start: window.start,
      end: window.end,
      venue: { id: venueId, name: '学院路社区活动室', communityCode: '110108001001' },
      order: { title: order.title, topic: 'anti_fraud', communityCode: '110108001001' },
    });
    await get(v1.session, `/orders/${order.id}`).expect(200);
    const a1 = (await assignmentOf(order.id, v1.id))?.id as string;
    const a2 = (await assignmentOf(order.id, v2.id))?.id as string;

    // Nobody touches another volunteer's assignment: 404, not 403.
    expectProblem(await post(v3.session, `/assignments/${a1}/confirm`), 404, 'NOT_FOUND');
    expectProblem(await post(v3.session, `/assignments/${a1}/withdraw`), 404, 'NOT_FOUND');
    expectProblem(await post(v3.session, `/assignments/${a2}/decline`, { reason: '替他拒绝' }), 404, 'NOT_FOUND');
    expectProblem(await post(w.orgHaidian, `/assignments/${a1}/confirm`), 403, 'FORBIDDEN');

    expect((await post(v1.session, `/assignments/${a1}/confirm`).expect(200)).body).toMatchObject({ id: a1, status: 'confirmed' });
    expectProblem(await post(v1.session, `/assignments/${a1}/confirm`), 409, 'ASSIGNMENT_STATE_CONFLICT');

    expect((await post(v2.session, `/assignments/${a2}/decline`, { reason: '当天要带孙子' }).expect(200)).body).toMatchObject({ id: a2, status: 'declined', reason: '当天要带孙子' });
    expect(await outboxOf(order.id, 'assignment.declined')).toEqual([
      expect.objectContaining({ orderId: order.id, assignmentId: a2, volunteerId: v2.id, reason: '当天要带孙子', actorId: v2.session.id, organizationId: org }),
    ]);
    expectProblem(await post(v2.session, `/assignments/${a2}/decline`, { reason: '再拒一次' }), 409, 'ASSIGNMENT_STATE_CONFLICT');
    expectProblem(await post(v2.session, `/assignments/${a2}/withdraw`), 409, 'ASSIGNMENT_STATE_CONFLICT');

    // A named volunteer withdrawing frees their time but opens no slot; the organisation is told.
    expect((await post(v1.session, `/assignments/${a1}/withdraw`).expect(200)).body).toMatchObject({ id: a1, status: 'withdrawn' });
    expect(await outboxOf(order.id, 'assignment.withdrawn')).toEqual([expect.objectContaining({ orderId: order.id, assignmentId: a1, volunteerId: v1.id, isSlotClaim: false })]);
    expect((await get(w.orgHaidian, `/orders/${order.id}`).expect(200)).body).toMatchObject({ openSlots: 1, version: order.version + 1 });
    const statuses = ((await get(v1.session, '/me/assignments?status=withdrawn').expect(200)).body as { id: string }[]).map((i) => i.id);
    expect(statuses).toEqual([a1]);
  });

  it('refuses a schedule that breaks a rule, naming the rule, and writes nothing', async () => {
    const order = await orderIn(t, w, 'accepted');
    const window = (order.preferredWindows as { start: string; end: string }[])[0] as { start: string; end: string };
    const venueId = await createVenue(t, { capacity: 60 });
    const good = await volunteer();
    const before = await trace(order.id);
    const hourMs = 3600 * 1000;
    const shift = (iso: string, hours: number) => new Date(new Date(iso).getTime() + hours * hourMs).toISOString();

    const otherOrg = await createVolunteer(t, { organizationId: w.organizations.haidian2 });
    const inactive = await createVolunteer(t, { organizationId: org, isActive: false, availability: [] });
    const capped = await createVolunteer(t, { organizationId: org, maxHoursPerWeek: 1 });
    const busy = await createVolunteer(t, { organizationId: org });
    const elsewhere = await orderIn(t, w, 'accepted');
    const takenVenue = await createVenue(t);
    await post(w.orgHaidian, `/orders/${elsewhere.id}/schedule`, scheduleBody(elsewhere, takenVenue, { volunteerIds: [busy.id] })).expect(200);

    const cases: [string, Record<string, unknown>, number, string, string?][] = [
      ['an hour before the window', { start: shift(window.start, -1), end: shift(window.end, -1) }, 422, 'OUTSIDE_PREFERRED_WINDOW'],
      ['straddling the window end', { start: shift(window.start, 1), end: shift(window.end, 1) }, 422, 'OUTSIDE_PREFERRED_WINDOW'],
      ['an unknown venue', { venueId: randomUUID() }, 422, 'UNKNOWN_VENUE'],
      ['a venue too small', { venueId: await createVenue(t, { capacity: 59 }) }, 422, 'VENUE_TOO_SMALL'],
      ['a venue without the wheelchair access the order needs', { venueId: await createVenue(t, { accessibility: ['large_print'] }) }, 422, 'VENUE_NOT_ACCESSIBLE'],
      ['a volunteer of another organisation', { volunteerIds: [good.id, otherOrg.id] }, 422, 'VOLUNTEER_NOT_IN_ORGANIZATION', 'volunteerIds.1'],
      ['a volunteer who does not exist', { volunteerIds: [randomUUID()] }, 422, 'VOLUNTEER_NOT_IN_ORGANIZATION', 'volunteerIds.0'],
      ['an inactive, unavailable volunteer', { volunteerIds: [inactive.id] }, 422, 'NOT_ELIGIBLE', 'volunteerIds.0'],
      ['a volunteer over the weekly cap', { volunteerIds: [good.id, capped.id] }, 422, 'NOT_ELIGIBLE', 'volunteerIds.1'],
      ['a venue another event holds', { venueId: takenVenue, volunteerIds: [good.id] }, 409, 'VENUE_CONFLICT'],
      ['a volunteer another event holds', { volunteerIds: [good.id, busy.id] }, 409, 'VOLUNTEER_CONFLICT'],
      ['a stale expectedVersion', { expectedVersion: order.version - 1 }, 409, 'ORDER_STATE_CONFLICT'],
    ];
    const found: string[] = [];
    for (const [name, overrides, status, code, field] of cases) {
      const res = await post(w.orgHaidian, `/orders/${order.id}/schedule`, scheduleBody(order, venueId, { volunteerIds: [good.id], ...overrides }));
      found.push(...problemMismatches(res, status, code, field).map((m) => `${name}: ${m}`));
      if (code === 'NOT_ELIGIBLE' && name.startsWith('an inactive'))
        expect((res.body as { errors: { field: string; message: string }[] }).errors).toEqual([
          { field: 'volunteerIds.0', message: 'inactive' },
          { field: 'volunteerIds.0', message: 'unavailable' },
        ]);
      if (name.includes('weekly cap')) expect((res.body as { errors: unknown[] }).errors).toEqual([{ field: 'volunteerIds.1', message: 'over_weekly_cap' }]);
    }
    expect(found).toEqual([]);
    expect(await trace(order.id)).toEqual(before);
    expect(await count(t.db, 'assignments', 'volunteer_id = $1', [good.id])).toBe(0);

    // The same order then schedules fine.
    await post(w.orgHaidian, `/orders/${order.id}/schedule`, scheduleBody(order, venueId, { volunteerIds: [good.id] })).expect(200);
  });

  it('an evening event past Beijing midnight (a night of stargazing): eligible with a window to 24:00 and one from 00:00 the next day, not with the first alone', async () => {
    // 22:00 on day 45 → 01:00 on day 46, Shanghai time
    const weekdayOf = (days: number) => new Date(new Date(at(days, 12)).getTime() + 8 * 3600 * 1000).getUTCDay() || 7;
    const [evening, night] = [weekdayOf(45), weekdayOf(46)];
    const order = await acceptedOrder(t, w, { preferredWindows: [{ start: at(45, 20), end: at(46, 3) }] });
    const both = await createVolunteer(t, { organizationId: org, availability: [{ weekday: evening, start: '18:00', end: '24:00' }, { weekday: night, start: '00:00', end: '02:00' }] });
    const eveningOnly = await createVolunteer(t, { organizationId: org, availability: [{ weekday: evening, start: '18:00', end: '24:00' }] });
    const slot = { start: at(45, 22), end: at(46, 1), venueId: await createVenue(t) };
    const refused = await post(w.orgHaidian, `/orders/${order.id}/schedule`, { ...slot, volunteerIds: [both.id, eveningOnly.id] });
    expectProblem(refused, 422, 'NOT_ELIGIBLE', 'volunteerIds.1');
    expect((refused.body as { errors: unknown[] }).errors).toEqual([{ field: 'volunteerIds.1', message: 'unavailable' }]);
    await post(w.orgHaidian, `/orders/${order.id}/schedule`, { ...slot, volunteerIds: [both.id] }).expect(200);
    expect(await count(t.db, 'assignments', 'order_id = $1 AND volunteer_id = $2', [order.id, both.id])).toBe(1);
  });

  it('scope: only the accepting organisation schedules; others get 404 (or 403 when they may see the order) and nothing is written', async () => {
    const order = await orderIn(t, w, 'accepted');
    const venueId = await createVenue(t);
    const v = await volunteer();
    const before = await trace(order.id);
    const body = scheduleBody(order, venueId, { volunteerIds: [v.id] });
    const found: string[] = [];
    for (const [who, status, code] of [
      [w.orgHaidian2, 404, 'NOT_FOUND'],
      [w.orgChaoyang, 404, 'NOT_FOUND'],
      [v.session, 404, 'NOT_FOUND'],
      [w.coordChaoyang, 404, 'NOT_FOUND'],
      [w.staffA1, 403, 'FORBIDDEN'],
      [w.residentA1, 403, 'FORBIDDEN'],
      [w.deptHaidian, 403, 'FORBIDDEN'],
    ] as [Session, number, string][])
      for (const action of ['schedule', 'reschedule'])
        found.push(...problemMismatches(await post(who, `/orders/${order.id}/${action}`, body), status, code).map((m) => `${who.username} ${action}: ${m}`));
    expect(found).toEqual([]);
    expect(await trace(order.id)).toEqual(before);
    // The accepting organisation cannot reschedule what is not scheduled yet.
    expectProblem(await post(w.orgHaidian, `/orders/${order.id}/reschedule`, body), 409, 'ORDER_STATE_CONFLICT');
    expect(await trace(order.id)).toEqual(before);
  });

  it('validation: malformed bodies are 400 with the field named, and nothing is written', async () => {
    const order = await orderIn(t, w, 'accepted');
    const venueId = await createVenue(t);
    const v = await volunteer();
    const before = await trace(order.id);
    const window = (order.preferredWindows as { start: string; end: string }[])[0] as { start: string; end: string };
    const local = (iso: string) => iso.replace(/\.\d{3}Z$/, '');
    const plus = (iso: string, hours: number) => new Date(new Date(iso).getTime() + hours * 3600 * 1000).toISOString();
    const cases: [string, Record<string, unknown>, string][] = [
      ['no start', { start: undefined }, 'start'],
      ['a start without offset', { start: local(window.start) }, 'start'],
      ['a start that is no time', { start: 'next Saturday' }, 'start'],
      ['end before start', { end: window.start, start: window.end }, 'end'],
      ['end equal to start', { end: window.start }, 'end'],
      ['an event of 13 hours', { end: plus(window.start, 13) }, 'end'],
      ['no venue', { venueId: undefined }, 'venueId'],
      ['a venue id that is no uuid', { venueId: 'hall-1' }, 'venueId'],
      ['volunteerIds null', { volunteerIds: null }, 'volunteerIds'],
      ['volunteerIds not an array', { volunteerIds: v.id }, 'volunteerIds'],
      ['a volunteer id that is no uuid', { volunteerIds: ['bob'] }, 'volunteerIds'],
      ['the same volunteer twice', { volunteerIds: [v.id, v.id] }, 'volunteerIds'],
      ['the same volunteer twice, in upper and lower case', { volunteerIds: [v.id, v.id.toUpperCase()] }, 'volunteerIds'],
      ['21 volunteers', { volunteerIds: Array.from({ length: 21 }, () => randomUUID()) }, 'volunteerIds'],
      ['51 open slots', { openSlots: 51 }, 'openSlots'],
      ['negative open slots', { openSlots: -1 }, 'openSlots'],
      ['fractional open slots', { openSlots: 1.5 }, 'openSlots'],
      ['nobody and no slot', { volunteerIds: [], openSlots: 0 }, 'volunteerIds'],
      ['an unknown field', { note: 'x' }, 'note'],
      ['expectedVersion 0', { expectedVersion: 0 }, 'expectedVersion'],
    ];
    const found: string[] = [];
    for (const [name, overrides, field] of cases) {
      const body = scheduleBody(order, venueId, { volunteerIds: [v.id], ...overrides });
      for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key];
      found.push(...problemMismatches(await post(w.orgHaidian, `/orders/${order.id}/schedule`, body), 400, 'VALIDATION_FAILED', field).map((m) => `${name}: ${m}`));
    }
    found.push(...problemMismatches(await post(w.orgHaidian, '/orders/not-a-uuid/schedule', scheduleBody(order, venueId, { volunteerIds: [v.id] })), 400, 'VALIDATION_FAILED'));
    found.push(...problemMismatches(await t.http().post(`/orders/${order.id}/schedule`).set(w.orgHaidian.auth).set('content-type', 'application/json').send('{"start":'), 400, 'VALIDATION_FAILED'));
    expect(found).toEqual([]);
    expect(await trace(order.id)).toEqual(before);

    // The volunteers' endpoints validate too.
    await post(w.orgHaidian, `/orders/${order.id}/schedule`, scheduleBody(order, venueId, { volunteerIds: [v.id] })).expect(200);
    const assignment = (await assignmentOf(order.id, v.id))?.id as string;
    const volunteerCases: [string, PromiseLike<Response>, string?][] = [
      ['decline without reason', post(v.session, `/assignments/${assignment}/decline`, {}), 'reason'],
      ['decline with a blank reason', post(v.session, `/assignments/${assignment}/decline`, { reason: '   ' }), 'reason'],
      ['decline with a reason of 1001 characters', post(v.session, `/assignments/${assignment}/decline`, { reason: 'x'.repeat(1001) }), 'reason'],
      ['confirm a malformed id', post(v.session, '/assignments/42/confirm')],
      ['list with a bad status', get(v.session, '/me/assignments?status=lost'), 'status'],
      ['list with a bad cursor', get(v.session, '/me/assignments?cursor=abc'), 'cursor'],
      ['list with limit 101', get(v.session, '/me/assignments?limit=101'), 'limit'],
      ['claim on a malformed id', post(v.session, '/orders/42/slots/claim')],
    ];
    for (const [name, pending, field] of volunteerCases) found.push(...problemMismatches(await pending, 400, 'VALIDATION_FAILED', field).map((m) => `${name}: ${m}`));
    expect(found).toEqual([]);
    expect((await assignmentOf(order.id, v.id))?.status).toBe('invited');
    expect(await count(t.db, 'outbox', `order_id = $1 AND type = 'assignment.declined'`, [order.id])).toBe(0);
  });

  it('reschedule moves the booking and every assignment at once: confirmed stay confirmed, slot claims move, unlisted are removed, new ones invited', async () => {
    const order = await acceptedOrder(t, w, wideWindows(40));
    const [hallA, hallB] = [await createVenue(t, { name: 'A 厅' }), await createVenue(t, { name: 'B 厅' })];
    const [v1, v2, v3, claimer] = [await volunteer(), await volunteer(), await volunteer(), await volunteer()];
    await post(w.orgHaidian, `/orders/${order.id}/schedule`, { start: at(40, 10), end: at(40, 12), venueId: hallA, volunteerIds: [v1.id, v2.id], openSlots: 1 }).expect(200);
    const a1 = (await assignmentOf(order.id, v1.id))?.id as string;
    await post(v1.session, `/assignments/${a1}/confirm`).expect(200);
    const claim = (await post(claimer.session, `/orders/${order.id}/slots/claim`).expect(201)).body as { id: string };
    const scheduled = (await get(w.orgHaidian, `/orders/${order.id}`).expect(200)).body as OrderJson;
    expect(scheduled).toMatchObject({ openSlots: 0 });

    const res = await post(w.orgHaidian, `/orders/${order.id}/reschedule`, {
      start: at(41, 14),
      end: at(41, 16),
      venueId: hallB,
      volunteerIds: [v1.id, v3.id],
      openSlots: 2,
      expectedVersion: scheduled.version,
    }).expect(200);
    const start = new Date(at(41, 14));
    const end = new Date(at(41, 16));
    expect(res.body).toMatchObject({ status: 'scheduled', version: scheduled.version + 1, venueId: hallB, openSlots: 2, scheduledStart: start.toISOString(), scheduledEnd: end.toISOString() });

    const bookings = (await t.db.query(`SELECT venue_id, status FROM bookings WHERE order_id = $1 ORDER BY created_at`, [order.id])).rows;
    expect(bookings).toEqual([
      { venue_id: hallA, status: 'cancelled' },
      { venue_id: hallB, status: 'active' },
    ]);
    const rows = await assignmentsOf(order.id);
    const byVolunteer = (id: string) => rows.filter((r) => r.volunteer_id === id).map((r) => ({ status: r.status, start: r.start, end: r.end }));
    expect(byVolunteer(v1.id)).toEqual([{ status: 'confirmed', start, end }]);
    expect(byVolunteer(v2.id)).toEqual([{ status: 'cancelled', start: new Date(at(40, 10)), end: new Date(at(40, 12)) }]);
    expect(byVolunteer(v3.id)).toEqual([{ status: 'invited', start, end }]);
    expect(byVolunteer(claimer.id)).toEqual([{ status: 'confirmed', start, end }]);
    expect(rows.find((r) => r.volunteer_id === claimer.id)?.id).toBe(claim.id);

    const invitations = await outboxOf(order.id, 'assignment.invited');
    expect(invitations.map((p) => (p.volunteerIds as string[])[0]).sort()).toEqual([v1.id, v2.id, v3.id].sort());
    expect(invitations.find((p) => (p.volunteerIds as string[])[0] === v3.id)?.when).toMatch(/14:00–16:00$/);
    const events = (await get(w.orgHaidian, `/orders/${order.id}/events`).expect(200)).body as { type: string; payload: Record<string, unknown> }[];
    expect(events.at(-1)).toMatchObject({ type: 'order.scheduled', payload: { removedVolunteerIds: [v2.id], previousVenueId: hallA, venueId: hallB } });

    // A volunteer who stays but is busy at the new time fails the whole reschedule.
    const other = await acceptedOrder(t, w, wideWindows(41));
    await post(w.orgHaidian, `/orders/${other.id}/schedule`, { start: at(41, 17), end: at(41, 19), venueId: await createVenue(t), volunteerIds: [v1.id] }).expect(200);
    const before = await trace(order.id);
    const snapshot = await assignmentsOf(order.id);
    expectProblem(await post(w.orgHaidian, `/orders/${order.id}/reschedule`, { start: at(41, 18), end: at(41, 20), venueId: hallB, volunteerIds: [v1.id, v3.id] }), 409, 'VOLUNTEER_CONFLICT');
    // …and one who is no longer available then.
    await t.db.query(`UPDATE volunteers SET unavailable = $2 WHERE id = $1`, [v3.id, JSON.stringify([{ start: at(40, 0), end: at(41, 0) }])]);
    const refused = await post(w.orgHaidian, `/orders/${order.id}/reschedule`, { start: at(40, 9), end: at(40, 11), venueId: hallA, volunteerIds: [v1.id, v3.id] });
    expectProblem(refused, 422, 'NOT_ELIGIBLE', 'volunteerIds.1');
    // …and a slot claimer who is busy then, though not listed.
    await post(w.orgHaidian, `/orders/${other.id}/reschedule`, { start: at(41, 17), end: at(41, 19), venueId: await createVenue(t), volunteerIds: [v1.id, claimer.id] }).expect(200);
    expectProblem(await post(w.orgHaidian, `/orders/${order.id}/reschedule`, { start: at(41, 17), end: at(41, 18), venueId: hallB, volunteerIds: [] }), 409, 'VOLUNTEER_CONFLICT');
    expect(await trace(order.id)).toEqual(before);
    expect(await assignmentsOf(order.id)).toEqual(snapshot);
    expect((await t.db.query(`SELECT venue_id FROM bookings WHERE order_id = $1 AND status = 'active'`, [order.id])).rows).toEqual([{ venue_id: hallB }]);

    // Moving within its own booking's time at the same venue is no conflict with itself.
    await post(w.orgHaidian, `/orders/${order.id}/reschedule`, { start: at(41, 15), end: at(41, 16), venueId: hallB, volunteerIds: [v1.id] }).expect(200);
    expect(await count(t.db, 'bookings', `order_id = $1 AND status = 'active'`, [order.id])).toBe(1);
    expect((await assignmentOf(order.id, v3.id))?.status).toBeUndefined();
  });
  it('through the worker: the invited, the volunteers eligible for open slots and the organisation are told, each once', async () => {
    const worker = await startTestWorker();
    const queues = openTestQueues();
    try {
      const order = await orderIn(t, w, 'accepted');
      const [named, eligible] = [await volunteer(), await volunteer()];
      const outsider = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian2 });
      await post(w.orgHaidian, `/orders/${order.id}/schedule`, scheduleBody(order, await createVenue(t), { volunteerIds: [named.id], openSlots: 1 })).expect(200);
      await drain(t.db, queues);
      const notices = async (who: Session) =>
        (await t.db.query<{ type: string; body: string }>(`SELECT type, body FROM notifications WHERE user_id = $1 AND order_id = $2 ORDER BY type`, [who.id, order.id])).rows;
      const typesOf = async (who: Session) => (await notices(who)).map((n) => n.type).filter((type) => !type.startsWith('order.') || type === 'order.scheduled');
      expect(await typesOf(named.session)).toEqual(['assignment.invited']);
      expect((await notices(named.session))[0]?.body).toMatch(/09:00–11:00/);
      expect(await typesOf(eligible.session)).toEqual(['task.open']);
      expect(await typesOf(outsider.session)).toEqual([]);
      expect(await typesOf(w.residentA1)).toEqual(['order.scheduled']);

      const invitation = (await assignmentOf(order.id, named.id))?.id as string;
      await post(named.session, `/assignments/${invitation}/decline`, { reason: '身体不适' }).expect(200);
      const claim = (await post(eligible.session, `/orders/${order.id}/slots/claim`).expect(201)).body as { id: string };
      await post(eligible.session, `/assignments/${claim.id}/withdraw`).expect(200);
      await drain(t.db, queues);
      expect(await typesOf(w.orgHaidian)).toEqual(['assignment.declined', 'assignment.withdrawn']);
      expect((await notices(w.orgHaidian)).find((n) => n.type === 'assignment.declined')?.body).toMatch(/身体不适/);
      expect(await typesOf(w.orgHaidian2)).toEqual([]);
      expect(await typesOf(named.session)).toEqual(['assignment.invited']);
    } finally {
      await worker.close();
      await queues.obliterate();
      await queues.close();
    }
  });
});
