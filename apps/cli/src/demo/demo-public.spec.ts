import { SLA_STAGE_OF_STATUS } from '@kepu/core';
import { planDemoOrders } from './demo-orders';
import { expectedSignups, planPublicSide } from './demo-public';
import { buildDemoWorld, type DemoCommunity } from './demo-world';

const communitiesOf = ({ code }: { code: string }): DemoCommunity[] =>
  Array.from({ length: 8 }, (_, i) => ({ code: `${code}${String(i + 1).padStart(3, '0')}001`, name: `第${i + 1}社区居委会`, subdistrictCode: `${code}${String(i + 1).padStart(3, '0')}`, districtCode: code }));

// The defaults of AppConfig (SLA_*_HOURS, SLA_URGENT_FACTOR).
const SLA = { hours: { dispatch: 24, claim: 48, accept: 72, schedule: 72 }, urgentFactor: 0.25 };
const DAY_MS = 24 * 3600 * 1000;
// A week of seeds at night and in the afternoon, Beijing time (as demo-orders.spec.ts).
const INSTANTS = Array.from({ length: 7 }, (_, day) => ['02:10', '15:40'].map((hhmm) => new Date(Date.parse(`2026-11-${23 + day}T${hhmm}:00+08:00`)))).flat();

describe('planPublicSide', () => {
  const world = buildDemoWorld(communitiesOf);

  it.each(INSTANTS.map((now) => [now.toISOString(), now]))('plans the public side and the coordinators\' levers in every district, seeded at %s', (_label, now) => {
    const orders = planDemoOrders(world, now);
    const plan = planPublicSide(world, orders, now, SLA);
    const byId = new Map(orders.map((o) => [o.id, o]));
    const residentIds = new Set([...world.users.filter((u) => u.role === 'resident').map((u) => u.id), ...plan.neighbours.map((n) => n.id)]);

    // Self-registered residents: usernames and phones of their own, before the month begins.
    const usernames = new Set(world.users.map((u) => u.username));
    const phones = new Set(world.users.map((u) => u.phone));
    for (const n of plan.neighbours) {
      expect(usernames.has(n.username)).toBe(false);
      expect(phones.has(n.phone)).toBe(false);
      expect(n.phone).toMatch(/^1[3-9]\d{9}$/);
      expect(n.registeredAt.getTime()).toBeLessThan(Math.min(...orders.map((o) => o.createdAt.getTime())));
    }
    expect(new Set(plan.neighbours.map((n) => n.phone)).size).toBe(plan.neighbours.length);

    for (const d of world.districts) {
      const inDistrict = (orderId: string) => byId.get(orderId)?.community.districtCode === d.spec.code;
      // Applications in every state, decided after they were filed, by the district's own team.
      const applications = plan.applications.filter((a) => a.organizationId === d.organization.id);
      expect(applications.map((a) => a.outcome).sort()).toEqual(['approved', 'pending', 'rejected']);
      for (const a of applications) {
        if (a.decidedAt) expect(a.decidedAt > a.appliedAt).toBe(true);
        expect(a.reason === null).toBe(a.outcome !== 'rejected');
      }

      // Events: upcoming and past, every sign-up state, attendance and feedback, never more confirmed than seats.
      const publications = plan.publications.filter((p) => inDistrict(p.orderId));
      expect(publications.some((p) => (byId.get(p.orderId)?.state.scheduledStart as Date) > now)).toBe(true);
      expect(publications.some((p) => byId.get(p.orderId)?.state.status === 'rated' || byId.get(p.orderId)?.state.status === 'completed' || byId.get(p.orderId)?.state.status === 'closed')).toBe(true);
      const states = new Set<string>();
      for (const p of publications) {
        const order = byId.get(p.orderId)!;
        const start = order.event!.start;
        expect(p.publishedAt < start && p.publishedAt <= now).toBe(true);
        expect(order.steps.find((s) => s.action === 'schedule')!.at < p.publishedAt).toBe(true);
        for (const a of p.actions) {
          expect(a.at > p.publishedAt && a.at <= now).toBe(true);
          expect(residentIds.has(a.residentId)).toBe(true);
          if (a.kind === 'signup' || a.kind === 'cancel') expect(a.at < start).toBe(true);
          if (a.kind === 'attend') expect(a.at.getTime() >= start.getTime() - 2 * 3600 * 1000 && a.at <= order.event!.end).toBe(true);
        }
        const expected = expectedSignups(p);
        const confirmed = [...expected.values()].filter((x) => x.status === 'confirmed').reduce((sum, x) => sum + x.attendees, 0);
        expect(confirmed).toBeLessThanOrEqual(p.seats);
        for (const x of expected.values()) {
          states.add(x.status);
          if (x.attended) {
            expect(x.status).toBe('confirmed');
            states.add('attended');
          }
        }
        // Feedback only from attendees.
        for (const a of p.actions) if (a.kind === 'feedback') expect(expected.get(a.residentId)?.attended).toBe(true);
      }
      expect([...states].sort()).toEqual(['attended', 'cancelled', 'confirmed', 'waitlisted']);

      // Urgent orders: filed by the community's staff.
      const urgent = orders.filter((o) => o.urgent && o.community.districtCode === d.spec.code);
      expect(urgent.length).toBeGreaterThan(0);
      for (const o of urgent) expect(o.requesterRole).toBe('community_staff');

      expect(plan.series.filter((x) => x.districtCode === d.spec.code)).toHaveLength(1);
      expect(plan.broadcasts.filter((b) => b.districtCode === d.spec.code)).toHaveLength(1);
    }

    // Escalations: every state; each breach is of a stretch the order was still in, after its deadline.
    expect(new Set(plan.escalations.map((e) => e.outcome))).toEqual(new Set(['open', 'acknowledged', 'resolved']));
    for (const e of plan.escalations) {
      const order = byId.get(e.orderId)!;
      const entry = order.events.find((x) => x.seq === e.enteredSeq)!;
      expect(entry.toStatus).toBe(e.status);
      expect(SLA_STAGE_OF_STATUS[e.status]).toBe(e.stage);
      expect(e.breachedAt > e.dueAt && e.breachedAt <= now).toBe(true);
      const left = order.events.find((x) => x.seq > e.enteredSeq && x.toStatus !== e.status);
      expect(e.outcome === 'resolved').toBe(left !== undefined);
      if (left) expect(left.at > e.breachedAt).toBe(true);
      if (e.acknowledgement) expect(e.acknowledgement.at > e.breachedAt && e.acknowledgement.at <= now).toBe(true);
      expect(e.outcome === 'acknowledged').toBe(e.acknowledgement !== null);
    }
    for (const x of plan.series) {
      expect(new Date(x.preferredWindows[0]!.start).getTime()).toBeGreaterThan(x.createdAt.getTime());
      expect(x.dispatch.at > x.createdAt && x.dispatch.at <= now).toBe(true);
      expect(new Date(x.preferredWindows[0]!.end).getTime() + (x.count - 1) * 7 * DAY_MS).toBeLessThan(now.getTime() + 180 * DAY_MS);
    }
  });

  it('plans the same on every run', () => {
    const now = INSTANTS[5] as Date;
    const plan = (w = world) => JSON.stringify(planPublicSide(w, planDemoOrders(w, now), now, SLA));
    expect(plan(buildDemoWorld(communitiesOf))).toBe(plan());
  });
});
