import {
  type Actor,
  AUDIENCE_CODES,
  decideTransition,
  formatEventTime,
  ineligibility,
  isCheckInOpen,
  isTerminal,
  NEW_ORDER_STATE,
  type OrderAction,
  type OrderFacts,
  type OrderStatus,
  rankVenues,
  scoreVolunteer,
  serviceHours,
  type SlotFacts,
  SYSTEM_ACTOR,
  type VolunteerFacts,
  weekStart,
} from '@kepu/core';
import { AUDIENCE_NAMES, AUDIENCE_TOPICS, DemoRandom, demoId, TOPIC_FORMATS, TOPIC_TITLES } from './demo-data';
import type { DemoCommunity, DemoDepartment, DemoDistrict, DemoOrganization, DemoUser, DemoVenue, DemoVolunteer, DemoWorld } from './demo-world';

/**
 * A month of orders, planned in memory: each order's story is a list of
 * transitions with past times, replayed through libs/core's lifecycle table
 * (`decideTransition`) so no story asks what the API would refuse; the seed
 * (demo-seed.ts) then plays the steps through the services with the clock set
 * to each step's time. Ids here are planning keys: the services choose the
 * real ones.
 */

const MINUTE_MS = 60 * 1000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const SHANGHAI_OFFSET_MS = 8 * HOUR_MS;

/** What each district's orders end in: every status of the lifecycle, weighted like a real month. */
export const DISTRICT_STORIES: readonly OrderStatus[] = [
  ...Array<OrderStatus>(13).fill('rated'),
  ...Array<OrderStatus>(5).fill('closed'),
  ...Array<OrderStatus>(6).fill('completed'),
  'in_progress',
  ...Array<OrderStatus>(9).fill('scheduled'),
  ...Array<OrderStatus>(4).fill('accepted'),
  ...Array<OrderStatus>(4).fill('claimed'),
  ...Array<OrderStatus>(4).fill('dispatched'),
  ...Array<OrderStatus>(4).fill('submitted'),
  ...Array<OrderStatus>(2).fill('rejected'),
  ...Array<OrderStatus>(3).fill('cancelled'),
  ...Array<OrderStatus>(3).fill('expired'),
  // Last: a duplicate needs its primary planned first.
  ...Array<OrderStatus>(2).fill('merged'),
];

/** Which stories an urgent order is taken from, one of each list per district. */
const URGENT_STORIES: readonly (readonly OrderStatus[])[] = [
  ['submitted', 'dispatched', 'claimed'],
  ['rated', 'completed', 'scheduled'],
];

export interface PlannedEventRow {
  seq: number;
  type: string;
  fromStatus: OrderStatus | null;
  toStatus: OrderStatus;
  actorId: string | null;
  actorRole: string;
  payload: Record<string, unknown>;
  at: Date;
}

export interface PlannedMessage {
  type: string;
  payload: Record<string, unknown>;
  createdAt: Date;
}

export interface PlannedAssignment {
  id: string;
  volunteerId: string;
  organizationId: string;
  status: 'invited' | 'confirmed' | 'cancelled';
  createdAt: Date;
  updatedAt: Date;
}

export interface PlannedServiceRecord {
  volunteerId: string;
  checkInAt: Date | null;
  checkOutAt: Date | null;
  hours: number;
  isNoShow: boolean;
  createdAt: Date;
}

export interface PlannedEvent {
  start: Date;
  end: Date;
  venueId: string;
  bookingId: string;
  bookingStatus: 'active' | 'cancelled';
  bookedAt: Date;
  assignments: PlannedAssignment[];
  records: PlannedServiceRecord[];
}

/** The order row as the last transition left it. */
export interface PlannedOrderState {
  status: OrderStatus;
  version: number;
  departmentId: string | null;
  organizationId: string | null;
  offeredOrganizationId: string | null;
  isOpenToOrganizations: boolean;
  scheduledStart: Date | null;
  scheduledEnd: Date | null;
  venueId: string | null;
  returnedCount: number;
  mergedIntoId: string | null;
  rating: Record<string, unknown> | null;
  openSlots: number;
  attendance: number | null;
  summary: string | null;
  completedAt: Date | null;
  updatedAt: Date;
}

export interface PlannedOrder {
  id: string;
  key: string;
  story: OrderStatus;
  community: DemoCommunity;
  requesterId: string;
  requesterRole: string;
  topic: string;
  audience: string;
  format: string;
  title: string;
  description: string;
  expectedAttendance: number;
  preferredWindows: { start: string; end: string }[];
  lastWindowEnd: Date;
  accessibilityNeeds: string[];
  contactName: string;
  contactPhone: string;
  possibleDuplicateIds: string[];
  /** 应急科普 (POST /orders with urgent: true): filed by the community's staff, shortened deadlines. */
  urgent: boolean;
  createdAt: Date;
  state: PlannedOrderState;
  events: PlannedEventRow[];
  messages: PlannedMessage[];
  event: PlannedEvent | null;
  /** The transitions of the story, in time order (what the seed asks the services for). */
  steps: Step[];
}

/** One transition of a story: who, when, and what it writes besides the status. */
export interface Step {
  action: OrderAction;
  at: Date;
  actorId: string | null;
  payload?: Record<string, unknown>;
  patch?: Partial<PlannedOrderState>;
  messages?: { type: string; payload: Record<string, unknown> }[];
}

interface Interval {
  start: Date;
  end: Date;
}

const overlaps = (a: Interval, b: Interval) => a.start < b.end && b.start < a.end;

/** The free/busy picture of volunteers and venues across all planned events, so no two overlap (the database's exclusion constraints agree). */
class DemoCalendar {
  private readonly volunteerHolds = new Map<string, Interval[]>();
  private readonly venueHolds = new Map<string, Interval[]>();
  private readonly servedHours = new Map<string, number>();
  private readonly served = new Map<string, { served: number; noShows: number }>();

  isVenueFree(venueId: string, slot: Interval): boolean {
    return !(this.venueHolds.get(venueId) ?? []).some((h) => overlaps(h, slot));
  }

  facts(v: DemoVolunteer, slot: Interval): VolunteerFacts {
    const holds = this.volunteerHolds.get(v.id) ?? [];
    const monday = weekStart(slot.start).getTime();
    const sunday = monday + 7 * DAY_MS;
    const bookedMs = holds.reduce((sum, h) => sum + Math.max(0, Math.min(h.end.getTime(), sunday) - Math.max(h.start.getTime(), monday)), 0);
    const record = this.served.get(v.id) ?? { served: 0, noShows: 0 };
    return {
      id: v.id,
      isActive: v.isActive,
      home: v.home,
      skills: v.skills,
      audiences: v.audiences,
      availability: v.availability,
      unavailable: [],
      maxHoursPerWeek: v.maxHoursPerWeek,
      bookedHoursThatWeek: bookedMs / HOUR_MS,
      hasOverlappingAssignment: holds.some((h) => overlaps(h, slot)),
      recentHours: this.servedHours.get(v.id) ?? 0,
      averageRating: null,
      servedCount: record.served,
      noShowCount: record.noShows,
    };
  }

  hold(venueId: string, volunteerIds: readonly string[], slot: Interval): void {
    this.venueHolds.set(venueId, [...(this.venueHolds.get(venueId) ?? []), slot]);
    for (const id of volunteerIds) this.volunteerHolds.set(id, [...(this.volunteerHolds.get(id) ?? []), slot]);
  }

  release(venueId: string, volunteerIds: readonly string[], slot: Interval): void {
    const drop = (list: Interval[] | undefined) => (list ?? []).filter((h) => h !== slot);
    this.venueHolds.set(venueId, drop(this.venueHolds.get(venueId)));
    for (const id of volunteerIds) this.volunteerHolds.set(id, drop(this.volunteerHolds.get(id)));
  }

  record(volunteerId: string, hours: number, isNoShow: boolean): void {
    this.servedHours.set(volunteerId, (this.servedHours.get(volunteerId) ?? 0) + hours);
    const r = this.served.get(volunteerId) ?? { served: 0, noShows: 0 };
    this.served.set(volunteerId, isNoShow ? { ...r, noShows: r.noShows + 1 } : { ...r, served: r.served + 1 });
  }
}

/** Beijing calendar arithmetic relative to the seed's `now`. */
class DemoClock {
  private readonly todayMidnight: number;

  constructor(readonly now: Date) {
    const local = now.getTime() + SHANGHAI_OFFSET_MS;
    this.todayMidnight = local - (local % DAY_MS) - SHANGHAI_OFFSET_MS;
  }

  /** `hhmm` Beijing time on the day `offsetDays` from today. */
  at(offsetDays: number, hhmm: string): Date {
    const [h, m] = hhmm.split(':').map(Number);
    return new Date(this.todayMidnight + offsetDays * DAY_MS + ((h ?? 0) * 60 + (m ?? 0)) * MINUTE_MS);
  }

  /** ISO weekday (1 = Monday) of the day `offsetDays` from today, in Beijing. */
  weekday(offsetDays: number): number {
    const day = new Date(this.todayMidnight + offsetDays * DAY_MS + SHANGHAI_OFFSET_MS).getUTCDay();
    return day === 0 ? 7 : day;
  }

  /** Which day (offset from today) an instant falls on, in Beijing. */
  dayOf(at: Date): number {
    return Math.floor((at.getTime() - this.todayMidnight) / DAY_MS);
  }
}

/** Event times people choose: weekend mornings and afternoons, weekday afternoons and evenings. */
function slotsOn(clock: DemoClock, day: number): Interval[] {
  const isWeekend = clock.weekday(day) >= 6;
  const times: [string, string][] = isWeekend
    ? [
        ['09:30', '11:30'],
        ['14:30', '16:30'],
      ]
    : [
        ['14:30', '16:30'],
        ['19:00', '20:30'],
      ];
  return times.map(([s, e]) => ({ start: clock.at(day, s), end: clock.at(day, e) }));
}

const VOLUNTEERS_BY_FORMAT: Record<string, number> = { lecture: 2, consultation: 2, visit: 2, online: 1, workshop: 3, science_show: 3, exhibition: 3 };

const toActor = (user: DemoUser): Actor => ({
  userId: user.id,
  role: user.role,
  communityCode: user.communityCode,
  departmentId: user.departmentId,
  organizationId: user.organizationId,
  districtCode: user.districtCode,
  volunteerId: user.volunteerId,
});

interface Draft {
  order: Omit<PlannedOrder, 'state' | 'events' | 'messages' | 'event' | 'steps'>;
  steps: Step[];
  event: PlannedEvent | null;
}

class OrderPlanner {
  private readonly calendar = new DemoCalendar();
  private readonly users: Map<string, DemoUser>;
  private readonly volunteersOf = new Map<string, DemoVolunteer[]>();
  private readonly featuredVolunteers: Set<string>;
  readonly orders: PlannedOrder[] = [];

  constructor(
    private readonly world: DemoWorld,
    private readonly clock: DemoClock,
  ) {
    this.users = new Map(world.users.map((u) => [u.id, u]));
    this.featuredVolunteers = new Set(world.volunteers.filter((v) => v.isFeatured).map((v) => v.id));
    for (const v of world.volunteers) this.volunteersOf.set(v.organizationId, [...(this.volunteersOf.get(v.organizationId) ?? []), v]);
  }

  planDistrict(district: DemoDistrict, districtIndex: number): void {
    const random = new DemoRandom(`orders:${district.spec.code}`);
    const planned: PlannedOrder[] = [];
    DISTRICT_STORIES.forEach((story, index) => {
      const key = `${district.spec.slug}:${index + 1}`;
      const draft = story === 'merged' ? this.draftDuplicate(district, planned, key, random) : this.draft(district, story, key, index + districtIndex, random);
      if (!draft) throw new Error(`demo plan: no room for the ${story} order ${key}`);
      const order = replay(draft, this.users, this.world.organizations, this.clock.now);
      planned.push(order);
      this.orders.push(order);
    });
    // 应急科普: the community's staff marked a few of its own requests urgent, one still waiting and one long done.
    const primaries = new Set(planned.map((o) => o.state.mergedIntoId).filter((id): id is string => id !== null));
    const urgentCandidates = planned.filter((o) => o.requesterRole === 'community_staff' && o.story !== 'merged' && !primaries.has(o.id));
    for (const stories of URGENT_STORIES) {
      const chosen = urgentCandidates.find((o) => !o.urgent && stories.includes(o.story));
      if (chosen) chosen.urgent = true;
    }
  }

  private draft(district: DemoDistrict, story: OrderStatus, key: string, index: number, random: DemoRandom): Draft | null {
    const community = district.communities[index % district.communities.length] as DemoCommunity;
    const audience = AUDIENCE_CODES[index % AUDIENCE_CODES.length] as string;
    const topics = AUDIENCE_TOPICS[audience] ?? ['health'];
    const topic = district.spec.hasFarms && audience === 'farmers' ? 'agriculture' : random.pick(topics);
    const format = random.pick(TOPIC_FORMATS[topic] ?? ['lecture']);
    const staffId = district.staffOf.get(community.code) as string;
    const isFiledByStaff = random.chance(0.3);
    const requesterId = isFiledByStaff ? staffId : (district.residentOf.get(community.code) as string);
    const requester = this.users.get(requesterId) as DemoUser;
    const title = `${random.pick(TOPIC_TITLES[topic] ?? ['科普讲座'])}（${AUDIENCE_NAMES[audience]}专场）`;
    const expectedAttendance = format === 'consultation' ? random.int(15, 40) : random.int(25, 110);
    const accessibilityNeeds = audience === 'elderly' && random.chance(0.5) ? ['wheelchair', ...(random.chance(0.3) ? ['large_print'] : [])] : [];
    const department = this.departmentFor(district, topic);
    const organization = random.chance(0.75) ? district.organization : this.cityOrganizationFor(topic);

    const base = {
      id: demoId(`order:${key}`),
      key,
      story,
      community,
      requesterId,
      requesterRole: requester.role,
      topic,
      audience,
      format,
      title,
      description: `${community.name.replace(/居委会$/, '')}${AUDIENCE_NAMES[audience]}希望开展“${title}”活动，请安排专业志愿者讲解并互动答疑。`,
      expectedAttendance,
      accessibilityNeeds,
      contactName: isFiledByStaff ? requester.displayName : `${requester.displayName.slice(0, 1)}${random.pick(['阿姨', '老师', '先生', '女士'])}`,
      contactPhone: requester.phone,
      possibleDuplicateIds: [] as string[],
      urgent: false,
    };
    const ctx: StoryContext = { district, base, random, staffId, department, organization };
    switch (story) {
      case 'rated':
      case 'closed':
      case 'completed':
      case 'in_progress':
        return this.pastEventStory(ctx, story);
      case 'scheduled':
        return this.futureEventStory(ctx, false);
      case 'cancelled':
        return index % 3 === 0 ? this.futureEventStory(ctx, true) : this.openStory(ctx, 'cancelled');
      default:
        return this.openStory(ctx, story);
    }
  }

  /** Orders that ended before an event, or wait for one: windows ahead (or, for expired ones, behind). */
  private openStory(ctx: StoryContext, story: OrderStatus): Draft {
    const { random, staffId, department, organization } = ctx;
    const now = this.clock.now.getTime();
    const ageHours: Record<string, [number, number]> = {
      submitted: [2, 40],
      dispatched: [6, 70],
      claimed: [24, 120],
      accepted: [48, 160],
      rejected: [24, 29 * 24],
      cancelled: [24, 25 * 24],
      expired: [12 * 24, 28 * 24],
    };
    const [minAge, maxAge] = ageHours[story] ?? [2, 48];
    const createdAt = new Date(daytime(now - random.int(minAge, maxAge) * HOUR_MS - random.int(0, 59) * MINUTE_MS, 0, now - HOUR_MS));
    const createdDay = this.clock.dayOf(createdAt);
    // Expired: both windows (the second at most 6 days after the first) ended before today.
    const windowDay = story === 'expired' ? createdDay + random.int(3, 5) : random.int(4, 20);
    const windows = this.windowsAround(windowDay, random);
    const lastWindowEnd = new Date(Math.max(...windows.map((w) => new Date(w.end).getTime())));
    const actions: { action: OrderAction; actorId: string | null; payload?: Record<string, unknown>; patch?: Partial<PlannedOrderState> }[] = [];
    const dispatch = (d: DemoDepartment) => actions.push({ action: 'dispatch', actorId: staffId, payload: { departmentId: d.id, note: null }, patch: { departmentId: d.id } });
    const claim = () => actions.push({ action: 'claim', actorId: department.staffId, payload: { departmentId: department.id } });
    const offerOrOpen = (to: DemoOrganization = organization) =>
      random.chance(0.7)
        ? actions.push({ action: 'offer', actorId: department.staffId, payload: { organizationId: to.id }, patch: { offeredOrganizationId: to.id } })
        : actions.push({ action: 'open', actorId: department.staffId, patch: { isOpenToOrganizations: true } });
    const accept = () => actions.push({ action: 'accept', actorId: organization.adminId, payload: { organizationId: organization.id }, patch: { organizationId: organization.id } });
    // Now and then a department sends an order back first (returnedCount).
    const declinedFirst = (['submitted', 'dispatched', 'claimed', 'accepted'] as string[]).includes(story) && random.chance(0.25);
    if (declinedFirst) {
      const other = this.otherDepartment(ctx.district, department);
      actions.push({ action: 'dispatch', actorId: staffId, payload: { departmentId: other.id, note: null }, patch: { departmentId: other.id } });
      actions.push({ action: 'decline', actorId: other.staffId, payload: { departmentId: other.id, reason: '本部门近期人手不足，建议转派科协' }, patch: { departmentId: null } });
    }
    switch (story) {
      case 'submitted':
        break;
      case 'dispatched':
        dispatch(department);
        break;
      case 'claimed':
        dispatch(department);
        claim();
        if (random.chance(0.3)) {
          offerOrOpen();
          accept();
          actions.push({
            action: 'release',
            actorId: organization.adminId,
            payload: { organizationId: organization.id, reason: '本队志愿者时间冲突，退回部门重新安排', volunteerIds: [] },
            patch: { organizationId: null, offeredOrganizationId: null, isOpenToOrganizations: false, openSlots: 0 },
          });
        }
        // After a release the department looks for another organisation.
        if (random.chance(0.75)) offerOrOpen(organization === ctx.district.organization ? this.cityOrganizationFor(ctx.base.topic) : ctx.district.organization);
        break;
      case 'accepted':
        dispatch(department);
        claim();
        offerOrOpen();
        accept();
        break;
      case 'rejected':
        actions.push({ action: 'reject', actorId: staffId, payload: { reason: random.pick(['活动内容不属于科普范畴', '需求描述不完整，请补充后重新提交', '本季度已安排同类活动']) } });
        break;
      case 'cancelled': {
        const isEarly = random.chance(0.5);
        if (!isEarly) {
          dispatch(department);
          claim();
        }
        const requester = ctx.base.requesterId;
        actions.push({
          action: 'cancel',
          actorId: isEarly ? requester : staffId,
          payload: { reason: random.pick(['社区场地临时另有安排', '居民报名人数不足，活动取消', '与社区其他活动时间冲突']), volunteerIds: [] },
          patch: { openSlots: 0 },
        });
        break;
      }
      case 'expired':
        dispatch(department);
        if (random.chance(0.5)) {
          claim();
          offerOrOpen();
        }
        break;
    }
    // Spread the steps between creation and now: waiting orders waited all along; rejections and
    // cancellations came within days; expiry came from the timer when the windows had passed.
    const until =
      story === 'expired'
        ? Math.min(new Date(windows[0]?.start ?? lastWindowEnd).getTime() - HOUR_MS, now)
        : story === 'rejected' || story === 'cancelled'
          ? Math.min(createdAt.getTime() + random.int(6, 72) * HOUR_MS, now - 20 * MINUTE_MS)
          : now - 20 * MINUTE_MS;
    const steps: Step[] = spread(actions, createdAt.getTime(), until, random);
    if (story === 'expired') steps.push({ action: 'expire', at: lastWindowEnd, actorId: null, payload: { lastWindowEnd: lastWindowEnd.toISOString() } });
    return { order: { ...ctx.base, preferredWindows: windows, lastWindowEnd, createdAt }, steps, event: null };
  }

  /** An order whose event lies in the next two weeks: scheduled (or cancelled by the community after scheduling). */
  private futureEventStory(ctx: StoryContext, isCancelled: boolean): Draft | null {
    const { random } = ctx;
    const now = this.clock.now.getTime();
    const createdAt = new Date(daytime(now - random.int(30, 14 * 24) * HOUR_MS, 0, now - 30 * HOUR_MS));
    // Early enough that a cancellation can follow before now.
    const scheduledBy = daytime(now - random.int(2, 12) * HOUR_MS, createdAt.getTime() + 7 * HOUR_MS, now - 2 * HOUR_MS);
    const firstDay = Math.max(1, this.clock.dayOf(createdAt) + 3);
    // Spread over the next two weeks: a random day first, then the others.
    const eventDay = random.int(firstDay, 14);
    const days = [...range(eventDay, 14), ...range(firstDay, eventDay - 1), ...range(15, 24)];
    return this.eventStory(ctx, createdAt, days, isCancelled ? 'cancelled' : 'scheduled', () => new Date(scheduledBy));
  }

  /** An order whose event has happened (or is happening): in progress, completed, rated or closed. */
  private pastEventStory(ctx: StoryContext, story: OrderStatus): Draft | null {
    const { random } = ctx;
    const [fromDay, toDay] = story === 'closed' ? [-24, -9] : story === 'completed' ? [-6, -2] : story === 'in_progress' ? [-1, 0] : [-26, -3];
    const eventDay = random.int(fromDay, toDay);
    const createdAt = new Date(Math.max(this.clock.at(eventDay - random.int(5, 12), '10:00').getTime(), this.clock.at(-30, '09:00').getTime()) + random.int(0, 8 * 60) * MINUTE_MS);
    // The chosen day first, then the rest of the story's range.
    const days = [...range(eventDay, toDay), ...range(fromDay, eventDay - 1)];
    // Scheduled one to three days ahead, in office hours.
    return this.eventStory(ctx, createdAt, days, story, (slot) => this.clock.at(this.clock.dayOf(slot.start) - random.int(1, 3), `${random.int(9, 17)}:${String(random.int(0, 59)).padStart(2, '0')}`));
  }

  /**
   * Finds a day, a slot, a venue and volunteers for the event (the first day from
   * `fromDay` that fits), then writes the story from creation to `story`.
   */
  private eventStory(ctx: StoryContext, createdAt: Date, days: readonly number[], story: OrderStatus, scheduleAtFor: (slot: Interval) => Date): Draft | null {
    const { base, random, organization, staffId, department } = ctx;
    const now = this.clock.now;
    const volunteers = this.volunteersOf.get(organization.id) ?? [];
    const venues = [...ctx.district.venues];
    const wanted = VOLUNTEERS_BY_FORMAT[base.format] ?? 2;

    for (const day of days) {
      const candidates = story === 'in_progress' ? this.runningSlots() : slotsOn(this.clock, day);
      for (const slot of candidates) {
        const scheduleAt = scheduleAtFor(slot);
        if (scheduleAt.getTime() <= createdAt.getTime() + 6 * HOUR_MS || scheduleAt >= now || slot.start <= scheduleAt) continue;
        if ((story === 'completed' || story === 'rated' || story === 'closed') && slot.end.getTime() + 6 * HOUR_MS > now.getTime()) continue;
        const place = { communityCode: base.community.code, subdistrictCode: base.community.subdistrictCode, districtCode: base.community.districtCode };
        const venue = rankVenues(
          venues.map((v) => ({ id: v.id, capacity: v.capacity, accessibility: v.accessibility, place: placeOf(v), isFree: this.calendar.isVenueFree(v.id, slot) })),
          { expectedAttendance: base.expectedAttendance, accessibilityNeeds: base.accessibilityNeeds, place },
        )[0];
        if (!venue) continue;
        const slotFacts: SlotFacts = { start: slot.start, end: slot.end, topic: base.topic, audience: base.audience, place };
        // The rules of a named volunteer (DESIGN.md §4): active, available, free, under the weekly cap; skill only ranks.
        const ranked = volunteers
          .map((v) => this.calendar.facts(v, slot))
          .filter((f) => ineligibility(f, slotFacts).every((reason) => reason === 'not_skilled'))
          .map((f) => ({ id: f.id, score: scoreVolunteer(f, slotFacts).score }))
          .sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
        // Upcoming events name a featured volunteer when one is free, so the logins README lists first have invitations to answer.
        const featured = story === 'scheduled' ? ranked.find((r) => this.featuredVolunteers.has(r.id)) : undefined;
        const chosen = (featured ? [featured, ...ranked.filter((r) => r !== featured)] : ranked).slice(0, wanted);
        if (chosen.length === 0) continue;
        const windows = this.windowsAround(this.clock.dayOf(slot.start), random, slot);
        if (windows.some((w) => new Date(w.start) <= createdAt)) continue;
        return this.writeEventStory(ctx, createdAt, windows, slot, venue.item.id, chosen.map((c) => c.id), scheduleAt, story, staffId, department);
      }
    }
    return null;
  }

  /** For the event in progress: the latest usual slot that started at least a quarter of an hour ago. */
  private runningSlots(): Interval[] {
    const starts = [0, -1].flatMap((day) => slotsOn(this.clock, day).reverse());
    return starts.filter((s) => s.start.getTime() <= this.clock.now.getTime() - 15 * MINUTE_MS);
  }

  private writeEventStory(
    ctx: StoryContext,
    createdAt: Date,
    windows: { start: string; end: string }[],
    slot: Interval,
    venueId: string,
    volunteerIds: string[],
    scheduleAt: Date,
    story: OrderStatus,
    staffId: string,
    department: DemoDepartment,
  ): Draft {
    const { base, random, organization } = ctx;
    const now = this.clock.now.getTime();
    const lastWindowEnd = new Date(Math.max(...windows.map((w) => new Date(w.end).getTime())));
    const openSlots = story === 'scheduled' && random.chance(0.35) ? random.int(1, 2) : 0;
    const actions: { action: OrderAction; actorId: string | null; payload?: Record<string, unknown>; patch?: Partial<PlannedOrderState> }[] = [
      { action: 'dispatch', actorId: staffId, payload: { departmentId: department.id, note: null }, patch: { departmentId: department.id } },
      { action: 'claim', actorId: department.staffId, payload: { departmentId: department.id } },
      random.chance(0.7)
        ? { action: 'offer', actorId: department.staffId, payload: { organizationId: organization.id }, patch: { offeredOrganizationId: organization.id } }
        : { action: 'open', actorId: department.staffId, patch: { isOpenToOrganizations: true } },
      { action: 'accept', actorId: organization.adminId, payload: { organizationId: organization.id }, patch: { organizationId: organization.id } },
    ];
    const steps = spread(actions, createdAt.getTime(), scheduleAt.getTime() - 30 * MINUTE_MS, random);
    const invitations = volunteerIds.map((volunteerId) => ({ volunteerId, assignmentId: demoId(`assignment:${base.key}:${volunteerId}`) }));
    const when = formatEventTime(slot.start, slot.end);
    steps.push({
      action: 'schedule',
      at: scheduleAt,
      actorId: organization.adminId,
      payload: { start: slot.start.toISOString(), end: slot.end.toISOString(), venueId, volunteerIds, openSlots, when },
      patch: { scheduledStart: slot.start, scheduledEnd: slot.end, venueId, openSlots },
      messages: invitations.map((i) => ({ type: 'assignment.invited', payload: { volunteerIds: [i.volunteerId], assignmentId: i.assignmentId, when } })),
    });

    const isPast = story !== 'scheduled' && story !== 'cancelled';
    // Confirmed before anyone checks in (check-in opens 25 minutes before the start at the earliest here).
    const confirmBy = Math.min(slot.start.getTime() - 30 * MINUTE_MS, now - 10 * MINUTE_MS);
    const assignments: PlannedAssignment[] = invitations.map((i) => {
      const confirmedAt = daytime(scheduleAt.getTime() + random.int(20, 18 * 60) * MINUTE_MS, scheduleAt.getTime(), confirmBy);
      const isConfirmed = confirmedAt < confirmBy && (isPast || random.chance(0.65));
      return {
        id: i.assignmentId,
        volunteerId: i.volunteerId,
        organizationId: organization.id,
        status: isConfirmed ? 'confirmed' : 'invited',
        createdAt: scheduleAt,
        updatedAt: isConfirmed ? new Date(confirmedAt) : scheduleAt,
      };
    });
    const event: PlannedEvent = { start: slot.start, end: slot.end, venueId, bookingId: demoId(`booking:${base.key}`), bookingStatus: 'active', bookedAt: scheduleAt, assignments, records: [] };

    if (story === 'cancelled') {
      const cancelAt = new Date(scheduleAt.getTime() + random.int(30, Math.max(31, Math.floor((now - scheduleAt.getTime()) / MINUTE_MS) - 5)) * MINUTE_MS);
      const ended = assignments.map((a) => a.volunteerId);
      for (const a of assignments) {
        a.status = 'cancelled';
        a.updatedAt = cancelAt;
      }
      event.bookingStatus = 'cancelled';
      steps.push({ action: 'cancel', at: cancelAt, actorId: staffId, payload: { reason: '社区场地临时改作他用，活动取消', volunteerIds: ended }, patch: { openSlots: 0 } });
      // Held all the same: the seed plays the stories side by side, so the slot was taken while this event stood.
      this.calendar.hold(venueId, volunteerIds, slot);
      return { order: { ...base, preferredWindows: windows, lastWindowEnd, createdAt }, steps, event };
    }
    this.calendar.hold(venueId, volunteerIds, slot);
    if (!isPast) return { order: { ...base, preferredWindows: windows, lastWindowEnd, createdAt }, steps, event };

    // The event: confirmed volunteers check in (a few never come), check out, hours are the overlap.
    const isOver = slot.end.getTime() + 30 * MINUTE_MS < now;
    const confirmed = assignments.filter((a) => a.status === 'confirmed');
    const attendance = confirmed.map((a, i) => ({ a, shows: i === 0 || !random.chance(0.12) }));
    for (const { a, shows } of attendance) {
      if (!shows) continue;
      const checkInAt = new Date(Math.min(slot.start.getTime() - random.int(0, 25) * MINUTE_MS, now - MINUTE_MS));
      const leavesEarly = random.chance(0.1);
      const checkOutAt = isOver && story !== 'in_progress' ? new Date(slot.end.getTime() + (leavesEarly ? -random.int(30, 60) : random.int(0, 10)) * MINUTE_MS) : null;
      const hours = checkOutAt ? serviceHours(checkInAt, checkOutAt, slot.start, slot.end) : 0;
      event.records.push({ volunteerId: a.volunteerId, checkInAt, checkOutAt, hours, isNoShow: false, createdAt: checkInAt });
    }
    const first = [...event.records].sort((x, y) => (x.checkInAt as Date).getTime() - (y.checkInAt as Date).getTime())[0] as PlannedServiceRecord;
    const firstUser = this.world.volunteers.find((v) => v.id === first.volunteerId)?.userId ?? organization.adminId;
    steps.push({ action: 'check_in', at: first.checkInAt as Date, actorId: firstUser, payload: { volunteerId: first.volunteerId } });
    if (story === 'in_progress') return { order: { ...base, preferredWindows: windows, lastWindowEnd, createdAt }, steps, event };

    const completedAt = new Date(slot.end.getTime() + random.int(30, 120) * MINUTE_MS);
    for (const { a, shows } of attendance)
      if (!shows) event.records.push({ volunteerId: a.volunteerId, checkInAt: null, checkOutAt: null, hours: 0, isNoShow: true, createdAt: completedAt });
    for (const r of event.records) this.calendar.record(r.volunteerId, r.hours, r.isNoShow);
    const headcount = Math.max(1, Math.round(base.expectedAttendance * (0.7 + random.next() * 0.45)));
    steps.push({
      action: 'complete',
      at: completedAt,
      actorId: organization.adminId,
      payload: { attendance: headcount },
      patch: { attendance: headcount, summary: `活动顺利开展，到场${headcount}人，志愿者讲解并现场答疑，居民反响良好。`, completedAt },
    });
    if (story === 'closed') steps.push({ action: 'close', at: new Date(completedAt.getTime() + 7 * DAY_MS), actorId: null });
    if (story === 'rated') {
      const isLow = random.chance(0.08);
      const score = () => (isLow ? random.int(1, 2) : random.chance(0.8) ? random.int(4, 5) : 3);
      const scores = { content: score(), volunteers: score(), punctuality: score() };
      const ratedBy = random.chance(0.7) ? base.requesterId : staffId;
      const ratedAt = new Date(daytime(Math.min(completedAt.getTime() + random.int(4, 60) * HOUR_MS, now - 30 * MINUTE_MS), completedAt.getTime(), now - 30 * MINUTE_MS));
      const comment = isLow ? '志愿者迟到，内容与预期不符。' : random.pick(['讲得很好，居民都很满意！', '内容实用，希望以后多来。', '互动性强，老人们学会了很多。', '非常专业，感谢志愿者。']);
      steps.push({
        action: 'rate',
        at: ratedAt,
        actorId: ratedBy,
        payload: scores,
        patch: { rating: { ...scores, comment, ratedBy, ratedAt: ratedAt.toISOString() } },
        messages: isLow ? [{ type: 'rating.low', payload: { ...scores, reason: `内容 ${scores.content} 分、志愿者 ${scores.volunteers} 分、守时 ${scores.punctuality} 分` } }] : [],
      });
    }
    return { order: { ...base, preferredWindows: windows, lastWindowEnd, createdAt }, steps, event };
  }

  /** A second request for the same service, merged by the community into an earlier open one (same topic, audience and windows). */
  private draftDuplicate(district: DemoDistrict, planned: readonly PlannedOrder[], key: string, random: DemoRandom): Draft | null {
    const now = this.clock.now.getTime();
    for (const primary of planned.filter((o) => o.story === 'rated' || o.story === 'scheduled' || o.story === 'accepted')) {
      if (this.orders.some((o) => o.state.mergedIntoId === primary.id)) continue;
      const createdAt = new Date(primary.createdAt.getTime() + random.int(2, 20) * HOUR_MS);
      const mergeAt = new Date(createdAt.getTime() + random.int(1, 6) * HOUR_MS);
      if (mergeAt.getTime() >= now - 10 * MINUTE_MS) continue;
      if (primary.preferredWindows.some((w) => new Date(w.start) <= createdAt)) continue;
      if (isTerminal(statusAt(primary, mergeAt))) continue;
      const staffId = district.staffOf.get(primary.community.code) as string;
      const requesterId = primary.requesterId === staffId ? (district.residentOf.get(primary.community.code) as string) : staffId;
      const requester = this.users.get(requesterId) as DemoUser;
      const { state: _state, events: _events, messages: _messages, event: _event, steps: _steps, ...fields } = primary;
      return {
        order: {
          ...fields,
          id: demoId(`order:${key}`),
          key,
          story: 'merged',
          requesterId,
          requesterRole: requester.role,
          contactName: requester.displayName,
          contactPhone: requester.phone,
          possibleDuplicateIds: [primary.id],
          createdAt,
        },
        steps: [{ action: 'merge', at: mergeAt, actorId: staffId, payload: { primaryOrderId: primary.id }, patch: { mergedIntoId: primary.id } }],
        event: null,
      };
    }
    return null;
  }

  /** One window on the event's day (around the slot when known), another a few days later. */
  private windowsAround(day: number, random: DemoRandom, slot?: Interval): { start: string; end: string }[] {
    const first = { start: this.clock.at(day, '08:00'), end: this.clock.at(day, '21:30') };
    if (slot && !(first.start <= slot.start && slot.end <= first.end)) throw new Error('demo plan: a slot outside its window');
    const windows = [first];
    if (random.chance(0.5)) {
      const later = day + random.int(2, 6);
      windows.push({ start: this.clock.at(later, '09:00'), end: this.clock.at(later, '17:00') });
    }
    return windows.map((w) => ({ start: w.start.toISOString(), end: w.end.toISOString() }));
  }

  private departmentFor(district: DemoDistrict, topic: string): DemoDepartment {
    const local = district.departments.filter((d) => d.districtCode !== null);
    return local.find((d) => d.topics.includes(topic)) ?? district.departments.find((d) => d.topics.includes(topic)) ?? (local[0] as DemoDepartment);
  }

  private otherDepartment(district: DemoDistrict, department: DemoDepartment): DemoDepartment {
    return district.departments.find((d) => d.districtCode !== null && d.id !== department.id) as DemoDepartment;
  }

  private cityOrganizationFor(topic: string): DemoOrganization {
    const cityWide = this.world.organizations.filter((o) => o.districtCodes.length > 1);
    return (['astronomy', 'experiments', 'ai_frontier', 'environment'].includes(topic) ? cityWide[0] : cityWide[1]) ?? (cityWide[0] as DemoOrganization);
  }
}

interface StoryContext {
  district: DemoDistrict;
  base: Omit<PlannedOrder, 'state' | 'events' | 'messages' | 'event' | 'steps' | 'preferredWindows' | 'lastWindowEnd' | 'createdAt'>;
  random: DemoRandom;
  staffId: string;
  department: DemoDepartment;
  organization: DemoOrganization;
}

const placeOf = (v: DemoVenue) => ({ communityCode: v.community.code, subdistrictCode: v.community.subdistrictCode, districtCode: v.community.districtCode });

const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/** Times for `actions` spread between `from` and `until`, in order, a little irregular. */
function spread(actions: Omit<Step, 'at'>[], from: number, until: number, random: DemoRandom): Step[] {
  const gap = (until - from) / (actions.length + 1);
  const times = actions.map((_, i) => Math.round(from + gap * (i + 1) + (random.next() - 0.5) * gap * 0.6));
  // In office hours when all of them still fit between `from` and `until` (the mapping keeps their order).
  const moved = times.map(toDaytime);
  const at = moved.every((t) => t > from && t < until) ? moved : times;
  return actions.map((a, i) => ({ ...a, at: new Date(at[i] as number) }));
}

/** People act in the day: an instant's time of day squeezed into 08:30–20:30 Beijing, the same day; order is kept. */
function toDaytime(at: number): number {
  const local = at + SHANGHAI_OFFSET_MS;
  const midnight = local - (local % DAY_MS);
  return midnight + 8.5 * HOUR_MS + Math.floor((local - midnight) / 2) - SHANGHAI_OFFSET_MS;
}

/** `toDaytime`, unless that leaves (after, before). */
function daytime(at: number, after: number, before: number): number {
  const moved = toDaytime(at);
  return moved > after && moved < before ? moved : at;
}

/** The status an order had at an instant, from its events. */
function statusAt(order: PlannedOrder, at: Date): OrderStatus {
  let status: OrderStatus = 'submitted';
  for (const e of order.events) if (e.at <= at) status = e.toStatus;
  return status;
}

/**
 * Replays a story through the lifecycle table: each step must be allowed for
 * its actor from the status it meets, times must move forward and stay in the
 * past. Produces the final row, the events (seq = version) and the outbox
 * messages exactly as OrdersRepository.transition writes them.
 */
function replay(draft: Draft, users: Map<string, DemoUser>, organizations: readonly DemoOrganization[], now: Date): PlannedOrder {
  const o = draft.order;
  const requester = users.get(o.requesterId) as DemoUser;
  const body = { orderId: o.id, communityCode: o.community.code, districtCode: o.community.districtCode };
  const events: PlannedEventRow[] = [{ seq: 1, type: 'order.submitted', fromStatus: null, toStatus: 'submitted', actorId: requester.id, actorRole: requester.role, payload: body, at: o.createdAt }];
  const messages: PlannedMessage[] = [{ type: 'order.submitted', payload: { ...body, eventSeq: 1, actorId: requester.id, actorRole: requester.role }, createdAt: o.createdAt }];
  const state: PlannedOrderState = {
    ...NEW_ORDER_STATE,
    updatedAt: o.createdAt,
  };
  let previousAt = o.createdAt;
  for (const step of draft.steps) {
    const fail = (why: string) => new Error(`demo plan ${o.key} (${o.story}): ${step.action} ${why}`);
    if (step.at <= previousAt || step.at > now) throw fail(`at ${step.at.toISOString()} is not after ${previousAt.toISOString()} and before now`);
    const user = step.actorId === null ? null : users.get(step.actorId);
    if (step.actorId !== null && !user) throw fail(`by an unknown user ${step.actorId}`);
    const actor = user ? toActor(user) : SYSTEM_ACTOR;
    const facts: OrderFacts = { ...state, requesterId: o.requesterId, communityCode: o.community.code, districtCode: o.community.districtCode };
    const isOpenAcceptor = user?.organizationId !== null && organizations.some((org) => org.id === user?.organizationId && org.districtCodes.includes(o.community.districtCode));
    const decision = decideTransition(facts, step.action, actor, { doesOrganizationServeDistrict: isOpenAcceptor, isAssignedVolunteer: user?.role === 'volunteer' });
    if (!decision.allowed) throw fail(`refused (${decision.reason}) from ${state.status} for ${user?.role ?? 'system'}`);
    if (step.action === 'schedule') {
      const start = step.patch?.scheduledStart as Date;
      const end = step.patch?.scheduledEnd as Date;
      if (start <= step.at) throw fail('in the past (SLOT_IN_PAST)');
      if (!o.preferredWindows.some((w) => new Date(w.start) <= start && end <= new Date(w.end))) throw fail('outside the preferred windows');
    }
    if (step.action === 'check_in' && !isCheckInOpen(step.at, state.scheduledStart as Date, state.scheduledEnd as Date)) throw fail('while check-in is closed');
    if (step.action === 'decline') state.returnedCount += 1;
    const fromStatus = state.status;
    Object.assign(state, step.patch ?? {}, { status: decision.to, version: state.version + 1, updatedAt: step.at });
    const payload = { orderId: o.id, fromStatus, toStatus: decision.to, ...(step.payload ?? {}) };
    const actorRole = user?.role ?? 'system';
    events.push({ seq: state.version, type: decision.rule.eventType, fromStatus, toStatus: decision.to, actorId: step.actorId, actorRole, payload, at: step.at });
    messages.push({ type: decision.rule.eventType, payload: { ...payload, eventSeq: state.version, actorId: step.actorId, actorRole }, createdAt: step.at });
    for (const m of step.messages ?? [])
      messages.push({ type: m.type, payload: { orderId: o.id, eventSeq: state.version, actorId: step.actorId, actorRole, ...m.payload }, createdAt: step.at });
    previousAt = step.at;
  }
  if (state.status !== o.story) throw new Error(`demo plan ${o.key}: ends ${state.status}, not ${o.story}`);
  return { ...o, state, events, messages, event: draft.event, steps: draft.steps };
}

/** Every district's month of orders, relative to `now`. */
export function planDemoOrders(world: DemoWorld, now: Date): PlannedOrder[] {
  const planner = new OrderPlanner(world, new DemoClock(now));
  world.districts.forEach((d, i) => planner.planDistrict(d, i));
  return planner.orders;
}
