import { hashPassword } from '@kepu/auth/password';
import type { DataSource, EntityManager } from 'typeorm';
import { rowsOf } from '../sql';
import { DEMO_DISTRICTS, DEMO_PASSWORD, COMMUNITIES_PER_DISTRICT } from './demo-data';
import { type PlannedOrder, planDemoOrders } from './demo-orders';
import { buildDemoWorld, type DemoCommunity, type DemoUser, type DemoWorld } from './demo-world';

export interface DemoSeedProgress {
  phase: 'accounts' | 'orders';
  done: number;
  total: number;
}

export interface DemoSeedOptions {
  /** The instant the month of orders is planned around (tests pin it); default now. */
  now?: Date;
  onProgress?: (progress: DemoSeedProgress) => void;
}

/** Rows this run wrote, and rows a previous run had already written (second runs add nothing). */
export interface DemoSeedCount {
  created: number;
  existing: number;
}

export interface DemoSeedResult {
  users: DemoSeedCount;
  departments: DemoSeedCount;
  organizations: DemoSeedCount;
  volunteers: DemoSeedCount;
  venues: DemoSeedCount;
  /** `skipped`: planned orders that would now collide with what an earlier run on another day booked. */
  orders: DemoSeedCount & { skipped: number };
  /** The accounts README lists: the city's, then one of every role per district. */
  accounts: (Pick<DemoUser, 'username' | 'role' | 'displayName'> & { districtName: string })[];
  password: string;
}

/** One account of every role per district, by username suffix (`haidian.coordinator`…). */
const DEMO_ACCOUNT_ROLES = ['coordinator', 'staff1', 'resident1', 'kexie', 'org', 'volunteer1'];

/**
 * `npm run demo:seed`: a realistic month in four districts, written as the
 * services would have written it (see demo-orders.ts). Every row has an id
 * derived from a fixed key and is inserted with ON CONFLICT DO NOTHING, and an
 * order is written whole or not at all, so running it again adds nothing.
 */
export async function seedDemo(dataSource: DataSource, options: DemoSeedOptions = {}): Promise<DemoSeedResult> {
  const now = options.now ?? new Date();
  const progress = options.onProgress ?? (() => undefined);
  progress({ phase: 'accounts', done: 0, total: 6 });

  const communities = await readCommunities(dataSource);
  const world = buildDemoWorld((spec) => communities.get(spec.code) ?? []);
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const counts = await dataSource.transaction((manager) => writeWorld(manager, world, passwordHash, (done) => progress({ phase: 'accounts', done, total: 6 })));

  // Oldest first, so order codes (KP<date><sequence>) grow with the dates as they would have.
  const orders = planDemoOrders(world, now).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  const existing = new Set(
    (await dataSource.query<{ id: string }[]>(`SELECT id FROM orders WHERE id = ANY($1::uuid[])`, [orders.map((o) => o.id)])).map((r) => r.id),
  );
  let created = 0;
  let skipped = 0;
  let raced = 0;
  let done = 0;
  progress({ phase: 'orders', done, total: orders.length });
  for (const order of orders) {
    if (!existing.has(order.id)) {
      try {
        await dataSource.transaction((manager) => writeOrder(manager, order));
        created++;
      } catch (error) {
        const code = (error as { code?: string }).code;
        // 23505: a concurrent run wrote it first. 23P01: it overlaps a booking of a run on another day; 23503: its primary was skipped.
        if (code === '23505') raced++;
        else if (code === '23P01' || code === '23503') skipped++;
        else throw error;
      }
    }
    progress({ phase: 'orders', done: ++done, total: orders.length });
  }

  const byName = new Map(world.users.map((u) => [u.username, u]));
  const listed = [
    { districtName: '北京市', usernames: ['city.admin'] },
    ...DEMO_DISTRICTS.map((d) => ({ districtName: d.name, usernames: DEMO_ACCOUNT_ROLES.map((suffix) => `${d.slug}.${suffix}`) })),
  ];
  return {
    ...counts,
    orders: { created, existing: existing.size + raced, skipped },
    accounts: listed.flatMap(({ districtName, usernames }) =>
      usernames.map((username) => {
        const u = byName.get(username) as DemoUser;
        return { username, role: u.role, displayName: u.displayName, districtName };
      }),
    ),
    password: DEMO_PASSWORD,
  };
}

/** The first community of each of the district's first subdistricts: spread over the district, the same on every run. */
async function readCommunities(dataSource: DataSource): Promise<Map<string, DemoCommunity[]>> {
  const rows = await dataSource.query<{ code: string; name: string; subdistrict_code: string; district_code: string }[]>(
    `SELECT c.* FROM unnest($1::varchar[]) AS d(code)
     CROSS JOIN LATERAL (
       SELECT DISTINCT ON (subdistrict_code) code, name, subdistrict_code, district_code
       FROM communities WHERE district_code = d.code ORDER BY subdistrict_code, code LIMIT $2
     ) c
     ORDER BY c.code`,
    [DEMO_DISTRICTS.map((d) => d.code), COMMUNITIES_PER_DISTRICT],
  );
  const byDistrict = new Map<string, DemoCommunity[]>();
  for (const r of rows)
    byDistrict.set(r.district_code, [...(byDistrict.get(r.district_code) ?? []), { code: r.code, name: r.name, subdistrictCode: r.subdistrict_code, districtCode: r.district_code }]);
  return byDistrict;
}

/** Inserts `rows` ($1, a JSON array) with the statement's ON CONFLICT DO NOTHING; counts what was new. */
async function insertRows(manager: EntityManager, sql: string, rows: readonly object[], ...params: unknown[]): Promise<DemoSeedCount> {
  const inserted = rowsOf<unknown>(await manager.query(sql, [JSON.stringify(rows), ...params]));
  return { created: inserted.length, existing: rows.length - inserted.length };
}

async function writeWorld(manager: EntityManager, world: DemoWorld, passwordHash: string, step: (done: number) => void): Promise<Omit<DemoSeedResult, 'orders' | 'accounts' | 'password'>> {
  const departments = await insertRows(
    manager,
    `INSERT INTO departments (id, name, district_code, topics)
     SELECT r.id, r.name, r.district_code, r.topics FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, name text, district_code varchar, topics text[])
     ON CONFLICT DO NOTHING RETURNING id`,
    world.departments.map((d) => ({ id: d.id, name: d.name, district_code: d.districtCode, topics: d.topics })),
  );
  step(1);
  const organizations = await insertRows(
    manager,
    `INSERT INTO organizations (id, name) SELECT r.id, r.name FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, name text) ON CONFLICT DO NOTHING RETURNING id`,
    world.organizations.map((o) => ({ id: o.id, name: o.name })),
  );
  await manager.query(
    `INSERT INTO organization_districts (organization_id, district_code)
     SELECT r.organization_id, r.district_code FROM jsonb_to_recordset($1::jsonb) AS r(organization_id uuid, district_code varchar)
     ON CONFLICT DO NOTHING`,
    [JSON.stringify(world.organizations.flatMap((o) => o.districtCodes.map((d) => ({ organization_id: o.id, district_code: d }))))],
  );
  step(2);
  // Volunteers first, their logins next (users.volunteer_id), then the link back (volunteers.user_id).
  const volunteers = await insertRows(
    manager,
    `WITH v AS (
       INSERT INTO volunteers (id, organization_id, display_name, phone, home_community_code, home_subdistrict_code, home_district_code,
         audiences, formats, languages, availability, max_hours_per_week, is_active, created_at)
       SELECT r.id, r.organization_id, r.display_name, r.phone, r.home_community_code, r.home_subdistrict_code, r.home_district_code,
         r.audiences, r.formats, r.languages, r.availability, r.max_hours_per_week, r.is_active, now() - interval '60 days'
       FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, organization_id uuid, display_name text, phone text, home_community_code varchar,
         home_subdistrict_code varchar, home_district_code varchar, audiences text[], formats text[], languages text[], availability jsonb,
         max_hours_per_week numeric, is_active boolean)
       ON CONFLICT DO NOTHING RETURNING id
     ),
     skills AS (
       INSERT INTO volunteer_skills (volunteer_id, topic, level)
       SELECT v.id, s.topic, s.level FROM v
       JOIN jsonb_to_recordset($1::jsonb) AS r(id uuid, skills jsonb) ON r.id = v.id
       CROSS JOIN LATERAL jsonb_to_recordset(r.skills) AS s(topic text, level smallint)
     )
     SELECT id FROM v`,
    world.volunteers.map((v) => ({
      id: v.id,
      organization_id: v.organizationId,
      display_name: v.displayName,
      phone: v.phone,
      home_community_code: v.home.communityCode,
      home_subdistrict_code: v.home.subdistrictCode,
      home_district_code: v.home.districtCode,
      audiences: v.audiences,
      formats: v.formats,
      languages: v.languages,
      availability: v.availability,
      max_hours_per_week: v.maxHoursPerWeek,
      is_active: v.isActive,
      skills: v.skills,
    })),
  );
  step(3);
  const users = await insertRows(
    manager,
    `INSERT INTO users (id, username, password_hash, display_name, role, phone, community_code, department_id, organization_id, district_code, volunteer_id)
     SELECT r.id, r.username, $2, r.display_name, r.role, r.phone, r.community_code, r.department_id, r.organization_id, r.district_code, r.volunteer_id
     FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, username text, display_name text, role text, phone text, community_code varchar,
       department_id uuid, organization_id uuid, district_code varchar, volunteer_id uuid)
     ON CONFLICT DO NOTHING RETURNING id`,
    world.users.map((u) => ({
      id: u.id,
      username: u.username,
      display_name: u.displayName,
      role: u.role,
      phone: u.phone,
      community_code: u.communityCode,
      department_id: u.departmentId,
      organization_id: u.organizationId,
      district_code: u.districtCode,
      volunteer_id: u.volunteerId,
    })),
    passwordHash,
  );
  // A username someone else already uses would leave the demo's rows pointing at nobody: say so instead.
  const taken = await manager.query<{ username: string }[]>(
    `SELECT u.username FROM users u JOIN unnest($1::text[], $2::uuid[]) AS d(username, id) ON lower(u.username) = lower(d.username) WHERE u.id <> d.id`,
    [world.users.map((u) => u.username), world.users.map((u) => u.id)],
  );
  if (taken.length > 0) throw new Error(`The demo's usernames ${taken.map((t) => t.username).join(', ')} already belong to other accounts in this database.`);
  await manager.query(
    `UPDATE volunteers v SET user_id = r.user_id FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, user_id uuid) WHERE v.id = r.id AND v.user_id IS NULL`,
    [JSON.stringify(world.volunteers.filter((v) => v.userId !== null).map((v) => ({ id: v.id, user_id: v.userId })))],
  );
  step(4);
  const venues = await insertRows(
    manager,
    `INSERT INTO venues (id, name, owner_type, owner_id, community_code, subdistrict_code, district_code, kind, capacity, accessibility, created_by)
     SELECT r.id, r.name, r.owner_type, r.owner_id, r.community_code, r.subdistrict_code, r.district_code, r.kind, r.capacity, r.accessibility, r.created_by
     FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, name text, owner_type text, owner_id text, community_code varchar, subdistrict_code varchar,
       district_code varchar, kind text, capacity int, accessibility text[], created_by uuid)
     ON CONFLICT DO NOTHING RETURNING id`,
    world.venues.map((v) => ({
      id: v.id,
      name: v.name,
      owner_type: v.ownerType,
      owner_id: v.ownerId,
      community_code: v.community.code,
      subdistrict_code: v.community.subdistrictCode,
      district_code: v.community.districtCode,
      kind: v.kind,
      capacity: v.capacity,
      accessibility: v.accessibility,
      created_by: v.createdBy,
    })),
  );
  step(6);
  return { users, departments, organizations, volunteers, venues };
}

/** The order row as its last transition left it, then its events and outbox messages, booking, assignments and service records. */
async function writeOrder(manager: EntityManager, order: PlannedOrder): Promise<void> {
  const s = order.state;
  await manager.query(
    `INSERT INTO orders (id, code, status, version, community_code, subdistrict_code, district_code, requester_id, topic, audience, format,
       title, description, expected_attendance, preferred_windows, last_window_end, accessibility_needs, contact_name, contact_phone,
       department_id, organization_id, offered_organization_id, is_open_to_organizations, scheduled_start, scheduled_end, venue_id,
       returned_count, merged_into_id, possible_duplicate_ids, rating, open_slots, attendance, summary, completed_at, created_at, updated_at)
     SELECT r.id, 'KP' || to_char(r.created_at AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || lpad(nextval('order_code_seq')::text, 6, '0'),
       r.status, r.version, r.community_code, r.subdistrict_code, r.district_code, r.requester_id, r.topic, r.audience, r.format,
       r.title, r.description, r.expected_attendance, r.preferred_windows, r.last_window_end, r.accessibility_needs, r.contact_name, r.contact_phone,
       r.department_id, r.organization_id, r.offered_organization_id, r.is_open_to_organizations, r.scheduled_start, r.scheduled_end, r.venue_id,
       r.returned_count, r.merged_into_id, r.possible_duplicate_ids, r.rating, r.open_slots, r.attendance, r.summary, r.completed_at, r.created_at, r.updated_at
     FROM jsonb_populate_record(NULL::orders, $1::jsonb) AS r`,
    [
      JSON.stringify({
        id: order.id,
        status: s.status,
        version: s.version,
        community_code: order.community.code,
        subdistrict_code: order.community.subdistrictCode,
        district_code: order.community.districtCode,
        requester_id: order.requesterId,
        topic: order.topic,
        audience: order.audience,
        format: order.format,
        title: order.title,
        description: order.description,
        expected_attendance: order.expectedAttendance,
        preferred_windows: order.preferredWindows,
        last_window_end: order.lastWindowEnd,
        accessibility_needs: order.accessibilityNeeds,
        contact_name: order.contactName,
        contact_phone: order.contactPhone,
        department_id: s.departmentId,
        organization_id: s.organizationId,
        offered_organization_id: s.offeredOrganizationId,
        is_open_to_organizations: s.isOpenToOrganizations,
        scheduled_start: s.scheduledStart,
        scheduled_end: s.scheduledEnd,
        venue_id: s.venueId,
        returned_count: s.returnedCount,
        merged_into_id: s.mergedIntoId,
        possible_duplicate_ids: order.possibleDuplicateIds,
        rating: s.rating,
        open_slots: s.openSlots,
        attendance: s.attendance,
        summary: s.summary,
        completed_at: s.completedAt,
        created_at: order.createdAt,
        updated_at: s.updatedAt,
      }),
    ],
  );
  await manager.query(
    `INSERT INTO order_events (order_id, seq, type, from_status, to_status, actor_id, actor_role, payload, at)
     SELECT $1, e.seq, e.type, e.from_status, e.to_status, e.actor_id, e.actor_role, e.payload, e.at
     FROM jsonb_to_recordset($2::jsonb) AS e(seq int, type text, from_status text, to_status text, actor_id uuid, actor_role text, payload jsonb, at timestamptz)`,
    [
      order.id,
      JSON.stringify(
        order.events.map((e) => ({ seq: e.seq, type: e.type, from_status: e.fromStatus, to_status: e.toStatus, actor_id: e.actorId, actor_role: e.actorRole, payload: e.payload, at: e.at })),
      ),
    ],
  );
  // Unpublished, like any state change's messages: a worker started on the demo relays them (inboxes, reminders, SLA timers).
  await manager.query(
    `INSERT INTO outbox (type, order_id, payload, created_at)
     SELECT m.type, $1, m.payload, m.created_at FROM jsonb_to_recordset($2::jsonb) AS m(type text, payload jsonb, created_at timestamptz)`,
    [order.id, JSON.stringify(order.messages.map((m) => ({ type: m.type, payload: m.payload, created_at: m.createdAt })))],
  );
  const event = order.event;
  if (!event) return;
  await manager.query(
    `INSERT INTO bookings (id, venue_id, order_id, during, status, created_at) VALUES ($1, $2, $3, tstzrange($4::timestamptz, $5::timestamptz, '[)'), $6, $7)`,
    [event.bookingId, event.venueId, order.id, event.start, event.end, event.bookingStatus, event.bookedAt],
  );
  await manager.query(
    `INSERT INTO assignments (id, order_id, volunteer_id, organization_id, during, status, created_at, updated_at)
     SELECT a.id, $1, a.volunteer_id, a.organization_id, tstzrange($2::timestamptz, $3::timestamptz, '[)'), a.status, a.created_at, a.updated_at
     FROM jsonb_to_recordset($4::jsonb) AS a(id uuid, volunteer_id uuid, organization_id uuid, status text, created_at timestamptz, updated_at timestamptz)`,
    [
      order.id,
      event.start,
      event.end,
      JSON.stringify(event.assignments.map((a) => ({ id: a.id, volunteer_id: a.volunteerId, organization_id: a.organizationId, status: a.status, created_at: a.createdAt, updated_at: a.updatedAt }))),
    ],
  );
  if (event.records.length === 0) return;
  await manager.query(
    `INSERT INTO service_records (order_id, volunteer_id, event_start, event_end, check_in_at, check_out_at, hours, is_no_show, created_at)
     SELECT $1, r.volunteer_id, $2, $3, r.check_in_at, r.check_out_at, r.hours, r.is_no_show, r.created_at
     FROM jsonb_to_recordset($4::jsonb) AS r(volunteer_id uuid, check_in_at timestamptz, check_out_at timestamptz, hours numeric, is_no_show boolean, created_at timestamptz)`,
    [
      order.id,
      event.start,
      event.end,
      JSON.stringify(event.records.map((r) => ({ volunteer_id: r.volunteerId, check_in_at: r.checkInAt, check_out_at: r.checkOutAt, hours: r.hours, is_no_show: r.isNoShow, created_at: r.createdAt }))),
    ],
  );
}
