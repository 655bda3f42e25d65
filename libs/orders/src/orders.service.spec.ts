import { type Actor, FixedClock, type OrderStatus } from '@kepu/core';
import type { CreateOrderDto } from './orders.dto';
import type { IdempotencyService } from './idempotency.service';
import type { OrderFulfilment } from './order-fulfilment';
import type { OrderRecord, OrdersRepository } from './orders.repository';
import { OrdersService } from './orders.service';
import type { Transactions } from './transactions';

const PAST = new Date('2026-10-05T02:00:00Z');
const COMMUNITY = { code: '110108001001', subdistrictCode: '110108001', districtCode: '110108' };
const resident: Actor = { userId: 'u-res', role: 'resident', communityCode: COMMUNITY.code, departmentId: null, organizationId: null, districtCode: null, volunteerId: null };
const staff: Actor = { ...resident, userId: 'u-staff', role: 'community_staff' };

const order = (status: OrderStatus, overrides: Partial<OrderRecord> = {}): OrderRecord =>
  ({
    id: 'order-1',
    code: 'KP20261005000001',
    status,
    version: 4,
    communityCode: COMMUNITY.code,
    subdistrictCode: COMMUNITY.subdistrictCode,
    districtCode: COMMUNITY.districtCode,
    requesterId: resident.userId,
    organizationId: 'org-1',
    preferredWindows: [],
    possibleDuplicateIds: [],
    accessibilityNeeds: [],
    lastWindowEnd: new Date('2026-10-12T05:00:00Z'),
    createdAt: PAST,
    updatedAt: PAST,
    ...overrides,
  }) as unknown as OrderRecord;

describe('OrdersService on a clock set to the past', () => {
  const tx = { tx: true };
  const repository = {
    findCommunity: jest.fn(),
    openOrdersLike: jest.fn(),
    insert: jest.fn(),
    findVisible: jest.fn(),
    applyTransition: jest.fn(),
    recordTransition: jest.fn(),
  };
  const transactions = { run: jest.fn((work: (t: unknown) => Promise<unknown>) => work(tx)) };
  const fulfilment = { releaseFor: jest.fn(), cancelFor: jest.fn() };
  const clock = new FixedClock(PAST);
  const service = new OrdersService(
    repository as unknown as OrdersRepository,
    {} as IdempotencyService,
    transactions as unknown as Transactions,
    fulfilment as unknown as OrderFulfilment,
    clock,
  );

  beforeEach(() => {
    jest.clearAllMocks();
    repository.findCommunity.mockResolvedValue(COMMUNITY);
    repository.openOrdersLike.mockResolvedValue([]);
    repository.insert.mockImplementation(async (o: object) => ({ ...order('submitted'), ...o }));
  });

  it('creates an order whose windows are in the clock\'s future, stamped with the clock\'s time', async () => {
    const dto = {
      communityCode: COMMUNITY.code,
      topic: 'anti_fraud',
      audience: 'elderly',
      format: 'lecture',
      title: '防诈骗讲座',
      description: '社区老人防诈骗知识讲座',
      expectedAttendance: 40,
      // In the past for the wall clock, in the future for the clock.
      preferredWindows: [{ start: '2026-10-12T01:00:00Z', end: '2026-10-12T05:00:00Z' }],
      contactName: '王老师',
      contactPhone: '13800138000',
    } as CreateOrderDto;
    await service.create(resident, dto);
    expect(repository.insert).toHaveBeenCalledWith(expect.objectContaining({ createdAt: PAST, lastWindowEnd: new Date('2026-10-12T05:00:00Z') }), undefined);
  });

  it('cancels through the owner of bookings and assignments, in the transition\'s transaction and at the clock\'s time', async () => {
    repository.findVisible.mockResolvedValue(order('scheduled'));
    const updated = order('cancelled', { version: 5, updatedAt: PAST });
    repository.applyTransition.mockResolvedValue(updated);
    fulfilment.cancelFor.mockResolvedValue({ volunteerIds: ['v1', 'v2'] });

    await service.cancel(staff, 'order-1', { reason: '场地临时维修' });

    expect(repository.applyTransition).toHaveBeenCalledWith(tx, expect.objectContaining({ orderId: 'order-1', fromStatus: 'scheduled', fromVersion: 4, toStatus: 'cancelled', at: PAST }));
    expect(fulfilment.cancelFor).toHaveBeenCalledWith(tx, 'order-1', PAST);
    expect(repository.recordTransition).toHaveBeenCalledWith(
      tx,
      updated,
      expect.objectContaining({ eventType: 'order.cancelled', payload: expect.objectContaining({ reason: '场地临时维修', volunteerIds: ['v1', 'v2'] }) }),
    );
  });

  it('a lost race is 409 and ends nothing', async () => {
    repository.findVisible.mockResolvedValue(order('scheduled'));
    repository.applyTransition.mockResolvedValue(null);
    await expect(service.cancel(staff, 'order-1', { reason: '重复' })).rejects.toMatchObject({ code: 'ORDER_STATE_CONFLICT' });
    expect(fulfilment.cancelFor).not.toHaveBeenCalled();
    expect(repository.recordTransition).not.toHaveBeenCalled();
  });
});
