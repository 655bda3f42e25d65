import { AUDIENCE_CODES, ORDER_STATUSES, type OrderStatus } from '@kepu/core';
import { type PlannedOrder, planDemoOrders } from './demo-orders';
import { buildDemoWorld, type DemoCommunity } from './demo-world';

const communitiesOf = ({ code }: { code: string }): DemoCommunity[] =>
  Array.from({ length: 8 }, (_, i) => ({
    code: `${code}${String(i + 1).padStart(3, '0')}001`,
    name: `第${i + 1}社区居委会`,
    subdistrictCode: `${code}${String(i + 1).padStart(3, '0')}`,
    districtCode: code,
  }));

const DAY_MS = 24 * 3600 * 1000;
// A week of seeds at night and in the afternoon, Beijing time (Monday 2026-11-23 onwards).
const INSTANTS = Array.from({ length: 7 }, (_, day) => [`02:10`, `15:40`].map((hhmm) => new Date(Date.parse(`2026-11-${23 + day}T${hhmm}:00+08:00`)))).flat();

const overlapping = (items: { key: string; start: Date; end: Date }[]): string[] => {
  const clashes: string[] = [];
  const byKey = new Map<string, { start: Date; end: Date }[]>();
  for (const item of items) {
    const held = byKey.get(item.key) ?? [];
    if (held.some((h) => h.start < item.end && item.start < h.end)) clashes.push(item.key);
    byKey.set(item.key, [...held, item]);
  }
  return clashes;
};

describe('planDemoOrders', () => {
  const world = buildDemoWorld(communitiesOf);

  it.each(INSTANTS.map((now) => [now.toISOString(), now]))('plans every status and audience in every district, never double-books and keeps every story in its time, seeded at %s', (_label, now) => {
    const orders = planDemoOrders(world, now);
    for (const district of world.districts) {
      const own = orders.filter((o) => o.community.districtCode === district.spec.code);
      expect(new Set(own.map((o) => o.state.status))).toEqual(new Set(ORDER_STATUSES));
      expect(new Set(own.map((o) => o.audience))).toEqual(new Set(AUDIENCE_CODES));
    }

    const active = orders.filter((o) => o.event && o.event.bookingStatus === 'active');
    expect(overlapping(active.map((o) => ({ key: o.event!.venueId, start: o.event!.start, end: o.event!.end })))).toEqual([]);
    expect(
      overlapping(active.flatMap((o) => o.event!.assignments.filter((a) => a.status !== 'cancelled').map((a) => ({ key: a.volunteerId, start: o.event!.start, end: o.event!.end })))),
    ).toEqual([]);

    const is = (...statuses: OrderStatus[]) => (o: PlannedOrder) => statuses.includes(o.state.status);
    for (const o of orders) {
      expect(o.events.map((e) => e.seq)).toEqual(Array.from({ length: o.state.version }, (_, i) => i + 1));
      expect(o.events.every((e) => e.at <= now)).toBe(true);
      expect(o.createdAt.getTime()).toBeGreaterThan(now.getTime() - 31 * DAY_MS);
    }
    // Waiting orders still have a window ahead (or the timer would expire them); expired ones do not.
    for (const o of orders.filter(is('submitted', 'dispatched', 'claimed', 'accepted'))) expect(o.lastWindowEnd > now).toBe(true);
    for (const o of orders.filter(is('expired'))) expect(o.lastWindowEnd <= now).toBe(true);
    // Completed orders are younger than the 7 days after which the timer closes them; closed ones are older.
    for (const o of orders.filter(is('completed'))) expect(now.getTime() - o.state.completedAt!.getTime()).toBeLessThan(7 * DAY_MS);
    for (const o of orders.filter(is('closed'))) expect(now.getTime() - o.state.completedAt!.getTime()).toBeGreaterThanOrEqual(7 * DAY_MS);
    for (const o of orders.filter(is('scheduled'))) expect(o.state.scheduledStart! > now).toBe(true);
    for (const o of orders.filter(is('completed', 'rated', 'closed'))) {
      expect(o.event!.records.length).toBeGreaterThan(0);
      for (const r of o.event!.records) expect(r.hours * 3600 * 1000).toBeLessThanOrEqual(o.event!.end.getTime() - o.event!.start.getTime());
    }
  });

  it('plans the same rows on every run', () => {
    const now = INSTANTS[3] as Date;
    expect(JSON.stringify(planDemoOrders(buildDemoWorld(communitiesOf), now))).toBe(JSON.stringify(planDemoOrders(world, now)));
  });
});
