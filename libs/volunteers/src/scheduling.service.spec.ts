import { type Actor, BusinessRuleError, ConflictError, FixedClock, ValidationError } from '@kepu/core';
import type { ExtraMessage, OrderPatch, OrderRecord, OrdersService, Transactions, TransitionFacts } from '@kepu/orders';

/** What one schedule wrote: the order's patch, and its event's payload and messages. */
interface Written {
  patch?: OrderPatch;
  payload?: Record<string, unknown>;
  messages?: readonly ExtraMessage[];
}
import type { ScheduleOrderDto } from './scheduling.dto';
import type { Holding, SchedulingRepository, VolunteerProfile } from './scheduling.repository';
import { factsWindow, SchedulingService, volunteerFactsAt } from './scheduling.service';

const ALWAYS = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: '00:00', end: '24:00' }));
const HOME = { communityCode: '110108001001', subdistrictCode: '110108001', districtCode: '110108' };
const VENUE = { id: 'venue-1', name: 'hall', communityCode: 'x', districtCode: HOME.districtCode, ownerType: 'community', ownerId: HOME.communityCode };

const profile = (id: string, overrides: Partial<VolunteerProfile> = {}): VolunteerProfile => ({
  id,
  organizationId: 'org-1',
  isActive: true,
  home: HOME,
  skills: [{ topic: 'anti_fraud', level: 2 }],
  audiences: ['elderly'],
  availability: ALWAYS,
  unavailable: [],
  maxHoursPerWeek: 10,
  recentHours: 0,
  averageRating: null,
  servedCount: 0,
  noShowCount: 0,
  ...overrides,
});

// Wednesday 2027-03-17, 09:00–11:00 Shanghai; its week runs from Monday 2027-03-15 00:00 Shanghai.
const START = new Date('2027-03-17T01:00:00Z');
const END = new Date('2027-03-17T03:00:00Z');
const MONDAY = new Date('2027-03-14T16:00:00Z');

describe('volunteerFactsAt', () => {
  const hold = (start: string, end: string, volunteerId = 'v1'): Holding => ({ volunteerId, orderId: 'other', start: new Date(start), end: new Date(end) });

  it('counts only the hours inside the slot\'s week, and only the volunteer\'s own', () => {
    const facts = volunteerFactsAt(
      profile('v1'),
      [
        hold('2027-03-14T14:00:00Z', '2027-03-14T18:00:00Z'), // Sunday 22:00 – Monday 02:00: 2 h fall in the week
        hold('2027-03-18T01:00:00Z', '2027-03-18T04:00:00Z'), // Thursday, 3 h
        hold('2027-03-22T01:00:00Z', '2027-03-22T05:00:00Z'), // next week
        hold('2027-03-18T01:00:00Z', '2027-03-18T09:00:00Z', 'v2'),
      ],
      START,
      END,
    );
    expect(facts.bookedHoursThatWeek).toBe(5);
    expect(facts.hasOverlappingAssignment).toBe(false);
  });

  it('sees an overlap, but not an event that ends when the slot starts', () => {
    expect(volunteerFactsAt(profile('v1'), [hold('2027-03-16T23:00:00Z', '2027-03-17T01:00:00Z')], START, END).hasOverlappingAssignment).toBe(false);
    expect(volunteerFactsAt(profile('v1'), [hold('2027-03-16T23:00:00Z', '2027-03-17T01:30:00Z')], START, END).hasOverlappingAssignment).toBe(true);
  });

  it('reads the facts around a slot from its week and the slot itself', () => {
    expect(factsWindow(START, END)).toEqual({ from: MONDAY, to: new Date(MONDAY.getTime() + 7 * 24 * 3600 * 1000) });
    // Sunday 23:00 – Monday 01:00: the slot runs past its week's end.
    const late = factsWindow(new Date('2027-03-21T15:00:00Z'), new Date('2027-03-21T17:00:00Z'));
    expect(late.to).toEqual(new Date('2027-03-21T17:00:00Z'));
  });
});

describe('SchedulingService', () => {
  const actor: Actor = { userId: 'u-admin', role: 'org_admin', communityCode: null, departmentId: null, organizationId: 'org-1', districtCode: null, volunteerId: null };
  const order = {
    id: 'order-1',
    status: 'accepted',
    version: 5,
    organizationId: 'org-1',
    topic: 'anti_fraud',
    audience: 'elderly',
    communityCode: HOME.communityCode,
    subdistrictCode: HOME.subdistrictCode,
    districtCode: HOME.districtCode,
    expectedAttendance: 60,
    accessibilityNeeds: ['wheelchair'],
    preferredWindows: [{ start: '2027-03-17T00:00:00.000Z', end: '2027-03-17T04:00:00.000Z' }],
    openSlots: 0,
    scheduledStart: null,
    scheduledEnd: null,
    venueId: null,
  } as unknown as OrderRecord;

  let plans: Written[];
  const tx = { tx: true };
  const orders = {
    authorize: jest.fn(async (a: Actor, _id: string, action: string) => ({ actor: a, order, action, to: 'scheduled', eventType: `order.${action}d` })),
    applyTransition: jest.fn(async (_tx: unknown, _ticket: unknown, change: { patch?: OrderPatch; at: Date }) => {
      plans.push({ patch: change.patch });
      return order;
    }),
    recordTransition: jest.fn(async (_tx: unknown, _ticket: unknown, _updated: OrderRecord, facts: TransitionFacts) => {
      Object.assign(plans[plans.length - 1] as Written, { payload: facts.payload, messages: facts.messages });
      return {};
    }),
  };
  const transactions = { run: jest.fn((work: (t: unknown) => Promise<unknown>) => work(tx)) };
  const repository = {
    findVenue: jest.fn(),
    profilesOf: jest.fn(),
    skilledProfiles: jest.fn(),
    holdings: jest.fn(),
    isVenueBooked: jest.fn(),
    activeAssignmentsOfOrder: jest.fn(),
    book: jest.fn(),
    lockVolunteers: jest.fn(),
    invite: jest.fn(),
    removeUnlisted: jest.fn(),
    moveActive: jest.fn(),
  };
  const now = new Date('2027-03-01T00:00:00Z');
  const clock = new FixedClock(now);
  const service = new SchedulingService(orders as unknown as OrdersService, transactions as unknown as Transactions, repository as unknown as SchedulingRepository, clock);
  const dto = (overrides: Partial<ScheduleOrderDto> = {}): ScheduleOrderDto =>
    ({ start: '2027-03-17T09:00:00+08:00', end: '2027-03-17T11:00:00+08:00', venueId: 'venue-1', volunteerIds: ['v1'], ...overrides }) as ScheduleOrderDto;

  beforeEach(() => {
    plans = [];
    jest.clearAllMocks();
    clock.set(now);
    repository.removeUnlisted.mockResolvedValue([]);
    repository.moveActive.mockResolvedValue([]);
    repository.findVenue.mockResolvedValue({ ...VENUE, communityCode: HOME.communityCode, capacity: 80, accessibility: ['wheelchair'] });
    repository.profilesOf.mockImplementation(async (_org: string, ids: string[]) => ids.filter((id) => id.startsWith('v')).map((id) => profile(id)));
    repository.skilledProfiles.mockResolvedValue([]);
    repository.holdings.mockResolvedValue([]);
    repository.isVenueBooked.mockResolvedValue(false);
    repository.activeAssignmentsOfOrder.mockResolvedValue([]);
  });

  it('refuses end before start or an event over 12 h before looking at the order', async () => {
    await expect(service.schedule(actor, 'order-1', dto({ end: '2027-03-17T09:00:00+08:00' }))).rejects.toBeInstanceOf(ValidationError);
    await expect(service.schedule(actor, 'order-1', dto({ end: '2027-03-17T21:01:00+08:00' }))).rejects.toBeInstanceOf(ValidationError);
    expect(orders.authorize).not.toHaveBeenCalled();
  });

  it.each([
    ['a slot outside the preferred windows', dto({ start: '2027-03-17T07:00:00+08:00' }), 'OUTSIDE_PREFERRED_WINDOW'],
    ['a slot in the past', dto(), 'SLOT_IN_PAST', new Date('2027-03-17T02:00:00Z')],
  ])('refuses %s', async (_name, body, code, at = now) => {
    clock.set(at);
    await expect(service.schedule(actor, 'order-1', body)).rejects.toMatchObject({ code });
    expect(transactions.run).not.toHaveBeenCalled();
  });

  it('stamps the order, the booking and the invitations with the clock\'s time, in one transaction', async () => {
    const past = new Date('2027-02-10T02:00:00Z');
    clock.set(past);
    await service.schedule(actor, 'order-1', dto());
    expect(transactions.run).toHaveBeenCalledTimes(1);
    expect(orders.applyTransition).toHaveBeenCalledWith(tx, expect.objectContaining({ action: 'schedule' }), expect.objectContaining({ at: past }));
    expect(repository.book).toHaveBeenCalledWith(tx, expect.objectContaining({ orderId: order.id, venueId: 'venue-1', at: past }));
    expect(repository.invite).toHaveBeenCalledWith(tx, expect.objectContaining({ at: past }), [expect.objectContaining({ volunteerId: 'v1' })]);
    expect(orders.recordTransition).toHaveBeenCalledTimes(1);
  });

  it('checks the venue: known, large enough, accessible as the order needs', async () => {
    repository.findVenue.mockResolvedValueOnce(null);
    await expect(service.schedule(actor, 'order-1', dto())).rejects.toMatchObject({ code: 'UNKNOWN_VENUE' });
    repository.findVenue.mockResolvedValueOnce({ ...VENUE, capacity: 59, accessibility: ['wheelchair'] });
    await expect(service.schedule(actor, 'order-1', dto())).rejects.toMatchObject({ code: 'VENUE_TOO_SMALL' });
    repository.findVenue.mockResolvedValueOnce({ ...VENUE, capacity: 80, accessibility: [] });
    await expect(service.schedule(actor, 'order-1', dto())).rejects.toMatchObject({ code: 'VENUE_NOT_ACCESSIBLE' });
  });

  it("books only venues the organisation may use: the order's district, the city's own, its own; any other is 422 VENUE_OUT_OF_SCOPE", async () => {
    const elsewhere = { ...VENUE, communityCode: '110105001024', districtCode: '110105', capacity: 80, accessibility: ['wheelchair'] };
    for (const venue of [{ ...elsewhere, ownerType: 'community', ownerId: '110105001024' }, { ...elsewhere, ownerType: 'organization', ownerId: 'org-2' }]) {
      repository.findVenue.mockResolvedValueOnce(venue);
      await expect(service.schedule(actor, 'order-1', dto())).rejects.toMatchObject({ code: 'VENUE_OUT_OF_SCOPE', status: 422 });
    }
    expect(transactions.run).not.toHaveBeenCalled();
    for (const venue of [{ ...elsewhere, ownerType: 'city', ownerId: null }, { ...elsewhere, ownerType: 'organization', ownerId: 'org-1' }]) {
      repository.findVenue.mockResolvedValueOnce(venue);
      await expect(service.schedule(actor, 'order-1', dto())).resolves.toBeDefined();
    }
  });

  it('lets the organisation name an assistant not skilled in the topic, but not an inactive or overbooked one', async () => {
    repository.profilesOf.mockResolvedValueOnce([profile('v1', { skills: [] })]);
    await service.schedule(actor, 'order-1', dto());
    expect(plans).toHaveLength(1);

    repository.profilesOf.mockResolvedValueOnce([profile('v1', { isActive: false }), profile('v2', { maxHoursPerWeek: 1 })]);
    const refused = service.schedule(actor, 'order-1', dto({ volunteerIds: ['v1', 'v2'] }));
    await expect(refused).rejects.toBeInstanceOf(BusinessRuleError);
    await expect(refused).rejects.toMatchObject({
      code: 'NOT_ELIGIBLE',
      errors: [
        { field: 'volunteerIds.0', message: 'inactive' },
        { field: 'volunteerIds.1', message: 'over_weekly_cap' },
      ],
    });
  });

  it('names who is not in the organisation, and answers a busy volunteer or venue with 409', async () => {
    await expect(service.schedule(actor, 'order-1', dto({ volunteerIds: ['v1', 'x-outsider'] }))).rejects.toMatchObject({
      code: 'VOLUNTEER_NOT_IN_ORGANIZATION',
      errors: [{ field: 'volunteerIds.1', message: 'x-outsider is not a volunteer of the organisation' }],
    });
    repository.holdings.mockResolvedValueOnce([{ volunteerId: 'v1', orderId: 'other', start: START, end: END }]);
    await expect(service.schedule(actor, 'order-1', dto())).rejects.toBeInstanceOf(ConflictError);
    repository.isVenueBooked.mockResolvedValueOnce(true);
    await expect(service.schedule(actor, 'order-1', dto())).rejects.toMatchObject({ code: 'VENUE_CONFLICT' });
  });

  it('plans one invitation per volunteer (ids fixed beforehand) and tells the best eligible others of open slots', async () => {
    repository.skilledProfiles.mockResolvedValueOnce([profile('v3'), profile('v4', { recentHours: 100 }), profile('v5', { isActive: false })]);

    await service.schedule(actor, 'order-1', dto({ volunteerIds: ['v1', 'v2'], openSlots: 2 }));

    const [plan] = plans as [Written];
    expect(plan.patch).toEqual({ scheduledStart: START, scheduledEnd: END, venueId: 'venue-1', openSlots: 2 });
    expect(plan.payload).toMatchObject({ when: '2027年3月17日 09:00–11:00', volunteerIds: ['v1', 'v2'], openSlots: 2 });
    const invited = (plan.messages ?? []).filter((m) => m.type === 'assignment.invited');
    expect(invited.map((m) => m.payload.volunteerIds)).toEqual([['v1'], ['v2']]);
    expect(new Set(invited.map((m) => m.payload.assignmentId)).size).toBe(2);
    expect(repository.skilledProfiles).toHaveBeenCalledWith('org-1', 'anti_fraud', ['v1', 'v2'], expect.any(Number), now);
    // v5 is inactive; v3 outranks v4, who served many hours lately (fairness).
    expect((plan.messages ?? []).find((m) => m.type === 'task.open')?.payload).toEqual({ volunteerIds: ['v3', 'v4'], openSlots: 2, when: '2027年3月17日 09:00–11:00' });
  });

  it('on reschedule, keeps slot claimers, invites only the newly listed, and needs someone or a slot', async () => {
    repository.activeAssignmentsOfOrder.mockResolvedValue([
      { id: 'a1', volunteerId: 'v1', status: 'confirmed', isSlotClaim: false },
      { id: 'a9', volunteerId: 'v9', status: 'confirmed', isSlotClaim: true },
    ]);
    repository.moveActive.mockResolvedValueOnce(['v1', 'v9']);
    await service.reschedule(actor, 'order-1', dto({ volunteerIds: ['v1', 'v2'] }));
    const [plan] = plans as [Written];
    expect(repository.profilesOf).toHaveBeenCalledWith('org-1', ['v1', 'v2', 'v9'], now);
    expect((plan.messages ?? []).map((m) => [m.type, m.payload.volunteerIds])).toEqual([['assignment.invited', ['v2']]]);

    repository.activeAssignmentsOfOrder.mockResolvedValue([]);
    await expect(service.reschedule(actor, 'order-1', dto({ volunteerIds: [] }))).rejects.toBeInstanceOf(ValidationError);
  });
});
