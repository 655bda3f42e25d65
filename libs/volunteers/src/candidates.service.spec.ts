import { type Actor, BusinessRuleError, ForbiddenError, NotFoundError, OrderStateConflictError, ValidationError, type VolunteerFacts } from '@kepu/core';
import type { OrderRecord, OrdersService } from '@kepu/orders';
import type { CandidatesRepository, VenueCandidateFacts, VolunteerCandidateFacts } from './candidates.repository';
import { CandidatesService } from './candidates.service';

const ORG = '11111111-1111-4111-8111-111111111111';
const actor = (overrides: Partial<Actor> = {}): Actor => ({
  userId: 'u',
  role: 'org_admin',
  communityCode: null,
  departmentId: null,
  organizationId: ORG,
  districtCode: null,
  volunteerId: null,
  ...overrides,
});
const place = { communityCode: '110108001001', subdistrictCode: '110108001', districtCode: '110108' };
// Sunday 14 March 2027, 09:00–11:00 Beijing
const order = {
  id: 'o',
  status: 'accepted',
  organizationId: ORG,
  topic: 'anti_fraud',
  audience: 'elderly',
  expectedAttendance: 60,
  accessibilityNeeds: ['wheelchair'],
  preferredWindows: [{ start: '2027-03-14T01:00:00.000Z', end: '2027-03-14T03:00:00.000Z' }],
  ...place,
} as unknown as OrderRecord;
const slot = { start: '2027-03-14T09:00:00+08:00', end: '2027-03-14T11:00:00+08:00' };

const volunteer = (id: string, overrides: Partial<VolunteerFacts> = {}): VolunteerCandidateFacts => ({
  id,
  displayName: `name ${id}`,
  isActive: true,
  home: place,
  skills: [{ topic: 'anti_fraud', level: 2 }],
  audiences: ['elderly'],
  availability: [{ weekday: 7, start: '08:00', end: '12:00' }],
  unavailable: [],
  maxHoursPerWeek: 8,
  bookedHoursThatWeek: 0,
  hasOverlappingAssignment: false,
  recentHours: 0,
  averageRating: null,
  servedCount: 0,
  noShowCount: 0,
  ...overrides,
});
const venue = (id: string, capacity: number, isFree = true): VenueCandidateFacts => ({ id, name: `venue ${id}`, kind: 'school', capacity, accessibility: ['wheelchair'], place, isFree });

describe('CandidatesService', () => {
  const orders = { findVisibleRecord: jest.fn() };
  const candidates = { volunteerFacts: jest.fn(), venueFacts: jest.fn() };
  const service = new CandidatesService(candidates as unknown as CandidatesRepository, orders as unknown as OrdersService);

  beforeEach(() => {
    jest.resetAllMocks();
    orders.findVisibleRecord.mockResolvedValue(order);
    candidates.volunteerFacts.mockResolvedValue([]);
    candidates.venueFacts.mockResolvedValue([]);
  });

  it.each([
    ['end before start', { start: slot.end, end: slot.start }],
    ['a slot over 12 hours', { start: '2027-03-14T00:00:00+08:00', end: '2027-03-14T12:01:00+08:00' }],
  ])('refuses %s as 400 before reading the order', async (_case, query) => {
    await expect(service.forOrder(actor(), 'o', query)).rejects.toBeInstanceOf(ValidationError);
    expect(orders.findVisibleRecord).not.toHaveBeenCalled();
  });

  it('reads the order in the caller\'s scope: outside it, 404', async () => {
    orders.findVisibleRecord.mockResolvedValue(null);
    await expect(service.forOrder(actor(), 'o', slot)).rejects.toBeInstanceOf(NotFoundError);
    expect(orders.findVisibleRecord).toHaveBeenCalledWith(actor(), 'o');
  });

  it.each([
    ['a coordinator who sees the order', actor({ role: 'district_coordinator', organizationId: null, districtCode: '110108' }), order],
    ['the city admin', actor({ role: 'city_admin', organizationId: null }), order],
    ['another organisation that still sees it', actor({ organizationId: '22222222-2222-4222-8222-222222222222' }), order],
  ])('%s gets 403', async (_case, who, record) => {
    orders.findVisibleRecord.mockResolvedValue(record);
    await expect(service.forOrder(who, 'o', slot)).rejects.toBeInstanceOf(ForbiddenError);
    expect(candidates.volunteerFacts).not.toHaveBeenCalled();
  });

  it.each(['claimed', 'in_progress', 'completed', 'cancelled'])('an order %s is 409 ORDER_STATE_CONFLICT', async (status) => {
    orders.findVisibleRecord.mockResolvedValue({ ...order, status, organizationId: status === 'claimed' ? null : ORG });
    await expect(service.forOrder(actor(), 'o', slot)).rejects.toBeInstanceOf(OrderStateConflictError);
  });

  it('a slot outside every preferred window is 422 OUTSIDE_PREFERRED_WINDOW', async () => {
    await expect(service.forOrder(actor(), 'o', { start: '2027-03-14T08:59:00+08:00', end: slot.end })).rejects.toMatchObject({
      code: 'OUTSIDE_PREFERRED_WINDOW',
    });
    await expect(service.forOrder(actor(), 'o', { start: slot.start, end: '2027-03-14T11:00:01+08:00' })).rejects.toBeInstanceOf(BusinessRuleError);
  });

  it('asks for the organisation\'s facts in the slot\'s Monday–Sunday week, Beijing time, and for the district\'s venues', async () => {
    await service.forOrder(actor(), 'o', { ...slot, start: '2027-03-14T09:30:00+08:00' });
    expect(candidates.volunteerFacts).toHaveBeenCalledWith({
      organizationId: ORG,
      topic: 'anti_fraud',
      orderId: 'o',
      start: new Date('2027-03-14T01:30:00.000Z'),
      end: new Date('2027-03-14T03:00:00.000Z'),
      weekStart: new Date('2027-03-07T16:00:00.000Z'),
      weekEnd: new Date('2027-03-14T16:00:00.000Z'),
      local: { weekday: 7, startMinutes: 570, endMinutes: 660 },
    });
    expect(candidates.venueFacts).toHaveBeenCalledWith(
      expect.objectContaining({ districtCode: '110108', orderId: 'o', expectedAttendance: 60, accessibilityNeeds: ['wheelchair'], place }),
    );
  });

  it('ranks with libs/core: filters out the ineligible, best first, names and breakdown kept, at most `limit` of each', async () => {
    candidates.volunteerFacts.mockResolvedValue([
      volunteer('a', { skills: [{ topic: 'anti_fraud', level: 1 }] }),
      volunteer('b', { skills: [{ topic: 'anti_fraud', level: 3 }] }),
      volunteer('busy', { hasOverlappingAssignment: true, skills: [{ topic: 'anti_fraud', level: 3 }] }),
      volunteer('c'),
    ]);
    candidates.venueFacts.mockResolvedValue([venue('big', 600), venue('fits', 60), venue('booked', 60, false), venue('small', 59)]);

    const result = await service.forOrder(actor(), 'o', { ...slot, limit: 2 });

    expect(result.volunteers.map((v) => v.volunteerId)).toEqual(['b', 'c']);
    expect(result.volunteers[0]).toMatchObject({ displayName: 'name b', breakdown: expect.objectContaining({ topicLevel: 30 }) });
    expect(result.venues.map((v) => [v.venueId, v.name, v.capacity])).toEqual([
      ['fits', 'venue fits', 60],
      ['big', 'venue big', 600],
    ]);
  });
});
