import { dayFromNumber, dayNumber, type Period, shanghaiDay } from '@kepu/core';
import { CoverageMaintenanceService } from '@kepu/coverage';
import type { Job } from 'bullmq';
import { CoverageProcessor } from '../apps/worker/src/processors/coverage.processor';
import { naiveCommunities, naiveCoverage, type Query } from './support/coverage-naive';
import { acceptedOrder, createVenue, createVolunteer, createVolunteerWithLogin } from './support/fulfilment-world';
import { count, startTestApp, type TestApp } from './support/test-app';
import { waitFor } from './support/wait';
import { drain, openTestQueues, startTestWorker, suitePrefix, type TestQueues, type TestWorker } from './support/test-worker';
import { CHAOYANG, COMMUNITY_A2, COMMUNITY_B1, createWorld, HAIDIAN, orderBody, type OrderJson, type World } from './support/world';

const FIGURES = [
  'communities',
  'coveredCommunities',
  'coverage',
  'orders',
  'ordersByStatus',
  'slaBreaches',
  'medianHoursToSchedule',
  'volunteerHours',
  'averageRating',
  'byAudience',
  'byTopic',
] as const;
const figuresOf = (row: Record<string, unknown>) => Object.fromEntries(FIGURES.map((k) => [k, row[k]]));

const today = () => dayNumber(shanghaiDay(new Date())) ?? 0;
const csvLines = (text: string) => text.replace(/^\uFEFF/, '').trimEnd().split('\r\n');

/**
 * ~400 orders straight into the tables, over the communities of 海淀 and 朝阳 and
 * the last 150 days, in every status, with scheduling events (some rescheduled),
 * ratings, service hours and SLA breaches; one outbox row each, as a state change
 * writes, so the worker maintains the rollups from them.
 */
async function seedOrders(t: TestApp, requesterId: string, volunteerId: string): Promise<void> {
  await t.db.query(
    `WITH c AS (SELECT code, subdistrict_code, district_code, row_number() OVER (ORDER BY code) AS rn, count(*) OVER () AS total
                FROM communities WHERE district_code IN ($2, $3)),
          s AS (SELECT i,
                  (ARRAY['submitted','dispatched','claimed','accepted','scheduled','in_progress','completed','rated','closed','rejected','merged','cancelled','expired'])[1 + (i * 7) % 13] AS status,
                  now() - ((i * 37) % 150) * interval '1 day' - ((i * 13) % 24) * interval '1 hour' AS created
                FROM generate_series(1, 400) i)
     INSERT INTO orders (code, status, community_code, subdistrict_code, district_code, requester_id, topic, audience, format, title, description,
       expected_attendance, preferred_windows, last_window_end, contact_name, contact_phone, scheduled_start, scheduled_end, rating, created_at, updated_at)
     SELECT 'SEED' || s.i, s.status, c.code, c.subdistrict_code, c.district_code, $1,
       (ARRAY['health','medicine_use','digital_skills','anti_fraud','emergency','fire_safety','food_safety','environment','agriculture','ai_frontier','astronomy','experiments','psychology'])[1 + s.i % 13],
       (ARRAY['youth','farmers','workers','elderly','officials','new_economy_workers','general'])[1 + (s.i / 3) % 7],
       'lecture', '种子订单', '覆盖率测试', 30, '[]', s.created + interval '30 days', '测试', '13800000000',
       CASE WHEN s.status IN ('scheduled','in_progress','completed','rated','closed') THEN s.created + ((s.i * 11) % 200) * interval '1 hour' + interval '1 day' END,
       CASE WHEN s.status IN ('scheduled','in_progress','completed','rated','closed') THEN s.created + ((s.i * 11) % 200) * interval '1 hour' + interval '1 day 2 hours' END,
       CASE WHEN s.status = 'rated' THEN jsonb_build_object('content', 1 + s.i % 5, 'volunteers', 1 + (s.i * 3) % 5, 'punctuality', 1 + (s.i * 7) % 5) END,
       s.created, s.created
     FROM s JOIN c ON c.rn = 1 + (s.i * 31) % c.total`,
    [requesterId, HAIDIAN, CHAOYANG],
  );
  // First scheduling, and a reschedule for some (the first one counts).
  await t.db.query(
    `INSERT INTO order_events (order_id, seq, type, from_status, to_status, actor_role, at)
     SELECT id, 2, 'order.scheduled', 'accepted', 'scheduled', 'org_admin', created_at + (abs(hashtext(code)) % 300) * interval '1 hour' + (abs(hashtext(code)) % 60) * interval '1 minute'
     FROM orders WHERE code LIKE 'SEED%' AND scheduled_start IS NOT NULL`,
  );
  await t.db.query(
    `INSERT INTO order_events (order_id, seq, type, from_status, to_status, actor_role, at)
     SELECT order_id, 3, 'order.rescheduled', 'scheduled', 'scheduled', 'org_admin', at + interval '5 hours'
     FROM order_events WHERE seq = 2 AND order_id IN (SELECT id FROM orders WHERE code LIKE 'SEED%') AND abs(hashtext(order_id::text)) % 3 = 0`,
  );
  await t.db.query(
    `INSERT INTO service_records (order_id, volunteer_id, event_start, event_end, check_in_at, check_out_at, hours)
     SELECT id, $1, scheduled_start, scheduled_end, scheduled_start, scheduled_end, (abs(hashtext(code)) % 9) * 0.25
     FROM orders WHERE code LIKE 'SEED%' AND status IN ('in_progress','completed','rated','closed')`,
    [volunteerId],
  );
  await t.db.query(
    `INSERT INTO sla_breaches (order_id, district_code, stage, entered_seq, entered_at, due_at)
     SELECT id, district_code, stage, 1, created_at, created_at + interval '1 day'
     FROM orders CROSS JOIN (VALUES ('dispatch'), ('claim')) st(stage)
     WHERE code LIKE 'SEED%' AND (abs(hashtext(code)) % 4 = 0 OR (st.stage = 'dispatch' AND abs(hashtext(code)) % 4 = 1))`,
  );
  await t.db.query(`INSERT INTO outbox (type, order_id, payload) SELECT 'coverage.seeded', id, '{}' FROM orders WHERE code LIKE 'SEED%'`);
}

describe('coverage: API figures from the rollups equal a recomputation from the orders', () => {
  let t: TestApp;
  let w: World;
  let worker: TestWorker;
  let queues: TestQueues;
  let query: Query;
  let recent: Period;
  let long: Period;
  let lastMonth: Period;
  let insideMonth: Period;

  beforeAll(async () => {
    t = await startTestApp('coverage', { QUEUE_PREFIX: suitePrefix('coverage'), OUTBOX_POLL_MS: '100' });
    w = await createWorld(t);
    worker = await startTestWorker();
    queues = openTestQueues();
    query = async <T>(sql: string, params: unknown[]) => (await t.db.query(sql, params)).rows as T[];
    const now = today();
    recent = { from: dayFromNumber(now - 89), to: dayFromNumber(now + 3) };
    long = { from: dayFromNumber(now - 160), to: dayFromNumber(now + 3) };
    const firstOfMonth = dayNumber(`${shanghaiDay(new Date()).slice(0, 7)}-01`) ?? now;
    lastMonth = { from: `${dayFromNumber(firstOfMonth - 1).slice(0, 7)}-01`, to: dayFromNumber(firstOfMonth - 1) };
    insideMonth = { from: `${lastMonth.from.slice(0, 8)}05`, to: `${lastMonth.from.slice(0, 8)}27` };

    // Through the API: a delivered and rated order in A1, an accepted one in A1, a rejected one in A2, a submitted one in B1.
    const volunteer = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
    const start = new Date(Date.now() + 120_000);
    start.setUTCSeconds(0, 0);
    const windows = { preferredWindows: [{ start: start.toISOString(), end: new Date(start.getTime() + 3 * 3600_000).toISOString() }] };
    const delivered = await acceptedOrder(t, w, windows);
    await t
      .http()
      .post(`/orders/${delivered.id}/schedule`)
      .set(w.orgHaidian.auth)
      .send({ start: start.toISOString(), end: new Date(start.getTime() + 3600_000).toISOString(), venueId: await createVenue(t), volunteerIds: [volunteer.id] })
      .expect(200);
    const mine = (await t.http().get('/me/assignments').set(volunteer.session.auth).expect(200)).body as { id: string; orderId: string }[];
    await t.http().post(`/assignments/${mine.find((a) => a.orderId === delivered.id)?.id}/confirm`).set(volunteer.session.auth).send({}).expect(200);
    await t.http().post(`/orders/${delivered.id}/check-in`).set(volunteer.session.auth).send({}).expect(200);
    await t.http().post(`/orders/${delivered.id}/complete`).set(w.orgHaidian.auth).send({ attendance: 40, summary: '顺利完成' }).expect(200);
    await t.http().post(`/orders/${delivered.id}/rating`).set(w.residentA1.auth).send({ content: 5, volunteers: 4, punctuality: 3 }).expect(200);
    await acceptedOrder(t, w);
    const a2 = (await t.http().post('/orders').set(w.residentA2.auth).send(orderBody(COMMUNITY_A2, { audience: 'youth', topic: 'astronomy' })).expect(201)).body as OrderJson;
    await t.http().post(`/orders/${a2.id}/reject`).set(w.staffA2.auth).send({ reason: '重复' }).expect(200);
    await t.http().post('/orders').set(w.residentB1.auth).send(orderBody(COMMUNITY_B1, { audience: 'farmers', topic: 'agriculture' })).expect(201);

    await seedOrders(t, w.residentA1.id, (await createVolunteer(t, { organizationId: w.organizations.haidian })).id);
    await drain(t.db, queues, { timeoutMs: 60_000 });
  });
  afterAll(async () => {
    await worker.close();
    await queues.obliterate();
    await queues.close();
    await t.close();
  });

  const cityView = async (period: Period) =>
    (await t.http().get('/coverage/districts').query(period).set(w.admin.auth).expect(200)).body as Record<string, unknown>[];

  /** Every district of the city view, and 海淀's drill-down with its subdistricts, equal the recomputation. */
  async function expectFiguresMatchOrders(period: Period): Promise<void> {
    const expected = await naiveCoverage(query, period, { by: 'district', districtCode: null });
    const rows = await cityView(period);
    expect(rows).toHaveLength(expected.size);
    for (const row of rows) expect({ code: row.districtCode, ...figuresOf(row) }).toEqual({ code: row.districtCode, ...expected.get(row.districtCode as string) });

    const detail = (await t.http().get(`/coverage/districts/${HAIDIAN}`).query(period).set(w.admin.auth).expect(200)).body as Record<string, unknown> & {
      subdistricts: Record<string, unknown>[];
    };
    expect(figuresOf(detail)).toEqual(expected.get(HAIDIAN));
    const bySubdistrict = await naiveCoverage(query, period, { by: 'subdistrict', districtCode: HAIDIAN });
    expect(detail.subdistricts).toHaveLength(bySubdistrict.size);
    for (const s of detail.subdistricts) expect({ code: s.subdistrictCode, ...figuresOf(s) }).toEqual({ code: s.subdistrictCode, ...bySubdistrict.get(s.subdistrictCode as string) });
  }

  it('seeded data is not trivial: orders, coverage, hours, ratings, breaches and a median in 海淀', async () => {
    const haidian = (await cityView(long)).find((r) => r.districtCode === HAIDIAN) as Record<string, number | null>;
    expect(haidian.orders).toBeGreaterThan(100);
    expect(haidian.coveredCommunities).toBeGreaterThan(10);
    expect(haidian.volunteerHours).toBeGreaterThan(0);
    expect(haidian.averageRating).not.toBeNull();
    expect(haidian.slaBreaches).toBeGreaterThan(0);
    expect(haidian.medianHoursToSchedule).not.toBeNull();
  });

  it.each([
    ['the last 90 days', () => recent],
    ['150 days (whole months plus edge days)', () => long],
    ['last calendar month', () => lastMonth],
    ['days 5–27 of last month (Fenwick nodes at both ends)', () => insideMonth],
  ])('city view and drill-down equal the recomputation over %s', async (_name, period) => {
    await expectFiguresMatchOrders(period());
  });

  it('the default period is the last 90 days up to today', async () => {
    const rows = (await t.http().get('/coverage/districts').set(w.admin.auth).expect(200)).body as { from: string; to: string }[];
    expect(rows[0]).toMatchObject({ from: dayFromNumber(today() - 89), to: dayFromNumber(today()) });
  });

  it('gaps: communities without a delivered service in the last N days, never served first, then longest unserved, paged', async () => {
    for (const days of [30, 90]) {
      const cutoff = today() - (days - 1);
      const expected = (await naiveCommunities(query, HAIDIAN))
        .filter((c) => c.lastServedAt === null || (dayNumber(shanghaiDay(c.lastServedAt)) ?? 0) < cutoff)
        .sort((a, b) => (a.lastServedAt?.getTime() ?? -Infinity) - (b.lastServedAt?.getTime() ?? -Infinity) || a.communityCode.localeCompare(b.communityCode))
        .map((c) => ({ communityCode: c.communityCode, lastServedAt: c.lastServedAt?.toISOString() ?? null, pendingOrders: c.pendingOrders }));
      const got: { communityCode: string; lastServedAt: string | null; pendingOrders: number; daysSinceService: number | null }[] = [];
      let cursor: string | null = null;
      do {
        const res = await t
          .http()
          .get(`/coverage/districts/${HAIDIAN}/gaps`)
          .query({ days, limit: 100, ...(cursor ? { cursor } : {}) })
          .set(w.coordHaidian.auth)
          .expect(200);
        const page = res.body as { items: typeof got; nextCursor: string | null };
        got.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      expect(got.map((g) => ({ communityCode: g.communityCode, lastServedAt: g.lastServedAt, pendingOrders: g.pendingOrders }))).toEqual(expected);
      for (const g of got) if (g.lastServedAt) expect(g.daysSinceService).toBeGreaterThanOrEqual(days);
      expect(got.some((g) => g.lastServedAt !== null)).toBe(true);
      expect(got.some((g) => g.pendingOrders > 0)).toBe(true);
    }
  });

  it('a duplicate or late job changes nothing; a missed change is picked up by the next job', async () => {
    const snapshot = async () => (await t.db.query(`SELECT region_code, grain, period_start::text, counters::text FROM coverage_rollups ORDER BY 1, 2, 3`)).rows;
    const before = await snapshot();
    const processor = worker.app.get(CoverageProcessor);
    const { rows: ids } = await t.db.query<{ id: string }>(`SELECT id FROM orders ORDER BY code LIMIT 40`);
    const job = (orderId: string) => ({ name: 'refresh-order', data: { orderId, outboxId: 'test' } }) as Job<{ orderId: string; outboxId: string }, void, 'refresh-order'>;
    for (const { id } of ids) {
      await processor.process(job(id));
      await processor.process(job(id));
    }
    await Promise.all(ids.map(({ id }) => processor.process(job(id))));
    expect(await snapshot()).toEqual(before);

    // An order changes without its job yet (as if delivered late): the figures catch up when it runs, once.
    const { rows } = await t.db.query<{ id: string }>(`UPDATE orders SET status = 'cancelled' WHERE code = (SELECT min(code) FROM orders WHERE code LIKE 'SEED%' AND status = 'submitted') RETURNING id`);
    const changed = rows[0]?.id as string;
    await processor.process(job(changed));
    await processor.process(job(changed));
    await expectFiguresMatchOrders(long);
  });

  it('coverage:rebuild gives the same rollups as the worker maintained', async () => {
    const content = `SELECT 'r' AS t, region_code AS k, grain || period_start::text AS p, counters::text AS v FROM coverage_rollups
                     UNION ALL SELECT 's', community_code, year::text, days::text FROM coverage_served_days
                     UNION ALL SELECT 'c', community_code, coalesce(last_served_at::text, ''), pending_orders::text FROM coverage_communities WHERE last_served_at IS NOT NULL OR pending_orders <> 0
                     ORDER BY 1, 2, 3`;
    // jsonb numbers compare by value: 1.50 and 1.5 are the same counter.
    const normalise = (rows: { t: string; k: string; p: string; v: string }[]) => rows.map((r) => ({ ...r, v: r.t === 'r' ? JSON.parse(r.v) : r.v }));
    const maintained = normalise((await t.db.query(content)).rows);
    await worker.app.get(CoverageMaintenanceService).rebuild();
    expect(normalise((await t.db.query(content)).rows)).toEqual(maintained);
    await expectFiguresMatchOrders(recent);
  });

  it('a worker that starts with orders but no coverage facts (an upgraded database) rebuilds them', async () => {
    await t.db.query(`TRUNCATE coverage_order_facts, coverage_rollups, coverage_served_days, coverage_communities`);
    const second = await startTestWorker();
    try {
      const orders = await count(t.db, 'orders');
      await waitFor(async () => (await count(t.db, 'coverage_order_facts')) === orders, 30_000, 'the start-up rebuild');
      await expectFiguresMatchOrders(recent);
    } finally {
      await second.close();
    }
  });

  it('scope: a coordinator sees its own district only; other roles are refused', async () => {
    const own = (await t.http().get('/coverage/districts').set(w.coordHaidian.auth).expect(200)).body as { districtCode: string }[];
    expect(own.map((r) => r.districtCode)).toEqual([HAIDIAN]);
    await t.http().get(`/coverage/districts/${HAIDIAN}`).set(w.coordHaidian.auth).expect(200);
    for (const path of [`/coverage/districts/${CHAOYANG}`, `/coverage/districts/${CHAOYANG}/gaps`]) {
      const res = await t.http().get(path).set(w.coordHaidian.auth).expect(404);
      expect(res.body.code).toBe('NOT_FOUND');
    }
    expect((await t.http().get('/coverage/districts/110199').set(w.admin.auth).expect(404)).body.code).toBe('NOT_FOUND');
    for (const session of [w.residentA1, w.staffA1, w.deptHaidian, w.orgHaidian]) {
      expect((await t.http().get('/coverage/districts').set(session.auth).expect(403)).body.code).toBe('FORBIDDEN');
      expect((await t.http().get(`/coverage/districts/${HAIDIAN}/gaps`).set(session.auth).expect(403)).body.code).toBe('FORBIDDEN');
    }
    await t.http().get('/coverage/districts').expect(401);
  });

  it('bad periods and paging parameters are 400 VALIDATION_FAILED', async () => {
    for (const q of [{ from: '2026-02-30' }, { from: '2026-05-02', to: '2026-05-01' }, { to: 'yesterday' }, { from: '2000-01-01', to: '2026-01-01' }, { extra: '1' }]) {
      const res = await t.http().get('/coverage/districts').query(q).set(w.admin.auth).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
    for (const q of [{ days: 0 }, { limit: 101 }, { cursor: 'nope' }]) {
      const res = await t.http().get(`/coverage/districts/${HAIDIAN}/gaps`).query(q).set(w.admin.auth).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await t.http().get('/docs-json').expect(200)).body as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    for (const path of ['/coverage/districts', '/coverage/districts/{code}', '/coverage/districts/{code}/gaps']) expect(doc.paths[path]).toBeDefined();
    for (const schema of ['DistrictCoverageView', 'DistrictCoverageDetailView', 'AudienceFiguresView', 'CoverageGapPageView']) expect(doc.components.schemas[schema]).toBeDefined();
  });

  it('every table as CSV with a header row', async () => {
    const city = await t.http().get('/coverage/districts').query(recent).set(w.admin.auth).set('Accept', 'text/csv').expect(200);
    expect(city.headers['content-type']).toContain('text/csv');
    const cityLines = csvLines(city.text);
    expect(cityLines[0]).toMatch(/^level,code,name,communities,coveredCommunities,coverage,orders,orders_submitted,/);
    expect(cityLines).toHaveLength(1 + (await cityView(recent)).length);

    const detail = await t.http().get(`/coverage/districts/${HAIDIAN}`).query(recent).set(w.admin.auth).set('Accept', 'text/csv').expect(200);
    const detailJson = (await t.http().get(`/coverage/districts/${HAIDIAN}`).query(recent).set(w.admin.auth).expect(200)).body as { subdistricts: unknown[] };
    const detailLines = csvLines(detail.text);
    expect(detailLines).toHaveLength(2 + detailJson.subdistricts.length);
    expect(detailLines[1]).toMatch(new RegExp(`^district,${HAIDIAN},`));
    expect(detailLines[2]).toMatch(/^subdistrict,110108/);

    const gaps = await t.http().get(`/coverage/districts/${HAIDIAN}/gaps`).set(w.admin.auth).set('Accept', 'text/csv').expect(200);
    const gapLines = csvLines(gaps.text);
    expect(gapLines[0]).toBe('communityCode,communityName,subdistrictCode,subdistrictName,lastServedAt,daysSinceService,pendingOrders');
    const all = await naiveCommunities(query, HAIDIAN);
    const cutoff = today() - 89;
    expect(gapLines).toHaveLength(1 + all.filter((c) => c.lastServedAt === null || (dayNumber(shanghaiDay(c.lastServedAt)) ?? 0) < cutoff).length);
    const paged = await t.http().get(`/coverage/districts/${HAIDIAN}/gaps`).query({ limit: 5 }).set(w.admin.auth).set('Accept', 'text/csv').expect(200);
    expect(csvLines(paged.text)).toHaveLength(6);
    expect(paged.headers['x-next-cursor']).toBeTruthy();
  });
});
