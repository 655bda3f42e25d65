import { type Actor, FixedClock, ForbiddenError, NotFoundError } from '@kepu/core';
import type { OrdersService, Transactions } from '@kepu/orders';
import type { AssignmentRecord, AssignmentsRepository, ClaimableOrder } from './assignments.repository';
import { AssignmentsService } from './assignments.service';
import type { SchedulingRepository, VolunteerProfile } from './scheduling.repository';

const ALWAYS = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: '00:00', end: '24:00' }));
const HOME = { communityCode: '110108001001', subdistrictCode: '110108001', districtCode: '110108' };
const NOW = new Date('2027-03-01T00:00:00Z');

const me: Actor = { userId: 'u-1', role: 'volunteer', communityCode: null, departmentId: null, organizationId: 'org-1', districtCode: null, volunteerId: 'v1' };

const profile = (overrides: Partial<VolunteerProfile> = {}): VolunteerProfile => ({
  id: 'v1',
  organizationId: 'org-1',
  isActive: true,
  home: HOME,
  skills: [{ topic: 'anti_fraud', level: 3 }],
  audiences: ['elderly'],
  availability: ALWAYS,
  unavailable: [],
  maxHoursPerWeek: 20,
  recentHours: 0,
  averageRating: null,
  servedCount: 0,
  noShowCount: 0,
  ...overrides,
});

const event = (id: string, overrides: Partial<ClaimableOrder> = {}): ClaimableOrder => ({
  id,
  title: '防诈骗讲座',
  topic: 'anti_fraud',
  audience: 'elderly',
  ...HOME,
  start: new Date('2027-03-17T01:00:00Z'),
  end: new Date('2027-03-17T03:00:00Z'),
  openSlots: 3,
  venue: null,
  ...overrides,
});

const assignment = (overrides: Partial<AssignmentRecord> = {}): AssignmentRecord => ({
  id: 'a1',
  orderId: 'o1',
  volunteerId: 'v1',
  organizationId: 'org-1',
  status: 'invited',
  isSlotClaim: false,
  start: new Date('2027-03-17T01:00:00Z'),
  end: new Date('2027-03-17T03:00:00Z'),
  reason: null,
  order: { title: 't', topic: 'anti_fraud', communityCode: HOME.communityCode },
  venue: null,
  ...overrides,
});

describe('AssignmentsService', () => {
  const repository = {
    findClaimable: jest.fn(),
    isOnEvent: jest.fn(),
    insertClaim: jest.fn(),
    openEvents: jest.fn(),
    findForVolunteer: jest.fn(),
    confirm: jest.fn(),
    end: jest.fn(),
    tellOrganization: jest.fn(),
    organizationOfVolunteer: jest.fn(),
  };
  const scheduling = { profilesOf: jest.fn(), holdings: jest.fn() };
  const orders = { takeOpenSlot: jest.fn(), returnOpenSlot: jest.fn(), lockOrder: jest.fn() };
  const tx = { tx: true };
  const transactions = { run: jest.fn((work: (t: unknown) => Promise<unknown>) => work(tx)) };
  const clock = new FixedClock(NOW);
  const service = new AssignmentsService(
    repository as unknown as AssignmentsRepository,
    scheduling as unknown as SchedulingRepository,
    orders as unknown as OrdersService,
    transactions as unknown as Transactions,
    clock,
  );

  beforeEach(() => {
    jest.clearAllMocks();
    clock.set(NOW);
    orders.takeOpenSlot.mockResolvedValue({ kind: 'taken', start: event('o1').start, end: event('o1').end, version: 3 });
    repository.organizationOfVolunteer.mockResolvedValue('org-1');
    repository.findClaimable.mockResolvedValue(event('o1'));
    repository.isOnEvent.mockResolvedValue(false);
    repository.findForVolunteer.mockResolvedValue(assignment({ status: 'confirmed', isSlotClaim: true }));
    scheduling.profilesOf.mockResolvedValue([profile()]);
    scheduling.holdings.mockResolvedValue([]);
  });

  it('only a user with a volunteer profile acts here, whatever its role', async () => {
    await expect(service.claim({ ...me, volunteerId: null }, 'o1')).rejects.toBeInstanceOf(ForbiddenError);
    await expect(service.claim({ ...me, role: 'resident', volunteerId: null }, 'o1')).rejects.toBeInstanceOf(ForbiddenError);
    repository.organizationOfVolunteer.mockResolvedValueOnce(null);
    await expect(service.claim({ ...me, role: 'resident' }, 'o1')).rejects.toBeInstanceOf(ForbiddenError);
    await expect(service.claim({ ...me, role: 'resident', organizationId: null, communityCode: '110108001001' }, 'o1')).resolves.toMatchObject({ id: 'a1' });
    expect(repository.findClaimable).toHaveBeenLastCalledWith('org-1', 'o1');
  });

  it('claims a slot, checked against the event the eligibility was decided for', async () => {
    await expect(service.claim(me, 'o1')).resolves.toMatchObject({ id: 'a1', status: 'confirmed', isSlotClaim: true });
    expect(orders.takeOpenSlot).toHaveBeenCalledWith(tx, me, { orderId: 'o1', organizationId: 'org-1', assignmentId: expect.any(String), volunteerId: 'v1', at: NOW });
    expect(repository.insertClaim).toHaveBeenCalledWith(tx, expect.objectContaining({ orderId: 'o1', volunteerId: 'v1', start: event('o1').start, end: event('o1').end, at: NOW }));
  });

  it('refuses a claim when the event was rescheduled between the checks and the slot', async () => {
    orders.takeOpenSlot.mockResolvedValueOnce({ kind: 'taken', start: new Date('2027-03-17T05:00:00Z'), end: new Date('2027-03-17T07:00:00Z'), version: 3 });
    await expect(service.claim(me, 'o1')).rejects.toMatchObject({ code: 'ORDER_STATE_CONFLICT' });
    expect(repository.insertClaim).not.toHaveBeenCalled();
  });

  it.each([
    ['no scheduled event of the organisation', () => repository.findClaimable.mockResolvedValueOnce(null), 'NOT_FOUND'],
    ['an event that has started', () => repository.findClaimable.mockResolvedValueOnce(event('o1', { start: new Date('2027-02-28T23:00:00Z') })), 'EVENT_STARTED'],
    ['already on the event', () => repository.isOnEvent.mockResolvedValueOnce(true), 'VOLUNTEER_CONFLICT'],
    ['no slot left when looked at', () => repository.findClaimable.mockResolvedValueOnce(event('o1', { openSlots: 0 })), 'SLOTS_FULL'],
    ['no slot left when claimed', () => orders.takeOpenSlot.mockResolvedValueOnce({ kind: 'full' }), 'SLOTS_FULL'],
    ['the event moved on meanwhile', () => orders.takeOpenSlot.mockResolvedValueOnce({ kind: 'gone' }), 'ORDER_STATE_CONFLICT'],
    ['another assignment at that time', () => scheduling.holdings.mockResolvedValueOnce([{ volunteerId: 'v1', orderId: 'o2', start: event('o1').start, end: event('o1').end }]), 'VOLUNTEER_CONFLICT'],
  ])('refuses a claim on %s', async (_name, arrange, code) => {
    arrange();
    await expect(service.claim(me, 'o1')).rejects.toMatchObject({ code });
  });

  it('refuses a claim the volunteer is not eligible for with every reason, and writes nothing', async () => {
    scheduling.profilesOf.mockResolvedValueOnce([profile({ skills: [{ topic: 'astronomy', level: 3 }], maxHoursPerWeek: 1 })]);
    await expect(service.claim(me, 'o1')).rejects.toMatchObject({
      code: 'NOT_ELIGIBLE',
      errors: [
        { field: 'volunteer', message: 'not_skilled' },
        { field: 'volunteer', message: 'over_weekly_cap' },
      ],
    });
    expect(orders.takeOpenSlot).not.toHaveBeenCalled();
  });

  it('ranks open tasks for the volunteer, best first, leaving out those they cannot take', async () => {
    repository.openEvents.mockResolvedValueOnce([
      event('far', { audience: 'youth', communityCode: '110105001024', subdistrictCode: '110105001', districtCode: '110105' }),
      event('near'),
      event('clash', { start: new Date('2027-03-18T01:00:00Z'), end: new Date('2027-03-18T03:00:00Z') }),
    ]);
    scheduling.holdings.mockResolvedValueOnce([{ volunteerId: 'v1', orderId: 'o9', start: new Date('2027-03-18T02:00:00Z'), end: new Date('2027-03-18T04:00:00Z') }]);

    const tasks = await service.openTasks(me);

    expect(tasks.map((t) => t.orderId)).toEqual(['near', 'far']);
    expect(tasks[0]?.breakdown).toMatchObject({ topicLevel: 30, audience: 15, proximity: 20 });
    expect(tasks[1]?.breakdown).toMatchObject({ audience: 0, proximity: 0 });
    expect(repository.openEvents).toHaveBeenCalledWith('org-1', 'v1', ['anti_fraud'], NOW, expect.any(Number));
  });

  it('has no open tasks for an inactive volunteer', async () => {
    scheduling.profilesOf.mockResolvedValueOnce([profile({ isActive: false })]);
    await expect(service.openTasks(me)).resolves.toEqual([]);
    expect(repository.openEvents).not.toHaveBeenCalled();
  });

  it('answers 404 for an assignment that is not the caller\'s, and 409 from the wrong state or after the start', async () => {
    repository.findForVolunteer.mockResolvedValueOnce(null);
    await expect(service.confirm(me, 'a-other')).rejects.toBeInstanceOf(NotFoundError);
    repository.findForVolunteer.mockResolvedValueOnce(assignment({ status: 'invited' }));
    await expect(service.withdraw(me, 'a1')).rejects.toMatchObject({ code: 'ASSIGNMENT_STATE_CONFLICT' });
    repository.findForVolunteer.mockResolvedValueOnce(assignment({ status: 'confirmed' }));
    clock.set(new Date('2027-03-17T01:00:00Z'));
    await expect(service.withdraw(me, 'a1')).rejects.toMatchObject({ code: 'EVENT_STARTED' });
    clock.set(NOW);
    repository.findForVolunteer.mockResolvedValueOnce(assignment({ status: 'invited' }));
    repository.confirm.mockResolvedValueOnce(false);
    await expect(service.confirm(me, 'a1')).rejects.toMatchObject({ code: 'ASSIGNMENT_STATE_CONFLICT' });
    expect(repository.end).not.toHaveBeenCalled();
  });

  it('declines with the trimmed reason, from invited or confirmed', async () => {
    repository.findForVolunteer.mockResolvedValueOnce(assignment({ status: 'confirmed' })).mockResolvedValueOnce(assignment({ status: 'declined', reason: '有事' }));
    repository.end.mockResolvedValueOnce({ orderId: 'o1', organizationId: 'org-1', isSlotClaim: false });
    await expect(service.decline(me, 'a1', { reason: ' 有事 ' })).resolves.toMatchObject({ status: 'declined' });
    expect(repository.end).toHaveBeenCalledWith(tx, { assignmentId: 'a1', volunteerId: 'v1', to: 'declined', from: ['invited', 'confirmed'], reason: '有事', now: NOW });
    expect(orders.returnOpenSlot).not.toHaveBeenCalled();
    expect(repository.tellOrganization).toHaveBeenCalledWith(tx, 'assignment.declined', 'o1', expect.objectContaining({ reason: '有事', organizationId: 'org-1' }), NOW);
  });

  it('stamps a withdrawal with the clock\'s time and reopens the claimed slot', async () => {
    const past = new Date('2027-02-20T08:00:00Z');
    clock.set(past);
    repository.findForVolunteer.mockResolvedValueOnce(assignment({ status: 'confirmed', isSlotClaim: true })).mockResolvedValueOnce(assignment({ status: 'withdrawn', isSlotClaim: true }));
    repository.end.mockResolvedValueOnce({ orderId: 'o1', organizationId: 'org-1', isSlotClaim: true });
    orders.returnOpenSlot.mockResolvedValueOnce({ eventSeq: 7 });
    await service.withdraw(me, 'a1');
    expect(repository.end).toHaveBeenCalledWith(tx, expect.objectContaining({ now: past }));
    expect(orders.returnOpenSlot).toHaveBeenCalledWith(tx, me, expect.objectContaining({ orderId: 'o1', type: 'assignment.withdrawn', at: past }));
    expect(repository.tellOrganization).toHaveBeenCalledWith(tx, 'assignment.withdrawn', 'o1', expect.objectContaining({ eventSeq: 7 }), past);
  });
});
