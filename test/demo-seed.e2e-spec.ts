import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIENCE_CODES, ORDER_STATUSES } from '@kepu/core';
import { createDataSource, type DemoSeedProgress, type DemoSeedResult, seedDemo } from '@kepu/db';
import type { DataSource } from 'typeorm';
import { startTestApp, type TestApp } from './support/test-app';

jest.setTimeout(120_000);

const TABLES = ['users', 'departments', 'organizations', 'organization_districts', 'volunteers', 'volunteer_skills', 'venues', 'orders', 'order_events', 'outbox', 'bookings', 'assignments', 'service_records'];

describe('npm run demo:seed', () => {
  let t: TestApp;
  let dataSource: DataSource;
  let first: DemoSeedResult;
  const progress: DemoSeedProgress[] = [];

  const counts = async (): Promise<Record<string, number>> => {
    const entries = await Promise.all(TABLES.map(async (table) => [table, Number((await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n)] as const));
    return Object.fromEntries(entries);
  };

  beforeAll(async () => {
    t = await startTestApp('demo-seed');
    dataSource = createDataSource({ databaseUrl: process.env.DATABASE_URL as string, databasePoolSize: 2 });
    await dataSource.initialize();
    first = await seedDemo(dataSource, { onProgress: (p) => progress.push(p) });
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await t?.close();
  });

  it('creates accounts of every role in at least four districts', async () => {
    const { rows } = await t.db.query<{ district_code: string; roles: string[] }>(
      `SELECT d.code AS district_code, array_agg(DISTINCT u.role ORDER BY u.role) AS roles
       FROM districts d JOIN users u ON
            u.district_code = d.code
         OR u.community_code IN (SELECT code FROM communities WHERE district_code = d.code)
         OR u.department_id IN (SELECT id FROM departments WHERE district_code = d.code)
         OR u.organization_id IN (SELECT organization_id FROM organization_districts WHERE district_code = d.code)
       GROUP BY d.code`,
    );
    const everyDistrictRole = ['community_staff', 'department_staff', 'district_coordinator', 'org_admin', 'resident', 'volunteer'];
    const complete = rows.filter((r) => everyDistrictRole.every((role) => r.roles.includes(role)));
    expect(complete.map((r) => r.district_code).sort()).toEqual(['110101', '110105', '110108', '110115']);
    const cityAdmins = await t.db.query(`SELECT 1 FROM users WHERE role = 'city_admin' AND username = 'city.admin'`);
    expect(cityAdmins.rowCount).toBe(1);
    expect(first.users.created).toBeGreaterThanOrEqual(100);
  });

  it('creates departments, organisations, venues and 200+ volunteers with skills and weekly availability', async () => {
    const { rows } = await t.db.query<{ volunteers: string; skilled: string; available: string; logins: string; levels: number[] }>(
      `SELECT count(*) AS volunteers,
              count(*) FILTER (WHERE EXISTS (SELECT 1 FROM volunteer_skills s WHERE s.volunteer_id = v.id)) AS skilled,
              count(*) FILTER (WHERE jsonb_array_length(v.availability) > 0 AND cardinality(v.audiences) > 0 AND cardinality(v.formats) > 0) AS available,
              count(v.user_id) AS logins,
              (SELECT array_agg(DISTINCT level ORDER BY level) FROM volunteer_skills) AS levels
       FROM volunteers v`,
    );
    const row = rows[0]!;
    expect(Number(row.volunteers)).toBeGreaterThanOrEqual(200);
    expect(Number(row.skilled)).toBe(Number(row.volunteers));
    expect(Number(row.available)).toBe(Number(row.volunteers));
    expect(Number(row.logins)).toBeGreaterThan(0);
    expect(row.levels).toEqual([1, 2, 3]);
    expect(first.departments.created).toBeGreaterThanOrEqual(4);
    expect(first.organizations.created).toBeGreaterThanOrEqual(4);
    expect(first.venues.created).toBeGreaterThanOrEqual(4);
  });

  it('creates orders in every status and every audience, over the past month and the next two weeks', async () => {
    const statuses = (await t.db.query<{ status: string }>(`SELECT DISTINCT status FROM orders`)).rows.map((r) => r.status);
    expect(statuses.sort()).toEqual([...ORDER_STATUSES].sort());
    const audiences = (await t.db.query<{ audience: string }>(`SELECT DISTINCT audience FROM orders`)).rows.map((r) => r.audience);
    expect(audiences.sort()).toEqual([...AUDIENCE_CODES].sort());
    const { rows } = await t.db.query<{ oldest_days: number; latest_event_days: number; districts: string }>(
      `SELECT extract(epoch FROM now() - min(created_at)) / 86400 AS oldest_days,
              extract(epoch FROM max(scheduled_start) - now()) / 86400 AS latest_event_days,
              count(DISTINCT district_code) AS districts
       FROM orders`,
    );
    expect(Number(rows[0]!.oldest_days)).toBeGreaterThan(25);
    expect(Number(rows[0]!.latest_event_days)).toBeGreaterThan(7);
    expect(Number(rows[0]!.districts)).toBeGreaterThanOrEqual(4);
  });

  it('keeps each order\'s history whole: one event per version, in time order, nothing after now', async () => {
    const broken = await t.db.query(
      `SELECT o.id FROM orders o
       JOIN LATERAL (SELECT count(*) AS n, max(seq) AS last, max(at) AS latest, bool_and(at <= now()) AS past FROM order_events e WHERE e.order_id = o.id) e ON TRUE
       WHERE e.n <> o.version OR e.last <> o.version OR e.latest <> o.updated_at OR NOT e.past`,
    );
    expect(broken.rows).toEqual([]);
    const unordered = await t.db.query(
      `SELECT 1 FROM order_events a JOIN order_events b ON a.order_id = b.order_id AND b.seq = a.seq + 1 WHERE b.at <= a.at OR b.from_status <> a.to_status`,
    );
    expect(unordered.rowCount).toBe(0);
    const unmessaged = await t.db.query(`SELECT 1 FROM order_events e WHERE NOT EXISTS (SELECT 1 FROM outbox m WHERE m.order_id = e.order_id AND m.type = e.type AND (m.payload->>'eventSeq')::int = e.seq)`);
    expect(unmessaged.rowCount).toBe(0);
  });

  it('never double-books a venue or a volunteer, and records hours only for events that happened', async () => {
    const venues = await t.db.query(
      `SELECT 1 FROM bookings a JOIN bookings b ON a.venue_id = b.venue_id AND a.id < b.id AND a.during && b.during WHERE a.status = 'active' AND b.status = 'active'`,
    );
    expect(venues.rowCount).toBe(0);
    const volunteers = await t.db.query(
      `SELECT 1 FROM assignments a JOIN assignments b ON a.volunteer_id = b.volunteer_id AND a.id < b.id AND a.during && b.during
       WHERE a.status IN ('invited','confirmed') AND b.status IN ('invited','confirmed')`,
    );
    expect(volunteers.rowCount).toBe(0);
    const records = await t.db.query<{ status: string }>(`SELECT DISTINCT o.status FROM service_records r JOIN orders o ON o.id = r.order_id`);
    expect(records.rows.map((r) => r.status).sort()).toEqual(['closed', 'completed', 'in_progress', 'rated']);
  });

  it('shows a progress that reaches the end of each phase', () => {
    for (const phase of ['accounts', 'orders'] as const) {
      const last = progress.filter((p) => p.phase === phase).at(-1);
      expect(last && last.done === last.total).toBe(true);
    }
  });

  it('adds nothing when run a second time', async () => {
    const before = await counts();
    const second = await seedDemo(dataSource);
    expect(await counts()).toEqual(before);
    expect(second.orders).toEqual({ created: 0, existing: first.orders.created, skipped: 0 });
    for (const part of ['users', 'departments', 'organizations', 'volunteers', 'venues'] as const) expect(second[part].created).toBe(0);
  });

  it('lets the README\'s accounts log in and see their district\'s orders', async () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    expect(readme).toContain('`haidian.coordinator`');
    expect(readme).toContain(first.password);
    const login = await t.http().post('/auth/login').send({ username: 'haidian.coordinator', password: first.password }).expect(200);
    const auth = { Authorization: `Bearer ${(login.body as { accessToken: string }).accessToken}` };
    const page = (await t.http().get('/orders?limit=100').set(auth).expect(200)).body as { items: { districtCode: string }[] };
    expect(page.items.length).toBeGreaterThan(20);
    expect(new Set(page.items.map((o) => o.districtCode))).toEqual(new Set(['110108']));

    const volunteer = await t.http().post('/auth/login').send({ username: 'haidian.volunteer1', password: first.password }).expect(200);
    const assignments = await t.http().get('/me/assignments?limit=100').set({ Authorization: `Bearer ${(volunteer.body as { accessToken: string }).accessToken}` }).expect(200);
    expect(Array.isArray(assignments.body)).toBe(true);
  });
});
