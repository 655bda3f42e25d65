import { AccountsService } from '@kepu/accounts';
import { AuditLogService, hashPassword, SignupService, UsersService } from '@kepu/auth';
import { AppConfig } from '@kepu/config';
import { type Actor, DomainError, type FixedClock, NotFoundError } from '@kepu/core';
import { EventsService } from '@kepu/events';
import { BroadcastFanOutService, BroadcastsService } from '@kepu/notifications';
import { EscalationsService, OrdersService } from '@kepu/orders';
import { RegionsService } from '@kepu/regions';
import { AssignmentsService, FulfilmentService, SchedulingService, VenuesService, VolunteerApplicationsService, VolunteersService } from '@kepu/volunteers';
import type { INestApplicationContext } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { DataSource } from 'typeorm';
import { COMMUNITIES_PER_DISTRICT, DEMO_DISTRICTS, DEMO_PASSWORD } from './demo-data';
import { type PlannedOrder, planDemoOrders, type Step } from './demo-orders';
import { type PlannedEscalation, type PlannedPublication, type PlannedSeries, type PublicPlan, planPublicSide } from './demo-public';
import { buildDemoWorld, type DemoCommunity, type DemoUser, type DemoWorld } from './demo-world';

export interface DemoSeedProgress {
  phase: 'accounts' | 'residents' | 'orders' | 'broadcasts';
  done: number;
  total: number;
}

export interface DemoSeedOptions {
  /**
   * The instant a fresh database's month is planned around (tests pin it); default now.
   * A database seeded before keeps the instant of its first run (see plannedMonth).
   */
  now?: Date;
  onProgress?: (progress: DemoSeedProgress) => void;
}

/** Rows this run wrote, and rows a previous run had already written (second runs add nothing). */
export interface DemoSeedCount {
  created: number;
  existing: number;
}

export interface DemoSeedResult {
  /** The instant the month was planned around: this run's, or the first run's on a seeded database. */
  plannedAround: Date;
  /** Whether an earlier run had planned that month (this run replayed it). */
  isReplay: boolean;
  users: DemoSeedCount;
  departments: DemoSeedCount;
  organizations: DemoSeedCount;
  volunteers: DemoSeedCount;
  venues: DemoSeedCount;
  /** `skipped`: planned orders whose story a service refused part-way (they stay where it stopped). */
  orders: DemoSeedCount & { skipped: number };
  /** Residents who signed up themselves (phone code, then register). */
  neighbours: DemoSeedCount;
  /** Volunteer applications (approved, rejected, pending). */
  applications: DemoSeedCount;
  /** Published events, sign-ups and escalations written by this run (they come with their orders: none on a second run). */
  events: number;
  signups: number;
  escalations: number;
  series: DemoSeedCount;
  broadcasts: DemoSeedCount;
  /** Steps of the public side a service refused (printed as they happen); 0 on a fresh database. */
  refused: number;
  /** The accounts README lists: the city's, then one of every role per district. */
  accounts: (Pick<DemoUser, 'username' | 'role' | 'displayName'> & { districtName: string })[];
  password: string;
}

/** One account of every role per district, by username suffix (`haidian.coordinator`…). */
const DEMO_ACCOUNT_ROLES = ['coordinator', 'staff1', 'resident1', 'kexie', 'org', 'volunteer1'];

const DAY_MS = 24 * 3600 * 1000;
/** The audit entry of a database's first demo seed: the instant its month is planned around. */
const DEMO_SEEDED = 'demo.seeded';
/** The session advisory lock one demo seed holds at a time (any bigint other locks do not use). */
const DEMO_SEED_LOCK_KEY = '4815162342';
/** Volunteers and venues were registered before the month the orders tell of. */
const REGISTERED_DAYS_AGO = 60;
/** A completed order nobody rates is closed this long after completion (the worker's timer). */
const CLOSE_UNRATED_AFTER_MS = 7 * DAY_MS;
/** Password hashes (scrypt) at once: libuv's thread pool has four threads. */
const HASHING_AT_ONCE = 4;

/** The services the seed writes through: each library writes its own tables. */
interface Services {
  users: UsersService;
  accounts: AccountsService;
  regions: RegionsService;
  volunteers: VolunteersService;
  venues: VenuesService;
  orders: OrdersService;
  scheduling: SchedulingService;
  assignments: AssignmentsService;
  fulfilment: FulfilmentService;
  signup: SignupService;
  applications: VolunteerApplicationsService;
  events: EventsService;
  escalations: EscalationsService;
  broadcasts: BroadcastsService;
  fanOut: BroadcastFanOutService;
  dataSource: DataSource;
}

type SeedActor = Actor & { username: string; displayName: string };

/** Planned ids (keys) → the ids the services gave the rows, and the accounts to act as. */
interface Ids {
  actors: Map<string, SeedActor>;
  departments: Map<string, string>;
  organizations: Map<string, string>;
  volunteers: Map<string, string>;
  venues: Map<string, string>;
}

const ZERO = (): DemoSeedCount => ({ created: 0, existing: 0 });

/** Runs `work` over `items`, `atOnce` at a time, in order of start. */
async function inBatches<T, R>(items: readonly T[], atOnce: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += atOnce) results.push(...(await Promise.all(items.slice(i, i + atOnce).map(work))));
  return results;
}

const required = <K, V>(map: Map<K, V>, key: K, what: string): V => {
  const value = map.get(key);
  if (value === undefined) throw new Error(`demo seed: no ${what} for ${String(key)}`);
  return value;
};

/**
 * `npm run demo:seed`: a realistic month in four districts, written through the
 * libraries' own services (accounts, organisations, volunteers, venues, order
 * transitions, scheduling, assignments, check-in, completion, rating) with the
 * application's Clock set to the time of each step, so every row, event and
 * outbox message carries the time it would have had. Idempotent: accounts,
 * departments, organisations and venues are found by name before they are
 * created, and each order is created with an Idempotency-Key of its own (the
 * API's semantics), so a second run finds every order and adds nothing.
 */
export async function seedDemo(app: INestApplicationContext, clock: FixedClock, options: DemoSeedOptions = {}): Promise<DemoSeedResult> {
  // Two runs at once take turns: the second finds what the first wrote.
  const runner = app.get(DataSource).createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1::bigint)', [DEMO_SEED_LOCK_KEY]);
    try {
      return await seedUnderLock(app, clock, options);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1::bigint)', [DEMO_SEED_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}

async function seedUnderLock(app: INestApplicationContext, clock: FixedClock, options: DemoSeedOptions): Promise<DemoSeedResult> {
  const { plannedAround: now, isReplay } = await plannedMonth(app.get(AuditLogService), options.now ?? new Date());
  const progress = options.onProgress ?? (() => undefined);
  const config = app.get(AppConfig);
  const services: Services = {
    users: app.get(UsersService),
    accounts: app.get(AccountsService),
    regions: app.get(RegionsService),
    volunteers: app.get(VolunteersService),
    venues: app.get(VenuesService),
    orders: app.get(OrdersService),
    scheduling: app.get(SchedulingService),
    assignments: app.get(AssignmentsService),
    fulfilment: app.get(FulfilmentService),
    signup: app.get(SignupService),
    applications: app.get(VolunteerApplicationsService),
    events: app.get(EventsService),
    escalations: app.get(EscalationsService),
    broadcasts: app.get(BroadcastsService),
    fanOut: app.get(BroadcastFanOutService),
    dataSource: app.get(DataSource),
  };
  progress({ phase: 'accounts', done: 0, total: 6 });
  const communities = await readCommunities(services.regions);
  const world = buildDemoWorld((spec) => communities.get(spec.code) ?? []);
  clock.set(new Date(now.getTime() - REGISTERED_DAYS_AGO * DAY_MS));
  const { counts, ids } = await writeWorld(services, world, (done) => progress({ phase: 'accounts', done, total: 6 }));

  // Oldest first, so order codes (KP<date><sequence>) grow with the dates as they would have.
  const orders = planDemoOrders(world, now).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  const plan = planPublicSide(world, orders, now, {
    hours: { dispatch: config.slaDispatchHours, claim: config.slaClaimHours, accept: config.slaAcceptHours, schedule: config.slaScheduleHours },
    urgentFactor: config.slaUrgentFactor,
  });
  const residents = plan.neighbours.length + plan.applications.length;
  const publicSide = await writeResidents(services, clock, ids, plan, (done) => progress({ phase: 'residents', done, total: residents }));
  const played = await playOrders(services, clock, world, ids, orders, plan, (done) => progress({ phase: 'orders', done, total: orders.length }));
  progress({ phase: 'broadcasts', done: 0, total: plan.broadcasts.length });
  const broadcasts = await sendBroadcasts(services, ids, plan, (done) => progress({ phase: 'broadcasts', done, total: plan.broadcasts.length }));

  const listed = [
    { districtName: '北京市', usernames: ['city.admin'] },
    ...DEMO_DISTRICTS.map((d) => ({ districtName: d.name, usernames: [...DEMO_ACCOUNT_ROLES.map((suffix) => `${d.slug}.${suffix}`), `${d.slug}.neighbour1`] })),
  ];
  const byName = new Map([...world.users, ...plan.neighbours].map((u) => [u.username, u]));
  return {
    plannedAround: now,
    isReplay,
    ...counts,
    orders: played.orders,
    neighbours: publicSide.neighbours,
    applications: publicSide.applications,
    events: played.events,
    signups: played.signups,
    escalations: played.escalations,
    series: played.series,
    broadcasts,
    refused: publicSide.refused + played.refused,
    accounts: listed.flatMap(({ districtName, usernames }) =>
      usernames.map((username) => {
        const u = required(byName, username, 'demo account');
        return { username, role: u.role, displayName: u.displayName, districtName };
      }),
    ),
    password: DEMO_PASSWORD,
  };
}

/**
 * The month a run plays. Every story is planned relative to one instant, and the
 * stories' draws (who filed an order, which volunteers came) depend on where that
 * instant falls, so a run an hour or a day later would plan other requesters for
 * the same order keys, and their Idempotency-Keys (per user) would not find the
 * first run's orders. So the first run records its instant in the audit log
 * (`demo.seeded`, under the seed's advisory lock) and every later run plans the
 * same month again: it finds every row and adds nothing; a run cut short resumes.
 */
async function plannedMonth(audit: AuditLogService, fresh: Date): Promise<{ plannedAround: Date; isReplay: boolean }> {
  const [earlier] = (await audit.list({ action: DEMO_SEEDED, limit: 1 })).items;
  const recorded = earlier?.summary.plannedAround;
  if (typeof recorded === 'string' && !Number.isNaN(Date.parse(recorded))) return { plannedAround: new Date(recorded), isReplay: true };
  await audit.record(
    { actor: null, ip: null },
    { action: DEMO_SEEDED, targetType: 'database', targetId: null, summary: { plannedAround: fresh.toISOString(), districtCodes: DEMO_DISTRICTS.map((d) => d.code) } },
  );
  return { plannedAround: fresh, isReplay: false };
}

/** The first community of each of the district's first subdistricts: spread over the district, the same on every run. */
async function readCommunities(regions: RegionsService): Promise<Map<string, DemoCommunity[]>> {
  const byDistrict = new Map<string, DemoCommunity[]>();
  for (const district of DEMO_DISTRICTS) {
    const subdistricts = await regions.listSubdistricts(district.code).catch((error: unknown) => {
      if (error instanceof NotFoundError) return [];
      throw error;
    });
    const found: DemoCommunity[] = [];
    for (const s of subdistricts.filter((x) => x.communityCount > 0)) {
      if (found.length >= COMMUNITIES_PER_DISTRICT) break;
      const first = (await regions.listCommunities(s.code))[0];
      if (first) found.push({ code: first.code, name: first.name, subdistrictCode: first.subdistrictCode, districtCode: first.districtCode });
    }
    byDistrict.set(district.code, found);
  }
  return byDistrict;
}

const actorOf = (user: SeedActor): Actor => ({
  userId: user.userId,
  role: user.role,
  communityCode: user.communityCode,
  departmentId: user.departmentId,
  organizationId: user.organizationId,
  districtCode: user.districtCode,
  volunteerId: user.volunteerId,
});

async function writeWorld(s: Services, world: DemoWorld, step: (done: number) => void): Promise<{ counts: Pick<DemoSeedResult, 'users' | 'departments' | 'organizations' | 'volunteers' | 'venues'>; ids: Ids }> {
  const users = ZERO();
  const ids: Ids = { actors: new Map(), departments: new Map(), organizations: new Map(), volunteers: new Map(), venues: new Map() };
  const planned = new Map(world.users.map((u) => [u.id, u]));
  /** The account as the API sees it; refuses a username some other account of another role already holds. */
  const known = async (user: DemoUser): Promise<SeedActor | null> => {
    const actor = await s.users.actorOf(user.username);
    if (actor && actor.role !== user.role)
      throw new Error(`The demo's username ${user.username} already belongs to another account (${actor.role}) in this database.`);
    if (actor) ids.actors.set(user.id, actor);
    return actor;
  };

  // The city's administrator first: everything else is created by the accounts the demo has, as people would.
  const admin = required(planned, world.cityAdminId, 'city admin');
  if (await known(admin)) users.existing++;
  else {
    await s.users.create(
      { username: admin.username, passwordHash: await hashPassword(DEMO_PASSWORD), displayName: admin.displayName, role: admin.role, phone: admin.phone, communityCode: null, departmentId: null, organizationId: null, districtCode: null },
      { actor: null, ip: null },
    );
    users.created++;
    await known(admin);
  }
  const cityAdmin = actorOf(required(ids.actors, world.cityAdminId, 'city admin'));

  const departments = ZERO();
  const existingDepartments = await s.accounts.listDepartments();
  for (const d of world.departments) {
    const found = existingDepartments.find((x) => x.name === d.name && x.districtCode === d.districtCode);
    if (found) departments.existing++;
    else departments.created++;
    ids.departments.set(d.id, found?.id ?? (await s.accounts.createDepartment(cityAdmin, { name: d.name, districtCode: d.districtCode, topics: d.topics }, null)).id);
  }
  step(1);
  const organizations = ZERO();
  const existingOrganizations = await s.accounts.listOrganizations();
  for (const o of world.organizations) {
    const found = existingOrganizations.find((x) => x.name === o.name);
    if (found) organizations.existing++;
    else organizations.created++;
    ids.organizations.set(o.id, found?.id ?? (await s.accounts.createOrganization(cityAdmin, { name: o.name, districtCodes: o.districtCodes }, null)).id);
  }
  step(2);

  // Everyone but the volunteers, by the city's administrator (POST /users), a few password hashes at a time.
  const staff = world.users.filter((u) => u.id !== world.cityAdminId && u.role !== 'volunteer');
  await inBatches(staff, HASHING_AT_ONCE, async (u) => {
    if (await known(u)) return void users.existing++;
    await s.accounts.createUser(
      cityAdmin,
      {
        username: u.username,
        password: DEMO_PASSWORD,
        displayName: u.displayName,
        role: u.role,
        phone: u.phone,
        ...(u.communityCode !== null ? { communityCode: u.communityCode } : {}),
        ...(u.departmentId !== null ? { departmentId: required(ids.departments, u.departmentId, 'department') } : {}),
        ...(u.organizationId !== null ? { organizationId: required(ids.organizations, u.organizationId, 'organisation') } : {}),
        ...(u.districtCode !== null ? { districtCode: u.districtCode } : {}),
      },
      null,
    );
    users.created++;
    await known(u);
  });
  step(3);

  // Volunteers with their logins, registered by their organisation's admin (POST /organizations/:id/volunteers).
  const volunteers = ZERO();
  const adminOf = new Map(world.organizations.map((o) => [o.id, o.adminId]));
  await inBatches(world.volunteers, HASHING_AT_ONCE, async (v) => {
    const login = required(planned, v.userId, 'volunteer login');
    const existing = await known(login);
    if (existing?.volunteerId) {
      volunteers.existing++;
      users.existing++;
      ids.volunteers.set(v.id, existing.volunteerId);
      return;
    }
    const orgAdmin = actorOf(required(ids.actors, required(adminOf, v.organizationId, 'organisation admin'), 'organisation admin'));
    const organizationId = required(ids.organizations, v.organizationId, 'organisation');
    const created = await s.volunteers.create(orgAdmin, organizationId, {
      displayName: v.displayName,
      phone: v.phone,
      homeCommunityCode: v.home.communityCode,
      skills: v.skills,
      audiences: v.audiences,
      formats: v.formats,
      languages: v.languages,
      availability: v.availability,
      maxHoursPerWeek: v.maxHoursPerWeek,
      username: login.username,
      password: DEMO_PASSWORD,
    });
    // A few have paused (PATCH /volunteers/:id).
    if (!v.isActive) await s.volunteers.update(orgAdmin, created.id, { isActive: false });
    volunteers.created++;
    users.created++;
    ids.volunteers.set(v.id, created.id);
    await known(login);
  });
  step(4);

  // Venues, each registered by its owner: the community's staff, the 科协, the organisation or the city.
  const venues = ZERO();
  for (const district of world.districts) {
    const existing = await listVenues(s.venues, district.spec.code);
    for (const v of district.venues) {
      const found = existing.find((x) => x.name === v.name && x.communityCode === v.community.code);
      if (found) {
        venues.existing++;
        ids.venues.set(v.id, found.id);
        continue;
      }
      const owner = actorOf(required(ids.actors, v.createdBy, 'venue owner'));
      const created = await s.venues.create(owner, { name: v.name, communityCode: v.community.code, kind: v.kind, capacity: v.capacity, accessibility: v.accessibility });
      venues.created++;
      ids.venues.set(v.id, created.id);
    }
  }
  step(6);
  return { counts: { users, departments, organizations, volunteers, venues }, ids };
}

async function listVenues(venues: VenuesService, districtCode: string): Promise<{ id: string; name: string; communityCode: string }[]> {
  const all: { id: string; name: string; communityCode: string }[] = [];
  let cursor: string | undefined;
  do {
    const page = await venues.list({ districtCode, limit: 100, ...(cursor ? { cursor } : {}) });
    all.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return all;
}

/**
 * Residents who signed up themselves, as the API's sign-up does it (POST /auth/phone-codes,
 * then POST /auth/register with the code the SMS carries: the outbox message's), then
 * volunteer applications: filed by residents, decided by the organisation's admin.
 */
async function writeResidents(
  s: Services,
  clock: FixedClock,
  ids: Ids,
  plan: PublicPlan,
  progress: (done: number) => void,
): Promise<{ neighbours: DemoSeedCount; applications: DemoSeedCount; refused: number }> {
  const neighbours = ZERO();
  const applications = ZERO();
  let refused = 0;
  let done = 0;
  progress(done);
  const known = async (user: DemoUser): Promise<SeedActor | null> => {
    const found = await s.users.actorOf(user.username);
    if (found && found.role !== user.role) throw new Error(`The demo's username ${user.username} already belongs to another account (${found.role}) in this database.`);
    if (found) ids.actors.set(user.id, found);
    return found;
  };
  for (const n of plan.neighbours) {
    if (await known(n)) neighbours.existing++;
    else {
      clock.set(n.registeredAt);
      await s.signup.sendCode({ phone: n.phone, purpose: 'register' }, null);
      const code = await sentCode(s.dataSource, n.phone);
      await s.signup.register({ phone: n.phone, code, password: DEMO_PASSWORD, displayName: n.displayName, communityCode: n.communityCode as string, username: n.username }, null);
      neighbours.created++;
      await known(n);
    }
    progress(++done);
  }
  const planned = new Map(plan.neighbours.map((n) => [n.id, n]));
  const actor = (plannedUserId: string): Actor => actorOf(required(ids.actors, plannedUserId, 'account'));
  for (const a of plan.applications) {
    const applicant = actor(a.applicantId);
    const mine = await s.applications.listMine(applicant, { limit: 100 });
    if (mine.items.some((x) => x.organizationId === required(ids.organizations, a.organizationId, 'organisation'))) applications.existing++;
    else
      await refusable(
        a.key,
        async () => {
          clock.set(a.appliedAt);
          const created = await s.applications.apply(applicant, {
            organizationId: required(ids.organizations, a.organizationId, 'organisation'),
            displayName: a.displayName,
            phone: a.phone,
            homeCommunityCode: a.homeCommunityCode,
            skills: a.skills,
            audiences: a.audiences,
            formats: a.formats,
            languages: a.languages,
            availability: a.availability,
            maxHoursPerWeek: a.maxHoursPerWeek,
            motivation: a.motivation,
          });
          applications.created++;
          if (a.decidedAt) clock.set(a.decidedAt);
          if (a.outcome === 'approved') await s.applications.approve(actor(a.adminId), created.id, {});
          else if (a.outcome === 'rejected') await s.applications.reject(actor(a.adminId), created.id, { reason: a.reason as string });
          // The approved applicant now acts with the volunteer profile too.
          await known(required(planned, a.applicantId, 'applicant'));
        },
        () => void refused++,
      );
    progress(++done);
  }
  return { neighbours, applications, refused };
}

/** The 6 digits the SMS carries: the payload of the `auth.phone_code` outbox message (what the worker hands the SMS provider). */
async function sentCode(dataSource: DataSource, phone: string): Promise<string> {
  const rows = await dataSource.query<{ code: string }[]>(
    `SELECT payload->>'code' AS code FROM outbox WHERE type = 'auth.phone_code' AND payload->>'phone' = $1 ORDER BY created_at DESC LIMIT 1`,
    [phone],
  );
  const code = rows[0]?.code;
  if (!code) throw new Error(`demo seed: no sign-up code was sent to ${phone}`);
  return code;
}

/**
 * Each district's coordinator tells residents and volunteers in the app (POST /broadcasts
 * with an Idempotency-Key: a second run replays it), and the worker's fan-out runs each
 * batch at once (the same batch jobs a worker would run later find them done).
 */
async function sendBroadcasts(s: Services, ids: Ids, plan: PublicPlan, progress: (done: number) => void): Promise<DemoSeedCount> {
  const counts = ZERO();
  let done = 0;
  for (const b of plan.broadcasts) {
    const sender = actorOf(required(ids.actors, b.senderId, 'coordinator'));
    const outcome = await s.broadcasts.create(sender, { title: b.title, body: b.body, roles: b.roles, channels: b.channels }, b.key);
    if (outcome.replayed) counts.existing++;
    else {
      counts.created++;
      for (let batchNo = 0; ; batchNo++) {
        try {
          await s.fanOut.runBatch(outcome.result.id, batchNo);
        } catch (error) {
          // Past the last batch.
          if (error instanceof UnrecoverableError) break;
          throw error;
        }
      }
    }
    progress(++done);
  }
  return counts;
}

/** One thing someone did to an order, at a time: a step of its story, a confirmation, a check-in or a check-out. */
interface Operation {
  order: PlannedOrder;
  at: Date;
  /** Position in the order's own story: ties keep it. */
  index: number;
  kind: 'create' | 'step' | 'confirm' | 'check_in' | 'check_out' | 'public';
  step?: Step;
  volunteerId?: string;
  /** kind public: what a resident, the staff or the SLA timer did about the order (its event, its escalation). */
  run?: (orderId: string) => Promise<void>;
  label?: string;
}

/** Something on the timeline that belongs to no order of the month (a series: its orders are created by it). */
interface LooseOperation {
  at: Date;
  label: string;
  run: () => Promise<void>;
}

/** Every order's operations on one timeline: the stories unfold side by side, as the month did. */
function timeline(orders: readonly PlannedOrder[], extras: ReadonlyMap<string, Omit<Operation, 'order' | 'index'>[]>): Operation[] {
  const ops: Operation[] = [];
  for (const order of orders) {
    const own: Omit<Operation, 'index'>[] = [{ order, at: order.createdAt, kind: 'create' }];
    // The first check-in moves the order to in_progress: the check-in operation does it, as it does in the API.
    for (const step of order.steps) if (step.action !== 'check_in') own.push({ order, at: step.at, kind: 'step', step });
    const event = order.event;
    if (event && order.story !== 'cancelled') {
      for (const a of event.assignments) if (a.status === 'confirmed') own.push({ order, at: a.updatedAt, kind: 'confirm', volunteerId: a.volunteerId });
      for (const r of event.records) {
        if (r.checkInAt) own.push({ order, at: r.checkInAt, kind: 'check_in', volunteerId: r.volunteerId });
        if (r.checkOutAt) own.push({ order, at: r.checkOutAt, kind: 'check_out', volunteerId: r.volunteerId });
      }
    }
    for (const extra of extras.get(order.id) ?? []) own.push({ ...extra, order });
    own.sort((a, b) => a.at.getTime() - b.at.getTime());
    own.forEach((op, index) => ops.push({ ...op, index }));
  }
  const position = new Map(orders.map((o, i) => [o.id, i]));
  return ops.sort((a, b) => a.at.getTime() - b.at.getTime() || (position.get(a.order.id) ?? 0) - (position.get(b.order.id) ?? 0) || a.index - b.index);
}

/** The Idempotency-Key of a planned order: the same story gets the same key on every run. */
const orderKey = (order: PlannedOrder) => `kepu-demo-seed:${order.key}`;

interface PlayedOrders {
  orders: DemoSeedCount & { skipped: number };
  events: number;
  signups: number;
  escalations: number;
  series: DemoSeedCount;
  refused: number;
}

async function playOrders(
  s: Services,
  clock: FixedClock,
  world: DemoWorld,
  ids: Ids,
  orders: readonly PlannedOrder[],
  plan: PublicPlan,
  progress: (done: number) => void,
): Promise<PlayedOrders> {
  const realId = new Map<string, string>();
  const published = new Set<string>();
  const played = { events: 0, signups: 0, escalations: 0, series: ZERO(), refused: 0 };
  const actor = (plannedUserId: string | null): Actor => actorOf(required(ids.actors, plannedUserId ?? '', 'account'));
  const extras = new Map<string, Omit<Operation, 'order' | 'index'>[]>();
  const add = (orderId: string, op: Omit<Operation, 'order' | 'index'>) => extras.set(orderId, [...(extras.get(orderId) ?? []), op]);
  for (const p of plan.publications) for (const op of publicationOps(s, actor, p, published, played)) add(p.orderId, op);
  for (const e of plan.escalations) for (const op of escalationOps(s, actor, e, played)) add(e.orderId, op);
  const ops = timeline(orders, extras);
  const loose = plan.series.flatMap((x) => seriesOps(s, actor, ids, x, played)).sort((a, b) => a.at.getTime() - b.at.getTime());

  const remaining = new Map<string, number>();
  for (const op of ops) remaining.set(op.order.id, (remaining.get(op.order.id) ?? 0) + 1);
  const dropped = new Set<string>();
  const assignmentIds = new Map<string, Map<string, string>>();
  const volunteerUser = new Map(world.volunteers.map((v) => [v.id, v.userId]));
  const counts = { created: 0, existing: 0, skipped: 0 };
  let done = 0;
  progress(done);
  const finish = (orderId: string, ops: number) => {
    const left = (remaining.get(orderId) ?? 0) - ops;
    remaining.set(orderId, left);
    if (left === 0) progress(++done);
  };
  const volunteerActor = (plannedVolunteerId: string): Actor => actor(required(volunteerUser, plannedVolunteerId, 'volunteer login'));
  const runLoose = async (until: Date | null) => {
    while (loose.length > 0 && (until === null || (loose[0] as LooseOperation).at <= until)) {
      const op = loose.shift() as LooseOperation;
      clock.set(op.at);
      await refusable(op.label, op.run, () => void played.refused++);
    }
  };

  for (const op of ops) {
    await runLoose(op.at);
    const planned = op.order;
    if (dropped.has(planned.id)) continue;
    clock.set(op.at);
    if (op.kind === 'public') {
      // The public side of an order this run created: refused steps are reported, the story goes on.
      await refusable(`${planned.key} ${op.label ?? ''}`, () => op.run?.(required(realId, planned.id, 'order')) ?? Promise.resolve(), () => void played.refused++);
      finish(planned.id, 1);
      continue;
    }
    try {
      if (op.kind === 'create') {
        const outcome = await s.orders.create(
          actor(planned.requesterId),
          {
            communityCode: planned.community.code,
            topic: planned.topic,
            audience: planned.audience,
            format: planned.format,
            title: planned.title,
            description: planned.description,
            expectedAttendance: planned.expectedAttendance,
            preferredWindows: planned.preferredWindows,
            accessibilityNeeds: planned.accessibilityNeeds,
            contactName: planned.contactName,
            contactPhone: planned.contactPhone,
            // Only when set: the other orders' bodies (and so their Idempotency-Keys' hashes) stay as earlier seeds wrote them.
            ...(planned.urgent ? { urgent: true } : {}),
          },
          orderKey(planned),
        );
        if (outcome.replayed) throw new AlreadySeeded();
        realId.set(planned.id, outcome.result.id);
        counts.created++;
      } else {
        const orderId = required(realId, planned.id, 'order');
        if (op.kind === 'step') await playStep(s, ids, realId, orderId, op.step as Step, actor, published.has(orderId));
        else if (op.kind === 'confirm') {
          const volunteerId = required(ids.volunteers, op.volunteerId as string, 'volunteer');
          let byVolunteer = assignmentIds.get(orderId);
          if (!byVolunteer) {
            const team = await s.fulfilment.assignmentsOf(actor(world.cityAdminId), orderId);
            byVolunteer = new Map(team.items.map((a) => [a.volunteerId, a.id]));
            assignmentIds.set(orderId, byVolunteer);
          }
          await s.assignments.confirm(volunteerActor(op.volunteerId as string), required(byVolunteer, volunteerId, 'assignment'));
        } else if (op.kind === 'check_in') await s.fulfilment.checkIn(volunteerActor(op.volunteerId as string), orderId, {});
        else await s.fulfilment.checkOut(volunteerActor(op.volunteerId as string), orderId, {});
      }
      finish(planned.id, 1);
    } catch (error) {
      const left = remaining.get(planned.id) ?? 0;
      dropped.add(planned.id);
      if (error instanceof AlreadySeeded || isSeededBefore(error)) counts.existing++;
      else if (error instanceof DomainError) {
        // A story a service refused (e.g. what an earlier run booked in the meantime): it stays where it stopped.
        counts.skipped++;
        console.warn(`[demo] ${planned.key} (${planned.story}) stopped before ${op.step?.action ?? op.kind}: ${error.code} ${error.message}`);
      } else throw error;
      finish(planned.id, left);
    }
  }
  await runLoose(null);
  return { orders: counts, ...played };
}

/** Runs a step of the public side; a service's refusal (DomainError) is printed and counted, anything else stops the seed. */
async function refusable(label: string, run: () => Promise<void>, onRefused: () => void): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    onRefused();
    console.warn(`[demo] ${label} refused: ${error.code} ${error.message}`);
  }
}

/**
 * A published event's story: the community's staff publish it (POST /orders/:id/publish),
 * residents sign up and cancel (POST /events/:id/signups, DELETE /signups/:id), the staff
 * scan tickets at the door (POST /events/:id/attendance), attendees give feedback.
 */
function publicationOps(
  s: Services,
  actor: (plannedUserId: string | null) => Actor,
  p: PlannedPublication,
  published: Set<string>,
  played: { events: number; signups: number },
): Omit<Operation, 'order' | 'index'>[] {
  const tickets = new Map<string, { id: string; ticketCode: string }>();
  const ticket = (residentId: string) => required(tickets, residentId, 'sign-up');
  const ops: Omit<Operation, 'order' | 'index'>[] = [
    {
      at: p.publishedAt,
      kind: 'public',
      label: 'publish',
      run: async (orderId) => {
        await s.events.publish(actor(p.publisherId), orderId, { seats: p.seats, note: p.note });
        published.add(orderId);
        played.events++;
      },
    },
  ];
  for (const a of p.actions) {
    const run = async (orderId: string): Promise<void> => {
      switch (a.kind) {
        case 'signup': {
          const created = await s.events.signUp(actor(a.residentId), orderId, { attendees: a.attendees });
          tickets.set(a.residentId, { id: created.id, ticketCode: created.ticketCode });
          played.signups++;
          return;
        }
        case 'cancel':
          await s.events.cancelSignup(actor(a.residentId), ticket(a.residentId).id);
          return;
        case 'attend':
          await s.events.recordAttendance(actor(a.scannerId), orderId, { ticketCode: ticket(a.residentId).ticketCode });
          return;
        case 'feedback':
          await s.events.giveFeedback(actor(a.residentId), orderId, { score: a.score, comment: a.comment });
          return;
      }
    };
    ops.push({ at: a.at, kind: 'public', label: a.kind, run });
  }
  return ops;
}

/** The SLA timer's breach (StageTimersService.onSlaDue → EscalationsService.openForBreach), then maybe the coordinator's acknowledgement. */
function escalationOps(s: Services, actor: (plannedUserId: string | null) => Actor, e: PlannedEscalation, played: { escalations: number }): Omit<Operation, 'order' | 'index'>[] {
  const ops: Omit<Operation, 'order' | 'index'>[] = [
    {
      at: e.breachedAt,
      kind: 'public',
      label: `escalation (${e.stage})`,
      run: async (orderId) => {
        if (!(await s.escalations.openForBreach({ orderId, stage: e.stage, status: e.status, enteredSeq: e.enteredSeq, dueAt: e.dueAt, breachedAt: e.breachedAt })))
          throw new StoryRefused('escalate', 'the order had left the stage');
        played.escalations++;
      },
    },
  ];
  const ack = e.acknowledgement;
  if (ack)
    ops.push({
      at: ack.at,
      kind: 'public',
      label: `acknowledge (${e.stage})`,
      run: async (orderId) => {
        const coordinator = actor(ack.coordinatorId);
        let cursor: string | undefined;
        do {
          const page = await s.escalations.list(coordinator, { status: 'open', limit: 100, ...(cursor ? { cursor } : {}) });
          const found = page.items.find((x) => x.orderId === orderId && x.stage === e.stage);
          if (found) {
            await s.escalations.acknowledge(coordinator, found.id, { note: ack.note });
            return;
          }
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        throw new StoryRefused('acknowledge', 'no open escalation');
      },
    });
  return ops;
}

/** 常态化: the staff's weekly series (POST /order-series), found again by its title on a second run; then its first occurrence dispatched. */
function seriesOps(s: Services, actor: (plannedUserId: string | null) => Actor, ids: Ids, x: PlannedSeries, played: { series: DemoSeedCount }): LooseOperation[] {
  let firstId: string | null = null;
  return [
    {
      at: x.createdAt,
      label: `${x.key} create`,
      run: async () => {
        const staff = actor(x.staffId);
        const mine = await s.orders.list(staff, { communityCode: x.communityCode, topic: x.topic, limit: 100 });
        if (mine.items.some((o) => o.seriesId !== null && o.title === x.title)) return void played.series.existing++;
        const created = await s.orders.createSeries(staff, {
          communityCode: x.communityCode,
          topic: x.topic,
          audience: x.audience,
          format: x.format,
          title: x.title,
          description: x.description,
          expectedAttendance: x.expectedAttendance,
          preferredWindows: x.preferredWindows,
          contactName: x.contactName,
          contactPhone: x.contactPhone,
          recurrence: { every: x.every, count: x.count },
        });
        played.series.created++;
        firstId = created.orders[0]?.id ?? null;
      },
    },
    {
      at: x.dispatch.at,
      label: `${x.key} dispatch`,
      run: async () => {
        if (firstId) await s.orders.dispatch(actor(x.staffId), firstId, { departmentId: required(ids.departments, x.dispatch.departmentId, 'department') });
      },
    },
  ];
}

/** The order's Idempotency-Key is taken: an earlier (or a concurrent) run created it. */
class AlreadySeeded extends Error {}
/** The answers of POST /orders to a key already used: with another body (a run on another day), or still running. */
const SEEDED_BEFORE = ['IDEMPOTENCY_KEY_REUSED', 'IDEMPOTENCY_IN_PROGRESS'];
const isSeededBefore = (error: unknown) => error instanceof DomainError && SEEDED_BEFORE.includes(error.code);

async function playStep(
  s: Services,
  ids: Ids,
  realId: Map<string, string>,
  orderId: string,
  step: Step,
  actor: (plannedUserId: string | null) => Actor,
  isPublished: boolean,
): Promise<void> {
  const p = step.payload ?? {};
  const reason = String(p.reason ?? '');
  const by = () => actor(step.actorId);
  switch (step.action) {
    case 'dispatch':
      await s.orders.dispatch(by(), orderId, { departmentId: required(ids.departments, String(p.departmentId), 'department') });
      return;
    case 'claim':
      await s.orders.claim(by(), orderId, {});
      return;
    case 'decline':
      await s.orders.decline(by(), orderId, { reason });
      return;
    case 'offer':
      await s.orders.offer(by(), orderId, { organizationId: required(ids.organizations, String(p.organizationId), 'organisation') });
      return;
    case 'open':
      await s.orders.open(by(), orderId, {});
      return;
    case 'accept':
      await s.orders.accept(by(), orderId, {});
      return;
    case 'release':
      await s.orders.release(by(), orderId, { reason });
      return;
    case 'reject':
      await s.orders.reject(by(), orderId, { reason });
      return;
    case 'cancel':
      await s.orders.cancel(by(), orderId, { reason });
      return;
    case 'merge':
      {
        const primaryOrderId = realId.get(String(p.primaryOrderId));
        if (!primaryOrderId) throw new StoryRefused('merge', 'its primary order was not created by this run');
        await s.orders.merge(by(), orderId, { primaryOrderId });
      }
      return;
    case 'schedule':
      await s.scheduling.schedule(by(), orderId, {
        start: String(p.start),
        end: String(p.end),
        venueId: required(ids.venues, String(p.venueId), 'venue'),
        volunteerIds: (p.volunteerIds as string[]).map((v) => required(ids.volunteers, v, 'volunteer')),
        openSlots: Number(p.openSlots ?? 0),
      });
      return;
    case 'complete':
      // A published event's attendance defaults to the attendees whose tickets were scanned at the door.
      if (isPublished) await s.fulfilment.complete(by(), orderId, { summary: '活动顺利开展，居民凭票码入场，志愿者讲解并现场答疑，居民反响良好。' });
      else await s.fulfilment.complete(by(), orderId, { attendance: Number(p.attendance), summary: String(step.patch?.summary ?? '活动已完成。') });
      return;
    case 'rate': {
      const comment = (step.patch?.rating as { comment?: string } | undefined)?.comment;
      await s.fulfilment.rate(by(), orderId, { content: Number(p.content), volunteers: Number(p.volunteers), punctuality: Number(p.punctuality), ...(comment ? { comment } : {}) });
      return;
    }
    case 'expire':
      if (!(await s.orders.expire(orderId, step.at))) throw new StoryRefused('expire', 'the order did not expire');
      return;
    case 'close':
      if (!(await s.orders.closeUnrated(orderId, CLOSE_UNRATED_AFTER_MS, step.at))) throw new StoryRefused('close', 'the order was not closed');
      return;
    default:
      throw new Error(`demo seed: no service call for ${step.action}`);
  }
}

/** A system transition (a timer's) that found nothing to do. */
class StoryRefused extends DomainError {
  readonly status = 409;
  readonly title = 'Demo step refused';
  constructor(action: string, detail: string) {
    super('DEMO_STEP_REFUSED', `${action}: ${detail}`);
  }
}
