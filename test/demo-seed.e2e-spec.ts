import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppConfig } from '@kepu/config';
import { AUDIENCE_CODES, ORDER_STATUSES } from '@kepu/core';
import { rebuildCoverage, rebuildScorecards, scorecardSla } from '@kepu/coverage';
import { createDataSource } from '@kepu/db';
import { VENUE_KINDS } from '@kepu/volunteers';
import type { DataSource } from 'typeorm';
import { createDemoSeedContext, type DemoSeedContext, type DemoSeedProgress, type DemoSeedResult, seedDemo } from '../apps/cli/src/demo';
import { startTestApp, type TestApp } from './support/test-app';
import { drain, openTestQueues, startTestWorker, suitePrefix, type TestQueues, type TestWorker } from './support/test-worker';

jest.setTimeout(240_000);

const TABLES = [
  'users',
  'departments',
  'organizations',
  'organization_districts',
  'volunteers',
  'volunteer_skills',
  'venues',
  'orders',
  'order_events',
  'outbox',
  'bookings',
  'assignments',
  'service_records',
  'volunteer_applications',
  'events',
  'event_signups',
  'escalations',
  'broadcasts',
  'notifications',
];
const DISTRICTS = ['110101', '110105', '110108', '110115'];

describe('npm run demo:seed', () => {
  let t: TestApp;
  let dataSource: DataSource;
  let seed: DemoSeedContext | undefined;
  let first: DemoSeedResult;
  let worker: TestWorker | undefined;
  let queues: TestQueues | undefined;
  const progress: DemoSeedProgress[] = [];

  const loginAs = async (username: string) => {
    const res = await t.http().post('/auth/login').send({ username, password: first.password }).expect(200);
    return { Authorization: `Bearer ${(res.body as { accessToken: string }).accessToken}` };
  };
  const one = async <T extends object>(sql: string): Promise<T> => {
    const row = (await t.db.query<T>(sql)).rows[0];
    if (!row) throw new Error(`no row for ${sql}`);
    return row;
  };
  const statusCounts = async () => (await t.db.query(`SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY status`)).rows;

  const counts = async (): Promise<Record<string, number>> => {
    const entries = await Promise.all(TABLES.map(async (table) => [table, Number((await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n)] as const));
    return Object.fromEntries(entries);
  };

  beforeAll(async () => {
    t = await startTestApp('demo-seed', { QUEUE_PREFIX: suitePrefix('demo-seed'), OUTBOX_POLL_MS: '100' });
    dataSource = createDataSource({ databaseUrl: process.env.DATABASE_URL as string, databasePoolSize: 2 });
    await dataSource.initialize();
    seed = await createDemoSeedContext();
    first = await seedDemo(seed.app, seed.clock, { onProgress: (p) => progress.push(p) });
  });

  afterAll(async () => {
    await worker?.close();
    await queues?.obliterate();
    await queues?.close();
    await seed?.app.close();
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
    // The services take what the API's validation would refuse: the demo's venues use the kinds POST /venues accepts.
    const kinds = (await t.db.query<{ kind: string }>(`SELECT DISTINCT kind FROM venues`)).rows.map((r) => r.kind);
    for (const kind of kinds) expect(VENUE_KINDS).toContain(kind);
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

  it('plays every step of the public side on a fresh database: nothing refused, nothing skipped', () => {
    expect(first.refused).toBe(0);
    expect(first.orders.skipped).toBe(0);
    expect(first.neighbours).toEqual({ created: 16, existing: 0 });
    expect(first.applications).toEqual({ created: 12, existing: 0 });
    expect(first.series).toEqual({ created: 4, existing: 0 });
    expect(first.broadcasts).toEqual({ created: 4, existing: 0 });
    expect(first.events).toBeGreaterThanOrEqual(8);
    expect(first.escalations).toBeGreaterThan(0);
  });

  it('has residents who signed up themselves with an SMS code (POST /auth/register), who log in and see their district\'s events', async () => {
    const { rows } = await t.db.query<{ username: string; role: string; registered: boolean }>(
      `SELECT u.username, u.role, EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'user.registered' AND a.target_id = u.id::text) AS registered
       FROM users u WHERE u.username LIKE '%.neighbour%' ORDER BY u.username`,
    );
    expect(rows).toHaveLength(16);
    for (const r of rows) expect(r).toMatchObject({ role: 'resident', registered: true });
    // Their codes were spent by the registration.
    expect((await t.db.query(`SELECT 1 FROM phone_codes`)).rowCount).toBe(0);
    const events = (await t.http().get('/events?limit=100').set(await loginAs('haidian.neighbour4')).expect(200)).body as { items: { districtCode: string; status: string }[] };
    expect(events.items.length).toBeGreaterThan(0);
    expect(new Set(events.items.map((e) => e.districtCode))).toEqual(new Set(['110108']));
    expect(events.items.map((e) => e.status)).toContain('full');
  });

  it('has volunteer applications in every state: each approved one made a volunteer profile on the applicant\'s own account, each rejected one says why', async () => {
    const { rows } = await t.db.query<{ status: string; district_code: string; has_profile: boolean; reason: string | null }>(
      `SELECT a.status, od.district_code, (v.id IS NOT NULL AND v.user_id = a.user_id) AS has_profile, a.reason
       FROM volunteer_applications a JOIN organization_districts od ON od.organization_id = a.organization_id
       LEFT JOIN volunteers v ON v.id = a.volunteer_id`,
    );
    for (const district of DISTRICTS) expect(new Set(rows.filter((r) => r.district_code === district).map((r) => r.status))).toEqual(new Set(['approved', 'pending', 'rejected']));
    for (const r of rows) {
      expect(r.has_profile).toBe(r.status === 'approved');
      expect(r.reason !== null).toBe(r.status === 'rejected');
    }
    // The approved resident keeps ordering and acts as a volunteer: GET /me shows the profile.
    const me = (await t.http().get('/me').set(await loginAs('haidian.neighbour1')).expect(200)).body as { role: string; volunteerId: string | null };
    expect(me.role).toBe('resident');
    expect(me.volunteerId).not.toBeNull();
    const admin = await loginAs('haidian.org');
    const organizationId = (await one<{ organization_id: string }>(`SELECT organization_id FROM users WHERE username = 'haidian.org'`)).organization_id;
    const pending = (await t.http().get(`/organizations/${organizationId}/volunteer-applications?status=pending`).set(admin).expect(200)).body as { items: unknown[] };
    expect(pending.items).toHaveLength(1);
  });

  it('has published events whose confirmed attendees never exceed the seats, with waiting lines, cancellations, tickets scanned at the door and feedback', async () => {
    const events = await t.db.query<{ order_id: string; seats: number; confirmed: number; status: string }>(
      `SELECT e.order_id, e.seats, coalesce(sum(s.attendees) FILTER (WHERE s.status = 'confirmed'), 0)::int AS confirmed, o.status
       FROM events e JOIN orders o ON o.id = e.order_id LEFT JOIN event_signups s ON s.order_id = e.order_id GROUP BY e.order_id, e.seats, o.status`,
    );
    expect(events.rowCount).toBeGreaterThanOrEqual(DISTRICTS.length * 2);
    for (const e of events.rows) expect(e.confirmed).toBeLessThanOrEqual(e.seats);
    expect(events.rows.some((e) => e.confirmed === e.seats)).toBe(true);
    const signups = await t.db.query<{ status: string; attended: boolean; feedback: boolean }>(
      `SELECT status, attended_at IS NOT NULL AS attended, feedback_at IS NOT NULL AS feedback FROM event_signups`,
    );
    expect(new Set(signups.rows.map((r) => r.status))).toEqual(new Set(['confirmed', 'waitlisted', 'cancelled']));
    expect(signups.rows.some((r) => r.attended && r.feedback)).toBe(true);
    for (const r of signups.rows) if (r.attended) expect(r.status).toBe('confirmed');
    // No one waits while a seat they fit in is free (before the start: the line is promoted on each cancellation).
    const stuck = await t.db.query(
      `SELECT 1 FROM events e JOIN orders o ON o.id = e.order_id AND o.status = 'scheduled'
       JOIN event_signups w ON w.order_id = e.order_id AND w.status = 'waitlisted'
       WHERE w.attendees <= e.seats - (SELECT coalesce(sum(attendees), 0) FROM event_signups c WHERE c.order_id = e.order_id AND c.status = 'confirmed')`,
    );
    expect(stuck.rowCount).toBe(0);
    // A published event's order completed without a headcount counts the attendees scanned at the door.
    const done = await t.db.query<{ attendance: number; scanned: number }>(
      `SELECT o.attendance, (SELECT coalesce(sum(attendees), 0) FROM event_signups s WHERE s.order_id = o.id AND s.attended_at IS NOT NULL)::int AS scanned
       FROM orders o JOIN events e ON e.order_id = o.id WHERE o.status IN ('completed', 'rated', 'closed')`,
    );
    expect(done.rowCount).toBeGreaterThan(0);
    for (const r of done.rows) expect(r.attendance).toBe(r.scanned);
  });

  it('has escalations in every state (resolved ones on orders that left the stage), urgent orders, a weekly series per district', async () => {
    const escalations = await t.db.query<{ status: string; has_left: boolean; acknowledged: boolean }>(
      `SELECT e.status,
              EXISTS (SELECT 1 FROM order_events y WHERE y.order_id = e.order_id AND y.seq > e.entered_seq
                        AND y.to_status <> (SELECT x.to_status FROM order_events x WHERE x.order_id = e.order_id AND x.seq = e.entered_seq)) AS has_left,
              e.acknowledged_at IS NOT NULL AND e.note IS NOT NULL AS acknowledged
       FROM escalations e JOIN orders o ON o.id = e.order_id`,
    );
    expect(new Set(escalations.rows.map((r) => r.status))).toEqual(new Set(['open', 'acknowledged', 'resolved']));
    for (const r of escalations.rows) {
      expect(r.has_left).toBe(r.status === 'resolved');
      if (r.status === 'acknowledged') expect(r.acknowledged).toBe(true);
    }
    const urgent = await t.db.query<{ district_code: string; role: string }>(`SELECT o.district_code, u.role FROM orders o JOIN users u ON u.id = o.requester_id WHERE o.urgent`);
    expect(new Set(urgent.rows.map((r) => r.district_code))).toEqual(new Set(DISTRICTS));
    for (const r of urgent.rows) expect(r.role).toBe('community_staff');
    const series = await t.db.query<{ district_code: string; n: number; dispatched: number }>(
      `SELECT district_code, count(*)::int AS n, count(*) FILTER (WHERE status = 'dispatched')::int AS dispatched FROM orders WHERE series_id IS NOT NULL GROUP BY series_id, district_code`,
    );
    expect(series.rows.map((r) => r.district_code).sort()).toEqual(DISTRICTS);
    for (const r of series.rows) expect(r).toMatchObject({ n: 4, dispatched: 1 });
  });

  it('shows every coordinators\' view at once: escalations, scorecards, key-population gaps, trend and a finished broadcast', async () => {
    await dataSource.transaction((manager) => rebuildCoverage(manager));
    await dataSource.transaction((manager) => rebuildScorecards(manager, scorecardSla((seed as DemoSeedContext).app.get(AppConfig))));
    const coordinator = await loginAs('haidian.coordinator');
    const escalations = (await t.http().get('/escalations?limit=100').set(coordinator).expect(200)).body as { items: { districtCode: string; status: string }[] };
    expect(escalations.items.length).toBeGreaterThan(0);
    expect(new Set(escalations.items.map((e) => e.districtCode))).toEqual(new Set(['110108']));
    const departments = (await t.http().get('/scorecards/departments').set(coordinator).expect(200)).body as { received: number }[];
    expect(departments.some((d) => d.received > 0)).toBe(true);
    const organizations = (await t.http().get('/scorecards/organizations').set(coordinator).expect(200)).body as { received: number }[];
    expect(organizations.some((o) => o.received > 0)).toBe(true);
    const gaps = (await t.http().get('/coverage/districts/110108/gaps?audience=elderly').set(coordinator).expect(200)).body as { items: unknown[] };
    expect(gaps.items.length).toBeGreaterThan(0);
    const trend = (await t.http().get('/coverage/districts/110108/trend').set(coordinator).expect(200)).body as { weeks: { coveredCommunities: number }[] };
    expect(trend.weeks.some((w) => w.coveredCommunities > 0)).toBe(true);
    const broadcasts = (await t.http().get('/broadcasts').set(coordinator).expect(200)).body as {
      items: { status: string; recipients: number; delivered: number; failed: number; pending: number; finishedAt: string | null }[];
    };
    expect(broadcasts.items).toHaveLength(1);
    const [b] = broadcasts.items;
    expect(b).toMatchObject({ status: 'done', failed: 0, pending: 0 });
    expect(b!.recipients).toBeGreaterThan(0);
    expect(b!.delivered).toBe(b!.recipients);
    expect(b!.finishedAt).not.toBeNull();
    // Delivered in the app: a volunteer of the district has it in the inbox.
    const inbox = (await t.http().get('/me/notifications?limit=100').set(await loginAs('haidian.volunteer1')).expect(200)).body as { items: { title?: string; body?: string }[] };
    expect(JSON.stringify(inbox.items)).toContain('寒潮蓝色预警');
  });

  it('shows a progress that reaches the end of each phase', () => {
    for (const phase of ['accounts', 'residents', 'orders', 'broadcasts'] as const) {
      const last = progress.filter((p) => p.phase === phase).at(-1);
      expect(last && last.done === last.total).toBe(true);
    }
  });

  it('adds nothing when run a second time, even a day and an hour later: it plays the first run\'s month again', async () => {
    const before = await counts();
    // Planned around another instant, the month's draws would differ (other requesters for the same order keys).
    const later = new Date(first.plannedAround.getTime() + 25 * 3600 * 1000);
    const second = await seedDemo((seed as DemoSeedContext).app, (seed as DemoSeedContext).clock, { now: later });
    expect(await counts()).toEqual(before);
    expect(first.isReplay).toBe(false);
    expect(second).toMatchObject({ plannedAround: first.plannedAround, isReplay: true });
    const audit = (await t.http().get('/admin/audit-log?action=demo.seeded').set(await loginAs('city.admin')).expect(200)).body as { items: { summary: { plannedAround: string } }[] };
    expect(audit.items.map((e) => e.summary.plannedAround)).toEqual([first.plannedAround.toISOString()]);
    expect(second.orders).toEqual({ created: 0, existing: first.orders.created, skipped: 0 });
    for (const part of ['users', 'departments', 'organizations', 'volunteers', 'venues', 'neighbours', 'applications', 'series', 'broadcasts'] as const) expect(second[part].created).toBe(0);
    expect(second).toMatchObject({ events: 0, signups: 0, escalations: 0, refused: 0 });
    expect(second.broadcasts.existing).toBe(first.broadcasts.created);
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

  it('gives the coverage dashboard something to show in each of the four districts (after the rebuild demo:seed runs)', async () => {
    await dataSource.transaction((manager) => rebuildCoverage(manager));
    const res = await t.http().get('/coverage/districts').set(await loginAs('city.admin')).expect(200);
    const districts = (res.body as { districtCode: string; coveredCommunities: number; orders: number; volunteerHours: number }[]).filter((d) =>
      ['110101', '110105', '110108', '110115'].includes(d.districtCode),
    );
    expect(districts).toHaveLength(4);
    for (const d of districts) {
      expect(d.coveredCommunities).toBeGreaterThan(0);
      expect(d.orders).toBeGreaterThan(30);
      expect(d.volunteerHours).toBeGreaterThan(0);
    }
  });

  it('carries on through the API from where each seeded order stands', async () => {
    const submitted = await one<{ id: string; staff: string; department: string }>(
      `SELECT o.id, (SELECT username FROM users u WHERE u.role = 'community_staff' AND u.community_code = o.community_code) AS staff,
              (SELECT id FROM departments d WHERE d.district_code = o.district_code ORDER BY name LIMIT 1) AS department
       FROM orders o WHERE o.status = 'submitted' ORDER BY o.created_at LIMIT 1`,
    );
    const dispatched = await t.http().post(`/orders/${submitted.id}/dispatch`).set(await loginAs(submitted.staff)).send({ departmentId: submitted.department }).expect(200);
    expect((dispatched.body as { status: string }).status).toBe('dispatched');

    const waiting = await one<{ id: string; staff: string }>(
      `SELECT o.id, u.username AS staff FROM orders o JOIN users u ON u.department_id = o.department_id WHERE o.status = 'dispatched' AND o.id <> '${submitted.id}' LIMIT 1`,
    );
    const claimed = await t.http().post(`/orders/${waiting.id}/claim`).set(await loginAs(waiting.staff)).send({}).expect(200);
    expect((claimed.body as { status: string }).status).toBe('claimed');

    const accepted = await one<{ id: string; admin: string; start: string }>(
      `SELECT o.id, u.username AS admin, o.preferred_windows->0->>'start' AS start FROM orders o JOIN users u ON u.role = 'org_admin' AND u.organization_id = o.organization_id
       WHERE o.status = 'accepted' ORDER BY o.created_at LIMIT 1`,
    );
    const start = new Date(Date.parse(accepted.start) + 6 * 3600 * 1000);
    const end = new Date(start.getTime() + 2 * 3600 * 1000);
    await t.http().get(`/orders/${accepted.id}/candidates?start=${start.toISOString()}&end=${end.toISOString()}`).set(await loginAs(accepted.admin)).expect(200);

    const completed = await one<{ id: string; requester: string }>(
      `SELECT o.id, u.username AS requester FROM orders o JOIN users u ON u.id = o.requester_id WHERE o.status = 'completed' LIMIT 1`,
    );
    const rated = await t.http().post(`/orders/${completed.id}/rating`).set(await loginAs(completed.requester)).send({ content: 5, volunteers: 5, punctuality: 4, comment: '讲得很好' }).expect(200);
    expect((rated.body as { status: string }).status).toBe('rated');

    const invitation = (
      await t.db.query<{ id: string; username: string }>(
        `SELECT a.id, u.username FROM assignments a JOIN users u ON u.volunteer_id = a.volunteer_id WHERE a.status = 'invited' AND lower(a.during) > now() LIMIT 1`,
      )
    ).rows[0];
    if (invitation) await t.http().post(`/assignments/${invitation.id}/confirm`).set(await loginAs(invitation.username)).send({}).expect(200);
  });

  it('hands its history to the worker: inboxes fill and every story stays where the seed left it', async () => {
    const before = await statusCounts();
    worker = await startTestWorker();
    queues = openTestQueues();
    await drain(t.db, queues, { timeoutMs: 200_000 });
    expect(await statusCounts()).toEqual(before);
    const inbox = await t.http().get('/me/notifications?limit=100').set(await loginAs('haidian.coordinator')).expect(200);
    expect((inbox.body as { items: unknown[] }).items.length).toBeGreaterThan(0);
    const invited = await t.db.query(`SELECT 1 FROM notifications WHERE type = 'assignment.invited'`);
    expect(invited.rowCount).toBeGreaterThan(0);
    // The rollups the worker maintained from the relayed history agree with a rebuild from the orders.
    const admin = await loginAs('city.admin');
    const maintained = (await t.http().get('/coverage/districts').set(admin).expect(200)).body as unknown;
    await dataSource.transaction((manager) => rebuildCoverage(manager));
    expect((await t.http().get('/coverage/districts').set(admin).expect(200)).body).toEqual(maintained);
    // Orders the seed left waiting past their stage's deadline are escalated by the stage timers.
    const breaches = await t.db.query(`SELECT 1 FROM sla_breaches`);
    expect(breaches.rowCount).toBeGreaterThan(0);
  });
});
