import { createVolunteerWithLogin, type VolunteerWithLogin } from './support/fulfilment-world';
import { startTestApp, type TestApp } from './support/test-app';
import { COMMUNITY_A1, createWorld, orderBody, type OrderJson, type World } from './support/world';

/**
 * GET /orders for a volunteer: the orders they served (service records) are read in page
 * order from the records themselves, which carry their order's urgency and created_at
 * (migration 1764399830000, filled by a trigger whoever writes the record). The list must
 * be exactly the served orders, urgent first, then newest first, across pages of any size
 * and with filters, and the copied keys must equal the orders' own.
 */
describe('GET /orders: a volunteer\'s served orders', () => {
  let t: TestApp;
  let w: World;
  let volunteer: VolunteerWithLogin;
  let served: string[];
  let notServed: string[];

  /** The served orders as the page order ranks them, straight from the orders table. */
  const expected = async (where = 'TRUE', params: unknown[] = []): Promise<string[]> =>
    (
      await t.db.query<{ id: string }>(`SELECT id FROM orders WHERE id = ANY($1) AND ${where} ORDER BY urgent DESC, created_at DESC, id DESC`, [served, ...params])
    ).rows.map((r) => r.id);

  const listAll = async (limit: number, query: Record<string, string> = {}): Promise<string[]> => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await t.http().get('/orders').query(cursor === null ? { ...query, limit } : { ...query, limit, cursor }).set(volunteer.session.auth).expect(200)).body as {
        items: OrderJson[];
        nextCursor: string | null;
      };
      expect(page.items.length).toBeLessThanOrEqual(limit);
      ids.push(...page.items.map((o) => o.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    return ids;
  };

  beforeAll(async () => {
    t = await startTestApp('volunteer_orders');
    w = await createWorld(t);
    volunteer = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
    const create = async (urgent: boolean): Promise<string> =>
      ((await t.http().post('/orders').set(w.staffA1.auth).send(orderBody(COMMUNITY_A1, urgent ? { urgent: true } : {})).expect(201)).body as OrderJson).id;
    // Urgent and ordinary orders interleaved in time, several within one millisecond's reach (ties broken by id).
    const made: { id: string; urgent: boolean }[] = [];
    for (const urgent of [false, true, false, false, true, false, true, false, false, false]) made.push({ id: await create(urgent), urgent });
    served = made.filter((_, i) => i !== 3 && i !== 6).map((o) => o.id);
    notServed = [made[3]!.id, made[6]!.id];
    // Records written as the fixtures and seeds write them: without the order's keys (the trigger copies them).
    for (const id of served)
      await t.db.query(
        `INSERT INTO service_records (order_id, volunteer_id, event_start, event_end, check_in_at, check_out_at, hours)
         VALUES ($1, $2, now() - interval '3 days', now() - interval '3 days' + interval '2 hours', now() - interval '3 days', now() - interval '3 days' + interval '2 hours', 2)`,
        [id, volunteer.id],
      );
  });
  afterAll(async () => {
    await t.close();
  });

  it('copies each order\'s urgency and created_at onto its service record', async () => {
    const { rows } = await t.db.query<{ mismatched: number; records: number }>(
      `SELECT count(*) FILTER (WHERE r.order_urgent IS DISTINCT FROM o.urgent OR r.order_created_at IS DISTINCT FROM o.created_at)::int AS mismatched, count(*)::int AS records
       FROM service_records r JOIN orders o ON o.id = r.order_id WHERE r.volunteer_id = $1`,
      [volunteer.id],
    );
    expect(rows[0]).toEqual({ mismatched: 0, records: served.length });
  });

  it.each([1, 2, 3, 100])('lists exactly the served orders, urgent first then newest first, in pages of %i', async (limit) => {
    const listed = await listAll(limit);
    expect(listed).toEqual(await expected());
    expect(listed.filter((id) => notServed.includes(id))).toEqual([]);
  });

  it.each([2, 100])('urgent=false and urgent=true list each part alone, in pages of %i', async (limit) => {
    expect(await listAll(limit, { urgent: 'false' })).toEqual(await expected('NOT urgent'));
    expect(await listAll(limit, { urgent: 'true' })).toEqual(await expected('urgent'));
  });

  it('a filter narrows the served orders and never widens them', async () => {
    expect(await listAll(2, { status: 'submitted' })).toEqual(await expected(`status = 'submitted'`));
    expect(await listAll(2, { status: 'completed' })).toEqual([]);
    expect(await listAll(2, { districtCode: '110105' })).toEqual([]);
  });

  it('a single read of a served order is allowed, one not served is 404', async () => {
    await t.http().get(`/orders/${served[0]}`).set(volunteer.session.auth).expect(200);
    await t.http().get(`/orders/${notServed[0]}`).set(volunteer.session.auth).expect(404);
  });
});
