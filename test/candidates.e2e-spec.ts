import { expectProblem } from './support/problem';
import { startTestApp, type TestApp } from './support/test-app';
import { COMMUNITY_A1, COMMUNITY_A2, COMMUNITY_B1, createWorld, orderIn, type OrderJson, type Session, type World } from './support/world';

/**
 * GET /orders/:id/candidates (DESIGN.md §4): every hard filter keeps its
 * volunteer or venue out, the rest come best first with the score broken
 * down into named terms, and only the accepting organisation may ask.
 */

interface Candidates {
  volunteers: { volunteerId: string; displayName: string; score: number; breakdown: Record<string, number> }[];
  venues: { venueId: string; name: string; capacity: number; score: number; breakdown: Record<string, number> }[];
}

const HOUR_MS = 3600 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** Another community of 学院路街道 (110108001), the subdistrict of COMMUNITY_A1. */
const COMMUNITY_A1_NEIGHBOUR = '110108001002';
const VOLUNTEER_TERMS = ['topicLevel', 'audience', 'proximity', 'fairness', 'rating', 'reliability'];

/** "+08:00" wall time of an instant: what a client in Beijing sends. */
const beijing = (at: Date): string => `${new Date(at.getTime() + 8 * HOUR_MS).toISOString().slice(0, 19)}+08:00`;
const isoWeekday = (at: Date): number => {
  const day = new Date(at.getTime() + 8 * HOUR_MS).getUTCDay();
  return day === 0 ? 7 : day;
};

describe('GET /orders/:id/candidates', () => {
  let t: TestApp;
  let w: World;
  let order: OrderJson;
  let other: OrderJson;
  let start: Date;
  let end: Date;
  const volunteers: Record<string, string> = {};
  const venues: Record<string, string> = {};

  const get = (who: Session, id: string, query: Record<string, string | number>) => t.http().get(`/orders/${id}/candidates`).query(query).set(who.auth);
  const slot = () => ({ start: beijing(start), end: beijing(end) });

  beforeAll(async () => {
    t = await startTestApp('candidates');
    w = await createWorld(t);
    order = await orderIn(t, w, 'accepted');
    other = await orderIn(t, w, 'accepted');
    const window = (order.preferredWindows as { start: string; end: string }[])[0];
    if (!window) throw new Error('the order has no preferred window');
    start = new Date(window.start);
    end = new Date(window.end);
    const weekday = isoWeekday(start);
    // Another day of the same Monday–Sunday week, same hours.
    const sameWeek = weekday === 1 ? DAY_MS : -DAY_MS;

    const register = async (name: string, overrides: Record<string, unknown>, org: 'haidian' | 'haidian2' = 'haidian'): Promise<string> => {
      const admin = org === 'haidian' ? w.orgHaidian : w.orgHaidian2;
      const body = {
        displayName: name,
        phone: '13900000000',
        homeCommunityCode: COMMUNITY_A1,
        skills: [{ topic: 'anti_fraud', level: 3 }],
        audiences: ['elderly'],
        formats: ['lecture'],
        availability: [{ weekday, start: '08:00', end: '12:00' }],
        maxHoursPerWeek: 10,
        ...overrides,
      };
      const res = await t.http().post(`/organizations/${w.organizations[org]}/volunteers`).set(admin.auth).send(body).expect(201);
      return (volunteers[name] = (res.body as { id: string }).id);
    };
    const assign = (volunteer: string, orderId: string, from: Date, to: Date, status = 'confirmed') =>
      t.db.query(`INSERT INTO assignments (order_id, volunteer_id, organization_id, during, status) VALUES ($1, $2, $3, tstzrange($4, $5), $6)`, [
        orderId,
        volunteer,
        w.organizations.haidian,
        from,
        to,
        status,
      ]);

    // Eligible, each with something that moves one term.
    await register('best', {});
    await register('nearSubdistrict', { homeCommunityCode: COMMUNITY_A1_NEIGHBOUR, skills: [{ topic: 'anti_fraud', level: 2 }] });
    await register('sameDistrict', { homeCommunityCode: COMMUNITY_A2, skills: [{ topic: 'anti_fraud', level: 2 }], audiences: ['general'] });
    await register('elsewhere', { homeCommunityCode: COMMUNITY_B1, skills: [{ topic: 'anti_fraud', level: 1 }] });
    await register('capExactlyReached', { homeCommunityCode: COMMUNITY_B1, skills: [{ topic: 'anti_fraud', level: 1 }], audiences: [], maxHoursPerWeek: 4 });
    await register('assignedToThisOrder', { homeCommunityCode: COMMUNITY_B1, skills: [{ topic: 'anti_fraud', level: 1 }], maxHoursPerWeek: 2 });
    // Each kept out by one hard filter.
    await register('inactive', {});
    await t.http().patch(`/volunteers/${volunteers.inactive}`).set(w.orgHaidian.auth).send({ isActive: false }).expect(200);
    await register('unskilled', { skills: [{ topic: 'health', level: 3 }] });
    await register('otherWeekday', { availability: [{ weekday: (weekday % 7) + 1, start: '08:00', end: '12:00' }] });
    await register('startsTooLate', { availability: [{ weekday, start: '10:00', end: '12:00' }] });
    await register('away', { unavailable: [{ start: beijing(new Date(start.getTime() - DAY_MS)), end: beijing(new Date(start.getTime() + HOUR_MS)) }] });
    await register('busy', {});
    await register('overWeeklyCap', { maxHoursPerWeek: 3 });
    await register('otherOrganization', {}, 'haidian2');

    await assign(volunteers.busy as string, other.id, new Date(start.getTime() + HOUR_MS), new Date(end.getTime() + HOUR_MS));
    await assign(volunteers.overWeeklyCap as string, other.id, new Date(start.getTime() + sameWeek), new Date(end.getTime() + sameWeek));
    await assign(volunteers.capExactlyReached as string, other.id, new Date(start.getTime() + sameWeek), new Date(end.getTime() + sameWeek));
    // Ended assignments hold nobody.
    await assign(volunteers.best as string, other.id, start, end, 'declined');
    // Its own assignment (a reschedule) neither makes it busy nor counts against its cap.
    await assign(volunteers.assignedToThisOrder as string, order.id, start, end);

    // History: two recent hours with a 5-star volunteers rating; a no-show.
    await t.db.query(`UPDATE orders SET rating = '{"content": 4, "volunteers": 5, "punctuality": 4}' WHERE id = $1`, [other.id]);
    await t.db.query(
      `INSERT INTO service_records (order_id, volunteer_id, event_start, event_end, check_in_at, check_out_at, hours, is_no_show)
       VALUES ($1, $2, now() - interval '10 days', now() - interval '10 days' + interval '2 hours', now() - interval '10 days', now() - interval '10 days' + interval '2 hours', 2, false),
              ($1, $3, now() - interval '10 days', now() - interval '10 days' + interval '2 hours', NULL, NULL, 0, true)`,
      [other.id, volunteers.sameDistrict, volunteers.elsewhere],
    );

    const venue = async (name: string, communityCode: string, capacity: number, accessibility: string[]): Promise<string> => {
      const res = await t.http().post('/venues').set(w.admin.auth).send({ name, communityCode, kind: 'community_room', capacity, accessibility }).expect(201);
      return (venues[name] = (res.body as { id: string }).id);
    };
    const book = (venueId: string, orderId: string, status = 'active') =>
      t.db.query(`INSERT INTO bookings (venue_id, order_id, during, status) VALUES ($1, $2, tstzrange($3, $4), $5)`, [venueId, orderId, start, end, status]);
    await venue('hall', COMMUNITY_A1, 80, ['wheelchair']);
    await venue('neighbourHall', COMMUNITY_A1_NEIGHBOUR, 60, ['wheelchair', 'large_print']);
    await venue('bigHall', COMMUNITY_A2, 600, ['wheelchair']);
    await venue('heldByThisOrder', COMMUNITY_A1, 120, ['wheelchair']);
    await venue('bookingCancelled', COMMUNITY_A1, 200, ['wheelchair']);
    await venue('tooSmall', COMMUNITY_A1, 59, ['wheelchair']);
    await venue('notAccessible', COMMUNITY_A1, 100, ['large_print']);
    await venue('booked', COMMUNITY_A1, 100, ['wheelchair']);
    await venue('otherDistrict', COMMUNITY_B1, 100, ['wheelchair']);
    await book(venues.booked as string, other.id);
    await book(venues.heldByThisOrder as string, order.id);
    await book(venues.bookingCancelled as string, other.id, 'cancelled');
  });
  afterAll(() => t.close());

  const nameOf = (id: string, of: Record<string, string>): string => Object.entries(of).find(([, v]) => v === id)?.[0] ?? id;

  it('ranks exactly the eligible volunteers of the accepting organisation, best first, with each term of the score', async () => {
    const res = await get(w.orgHaidian, order.id, slot()).expect(200);
    const body = res.body as Candidates;
    expect(body.volunteers.map((v) => nameOf(v.volunteerId, volunteers))).toEqual([
      'best',
      'nearSubdistrict',
      'sameDistrict',
      'assignedToThisOrder',
      'elsewhere',
      'capExactlyReached',
    ]);
    const by = Object.fromEntries(body.volunteers.map((v) => [nameOf(v.volunteerId, volunteers), v]));
    expect(by.best).toMatchObject({ displayName: 'best', score: 95, breakdown: { topicLevel: 30, audience: 15, proximity: 20, fairness: 15, rating: 5, reliability: 10 } });
    // same subdistrict > same district > elsewhere
    expect([by.nearSubdistrict, by.sameDistrict, by.elsewhere].map((v) => v?.breakdown.proximity)).toEqual([14, 8, 0]);
    // two recent hours lower fairness; a 5-star rating lifts rating; a no-show halves reliability on a short record
    expect(by.sameDistrict?.breakdown).toMatchObject({ topicLevel: 20, audience: 0, fairness: 13.64, rating: 10, reliability: 10 });
    expect(by.elsewhere?.breakdown).toMatchObject({ topicLevel: 10, audience: 15, fairness: 15, rating: 5, reliability: 5 });
    for (const v of body.volunteers) {
      expect(Object.keys(v.breakdown).sort()).toEqual([...VOLUNTEER_TERMS].sort());
      expect(v.score).toBeCloseTo(Object.values(v.breakdown).reduce((a, b) => a + b, 0), 1);
    }
    const scores = body.volunteers.map((v) => v.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('suggests the free venues of the district that seat the audience and meet its needs, nearest and tightest first', async () => {
    const body = (await get(w.orgHaidian, order.id, slot()).expect(200)).body as Candidates;
    expect(body.venues.map((v) => nameOf(v.venueId, venues))).toEqual(['hall', 'heldByThisOrder', 'neighbourHall', 'bookingCancelled', 'bigHall']);
    expect(body.venues[0]).toMatchObject({ name: 'hall', capacity: 80, score: 27.5, breakdown: { proximity: 20, fit: 7.5 } });
  });

  it('a part of the preferred window is a slot too, and the weekly cap counts the slot\'s own hours; ?limit= bounds both lists', async () => {
    const oneHour = { start: beijing(new Date(start.getTime() + HOUR_MS / 2)), end: beijing(new Date(end.getTime() - HOUR_MS / 2)) };
    const all = (await get(w.orgHaidian, order.id, oneHour).expect(200)).body as Candidates;
    // 2 h booked that week + 1 h fits a cap of 3 (+ 2 h did not); the assignment overlapping 09:30–10:30 still keeps `busy` out.
    expect(all.volunteers.map((v) => nameOf(v.volunteerId, volunteers)).sort()).toEqual(
      ['best', 'overWeeklyCap', 'nearSubdistrict', 'sameDistrict', 'assignedToThisOrder', 'elsewhere', 'capExactlyReached'].sort(),
    );
    const limited = (await get(w.orgHaidian, order.id, { ...oneHour, limit: 2 }).expect(200)).body as Candidates;
    expect(limited.volunteers.map((v) => v.volunteerId)).toEqual(all.volunteers.slice(0, 2).map((v) => v.volunteerId));
    expect(limited.venues.map((v) => v.venueId)).toEqual(all.venues.slice(0, 2).map((v) => v.venueId));
  });

  it.each([
    ['orgHaidian2', 404],
    ['orgChaoyang', 404],
    ['residentA2', 404],
    ['staffB1', 404],
    ['residentA1', 403],
    ['staffA1', 403],
    ['deptHaidian', 403],
    ['coordHaidian', 403],
    ['admin', 403],
  ] as const)('%s asking: %s', async (who, status) => {
    expectProblem(await get(w[who], order.id, slot()), status, status === 404 ? 'NOT_FOUND' : 'FORBIDDEN');
  });

  it('a volunteer of the organisation may not ask either', async () => {
    await t.http()
      .post(`/organizations/${w.organizations.haidian}/volunteers`)
      .set(w.orgHaidian.auth)
      .send({ displayName: 'v', phone: '13900000001', homeCommunityCode: COMMUNITY_A1, skills: [{ topic: 'health', level: 1 }], audiences: [], formats: [], availability: [], maxHoursPerWeek: 1, username: 'cand.volunteer', password: 'pass-word-1' })
      .expect(201);
    const res = await t.http().post('/auth/login').send({ username: 'cand.volunteer', password: 'pass-word-1' }).expect(200);
    const session = { auth: { Authorization: `Bearer ${(res.body as { accessToken: string }).accessToken}` } } as Session;
    expectProblem(await get(session, order.id, slot()), 404, 'NOT_FOUND');
  });

  it('a scheduled order still has candidates (to reschedule or fill a gap)', async () => {
    const scheduled = await orderIn(t, w, 'accepted');
    // Scheduling is another use case; here only its outcome matters.
    await t.db.query(`UPDATE orders SET status = 'scheduled', scheduled_start = $2, scheduled_end = $3 WHERE id = $1`, [scheduled.id, start, end]);
    const body = (await get(w.orgHaidian, scheduled.id, slot()).expect(200)).body as Candidates;
    expect(body.volunteers[0]?.volunteerId).toBe(volunteers.best);
  });

  it('an order not accepted yet is 409 ORDER_STATE_CONFLICT for the organisation it was offered to', async () => {
    const offered = await orderIn(t, w, 'claimed');
    expectProblem(await get(w.orgHaidian, offered.id, slot()), 409, 'ORDER_STATE_CONFLICT');
    const submitted = await orderIn(t, w, 'submitted');
    expectProblem(await get(w.orgHaidian, submitted.id, slot()), 404, 'NOT_FOUND');
  });

  it.each([
    ['end before start', () => ({ start: beijing(end), end: beijing(start) }), 400, 'VALIDATION_FAILED', 'end'],
    ['end equal to start', () => ({ start: beijing(start), end: beijing(start) }), 400, 'VALIDATION_FAILED', 'end'],
    ['longer than 12 hours', () => ({ start: beijing(start), end: beijing(new Date(start.getTime() + 13 * HOUR_MS)) }), 400, 'VALIDATION_FAILED', 'end'],
    ['no offset', () => ({ start: beijing(start).slice(0, 19), end: beijing(end) }), 400, 'VALIDATION_FAILED', 'start'],
    ['no start', () => ({ end: beijing(end) }), 400, 'VALIDATION_FAILED', 'start'],
    ['not a time', () => ({ start: 'tomorrow', end: beijing(end) }), 400, 'VALIDATION_FAILED', 'start'],
    ['limit 0', () => ({ ...slot(), limit: 0 }), 400, 'VALIDATION_FAILED', 'limit'],
    ['limit 51', () => ({ ...slot(), limit: 51 }), 400, 'VALIDATION_FAILED', 'limit'],
    ['an unknown parameter', () => ({ ...slot(), topic: 'health' }), 400, 'VALIDATION_FAILED', 'topic'],
    ['starting before the window', () => ({ start: beijing(new Date(start.getTime() - HOUR_MS)), end: beijing(end) }), 422, 'OUTSIDE_PREFERRED_WINDOW', undefined],
    ['ending after the window', () => ({ start: beijing(start), end: beijing(new Date(end.getTime() + 1000)) }), 422, 'OUTSIDE_PREFERRED_WINDOW', undefined],
    ['another day', () => ({ start: beijing(new Date(start.getTime() + DAY_MS)), end: beijing(new Date(end.getTime() + DAY_MS)) }), 422, 'OUTSIDE_PREFERRED_WINDOW', undefined],
  ] as const)('%s', async (_case, query, status, code, field) => {
    expectProblem(await get(w.orgHaidian, order.id, query()), status, code, field);
  });

  it('the OpenAPI document describes the endpoint, its query and the breakdown', async () => {
    const doc = (await t.http().get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, { parameters?: { name: string }[] }>>;
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    const operation = doc.paths['/orders/{id}/candidates']?.get;
    expect(operation?.parameters?.map((p) => p.name).sort()).toEqual(['end', 'id', 'limit', 'start']);
    expect(Object.keys(doc.components.schemas.VolunteerCandidateView?.properties ?? {})).toEqual(expect.arrayContaining(['volunteerId', 'score', 'breakdown']));
    expect(doc.paths['/organizations/{id}/volunteers']?.post).toBeDefined();
    expect(doc.paths['/volunteers/{id}']?.patch).toBeDefined();
    expect(doc.paths['/venues']?.get).toBeDefined();
  });

  it('a path id that is not a UUID is 400; an unknown order is 404', async () => {
    expectProblem(await get(w.orgHaidian, 'order-1', slot()), 400, 'VALIDATION_FAILED');
    expectProblem(await get(w.orgHaidian, '00000000-0000-4000-8000-000000000000', slot()), 404, 'NOT_FOUND');
  });
});
