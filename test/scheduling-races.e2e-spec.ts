import type { PoolClient } from 'pg';
import type { Response } from 'supertest';
import { acceptedOrder, at, createVenue, createVolunteer, scheduleBody, wideWindows } from './support/fulfilment-world';
import { outcome } from './support/problem';
import { count, startTestApp, type TestApp } from './support/test-app';
import { waitFor } from './support/wait';
import { createWorld, orderIn, type OrderJson, type Session, type World } from './support/world';

/**
 * Invariant 2 of DESIGN.md §8 under real concurrency: a venue or a volunteer is
 * never booked twice for overlapping time. Many requests race past the friendly
 * check; the exclusion constraints decide, and the losers' transactions leave nothing.
 */
describe('scheduling races', () => {
  let t: TestApp;
  let w: World;

  beforeAll(async () => {
    t = await startTestApp('scheduling_races');
    w = await createWorld(t);
  });
  afterAll(() => t.close());

  const post = (who: Session, path: string, body: object = {}) => t.http().post(path).set(who.auth).send(body);
  const tally = (answers: Response[]): Record<string, number> => {
    const byOutcome: Record<string, number> = {};
    for (const { status, code } of answers.map(outcome)) {
      const key = status < 300 ? String(status) : `${status} ${String(code)}`;
      byOutcome[key] = (byOutcome[key] ?? 0) + 1;
    }
    return byOutcome;
  };
  const orderRow = async (id: string) =>
    (await t.db.query<{ status: string; version: number; venue_id: string | null; scheduled_start: Date | null }>(`SELECT status, version, venue_id, scheduled_start FROM orders WHERE id = $1`, [id])).rows[0];
  /** Pairs of active bookings of one venue whose times overlap: must always be none. */
  const overlappingBookings = () =>
    count(t.db, 'bookings b1 JOIN bookings b2 ON b1.venue_id = b2.venue_id AND b1.id < b2.id AND b1.during && b2.during', `b1.status = 'active' AND b2.status = 'active'`);
  const overlappingAssignments = () =>
    count(
      t.db,
      'assignments a1 JOIN assignments a2 ON a1.volunteer_id = a2.volunteer_id AND a1.id < a2.id AND a1.during && a2.during',
      `a1.status IN ('invited','confirmed') AND a2.status IN ('invited','confirmed')`,
    );
  const hour = 3600 * 1000;
  const shifted = (order: OrderJson, fromHours: number, toHours: number) => {
    const start = new Date((order.preferredWindows as { start: string }[])[0]?.start ?? '').getTime();
    return { start: new Date(start + fromHours * hour).toISOString(), end: new Date(start + toHours * hour).toISOString() };
  };
  const constraintHits = (answers: Response[]) => answers.filter((r) => /concurrent request/.test(String((r.body as { detail?: string }).detail))).length;

  it('12 parallel schedules of different orders on overlapping slots of ONE venue: exactly one wins, 11 × 409 VENUE_CONFLICT, one active booking', async () => {
    const venueId = await createVenue(t, { name: '科普基地报告厅' });
    const orders: OrderJson[] = [];
    for (let i = 0; i < 12; i++) orders.push(await orderIn(t, w, 'accepted'));
    const slots: [number, number][] = [
      [0, 2],
      [0.5, 1.5],
      [1, 2],
    ];

    const answers = await Promise.all(
      orders.map((order, i) => {
        const [from, to] = slots[i % slots.length] as [number, number];
        return post(w.orgHaidian, `/orders/${order.id}/schedule`, scheduleBody(order, venueId, { ...shifted(order, from, to), openSlots: 1 }));
      }),
    );

    expect(tally(answers)).toEqual({ '200': 1, '409 VENUE_CONFLICT': 11 });
    expect(await count(t.db, 'bookings', `venue_id = $1 AND status = 'active'`, [venueId])).toBe(1);
    expect(await count(t.db, 'bookings', `venue_id = $1`, [venueId])).toBe(1);
    const winner = orders[answers.findIndex((r) => r.status === 200)] as OrderJson;
    for (const order of orders.filter((o) => o !== winner)) {
      expect(await orderRow(order.id)).toMatchObject({ status: 'accepted', version: order.version, venue_id: null, scheduled_start: null });
      expect(await count(t.db, 'outbox', `order_id = $1 AND type IN ('order.scheduled','task.open')`, [order.id])).toBe(0);
    }
    expect(await overlappingBookings()).toBe(0);
  });

  it('12 parallel schedules naming ONE volunteer on different orders and venues: exactly one wins, 11 × 409 VOLUNTEER_CONFLICT, nothing left of the losers', async () => {
    const volunteer = await createVolunteer(t, { organizationId: w.organizations.haidian });
    const orders: OrderJson[] = [];
    const venues: string[] = [];
    for (let i = 0; i < 12; i++) {
      orders.push(await orderIn(t, w, 'accepted'));
      venues.push(await createVenue(t));
    }

    const answers = await Promise.all(
      orders.map((order, i) => post(w.orgHaidian, `/orders/${order.id}/schedule`, scheduleBody(order, venues[i] as string, { ...shifted(order, i % 2, 2), volunteerIds: [volunteer.id] }))),
    );

    expect(tally(answers)).toEqual({ '200': 1, '409 VOLUNTEER_CONFLICT': 11 });
    expect(await count(t.db, 'assignments', `volunteer_id = $1`, [volunteer.id])).toBe(1);
    // The losers booked their venue before inviting: those bookings rolled back with them.
    expect(await count(t.db, 'bookings', `venue_id = ANY($1::uuid[])`, [venues])).toBe(1);
    expect(await count(t.db, 'outbox', `type = 'assignment.invited' AND payload->'volunteerIds' ? $1`, [volunteer.id])).toBe(1);
    expect(await overlappingAssignments()).toBe(0);
  });

  /**
   * How many of the racers above pass the friendly check depends on timing. These two make
   * that path certain: a transaction the API cannot see holds the slot, the request passes
   * the check, waits on the exclusion constraint, and gets the conflict when the holder commits.
   */
  const pastTheCheck = async (hold: (client: PoolClient) => Promise<unknown>, request: () => Promise<Response>) => {
    const holder = await t.db.connect();
    try {
      await holder.query('BEGIN');
      await hold(holder);
      const [{ pid }] = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }];
      let settled: Response | undefined;
      const answer = request().then((r) => (settled = r));
      await waitFor(
        async () => {
          if (settled) throw new Error(`the request answered ${settled.status} ${JSON.stringify(settled.body)} without waiting`);
          return (await t.db.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> $1`, [pid])).rowCount;
        },
        10_000,
        'the request to wait behind the holder',
      );
      await holder.query('COMMIT');
      return await answer;
    } catch (error) {
      await holder.query('ROLLBACK');
      throw error;
    } finally {
      holder.release();
    }
  };
  /** The advisory locks a writer of bookings and assignments takes before inserting (scheduling.repository.ts). */
  const lockVenue = (c: PoolClient, venueId: string) => c.query(`SELECT pg_advisory_xact_lock(7101, hashtext($1::text))`, [venueId]);
  const lockVolunteer = (c: PoolClient, volunteerId: string) => c.query(`SELECT pg_advisory_xact_lock(7102, hashtext($1::text))`, [volunteerId]);

  it('a schedule that passed the venue check while another transaction held the slot: 409 VENUE_CONFLICT from the constraint, nothing written', async () => {
    const venueId = await createVenue(t);
    const [holderOrder, order] = [await orderIn(t, w, 'accepted'), await orderIn(t, w, 'accepted')];
    const body = scheduleBody(order, venueId, { openSlots: 1 });
    const answer = await pastTheCheck(
      async (c) => {
        await lockVenue(c, venueId);
        await c.query(`INSERT INTO bookings (venue_id, order_id, during) VALUES ($1, $2, tstzrange($3, $4))`, [venueId, holderOrder.id, body.start, body.end]);
      },
      () => post(w.orgHaidian, `/orders/${order.id}/schedule`, body),
    );
    expect(outcome(answer)).toMatchObject({ status: 409, code: 'VENUE_CONFLICT' });
    expect(constraintHits([answer])).toBe(1);
    expect(await orderRow(order.id)).toMatchObject({ status: 'accepted', version: order.version, venue_id: null });
    expect(await count(t.db, 'bookings', `order_id = $1`, [order.id])).toBe(0);
    expect(await overlappingBookings()).toBe(0);
  });

  it('a schedule that passed the volunteer check while another transaction held the volunteer: 409 VOLUNTEER_CONFLICT from the constraint, its booking rolled back', async () => {
    const volunteer = await createVolunteer(t, { organizationId: w.organizations.haidian });
    const [holderOrder, order] = [await orderIn(t, w, 'accepted'), await orderIn(t, w, 'accepted')];
    const venueId = await createVenue(t);
    const body = scheduleBody(order, venueId, { volunteerIds: [volunteer.id] });
    const answer = await pastTheCheck(
      async (c) => {
        await lockVolunteer(c, volunteer.id);
        await c.query(`INSERT INTO assignments (order_id, volunteer_id, organization_id, during, status) VALUES ($1, $2, $3, tstzrange($4, $5), 'invited')`, [
          holderOrder.id,
          volunteer.id,
          w.organizations.haidian,
          body.start,
          body.end,
        ]);
      },
      () => post(w.orgHaidian, `/orders/${order.id}/schedule`, body),
    );
    expect(outcome(answer)).toMatchObject({ status: 409, code: 'VOLUNTEER_CONFLICT' });
    expect(constraintHits([answer])).toBe(1);
    expect(await orderRow(order.id)).toMatchObject({ status: 'accepted', version: order.version, venue_id: null });
    expect(await count(t.db, 'bookings', `order_id = $1`, [order.id])).toBe(0);
    expect(await count(t.db, 'assignments', `order_id = $1`, [order.id])).toBe(0);
    expect(await overlappingAssignments()).toBe(0);
  });

  it('a reschedule racing a schedule onto the same venue and time: one holds it, the loser keeps what it had, never two overlapping bookings', async () => {
    const found: string[] = [];
    for (let round = 0; round < 8; round++) {
      const [home, contested] = [await createVenue(t), await createVenue(t)];
      const moving = await acceptedOrder(t, w, wideWindows(50));
      const arriving = await acceptedOrder(t, w, wideWindows(50));
      await post(w.orgHaidian, `/orders/${moving.id}/schedule`, { start: at(50, 9), end: at(50, 11), venueId: home, openSlots: 1 }).expect(200);
      const before = await orderRow(moving.id);

      const reschedule = () => post(w.orgHaidian, `/orders/${moving.id}/reschedule`, { start: at(50, 14), end: at(50, 16), venueId: contested, openSlots: 1 });
      const schedule = () => post(w.orgHaidian, `/orders/${arriving.id}/schedule`, { start: at(50, 15), end: at(50, 17), venueId: contested, openSlots: 1 });
      // Alternate who is sent first so both orders of arrival are exercised.
      const [rescheduled, scheduled] = round % 2 === 0 ? await Promise.all([reschedule(), schedule()]) : (await Promise.all([schedule(), reschedule()])).reverse() as [Response, Response];

      const outcomes = [outcome(rescheduled), outcome(scheduled)];
      const wins = outcomes.filter((o) => o.status === 200).length;
      if (wins !== 1 || !outcomes.every((o) => o.status === 200 || o.code === 'VENUE_CONFLICT')) found.push(`round ${round}: ${JSON.stringify(outcomes)}`);
      expect(await count(t.db, 'bookings', `venue_id = $1 AND status = 'active'`, [contested])).toBe(1);
      if (rescheduled.status !== 200) {
        // The loser's cancellation of its old booking rolled back with it.
        expect(await orderRow(moving.id)).toEqual(before);
        expect((await t.db.query(`SELECT venue_id FROM bookings WHERE order_id = $1 AND status = 'active'`, [moving.id])).rows).toEqual([{ venue_id: home }]);
      } else {
        expect((await orderRow(arriving.id))?.status).toBe('accepted');
        expect(await count(t.db, 'bookings', `order_id = $1`, [arriving.id])).toBe(0);
      }
      expect(await count(t.db, 'bookings', `order_id = $1 AND status = 'active'`, [moving.id])).toBe(1);
    }
    expect(found).toEqual([]);
    expect(await overlappingBookings()).toBe(0);
  });
});
