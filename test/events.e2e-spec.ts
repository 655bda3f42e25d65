import { StageTimersService, JOB_IDS } from '@kepu/notifications';
import type { Response } from 'supertest';
import { manyResidents as manyResidentsOf } from './support/event-world';
import { acceptedOrder, at, createVenue, createVolunteerWithLogin, scheduleBody, type VolunteerWithLogin, wideWindows } from './support/fulfilment-world';
import { expectProblem, outcome } from './support/problem';
import { count, startTestApp, type TestApp } from './support/test-app';
import { drain, openTestQueues, startTestWorker, suitePrefix, type TestQueues, type TestWorker } from './support/test-worker';
import { COMMUNITY_A1, type OrderJson, type Session, type World, createWorld, login } from './support/world';

/**
 * Published events with sign-ups (API.md "Residents and volunteers on their own", DESIGN.md §10):
 * exact seats under a rush, the waiting line and its promotions, tickets at the door, feedback
 * once, the attendees told, and every new endpoint against every role and scope.
 */

interface EventJson {
  orderId: string;
  seats: number;
  confirmed: number;
  waitlisted: number;
  status: string;
  signupDeadline: string | null;
  mySignup: { id: string; status: string } | null;
  venue: { id: string; name: string; communityCode: string } | null;
  [field: string]: unknown;
}

interface SignupJson {
  id: string;
  orderId: string;
  status: 'confirmed' | 'waitlisted' | 'cancelled';
  attendees: number;
  ticketCode: string;
  position?: number;
}

interface EventSignupJson {
  id: string;
  userId: string;
  displayName: string;
  phone: string | null;
  attendees: number;
  status: string;
  position: number | null;
  ticketCode: string;
  attendedAt: string | null;
}

const HOUR = 3600 * 1000;

describe('published events and sign-ups', () => {
  let t: TestApp;
  let w: World;
  let worker: TestWorker;
  let queues: TestQueues;
  let venueId: string;
  let serial = 0;

  beforeAll(async () => {
    t = await startTestApp('events', { QUEUE_PREFIX: suitePrefix('events'), OUTBOX_POLL_MS: '100' });
    w = await createWorld(t);
    worker = await startTestWorker();
    queues = openTestQueues();
    venueId = await createVenue(t, { capacity: 2000 });
  }, 120_000);
  afterAll(async () => {
    await worker?.close();
    await queues?.obliterate();
    await queues?.close();
    await t?.close();
  });

  const post = (who: Session, path: string, body: object = {}) => t.http().post(path).set(who.auth).send(body);
  const get = (who: Session, path: string) => t.http().get(path).set(who.auth);

  /** A scheduled order of community A1 (accepted by 海淀's organisation), `days` ahead, with the given volunteers. */
  const scheduledOrder = async (days: number, volunteerIds: string[] = []): Promise<OrderJson> => {
    const order = await acceptedOrder(t, w, wideWindows(days));
    await post(w.orgHaidian, `/orders/${order.id}/schedule`, scheduleBody(order, venueId, { volunteerIds, openSlots: volunteerIds.length ? 0 : 1 })).expect(200);
    return order;
  };

  /** A scheduled order starting in about an hour: the door is open (2 h before the start) and sign-ups still are. */
  const soonOrder = async (volunteerIds: string[] = []): Promise<OrderJson> => {
    const start = new Date(Date.now() + HOUR);
    start.setUTCSeconds(0, 0);
    const end = new Date(start.getTime() + HOUR);
    const order = await acceptedOrder(t, w, { preferredWindows: [{ start: start.toISOString(), end: new Date(end.getTime() + HOUR).toISOString() }] });
    // A venue of its own: these events all start within the hour.
    const ownVenue = await createVenue(t, { capacity: 2000 });
    await post(w.orgHaidian, `/orders/${order.id}/schedule`, { start: start.toISOString(), end: end.toISOString(), venueId: ownVenue, volunteerIds, openSlots: volunteerIds.length ? 0 : 1 }).expect(200);
    return order;
  };

  const publish = async (orderId: string, seats: number, who: Session = w.orgHaidian, extra: object = {}): Promise<EventJson> =>
    (await post(who, `/orders/${orderId}/publish`, { seats, ...extra }).expect(201)).body as EventJson;

  /** A fresh resident of community A1 (or another), signed in through the API. */
  const newResident = async (communityCode = COMMUNITY_A1): Promise<Session> => {
    const username = `attendee-${++serial}`;
    await post(w.admin, '/users', { username, password: `${username}-pass-1`, displayName: `居民${serial}`, role: 'resident', communityCode, phone: `1370000${String(serial).padStart(4, '0')}` }).expect(201);
    return login(t, username, `${username}-pass-1`);
  };

  const manyResidents = (n: number): Promise<Session[]> => manyResidentsOf(t, n);

  const signUp = (who: Session, orderId: string, attendees?: number) => post(who, `/events/${orderId}/signups`, attendees === undefined ? {} : { attendees });
  const signups = async (orderId: string): Promise<EventSignupJson[]> => {
    const all: EventSignupJson[] = [];
    let cursor: string | null = null;
    do {
      const page = (await get(w.orgHaidian, `/events/${orderId}/signups?limit=100${cursor ? `&cursor=${cursor}` : ''}`).expect(200)).body as { items: EventSignupJson[]; nextCursor: string | null };
      all.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return all;
  };
  const eventRow = async (orderId: string) =>
    (await t.db.query<{ seats: number; confirmed: number; waitlisted: number }>(`SELECT seats, confirmed, waitlisted FROM events WHERE order_id = $1`, [orderId])).rows[0];
  const inboxTypes = async (who: Session, orderId: string): Promise<string[]> =>
    ((await get(who, '/me/notifications?limit=100').expect(200)).body as { items: { type: string; orderId: string | null }[] }).items
      .filter((n) => n.orderId === orderId)
      .map((n) => n.type);

  describe('publishing', () => {
    it('a scheduled order is published once with its seats; the event shows the order, venue and counters', async () => {
      const order = await scheduledOrder(30);
      const event = await publish(order.id, 40, w.orgHaidian, { note: '请提前十分钟到场' });
      expect(event).toMatchObject({
        orderId: order.id,
        title: order.title,
        topic: 'anti_fraud',
        audience: 'elderly',
        format: 'lecture',
        communityCode: COMMUNITY_A1,
        seats: 40,
        confirmed: 0,
        waitlisted: 0,
        status: 'open',
        signupDeadline: null,
        mySignup: null,
        note: '请提前十分钟到场',
      });
      expect(event.venue).toMatchObject({ id: venueId, communityCode: COMMUNITY_A1 });
      expect(Date.parse(event.start as string)).toBe(Date.parse((order.preferredWindows as { start: string }[])[0]!.start));
      expectProblem(await post(w.orgHaidian, `/orders/${order.id}/publish`, { seats: 10 }), 409, 'ALREADY_PUBLISHED');
      expectProblem(await post(w.staffA1, `/orders/${order.id}/publish`, { seats: 10 }), 409, 'ALREADY_PUBLISHED');
      expect(await count(t.db, 'events', 'order_id = $1', [order.id])).toBe(1);
    });

    it('community staff of the order\'s community publish too, with a sign-up deadline', async () => {
      const order = await scheduledOrder(31);
      const deadline = new Date(Date.now() + 10 * 24 * HOUR).toISOString();
      const event = await publish(order.id, 5, w.staffA1, { signupDeadline: deadline });
      expect(Date.parse(event.signupDeadline!)).toBe(Date.parse(deadline));
    });

    it('refuses an order that is not scheduled (409), bad bodies (400) and deadlines after the start or past (422), writing nothing', async () => {
      const accepted = await acceptedOrder(t, w, wideWindows(32));
      expectProblem(await post(w.orgHaidian, `/orders/${accepted.id}/publish`, { seats: 10 }), 409, 'ORDER_STATE_CONFLICT');
      const order = await scheduledOrder(33);
      for (const bad of [{}, { seats: 0 }, { seats: 2001 }, { seats: 1.5 }, { seats: '10' }, { seats: 10, note: 'x'.repeat(2001) }, { seats: 10, signupDeadline: '2027-01-01T09:00:00' }, { seats: 10, extra: 1 }])
        expectProblem(await post(w.orgHaidian, `/orders/${order.id}/publish`, bad), 400, 'VALIDATION_FAILED');
      expectProblem(await post(w.orgHaidian, `/orders/${order.id}/publish`, { seats: 10, signupDeadline: new Date(Date.now() + 60 * 24 * HOUR).toISOString() }), 422, 'INVALID_SIGNUP_DEADLINE', 'signupDeadline');
      expectProblem(await post(w.orgHaidian, `/orders/${order.id}/publish`, { seats: 10, signupDeadline: new Date(Date.now() - HOUR).toISOString() }), 422, 'INVALID_SIGNUP_DEADLINE', 'signupDeadline');
      expect(await count(t.db, 'events', 'order_id IN ($1, $2)', [accepted.id, order.id])).toBe(0);
      await publish(order.id, 2000);
    });
  });

  describe('listing', () => {
    it('GET /events: residents see their district\'s events soonest first, with their own sign-up; filters and pages', async () => {
      const later = await scheduledOrder(61);
      const sooner = await scheduledOrder(60);
      await publish(later.id, 10);
      await publish(sooner.id, 10);
      const mine = (await signUp(w.residentA2, sooner.id, 2).expect(201)).body as SignupJson;

      const list = async (who: Session, query = '') => ((await get(who, `/events?limit=100${query}`).expect(200)).body as { items: EventJson[] }).items;
      const seenByA2 = await list(w.residentA2);
      const ids = seenByA2.map((e) => e.orderId);
      expect(ids.indexOf(sooner.id)).toBeGreaterThanOrEqual(0);
      expect(ids.indexOf(sooner.id)).toBeLessThan(ids.indexOf(later.id));
      const starts = seenByA2.map((e) => Date.parse(e.start as string));
      expect(starts).toEqual([...starts].sort((a, b) => a - b));
      expect(seenByA2.find((e) => e.orderId === sooner.id)).toMatchObject({ confirmed: 2, waitlisted: 0, mySignup: { id: mine.id, status: 'confirmed' } });
      expect(seenByA2.find((e) => e.orderId === later.id)?.mySignup).toBeNull();
      // Another district sees none of them.
      expect((await list(w.residentB1)).map((e) => e.orderId)).not.toContain(sooner.id);
      expect((await list(w.coordChaoyang)).map((e) => e.orderId)).not.toContain(sooner.id);
      expect((await list(w.coordHaidian)).map((e) => e.orderId)).toContain(sooner.id);
      // Filters: a window of start times, a community elsewhere.
      const windowed = await list(w.residentA1, `&from=${encodeURIComponent(at(60, 0))}&to=${encodeURIComponent(at(61, 0))}`);
      expect(windowed.map((e) => e.orderId)).toContain(sooner.id);
      expect(windowed.map((e) => e.orderId)).not.toContain(later.id);
      expect(await list(w.residentA1, '&communityCode=110105001024')).toEqual([]);
      // Pages of one, following the cursor, give the same order.
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page = (await get(w.residentA2, `/events?limit=1${cursor ? `&cursor=${cursor}` : ''}`).expect(200)).body as { items: EventJson[]; nextCursor: string | null };
        paged.push(...page.items.map((e) => e.orderId));
        cursor = page.nextCursor;
      } while (cursor);
      expect(paged).toEqual(ids);
      for (const bad of ['?limit=0', '?limit=101', '?districtCode=11', '?communityCode=abc', '?from=yesterday', '?cursor=abc'])
        expectProblem(await get(w.residentA1, `/events${bad}`), 400, 'VALIDATION_FAILED');
    });

    it('GET /me/signups: own sign-ups with their events, newest first', async () => {
      const resident = await newResident();
      const first = await scheduledOrder(62);
      const second = await scheduledOrder(63);
      await publish(first.id, 10);
      await publish(second.id, 10);
      const a = (await signUp(resident, first.id).expect(201)).body as SignupJson;
      const b = (await signUp(resident, second.id, 3).expect(201)).body as SignupJson;
      const page = (await get(resident, '/me/signups').expect(200)).body as { items: (SignupJson & { event: EventJson })[] };
      expect(page.items.map((s) => s.id)).toEqual([b.id, a.id]);
      expect(page.items[0]).toMatchObject({ attendees: 3, status: 'confirmed', ticketCode: b.ticketCode, event: { orderId: second.id, confirmed: 3, mySignup: { id: b.id } } });
      expect(((await get(w.residentA2, '/me/signups').expect(200)).body as { items: SignupJson[] }).items.map((s) => s.id)).not.toContain(a.id);
    });
  });

  describe('signing up', () => {
    it('confirmed while seats last, then waiting with positions; 409 twice, 400 bad bodies, 422 closed', async () => {
      const order = await scheduledOrder(34);
      await publish(order.id, 5);
      const [r1, r2, r3, r4] = [await newResident(), await newResident(), await newResident(), await newResident()];
      const s1 = (await signUp(r1, order.id).expect(201)).body as SignupJson;
      expect(s1).toMatchObject({ orderId: order.id, status: 'confirmed', attendees: 1 });
      expect(s1.ticketCode).toMatch(/^[23456789A-HJKMNP-Z]{10}$/);
      expect(s1.position).toBeUndefined();
      expect((await signUp(r2, order.id, 4).expect(201)).body).toMatchObject({ status: 'confirmed', attendees: 4 });
      expect(((await get(r1, `/events/${order.id}`).expect(200)).body as EventJson).status).toBe('full');
      expect((await signUp(r3, order.id, 2).expect(201)).body).toMatchObject({ status: 'waitlisted', attendees: 2, position: 1 });
      expect((await signUp(r4, order.id, 1).expect(201)).body).toMatchObject({ status: 'waitlisted', position: 2 });
      expect(await eventRow(order.id)).toEqual({ seats: 5, confirmed: 5, waitlisted: 3 });

      expectProblem(await signUp(r1, order.id), 409, 'ALREADY_SIGNED_UP');
      expectProblem(await signUp(r3, order.id, 1), 409, 'ALREADY_SIGNED_UP');
      const r5 = await newResident();
      for (const bad of [{ attendees: 0 }, { attendees: 5 }, { attendees: 2.5 }, { attendees: '1' }, { attendees: null }, { guests: 1 }])
        expectProblem(await post(r5, `/events/${order.id}/signups`, bad), 400, 'VALIDATION_FAILED');
      expectProblem(await signUp(r5, '00000000-0000-4000-8000-000000000000'), 404, 'NOT_FOUND');
      expectProblem(await signUp(r5, 'not-a-uuid'), 400, 'VALIDATION_FAILED');
      expect(await count(t.db, 'event_signups', 'user_id = $1', [r5.id])).toBe(0);

      // Past the deadline: closed.
      await t.db.query(`UPDATE events SET signup_deadline = now() - interval '1 minute' WHERE order_id = $1`, [order.id]);
      expect(((await get(r5, `/events/${order.id}`).expect(200)).body as EventJson).status).toBe('closed');
      expectProblem(await signUp(r5, order.id), 422, 'SIGNUP_CLOSED');
      expect(await count(t.db, 'event_signups', 'user_id = $1', [r5.id])).toBe(0);
    });

    it('an unpublished order is no event (404); a started or cancelled event takes no sign-ups (422)', async () => {
      const unpublished = await scheduledOrder(35);
      expectProblem(await get(w.residentA1, `/events/${unpublished.id}`), 404, 'NOT_FOUND');
      expectProblem(await signUp(w.residentA1, unpublished.id), 404, 'NOT_FOUND');

      const started = await soonOrder();
      await publish(started.id, 10);
      await t.db.query(`UPDATE orders SET scheduled_start = now() - interval '5 minutes' WHERE id = $1`, [started.id]);
      expectProblem(await signUp(w.residentA1, started.id), 422, 'SIGNUP_CLOSED');

      const cancelled = await scheduledOrder(36);
      await publish(cancelled.id, 10);
      await post(w.staffA1, `/orders/${cancelled.id}/cancel`, { reason: '场地维修' }).expect(200);
      expect(((await get(w.residentA1, `/events/${cancelled.id}`).expect(200)).body as EventJson).status).toBe('cancelled');
      expectProblem(await signUp(w.residentA1, cancelled.id), 422, 'SIGNUP_CLOSED');
    });

    it('a rush: 200 residents with 1–4 attendees at once for 50 seats → all 201, never more than 50 confirmed, the line in order', async () => {
      const order = await scheduledOrder(37);
      await publish(order.id, 50);
      const rush = await manyResidents(200);
      const wanted = rush.map((_, i) => 1 + ((i * 7 + 3) % 4));
      const answers: Response[] = await Promise.all(rush.map((r, i) => signUp(r, order.id, wanted[i])));
      expect(answers.map(outcome).filter((o) => o.status !== 201)).toEqual([]);
      const made = answers.map((a) => a.body as SignupJson);

      const confirmed = made.filter((s) => s.status === 'confirmed');
      const waiting = made.filter((s) => s.status === 'waitlisted');
      const confirmedPeople = confirmed.reduce((n, s) => n + s.attendees, 0);
      expect(confirmed.length + waiting.length).toBe(200);
      expect(confirmedPeople).toBeLessThanOrEqual(50);
      // No waiting sign-up would have fit: the seats are used as far as the groups allow.
      for (const s of waiting) expect(s.attendees).toBeGreaterThan(50 - confirmedPeople);
      expect(await eventRow(order.id)).toEqual({ seats: 50, confirmed: confirmedPeople, waitlisted: waiting.reduce((n, s) => n + s.attendees, 0) });
      // Distinct tickets; positions 1…n, each as the organisers' list shows it, in the order they came.
      expect(new Set(made.map((s) => s.ticketCode)).size).toBe(200);
      expect(waiting.map((s) => s.position).sort((a, b) => a! - b!)).toEqual(waiting.map((_, i) => i + 1));
      const listed = await signups(order.id);
      expect(listed).toHaveLength(200);
      const line = listed.filter((s) => s.status === 'waitlisted');
      expect(line.map((s) => s.position)).toEqual(line.map((_, i) => i + 1));
      const answeredPosition = new Map(waiting.map((s) => [s.id, s.position]));
      expect(line.map((s) => answeredPosition.get(s.id))).toEqual(line.map((s) => s.position));
      expect(listed.every((s) => s.phone === null || /^136\*{4}\d{4}$/.test(s.phone))).toBe(true);

      // Cancellations free seats: the first waiting sign-ups that fit are promoted, in line order.
      const byUser = new Map(rush.map((r, i) => [made[i]!.id, r]));
      const bigConfirmed = listed.filter((s) => s.status === 'confirmed').sort((a, b) => b.attendees - a.attendees)[0]!;
      const free = 50 - confirmedPeople + bigConfirmed.attendees;
      let left = free;
      const expected: string[] = [];
      for (const s of line)
        if (s.attendees <= left) {
          expected.push(s.id);
          left -= s.attendees;
        }
      const cancelled = (await post(byUser.get(bigConfirmed.id)!, `/signups/${bigConfirmed.id}/cancel`).expect(200)).body as SignupJson;
      expect(cancelled).toMatchObject({ id: bigConfirmed.id, status: 'cancelled' });
      const after = await signups(order.id);
      const promoted = after.filter((s) => s.status === 'confirmed' && line.some((l) => l.id === s.id)).map((s) => s.id);
      expect(promoted).toEqual(expected);
      expect(promoted.length).toBeGreaterThan(0);
      const confirmedAfter = after.filter((s) => s.status === 'confirmed').reduce((n, s) => n + s.attendees, 0);
      expect(confirmedAfter).toBeLessThanOrEqual(50);
      expect((await eventRow(order.id))?.confirmed).toBe(confirmedAfter);
      const newLine = after.filter((s) => s.status === 'waitlisted');
      expect(newLine.map((s) => s.position)).toEqual(newLine.map((_, i) => i + 1));
    }, 60_000);

    it('parallel cancellations and sign-ups keep the counters exact', async () => {
      const order = await scheduledOrder(38);
      await publish(order.id, 10);
      const people = await manyResidents(40);
      const made = (await Promise.all(people.map((p) => signUp(p, order.id, 1)))).map((r) => r.body as SignupJson);
      const late = await manyResidents(20);
      const answers = await Promise.all([
        ...made.slice(0, 10).map((s, i) => post(people[i]!, `/signups/${s.id}/cancel`)),
        ...late.map((p) => signUp(p, order.id, 2)),
      ]);
      expect(answers.map(outcome).filter((o) => o.status >= 300)).toEqual([]);
      const listed = await signups(order.id);
      const confirmedPeople = listed.filter((s) => s.status === 'confirmed').reduce((n, s) => n + s.attendees, 0);
      expect(confirmedPeople).toBe(10);
      expect(await eventRow(order.id)).toEqual({ seats: 10, confirmed: 10, waitlisted: listed.filter((s) => s.status === 'waitlisted').reduce((n, s) => n + s.attendees, 0) });
    }, 60_000);

    it('cancel: only the attendee, before the start, once; a cancelled sign-up may sign up again', async () => {
      const order = await scheduledOrder(39);
      await publish(order.id, 1);
      const [a, b] = [await newResident(), await newResident()];
      const sa = (await signUp(a, order.id).expect(201)).body as SignupJson;
      const sb = (await signUp(b, order.id).expect(201)).body as SignupJson;
      expect(sb).toMatchObject({ status: 'waitlisted', position: 1 });
      expectProblem(await post(w.orgHaidian, `/signups/${sa.id}/cancel`), 403, 'FORBIDDEN');
      expectProblem(await post(b, `/signups/${sa.id}/cancel`), 404, 'NOT_FOUND');
      expectProblem(await post(w.residentB1, `/signups/${sa.id}/cancel`), 404, 'NOT_FOUND');
      expectProblem(await post(a, `/signups/00000000-0000-4000-8000-000000000000/cancel`), 404, 'NOT_FOUND');
      await post(a, `/signups/${sa.id}/cancel`).expect(200);
      expect(((await get(b, `/events/${order.id}`).expect(200)).body as EventJson).mySignup).toEqual({ id: sb.id, status: 'confirmed' });
      expectProblem(await post(a, `/signups/${sa.id}/cancel`), 409, 'SIGNUP_NOT_ACTIVE');
      expect((await signUp(a, order.id).expect(201)).body).toMatchObject({ status: 'waitlisted', position: 1 });
      // Once started, no cancelling.
      await t.db.query(`UPDATE orders SET scheduled_start = now() - interval '1 minute' WHERE id = $1`, [order.id]);
      expectProblem(await post(b, `/signups/${sb.id}/cancel`), 422, 'SIGNUP_CLOSED');
    });
  });

  describe('at the door', () => {
    it('tickets scanned from 2 h before the start until the end: 200 once, 409 twice, 404 unknown, 422 not confirmed or outside the window', async () => {
      const volunteer = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
      const order = await soonOrder([volunteer.id]);
      await publish(order.id, 3);
      const [a, b, c, d] = [await newResident(), await newResident(), await newResident(), await newResident()];
      const sa = (await signUp(a, order.id).expect(201)).body as SignupJson;
      const sb = (await signUp(b, order.id, 2).expect(201)).body as SignupJson;
      const sc = (await signUp(c, order.id, 2).expect(201)).body as SignupJson;
      expect(sc.status).toBe('waitlisted');
      const sd = (await signUp(d, order.id, 1).expect(201)).body as SignupJson;
      expect(sd.status).toBe('waitlisted');
      await post(d, `/signups/${sd.id}/cancel`).expect(200);

      const scan = (who: Session, ticketCode: string) => post(who, `/events/${order.id}/attendance`, { ticketCode });
      const scanned = (await scan(w.orgHaidian, sa.ticketCode).expect(200)).body as EventSignupJson;
      expect(scanned).toMatchObject({ id: sa.id, userId: a.id, attendees: 1, status: 'confirmed', ticketCode: sa.ticketCode });
      expect(Date.parse(scanned.attendedAt!)).toBeGreaterThan(Date.now() - 60_000);
      expect(scanned.phone).toMatch(/^137\*{4}\d{4}$/);
      expectProblem(await scan(w.staffA1, sa.ticketCode), 409, 'ALREADY_ATTENDED');
      // The assigned volunteer scans too, lower case typed is fine.
      expect((await scan(volunteer.session, sb.ticketCode.toLowerCase()).expect(200)).body).toMatchObject({ id: sb.id });
      expectProblem(await scan(w.staffA1, 'ZZZZZZZZZZ'), 404, 'NOT_FOUND');
      expectProblem(await scan(w.staffA1, sc.ticketCode), 422, 'SIGNUP_NOT_CONFIRMED');
      expectProblem(await scan(w.staffA1, sd.ticketCode), 422, 'SIGNUP_NOT_CONFIRMED');
      for (const bad of [{}, { ticketCode: '' }, { ticketCode: 'x'.repeat(33) }, { ticketCode: 12 }])
        expectProblem(await post(w.staffA1, `/events/${order.id}/attendance`, bad), 400, 'VALIDATION_FAILED');
      // A scanned sign-up is no longer cancelled.
      expectProblem(await post(a, `/signups/${sa.id}/cancel`), 409, 'SIGNUP_NOT_ACTIVE');

      // A month ahead: too early. Over: too late.
      const later = await scheduledOrder(40);
      await publish(later.id, 3);
      const sl = (await signUp(a, later.id).expect(201)).body as SignupJson;
      expectProblem(await post(w.orgHaidian, `/events/${later.id}/attendance`, { ticketCode: sl.ticketCode }), 422, 'ATTENDANCE_CLOSED');
      await t.db.query(`UPDATE orders SET scheduled_start = now() - interval '3 hours', scheduled_end = now() - interval '1 hour' WHERE id = $1`, [later.id]);
      expectProblem(await post(w.orgHaidian, `/events/${later.id}/attendance`, { ticketCode: sl.ticketCode }), 422, 'ATTENDANCE_CLOSED');
      expect(await count(t.db, 'event_signups', 'id = $1 AND attended_at IS NOT NULL', [sl.id])).toBe(0);
    });

    it('feedback once per attended sign-up (403 for others, 409 twice); completion defaults attendance to the scanned attendees', async () => {
      const volunteer = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
      const order = await soonOrder([volunteer.id]);
      await publish(order.id, 10);
      const [a, b, c] = [await newResident(), await newResident(), await newResident()];
      const sa = (await signUp(a, order.id, 3).expect(201)).body as SignupJson;
      const sb = (await signUp(b, order.id, 2).expect(201)).body as SignupJson;
      await signUp(c, order.id, 4).expect(201);
      await post(w.staffA1, `/events/${order.id}/attendance`, { ticketCode: sa.ticketCode }).expect(200);
      await post(w.staffA1, `/events/${order.id}/attendance`, { ticketCode: sb.ticketCode }).expect(200);

      const feedback = (await post(a, `/events/${order.id}/feedback`, { score: 5, comment: '讲得很清楚' }).expect(201)).body;
      expect(feedback).toMatchObject({ signupId: sa.id, orderId: order.id, score: 5, comment: '讲得很清楚' });
      expectProblem(await post(a, `/events/${order.id}/feedback`, { score: 4 }), 409, 'ALREADY_RATED');
      expectProblem(await post(c, `/events/${order.id}/feedback`, { score: 4 }), 403, 'FORBIDDEN');
      expectProblem(await post(w.orgHaidian, `/events/${order.id}/feedback`, { score: 4 }), 403, 'FORBIDDEN');
      expectProblem(await post(w.residentB1, `/events/${order.id}/feedback`, { score: 4 }), 404, 'NOT_FOUND');
      for (const bad of [{}, { score: 0 }, { score: 6 }, { score: 3.5 }, { score: 3, comment: 'x'.repeat(2001) }])
        expectProblem(await post(b, `/events/${order.id}/feedback`, bad), 400, 'VALIDATION_FAILED');
      await post(b, `/events/${order.id}/feedback`, { score: 3 }).expect(201);
      expect(await count(t.db, 'event_signups', 'order_id = $1 AND feedback_at IS NOT NULL', [order.id])).toBe(2);

      // The volunteer checks in (the event starts); completing without a figure counts the scanned people: 3 + 2.
      const mine = (await get(volunteer.session, '/me/assignments').expect(200)).body as { id: string; orderId: string }[];
      await post(volunteer.session, `/assignments/${mine.find((x) => x.orderId === order.id)!.id}/confirm`).expect(200);
      await post(volunteer.session, `/orders/${order.id}/check-in`).expect(200);
      const completed = (await post(w.orgHaidian, `/orders/${order.id}/complete`, { summary: '顺利完成' }).expect(200)).body as OrderJson;
      expect(completed).toMatchObject({ status: 'completed', attendance: 5 });
    });

    it('an order never published still needs its attendance at completion (400)', async () => {
      const volunteer = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
      const order = await soonOrder([volunteer.id]);
      const mine = (await get(volunteer.session, '/me/assignments').expect(200)).body as { id: string; orderId: string }[];
      await post(volunteer.session, `/assignments/${mine.find((x) => x.orderId === order.id)!.id}/confirm`).expect(200);
      await post(volunteer.session, `/orders/${order.id}/check-in`).expect(200);
      expectProblem(await post(w.orgHaidian, `/orders/${order.id}/complete`, { summary: '完成' }), 400, 'VALIDATION_FAILED', 'attendance');
      expect((await post(w.orgHaidian, `/orders/${order.id}/complete`, { summary: '完成', attendance: 12 }).expect(200)).body).toMatchObject({ attendance: 12 });
    });
  });

  describe('notifications', () => {
    it('published → the community\'s residents (not those who turned it off); confirmed, promoted, changed, cancelled → the attendees', async () => {
      const [quiet, neighbour, a, b] = [await newResident(), await newResident(), await newResident(), await newResident()];
      const otherCommunity = await newResident('110108002001');
      await t.http().put('/me/notification-preferences').set(quiet.auth).send({ sms: false, email: false, wechat: false, quietHours: true, events: false }).expect(200);
      expect((await get(quiet, '/me/notification-preferences').expect(200)).body).toMatchObject({ events: false });

      const order = await acceptedOrder(t, w, wideWindows(70));
      await post(w.orgHaidian, `/orders/${order.id}/schedule`, scheduleBody(order, venueId, { openSlots: 1 })).expect(200);
      await publish(order.id, 2);
      const sa = (await signUp(a, order.id, 2).expect(201)).body as SignupJson;
      const sb = (await signUp(b, order.id, 1).expect(201)).body as SignupJson;
      expect(sb.status).toBe('waitlisted');
      await drain(t.db, queues, { isDeliveryDelayExpected: true });
      expect(await inboxTypes(neighbour, order.id)).toEqual(['event.published']);
      expect(await inboxTypes(quiet, order.id)).toEqual([]);
      expect(await inboxTypes(otherCommunity, order.id)).toEqual([]);
      expect((await inboxTypes(a, order.id)).sort()).toEqual(['event.published', 'signup.confirmed']);
      const confirmedNotice = ((await get(a, '/me/notifications?limit=100').expect(200)).body as { items: { type: string; body: string }[] }).items.find((n) => n.type === 'signup.confirmed');
      expect(confirmedNotice?.body).toContain(sa.ticketCode);

      await post(a, `/signups/${sa.id}/cancel`).expect(200);
      await drain(t.db, queues, { isDeliveryDelayExpected: true });
      expect((await inboxTypes(b, order.id)).sort()).toEqual(['event.published', 'signup.promoted']);

      // The 24 h reminder is the order's timer; when it fires the confirmed attendees hear it.
      const timers = worker.app.get(StageTimersService);
      const job = await queues.timers.getJob(JOB_IDS.reminderDue(order.id, '24h'));
      expect(job).toBeDefined();
      const start = new Date(((await get(b, `/events/${order.id}`).expect(200)).body as EventJson).start as string).toISOString();
      await timers.onReminderDue(order.id, '24h', start);
      await drain(t.db, queues, { isDeliveryDelayExpected: true });
      expect(await inboxTypes(b, order.id)).toContain('event.reminder');
      expect(await inboxTypes(a, order.id)).not.toContain('event.reminder');

      const c = await newResident();
      await signUp(c, order.id, 2).expect(201); // waiting: told of changes too
      const window = (order.preferredWindows as { start: string; end: string }[])[1]!;
      await post(w.orgHaidian, `/orders/${order.id}/reschedule`, { start: window.start, end: window.end, venueId, volunteerIds: [], openSlots: 1 }).expect(200);
      await drain(t.db, queues, { isDeliveryDelayExpected: true });
      expect(await inboxTypes(b, order.id)).toContain('event.changed');
      expect(await inboxTypes(c, order.id)).toContain('event.changed');
      expect(await inboxTypes(a, order.id)).not.toContain('event.changed');
      expect(await inboxTypes(neighbour, order.id)).toEqual(['event.published']);

      await post(w.staffA1, `/orders/${order.id}/cancel`, { reason: '场地维修' }).expect(200);
      await drain(t.db, queues, { isDeliveryDelayExpected: true });
      for (const who of [b, c]) expect((await inboxTypes(who, order.id)).filter((x) => x === 'event.cancelled')).toHaveLength(1);
      expect(await inboxTypes(a, order.id)).not.toContain('event.cancelled');
    }, 60_000);
  });

  describe('scope: every new endpoint against every role', () => {
    let order: OrderJson;
    let volunteer: VolunteerWithLogin;
    const roles = () => ({
      residentA1: w.residentA1,
      residentA2: w.residentA2,
      residentB1: w.residentB1,
      staffA1: w.staffA1,
      staffA2: w.staffA2,
      staffB1: w.staffB1,
      deptHaidian: w.deptHaidian,
      deptChaoyang: w.deptChaoyang,
      orgHaidian: w.orgHaidian,
      orgHaidian2: w.orgHaidian2,
      orgChaoyang: w.orgChaoyang,
      coordHaidian: w.coordHaidian,
      coordChaoyang: w.coordChaoyang,
      admin: w.admin,
      volunteer: volunteer.session,
    });
    type Who = keyof ReturnType<typeof roles>;

    beforeAll(async () => {
      volunteer = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
      order = await soonOrder([volunteer.id]);
      await publish(order.id, 100);
    });

    const check = async (expected: Record<Who, number>, request: (who: Session, label: Who) => Promise<Response>) => {
      const found: Record<string, number> = {};
      for (const [label, session] of Object.entries(roles()) as [Who, Session][]) found[label] = (await request(session, label)).status;
      expect(found).toEqual(expected);
    };

    it('GET /events/:orderId and POST /events/:orderId/signups: the district and those who run it; 404 elsewhere', async () => {
      const visible = { residentA1: 200, residentA2: 200, residentB1: 404, staffA1: 200, staffA2: 200, staffB1: 404, deptHaidian: 200, deptChaoyang: 404, orgHaidian: 200, orgHaidian2: 200, orgChaoyang: 404, coordHaidian: 200, coordChaoyang: 404, admin: 200, volunteer: 200 };
      await check(visible, (who) => get(who, `/events/${order.id}`));
      const signed = Object.fromEntries(Object.entries(visible).map(([k, v]) => [k, v === 200 ? 201 : 404])) as Record<Who, number>;
      await check(signed, (who) => signUp(who, order.id));
    });

    it('POST /orders/:id/publish: the accepting organisation and the community staff; 403 for others who see the order, 404 elsewhere', async () => {
      const fresh = await scheduledOrder(41);
      const expected = { residentA1: 403, residentA2: 404, residentB1: 404, staffA1: 409, staffA2: 404, staffB1: 404, deptHaidian: 403, deptChaoyang: 404, orgHaidian: 201, orgHaidian2: 404, orgChaoyang: 404, coordHaidian: 403, coordChaoyang: 404, admin: 403, volunteer: 403 };
      // orgHaidian publishes first (201), so staffA1, allowed too, finds it published (409).
      const ordered = Object.entries(roles()).sort(([a], [b]) => (a === 'orgHaidian' ? -1 : b === 'orgHaidian' ? 1 : 0));
      const found: Record<string, number> = {};
      for (const [label, session] of ordered) found[label] = (await post(session, `/orders/${fresh.id}/publish`, { seats: 10 })).status;
      expect(found).toEqual(expected);
    });

    it('GET /events/:orderId/signups: organisers and coordinators in scope (phones masked); 403 for others who see it; 404 elsewhere', async () => {
      await check(
        { residentA1: 403, residentA2: 403, residentB1: 404, staffA1: 200, staffA2: 403, staffB1: 404, deptHaidian: 403, deptChaoyang: 404, orgHaidian: 200, orgHaidian2: 403, orgChaoyang: 404, coordHaidian: 200, coordChaoyang: 404, admin: 200, volunteer: 403 },
        (who) => get(who, `/events/${order.id}/signups`),
      );
      const listed = ((await get(w.coordHaidian, `/events/${order.id}/signups`).expect(200)).body as { items: EventSignupJson[] }).items;
      expect(listed.length).toBeGreaterThan(0);
      for (const s of listed) expect(s.phone === null || /^\d{3}\*{4}\d{4}$/.test(s.phone)).toBe(true);
    });

    it('POST /events/:orderId/attendance: the organisation, its assigned volunteer, the community staff; 403 for others who see it; 404 elsewhere', async () => {
      const tickets = await manyResidents(20);
      const codes: string[] = [];
      for (const r of tickets) codes.push(((await signUp(r, order.id).expect(201)).body as SignupJson).ticketCode);
      let next = 0;
      await check(
        { residentA1: 403, residentA2: 403, residentB1: 404, staffA1: 200, staffA2: 403, staffB1: 404, deptHaidian: 403, deptChaoyang: 404, orgHaidian: 200, orgHaidian2: 403, orgChaoyang: 404, coordHaidian: 403, coordChaoyang: 404, admin: 403, volunteer: 200 },
        (who) => post(who, `/events/${order.id}/attendance`, { ticketCode: codes[next++] }),
      );
    });

    it('POST /events/:orderId/feedback and POST /signups/:id/cancel: only the attendee; 403 / 404 for everyone else', async () => {
      const attendee = await newResident();
      const s = (await signUp(attendee, order.id).expect(201)).body as SignupJson;
      await post(w.orgHaidian, `/events/${order.id}/attendance`, { ticketCode: s.ticketCode }).expect(200);
      // Everyone in the matrix signed up above but none was scanned: 403 where the event is visible.
      await check(
        { residentA1: 403, residentA2: 403, residentB1: 404, staffA1: 403, staffA2: 403, staffB1: 404, deptHaidian: 403, deptChaoyang: 404, orgHaidian: 403, orgHaidian2: 403, orgChaoyang: 404, coordHaidian: 403, coordChaoyang: 404, admin: 403, volunteer: 403 },
        (who) => post(who, `/events/${order.id}/feedback`, { score: 4 }),
      );
      await post(attendee, `/events/${order.id}/feedback`, { score: 4 }).expect(201);

      const other = await newResident();
      const so = (await signUp(other, order.id).expect(201)).body as SignupJson;
      await check(
        { residentA1: 404, residentA2: 404, residentB1: 404, staffA1: 403, staffA2: 404, staffB1: 404, deptHaidian: 404, deptChaoyang: 404, orgHaidian: 403, orgHaidian2: 404, orgChaoyang: 404, coordHaidian: 403, coordChaoyang: 404, admin: 403, volunteer: 404 },
        (who) => post(who, `/signups/${so.id}/cancel`),
      );
      await post(other, `/signups/${so.id}/cancel`).expect(200);
    });

    it('without a token every new endpoint is 401', async () => {
      const id = order.id;
      for (const [method, path] of [
        ['post', `/orders/${id}/publish`],
        ['get', '/events'],
        ['get', `/events/${id}`],
        ['post', `/events/${id}/signups`],
        ['post', `/signups/${id}/cancel`],
        ['get', '/me/signups'],
        ['get', `/events/${id}/signups`],
        ['post', `/events/${id}/attendance`],
        ['post', `/events/${id}/feedback`],
      ] as const)
        expectProblem(await t.http()[method](path).send({}), 401, 'UNAUTHENTICATED');
    });
  });
});
