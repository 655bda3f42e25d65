import { hashPassword } from '@kepu/auth';
import type { TestApp } from './test-app';
import { COMMUNITY_A1, login, orderBody, type OrderJson, type Session, type World } from './world';

/**
 * Volunteers and venues for fulfilment suites, written straight to the tables so a
 * suite can make thirty volunteers in a blink (one password hash shared by all).
 */

const VOLUNTEER_PASSWORD = 'volunteer-pass-1';
let sharedHash: Promise<string> | undefined;
const passwordHash = () => (sharedHash ??= hashPassword(VOLUNTEER_PASSWORD));

/** Every day, all day (Asia/Shanghai): availability never gets in the way unless a test says so. */
export const ALWAYS: { weekday: number; start: string; end: string }[] = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: '00:00', end: '24:00' }));

export interface VolunteerSpec {
  organizationId: string;
  name?: string;
  homeCommunityCode?: string;
  skills?: { topic: string; level: number }[];
  audiences?: string[];
  availability?: { weekday: number; start: string; end: string }[];
  unavailable?: { start: string; end: string }[];
  maxHoursPerWeek?: number;
  isActive?: boolean;
}

export interface TestVolunteer {
  id: string;
  name: string;
}

export interface VolunteerWithLogin extends TestVolunteer {
  session: Session;
}

let serial = 0;

export async function createVolunteer(t: TestApp, spec: VolunteerSpec): Promise<TestVolunteer> {
  const name = spec.name ?? `volunteer-${process.pid}-${++serial}`;
  const { rows } = await t.db.query<{ id: string }>(
    `INSERT INTO volunteers (organization_id, display_name, phone, home_community_code, home_subdistrict_code, home_district_code,
       audiences, availability, unavailable, max_hours_per_week, is_active)
     SELECT $1, $2, '13900001111', c.code, c.subdistrict_code, c.district_code, $4, $5, $6, $7, $8 FROM communities c WHERE c.code = $3
     RETURNING id`,
    [
      spec.organizationId,
      name,
      spec.homeCommunityCode ?? COMMUNITY_A1,
      spec.audiences ?? ['elderly'],
      JSON.stringify(spec.availability ?? ALWAYS),
      JSON.stringify(spec.unavailable ?? []),
      spec.maxHoursPerWeek ?? 40,
      spec.isActive ?? true,
    ],
  );
  const id = rows[0]?.id;
  if (!id) throw new Error(`no community ${spec.homeCommunityCode ?? COMMUNITY_A1}`);
  for (const skill of spec.skills ?? [{ topic: 'anti_fraud', level: 2 }])
    await t.db.query(`INSERT INTO volunteer_skills (volunteer_id, topic, level) VALUES ($1, $2, $3)`, [id, skill.topic, skill.level]);
  return { id, name };
}

/** A volunteer with a login (role volunteer, linked both ways), signed in. */
export async function createVolunteerWithLogin(t: TestApp, spec: VolunteerSpec): Promise<VolunteerWithLogin> {
  const { id, name } = await createVolunteer(t, spec);
  const { rows: users } = await t.db.query<{ id: string }>(
    `INSERT INTO users (username, password_hash, display_name, role, organization_id, volunteer_id) VALUES ($1, $2, $1, 'volunteer', $3, $4) RETURNING id`,
    [name, await passwordHash(), spec.organizationId, id],
  );
  await t.db.query(`UPDATE volunteers SET user_id = $2 WHERE id = $1`, [id, users[0]?.id]);
  return { id, name, session: await login(t, name, VOLUNTEER_PASSWORD) };
}

/** Several at once, sequentially (the pool of the test database is small). */
export async function createVolunteersWithLogin(t: TestApp, n: number, spec: VolunteerSpec): Promise<VolunteerWithLogin[]> {
  const made: VolunteerWithLogin[] = [];
  for (let i = 0; i < n; i++) made.push(await createVolunteerWithLogin(t, spec));
  return made;
}

export interface VenueSpec {
  name?: string;
  communityCode?: string;
  capacity?: number;
  accessibility?: string[];
}

export async function createVenue(t: TestApp, spec: VenueSpec = {}): Promise<string> {
  const { rows } = await t.db.query<{ id: string }>(
    `INSERT INTO venues (name, owner_type, community_code, subdistrict_code, district_code, kind, capacity, accessibility)
     SELECT $1, 'city', c.code, c.subdistrict_code, c.district_code, 'community_room', $3, $4 FROM communities c WHERE c.code = $2
     RETURNING id`,
    [spec.name ?? `活动室 ${++serial}`, spec.communityCode ?? COMMUNITY_A1, spec.capacity ?? 100, spec.accessibility ?? ['wheelchair']],
  );
  const id = rows[0]?.id;
  if (!id) throw new Error(`no community ${spec.communityCode ?? COMMUNITY_A1}`);
  return id;
}

const DAY_MS = 24 * 3600 * 1000;

/** When this test file began: its calendar counts from that day, so a file that runs across 00:00 Shanghai keeps one. */
const TODAY = Date.now();

/** 00:00 Asia/Shanghai, `days` from the day this test file began (Shanghai): the base of wide preferred windows. */
export function shanghaiMidnight(days: number): Date {
  const local = new Date(TODAY + 8 * 3600 * 1000 + days * DAY_MS);
  local.setUTCHours(0, 0, 0, 0);
  return new Date(local.getTime() - 8 * 3600 * 1000);
}

/** A time `hours` after 00:00 Shanghai on the day `days` ahead, as ISO with +08:00. */
export function at(days: number, hours: number): string {
  const instant = new Date(shanghaiMidnight(days).getTime() + hours * 3600 * 1000);
  const local = new Date(instant.getTime() + 8 * 3600 * 1000).toISOString().slice(0, 19);
  return `${local}+08:00`;
}

/**
 * An order of community A1 accepted by 海淀's organisation, like world.orderIn, with
 * overrides of the order body (e.g. wide preferred windows for reschedules).
 */
export async function acceptedOrder(t: TestApp, w: World, overrides: Record<string, unknown> = {}): Promise<OrderJson> {
  const order = (await t.http().post('/orders').set(w.residentA1.auth).send(orderBody(COMMUNITY_A1, overrides)).expect(201)).body as OrderJson;
  await t.http().post(`/orders/${order.id}/dispatch`).set(w.staffA1.auth).send({ departmentId: w.departments.haidian }).expect(200);
  await t.http().post(`/orders/${order.id}/claim`).set(w.deptHaidian.auth).send({}).expect(200);
  await t.http().post(`/orders/${order.id}/offer`).set(w.deptHaidian.auth).send({ organizationId: w.organizations.haidian }).expect(200);
  return (await t.http().post(`/orders/${order.id}/accept`).set(w.orgHaidian.auth).send({}).expect(200)).body as OrderJson;
}

/** Preferred windows 08:00–20:00 Shanghai on days `days` and `days + 1`. */
export function wideWindows(days = 30): { preferredWindows: { start: string; end: string }[] } {
  return { preferredWindows: [{ start: at(days, 8), end: at(days, 20) }, { start: at(days + 1, 8), end: at(days + 1, 20) }] };
}

/** A schedule body for the order's first preferred window, all of it. */
export function scheduleBody(order: OrderJson, venueId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const window = (order.preferredWindows as { start: string; end: string }[])[0];
  if (!window) throw new Error('order without a preferred window');
  return { start: window.start, end: window.end, venueId, volunteerIds: [], ...overrides };
}
