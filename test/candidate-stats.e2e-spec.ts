import fc from 'fast-check';
import { acceptedOrder, createVenue, createVolunteer, createVolunteerWithLogin, type TestVolunteer } from './support/fulfilment-world';
import { startTestApp, type TestApp } from './support/test-app';
import { createWorld, type OrderJson, type World } from './support/world';

/**
 * volunteer_stats (migration 1764365000000-candidate-stats) is kept by triggers on
 * service_records and orders.rating. Whatever is written, in whatever order, it must
 * equal a recomputation from the records: the aggregate the candidates endpoint used to
 * run on every request (served, no-shows, average `volunteers` score of served events).
 */

interface StatsRow {
  volunteer_id: string;
  served: number;
  no_shows: number;
  average: number | null;
}

const RECOMPUTED = `
  SELECT sr.volunteer_id,
         (count(*) FILTER (WHERE NOT sr.is_no_show))::int AS served,
         (count(*) FILTER (WHERE sr.is_no_show))::int AS no_shows,
         (avg((o.rating->>'volunteers')::numeric) FILTER (WHERE NOT sr.is_no_show))::float8 AS average
  FROM service_records sr LEFT JOIN orders o ON o.id = sr.order_id
  GROUP BY sr.volunteer_id`;

const MAINTAINED = `
  SELECT volunteer_id, served_count AS served, no_show_count AS no_shows,
         CASE WHEN rated_count > 0 THEN (rating_sum / rated_count)::float8 END AS average
  FROM volunteer_stats`;

type Op =
  | { kind: 'insert'; order: number; volunteer: number; isNoShow: boolean }
  | { kind: 'delete'; order: number; volunteer: number }
  | { kind: 'flip'; order: number; volunteer: number }
  | { kind: 'move'; order: number; volunteer: number; to: number }
  | { kind: 'rate'; order: number; score: number | null }
  | { kind: 'flipAllOf'; volunteer: number }
  | { kind: 'deleteAllOf'; order: number };

const ORDERS = 3;
const VOLUNTEERS = 4;
const index = (n: number) => fc.integer({ min: 0, max: n - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), order: index(ORDERS), volunteer: index(VOLUNTEERS), isNoShow: fc.boolean() }),
  fc.record({ kind: fc.constant('delete' as const), order: index(ORDERS), volunteer: index(VOLUNTEERS) }),
  fc.record({ kind: fc.constant('flip' as const), order: index(ORDERS), volunteer: index(VOLUNTEERS) }),
  fc.record({ kind: fc.constant('move' as const), order: index(ORDERS), volunteer: index(VOLUNTEERS), to: index(VOLUNTEERS) }),
  fc.record({ kind: fc.constant('rate' as const), order: index(ORDERS), score: fc.option(fc.integer({ min: 1, max: 5 })) }),
  // Statements over several rows at once, one volunteer's or one order's.
  fc.record({ kind: fc.constant('flipAllOf' as const), volunteer: index(VOLUNTEERS) }),
  fc.record({ kind: fc.constant('deleteAllOf' as const), order: index(ORDERS) }),
);

describe('volunteer_stats equals a recomputation from the service records', () => {
  let t: TestApp;
  let w: World;
  let orders: OrderJson[];
  let volunteers: TestVolunteer[];

  beforeAll(async () => {
    t = await startTestApp('candidate_stats');
    w = await createWorld(t);
    orders = [];
    for (let i = 0; i < ORDERS; i++) orders.push(await acceptedOrder(t, w));
    volunteers = [];
    for (let i = 0; i < VOLUNTEERS; i++) volunteers.push(await createVolunteer(t, { organizationId: w.organizations.haidian }));
  });
  afterAll(() => t.close());

  /** Volunteers with nothing recorded may have a row of zeros or none: both mean the same. */
  const read = async (sql: string): Promise<StatsRow[]> => {
    const { rows } = await t.db.query<StatsRow>(sql);
    return rows.filter((r) => r.served !== 0 || r.no_shows !== 0 || r.average !== null).sort((a, b) => a.volunteer_id.localeCompare(b.volunteer_id));
  };
  const expectConsistent = async () => expect(await read(MAINTAINED)).toEqual(await read(RECOMPUTED));

  async function apply(op: Op): Promise<void> {
    if (op.kind === 'flipAllOf') {
      await t.db.query(`UPDATE service_records SET is_no_show = NOT is_no_show WHERE volunteer_id = $1`, [volunteers[op.volunteer]!.id]);
      return;
    }
    const order = orders[op.order]!.id;
    if (op.kind === 'deleteAllOf') {
      await t.db.query(`DELETE FROM service_records WHERE order_id = $1`, [order]);
      return;
    }
    const volunteer = op.kind === 'rate' ? '' : volunteers[op.volunteer]!.id;
    switch (op.kind) {
      case 'insert':
        await t.db.query(
          `INSERT INTO service_records (order_id, volunteer_id, event_start, event_end, is_no_show) VALUES ($1, $2, now() - interval '3 days', now() - interval '3 days' + interval '2 hours', $3)
           ON CONFLICT DO NOTHING`,
          [order, volunteer, op.isNoShow],
        );
        return;
      case 'delete':
        await t.db.query(`DELETE FROM service_records WHERE order_id = $1 AND volunteer_id = $2`, [order, volunteer]);
        return;
      case 'flip':
        await t.db.query(`UPDATE service_records SET is_no_show = NOT is_no_show WHERE order_id = $1 AND volunteer_id = $2`, [order, volunteer]);
        return;
      case 'move':
        await t.db.query(
          `UPDATE service_records SET volunteer_id = $3 WHERE order_id = $1 AND volunteer_id = $2
             AND NOT EXISTS (SELECT 1 FROM service_records x WHERE x.order_id = $1 AND x.volunteer_id = $3)`,
          [order, volunteer, volunteers[op.to]!.id],
        );
        return;
      case 'rate':
        await t.db.query(`UPDATE orders SET rating = $2 WHERE id = $1`, [
          order,
          op.score === null ? null : JSON.stringify({ content: 4, volunteers: op.score, punctuality: 5 }),
        ]);
        return;
    }
  }

  it('after any sequence of inserts, deletes, no-show changes, moves and (re)ratings, one row or many at a time', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        for (const op of ops) {
          await apply(op);
          await expectConsistent();
        }
      }),
      { numRuns: 20 },
    );
  });

  it('after a rolled-back transaction and a bulk insert of many rows at once', async () => {
    const client = await t.db.connect();
    try {
      await client.query('BEGIN');
      await client.query(`DELETE FROM service_records`);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    await expectConsistent();
    await t.db.query(`DELETE FROM service_records`);
    await t.db.query(
      `INSERT INTO service_records (order_id, volunteer_id, event_start, event_end, is_no_show)
       SELECT o.id, v.id, now(), now() + interval '1 hour', (abs(hashtext(o.id::text || v.id::text)) % 3 = 0)
       FROM unnest($1::uuid[]) AS o(id) CROSS JOIN unnest($2::uuid[]) AS v(id)`,
      [orders.map((o) => o.id), volunteers.map((v) => v.id)],
    );
    await t.db.query(`UPDATE orders SET rating = jsonb_build_object('volunteers', 1 + abs(hashtext(id::text)) % 5) WHERE id = ANY($1::uuid[])`, [orders.map((o) => o.id)]);
    await expectConsistent();
  });

  it('through the API: check-in, completion with a no-show, and the rating', async () => {
    const start = new Date(Date.now() + 120_000);
    start.setUTCSeconds(0, 0);
    const end = new Date(start.getTime() + 3600 * 1000);
    const order = await acceptedOrder(t, w, { preferredWindows: [{ start: start.toISOString(), end: new Date(start.getTime() + 3 * 3600 * 1000).toISOString() }] });
    const [came, absent] = [await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian }), await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian })];
    await t
      .http()
      .post(`/orders/${order.id}/schedule`)
      .set(w.orgHaidian.auth)
      .send({ start: start.toISOString(), end: end.toISOString(), venueId: await createVenue(t), volunteerIds: [came.id, absent.id] })
      .expect(200);
    for (const v of [came, absent]) {
      const mine = (await t.http().get('/me/assignments').set(v.session.auth).expect(200)).body as { id: string; orderId: string }[];
      await t.http().post(`/assignments/${mine.find((a) => a.orderId === order.id)!.id}/confirm`).set(v.session.auth).send({}).expect(200);
    }
    await t.http().post(`/orders/${order.id}/check-in`).set(came.session.auth).send({}).expect(200);
    await t.http().post(`/orders/${order.id}/complete`).set(w.orgHaidian.auth).send({ attendance: 30, summary: '完成' }).expect(200);
    await t.http().post(`/orders/${order.id}/rating`).set(w.residentA1.auth).send({ content: 5, volunteers: 3, punctuality: 5 }).expect(200);
    await expectConsistent();
    const { rows } = await t.db.query<StatsRow>(`${MAINTAINED} WHERE volunteer_id = ANY($1::uuid[])`, [[came.id, absent.id]]);
    expect(rows.find((r) => r.volunteer_id === came.id)).toMatchObject({ served: 1, no_shows: 0, average: 3 });
    expect(rows.find((r) => r.volunteer_id === absent.id)).toMatchObject({ served: 0, no_shows: 1, average: null });
  });
});
