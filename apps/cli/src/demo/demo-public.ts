import type { BroadcastChannel } from '@kepu/notifications';
import { fitsInSeats, type OrderStatus, promotionsFor, SLA_STAGE_OF_STATUS, type SlaHours, slaDueAt, slaHoursFor, type SlaStage } from '@kepu/core';
import { AVAILABILITY_PATTERNS, DemoRandom, demoId } from './demo-data';
import type { PlannedOrder } from './demo-orders';
import type { DemoDistrict, DemoUser, DemoWorld } from './demo-world';

/**
 * The public side of the demo (issue 11) and the coordinators' levers (issue 12),
 * planned in memory like the month of orders: residents who signed up themselves,
 * volunteer applications in every state, published events with sign-ups, waiting
 * lines, attendance and feedback, the escalations the SLA timers would have opened
 * (and the coordinators acknowledged), urgent orders, a series and a broadcast per
 * district. demo-seed.ts plays it through the services with the clock at each time.
 */

const MINUTE_MS = 60 * 1000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const SHANGHAI_OFFSET_MS = 8 * HOUR_MS;

/** Residents per district who signed up themselves with an SMS code (`<district>.neighbour<n>`). */
export const NEIGHBOURS_PER_DISTRICT = 4;
/** They signed up before the month the orders tell of. */
const NEIGHBOURS_REGISTERED_DAYS_AGO = 45;
/** The SLA timers fire a moment after the deadline. */
const BREACH_AFTER_DUE_MS = 2 * MINUTE_MS;

/** A resident account made through POST /auth/phone-codes and POST /auth/register. */
export type DemoNeighbour = DemoUser & { registeredAt: Date };

export type ApplicationOutcome = 'approved' | 'rejected' | 'pending';

export interface PlannedApplication {
  key: string;
  applicantId: string;
  organizationId: string;
  adminId: string;
  homeCommunityCode: string;
  displayName: string;
  phone: string;
  skills: { topic: string; level: number }[];
  audiences: string[];
  formats: string[];
  languages: string[];
  availability: { weekday: number; start: string; end: string }[];
  maxHoursPerWeek: number;
  motivation: string;
  appliedAt: Date;
  outcome: ApplicationOutcome;
  decidedAt: Date | null;
  reason: string | null;
}

/** What one resident does about one published event. */
export type SignupAction =
  | { kind: 'signup'; at: Date; residentId: string; attendees: number }
  | { kind: 'cancel'; at: Date; residentId: string }
  | { kind: 'attend'; at: Date; residentId: string; scannerId: string }
  | { kind: 'feedback'; at: Date; residentId: string; score: number; comment: string };

export interface PlannedPublication {
  /** The planned order (planning id) whose event is published. */
  orderId: string;
  publisherId: string;
  publishedAt: Date;
  seats: number;
  note: string;
  actions: SignupAction[];
}

export interface PlannedEscalation {
  orderId: string;
  districtCode: string;
  stage: SlaStage;
  /** The order's status in the stage (what the timer checks it still has). */
  status: OrderStatus;
  /** The seq of the event that entered the stage: one escalation per stretch. */
  enteredSeq: number;
  dueAt: Date;
  breachedAt: Date;
  /** resolved: the order left the stage afterwards (its transition resolves it). */
  outcome: 'open' | 'acknowledged' | 'resolved';
  acknowledgement: { at: Date; coordinatorId: string; note: string } | null;
}

export interface PlannedSeries {
  key: string;
  districtCode: string;
  staffId: string;
  communityCode: string;
  createdAt: Date;
  title: string;
  topic: string;
  audience: string;
  format: string;
  expectedAttendance: number;
  description: string;
  contactName: string;
  contactPhone: string;
  preferredWindows: { start: string; end: string }[];
  every: 'week';
  count: number;
  /** The community dispatches the first occurrence; the others wait their turn. */
  dispatch: { at: Date; departmentId: string };
}

export interface PlannedBroadcast {
  key: string;
  districtCode: string;
  senderId: string;
  title: string;
  body: string;
  roles: string[];
  channels: BroadcastChannel[];
}

export interface PublicPlan {
  neighbours: DemoNeighbour[];
  applications: PlannedApplication[];
  publications: PlannedPublication[];
  escalations: PlannedEscalation[];
  series: PlannedSeries[];
  broadcasts: PlannedBroadcast[];
}

/** Beijing midnight of the day `offsetDays` from `now`, plus `hhmm`. */
function beijing(now: Date, offsetDays: number, hhmm: string): Date {
  const local = now.getTime() + SHANGHAI_OFFSET_MS;
  const midnight = local - (local % DAY_MS) - SHANGHAI_OFFSET_MS;
  const [h, m] = hhmm.split(':').map(Number);
  return new Date(midnight + offsetDays * DAY_MS + ((h ?? 0) * 60 + (m ?? 0)) * MINUTE_MS);
}

/** `count` instants evenly inside (from, until), in order. */
function between(from: number, until: number, count: number): Date[] {
  const gap = (until - from) / (count + 1);
  return Array.from({ length: count }, (_, i) => new Date(Math.round(from + gap * (i + 1))));
}

/** The self-registered residents of each district: planning users, not created by the city's administrator. */
export function planNeighbours(world: DemoWorld, now: Date): DemoNeighbour[] {
  const random = new DemoRandom('demo-neighbours');
  return world.districts.flatMap((d) =>
    Array.from({ length: NEIGHBOURS_PER_DISTRICT }, (_, i) => {
      const community = d.communities[(i * 3 + 1) % d.communities.length] as DemoDistrict['communities'][number];
      const username = `${d.spec.slug}.neighbour${i + 1}`;
      return {
        id: demoId(`user:${username}`),
        username,
        displayName: random.personName(),
        role: 'resident' as const,
        // 147…: a prefix the demo's other accounts never draw, so no sign-up meets PHONE_TAKEN.
        phone: `147${String(random.int(0, 99_999_999)).padStart(8, '0')}`,
        communityCode: community.code,
        departmentId: null,
        organizationId: null,
        districtCode: null,
        volunteerId: null,
        registeredAt: new Date(beijing(now, -NEIGHBOURS_REGISTERED_DAYS_AGO, '19:30').getTime() + i * 7 * MINUTE_MS),
      };
    }),
  );
}

const MOTIVATIONS = ['退休教师，想给社区老人讲讲防诈骗。', '社区医院护士，业余时间愿意做健康科普。', '大学生，喜欢做科学实验，想带孩子们一起玩。', '热心居民，想为邻里做点事。'];

/** Per district: the first neighbours apply to the district's team; one approved, one rejected with a reason, one still waiting. */
function planApplications(world: DemoWorld, neighbours: readonly DemoNeighbour[], now: Date): PlannedApplication[] {
  const random = new DemoRandom('demo-applications');
  const outcomes: ApplicationOutcome[] = ['approved', 'rejected', 'pending'];
  return world.districts.flatMap((d) => {
    const own = neighbours.filter((n) => d.communities.some((c) => c.code === n.communityCode));
    return outcomes.map((outcome, i) => {
      const applicant = own[i] as DemoNeighbour;
      const appliedAt = beijing(now, -40 + i * 3, '20:10');
      const decidedAt = outcome === 'pending' ? null : beijing(now, -38 + i * 3, '10:20');
      const topics = random.sample(['anti_fraud', 'health', 'digital_skills', 'experiments', 'environment', 'fire_safety'], 2);
      return {
        key: `${d.spec.slug}:application:${i + 1}`,
        applicantId: applicant.id,
        organizationId: d.organization.id,
        adminId: d.organization.adminId,
        homeCommunityCode: applicant.communityCode as string,
        displayName: applicant.displayName,
        phone: applicant.phone,
        skills: topics.map((topic) => ({ topic, level: random.int(1, 3) })),
        audiences: random.sample(['youth', 'elderly', 'general', 'workers'], 2),
        formats: random.sample(['lecture', 'workshop', 'consultation'], 2),
        languages: ['zh'],
        availability: AVAILABILITY_PATTERNS.weekend,
        maxHoursPerWeek: random.pick([4, 6, 8]),
        motivation: MOTIVATIONS[i % MOTIVATIONS.length] as string,
        appliedAt,
        outcome,
        decidedAt,
        reason: outcome === 'rejected' ? '本队本季度名额已满，欢迎下季度再报名，或报名区内其他志愿队。' : null,
      };
    });
  });
}

/** The instant the order was scheduled (its last schedule step), and what came after. */
function scheduledAt(order: PlannedOrder): Date | null {
  const steps = order.steps.filter((s) => s.action === 'schedule');
  return steps.at(-1)?.at ?? null;
}

/**
 * Per district: two upcoming events (one full with a waiting line and a promotion after a
 * cancellation, one open) and two past ones (tickets scanned at the door, a no-show, a
 * cancellation, feedback; one full with a line that was never called). The community's
 * staff publish them half an hour after scheduling and scan the tickets.
 */
function planPublications(world: DemoWorld, orders: readonly PlannedOrder[], neighbours: readonly DemoNeighbour[], now: Date): PlannedPublication[] {
  const t = now.getTime();
  const publications: PlannedPublication[] = [];
  for (const d of world.districts) {
    const own = orders.filter((o) => o.community.districtCode === d.spec.code && o.event && o.event.bookingStatus === 'active');
    const residents = [...d.communities.map((c) => d.residentOf.get(c.code) as string), ...neighbours.filter((n) => d.communities.some((c) => c.code === n.communityCode)).map((n) => n.id)];
    const resident = (i: number) => residents[i % residents.length] as string;
    const withTimes = (o: PlannedOrder) => {
      const at = scheduledAt(o) as Date;
      const publishedAt = new Date(at.getTime() + 20 * MINUTE_MS);
      return { o, publishedAt, start: (o.event as NonNullable<PlannedOrder['event']>).start, end: (o.event as NonNullable<PlannedOrder['event']>).end };
    };
    const upcoming = own
      .filter((o) => o.story === 'scheduled')
      .map(withTimes)
      .filter((x) => x.start.getTime() > t + 3 * HOUR_MS && x.publishedAt.getTime() < t - 30 * MINUTE_MS)
      .sort((a, b) => a.start.getTime() - b.start.getTime())
      .slice(0, 2);
    const past = own
      .filter((o) => o.story === 'rated' || o.story === 'completed' || o.story === 'closed')
      .map(withTimes)
      .filter((x) => x.start.getTime() - x.publishedAt.getTime() > 3 * HOUR_MS)
      .sort((a, b) => b.start.getTime() - a.start.getTime())
      .slice(0, 2);

    upcoming.forEach((x, n) => {
      const staffId = d.staffOf.get(x.o.community.code) as string;
      const until = Math.min(t - 5 * MINUTE_MS, x.start.getTime() - HOUR_MS);
      if (n === 0) {
        // Full: 2 + 1 + 3 = 6 seats; a pair and a single wait; the single confirmed cancels and the single waiting is promoted (the pair does not fit).
        const [a, b, c, e, f, g] = between(x.publishedAt.getTime(), until, 6) as Date[];
        publications.push({
          orderId: x.o.id,
          publisherId: staffId,
          publishedAt: x.publishedAt,
          seats: 6,
          note: '名额有限，请凭票码入场；如不能参加请提前取消，把名额让给排队的邻居。',
          actions: [
            { kind: 'signup', at: a as Date, residentId: resident(0), attendees: 2 },
            { kind: 'signup', at: b as Date, residentId: resident(1), attendees: 1 },
            { kind: 'signup', at: c as Date, residentId: resident(2), attendees: 3 },
            { kind: 'signup', at: e as Date, residentId: resident(3), attendees: 2 },
            { kind: 'signup', at: f as Date, residentId: resident(4), attendees: 1 },
            { kind: 'cancel', at: g as Date, residentId: resident(1) },
          ],
        });
      } else {
        const [a, b, c, e, f] = between(x.publishedAt.getTime(), until, 5) as Date[];
        publications.push({
          orderId: x.o.id,
          publisherId: staffId,
          publishedAt: x.publishedAt,
          seats: 30,
          note: '欢迎带家人一起参加。',
          actions: [
            { kind: 'signup', at: a as Date, residentId: resident(5), attendees: 2 },
            { kind: 'signup', at: b as Date, residentId: resident(6), attendees: 1 },
            { kind: 'signup', at: c as Date, residentId: resident(7), attendees: 4 },
            { kind: 'signup', at: e as Date, residentId: resident(8), attendees: 1 },
            { kind: 'cancel', at: f as Date, residentId: resident(8) },
          ],
        });
      }
    });

    past.forEach((x, n) => {
      const staffId = d.staffOf.get(x.o.community.code) as string;
      const signupsUntil = x.start.getTime() - HOUR_MS;
      const scanAt = (i: number) => new Date(x.start.getTime() - 20 * MINUTE_MS + i * 4 * MINUTE_MS);
      const feedbackAt = (i: number) => new Date(Math.min(x.end.getTime() + (2 + i) * HOUR_MS, t - (10 - i) * MINUTE_MS));
      if (n === 0) {
        const times = between(x.publishedAt.getTime(), signupsUntil, 7);
        const sizes = [2, 1, 3, 1, 2, 1];
        publications.push({
          orderId: x.o.id,
          publisherId: staffId,
          publishedAt: x.publishedAt,
          seats: 20,
          note: '请提前10分钟到场签到。',
          actions: [
            ...sizes.map((attendees, i) => ({ kind: 'signup' as const, at: times[i] as Date, residentId: resident(i), attendees })),
            { kind: 'cancel', at: times[6] as Date, residentId: resident(5) },
            // resident(4) stays confirmed and never comes: a no-show.
            ...[0, 1, 2, 3].map((i) => ({ kind: 'attend' as const, at: scanAt(i), residentId: resident(i), scannerId: staffId })),
            { kind: 'feedback', at: feedbackAt(0), residentId: resident(0), score: 5, comment: '讲得通俗易懂，家里老人也听明白了。' },
            { kind: 'feedback', at: feedbackAt(1), residentId: resident(1), score: 4, comment: '内容实用，时间可以再长一点。' },
            { kind: 'feedback', at: feedbackAt(2), residentId: resident(2), score: 5, comment: '孩子很喜欢互动环节！' },
          ],
        });
      } else {
        const times = between(x.publishedAt.getTime(), signupsUntil, 3);
        publications.push({
          orderId: x.o.id,
          publisherId: staffId,
          publishedAt: x.publishedAt,
          seats: 4,
          note: '小班活动，名额有限。',
          actions: [
            { kind: 'signup', at: times[0] as Date, residentId: resident(6), attendees: 2 },
            { kind: 'signup', at: times[1] as Date, residentId: resident(7), attendees: 2 },
            { kind: 'signup', at: times[2] as Date, residentId: resident(8), attendees: 1 },
            { kind: 'attend', at: scanAt(0), residentId: resident(6), scannerId: staffId },
            { kind: 'attend', at: scanAt(1), residentId: resident(7), scannerId: staffId },
            { kind: 'feedback', at: feedbackAt(3), residentId: resident(6), score: 4, comment: '小班效果好，老师很耐心。' },
          ],
        });
      }
    });
  }
  return publications;
}

/**
 * The escalations the SLA timers would have opened: every stretch an order waited in a
 * stage (dispatch, claim, accept, schedule) past its deadline (shortened for urgent
 * orders). Stretches the order left afterwards were resolved by that transition; of those
 * still waiting, every second one per district was acknowledged by the coordinator.
 */
export function planEscalations(world: DemoWorld, orders: readonly PlannedOrder[], now: Date, hours: SlaHours, urgentFactor: number): PlannedEscalation[] {
  const escalations: PlannedEscalation[] = [];
  for (const order of orders) {
    const sla = slaHoursFor(hours, order.urgent, urgentFactor);
    order.events.forEach((entry, i) => {
      const stage = SLA_STAGE_OF_STATUS[entry.toStatus];
      if (!stage || entry.fromStatus === entry.toStatus) return;
      const left = order.events.slice(i + 1).find((e) => e.toStatus !== entry.toStatus);
      const dueAt = slaDueAt(entry.at, stage, sla);
      const breachedAt = new Date(dueAt.getTime() + BREACH_AFTER_DUE_MS);
      const until = left ? left.at.getTime() : now.getTime() - MINUTE_MS;
      if (breachedAt.getTime() >= until) return;
      escalations.push({
        orderId: order.id,
        districtCode: order.community.districtCode,
        stage,
        status: entry.toStatus,
        enteredSeq: entry.seq,
        dueAt,
        breachedAt,
        outcome: left ? 'resolved' : 'open',
        acknowledgement: null,
      });
    });
  }
  for (const d of world.districts) {
    const open = escalations.filter((e) => e.districtCode === d.spec.code && e.outcome === 'open').sort((a, b) => a.breachedAt.getTime() - b.breachedAt.getTime());
    open.forEach((e, i) => {
      const at = new Date(Math.min(e.breachedAt.getTime() + 3 * HOUR_MS, now.getTime() - 2 * MINUTE_MS));
      if (i % 2 === 1 && at > e.breachedAt) {
        e.outcome = 'acknowledged';
        e.acknowledgement = { at, coordinatorId: d.coordinatorId, note: '已电话督办承办部门，今日内处理。' };
      }
    });
  }
  return escalations;
}

/** 常态化: per district, the second community's staff asks for a weekly class, four weeks, from next week; the first is dispatched. */
function planSeries(world: DemoWorld, now: Date): PlannedSeries[] {
  return world.districts.map((d) => {
    const community = d.communities[1 % d.communities.length] as DemoDistrict['communities'][number];
    const staffId = d.staffOf.get(community.code) as string;
    const staff = world.users.find((u) => u.id === staffId) as DemoUser;
    const department = d.departments.find((x) => x.districtCode !== null && x.topics.includes('emergency')) ?? (d.departments[0] as DemoDistrict['departments'][number]);
    const createdAt = beijing(now, -2, '10:15');
    return {
      key: `${d.spec.slug}:series:1`,
      districtCode: d.spec.code,
      staffId,
      communityCode: community.code,
      createdAt,
      title: '社区防灾减灾周课堂（常态化）',
      topic: 'emergency',
      audience: 'elderly',
      format: 'workshop',
      expectedAttendance: 40,
      description: '每周一次的防灾减灾与自救互救课堂，面向社区老年人，连续四周。',
      contactName: staff.displayName,
      contactPhone: staff.phone,
      preferredWindows: [{ start: beijing(now, 6, '09:00').toISOString(), end: beijing(now, 6, '17:00').toISOString() }],
      every: 'week',
      count: 4,
      dispatch: { at: beijing(now, -2, '15:40'), departmentId: department.id },
    };
  });
}

/** Per district, its coordinator told residents and volunteers in the app (done at once: in-app only). */
function planBroadcasts(world: DemoWorld): PlannedBroadcast[] {
  return world.districts.map((d) => ({
    key: `kepu-demo-seed:${d.spec.slug}:broadcast:1`,
    districtCode: d.spec.code,
    senderId: d.coordinatorId,
    title: `${d.spec.name}寒潮蓝色预警：社区科普活动注意防寒保暖`,
    body: '本周气温骤降，户外科普活动请改在室内进行；老年居民出行请注意防滑，志愿者请提前确认活动场地的供暖情况。',
    roles: ['resident', 'volunteer'],
    channels: ['in_app'],
  }));
}

/** The public side and the coordinators' levers of the demo, relative to `now` and the month of orders. */
export function planPublicSide(world: DemoWorld, orders: readonly PlannedOrder[], now: Date, sla: { hours: SlaHours; urgentFactor: number }): PublicPlan {
  const neighbours = planNeighbours(world, now);
  return {
    neighbours,
    applications: planApplications(world, neighbours, now),
    publications: planPublications(world, orders, neighbours, now),
    escalations: planEscalations(world, orders, now, sla.hours, sla.urgentFactor),
    series: planSeries(world, now),
    broadcasts: planBroadcasts(world),
  };
}

/** What the services will make of a publication's sign-ups (libs/core's own rules): each resident's last status and whether scanned. */
export function expectedSignups(p: PlannedPublication): Map<string, { status: 'confirmed' | 'waitlisted' | 'cancelled'; attendees: number; attended: boolean }> {
  const signups = new Map<string, { status: 'confirmed' | 'waitlisted' | 'cancelled'; attendees: number; attended: boolean; seq: number }>();
  let seq = 0;
  const confirmed = () => [...signups.values()].filter((s) => s.status === 'confirmed').reduce((sum, s) => sum + s.attendees, 0);
  for (const a of p.actions) {
    if (a.kind === 'signup') signups.set(a.residentId, { status: fitsInSeats(p.seats, confirmed(), a.attendees) ? 'confirmed' : 'waitlisted', attendees: a.attendees, attended: false, seq: seq++ });
    else if (a.kind === 'cancel') {
      const s = signups.get(a.residentId);
      if (!s) continue;
      const wasConfirmed = s.status === 'confirmed';
      s.status = 'cancelled';
      if (!wasConfirmed) continue;
      const line = [...signups.entries()].filter(([, x]) => x.status === 'waitlisted').sort(([, x], [, y]) => x.seq - y.seq).map(([id, x]) => ({ id, attendees: x.attendees }));
      for (const id of promotionsFor(p.seats - confirmed(), line)) (signups.get(id) as { status: string }).status = 'confirmed';
    } else if (a.kind === 'attend') {
      const s = signups.get(a.residentId);
      if (s) s.attended = true;
    }
  }
  return new Map([...signups.entries()].map(([id, { seq: _seq, ...rest }]) => [id, rest]));
}
