import {
  type Actor,
  BusinessRuleError,
  ConflictError,
  ForbiddenError,
  isCheckInOpen,
  NotFoundError,
  OrderStateConflictError,
  starLevel,
  ValidationError,
} from '@kepu/core';
import { toCsv } from '@kepu/http';
import { type OrderRecord, OrdersRepository, OrdersService, type OrderView } from '@kepu/orders';
import { Injectable } from '@nestjs/common';
import type { CheckInDto, CompleteOrderDto, OrderAssignmentView, RateOrderDto, ServiceRecordsView, ServiceRecordView } from './fulfilment.dto';
import { FulfilmentRepository } from './fulfilment.repository';

/** A rating this low (any of the three scores) is brought to the district coordinators. */
const LOW_RATING = 2;

const SERVICE_RECORD_COLUMNS = ['orderCode', 'title', 'topic', 'eventStart', 'eventEnd', 'checkInAt', 'checkOutAt', 'hours', 'isNoShow'] as const;

/** The records as the CSV proof a volunteer hands on (Accept: text/csv). */
export const serviceRecordsCsv = (records: ServiceRecordsView): string =>
  toCsv(SERVICE_RECORD_COLUMNS, records.items.map((item) => SERVICE_RECORD_COLUMNS.map((column) => item[column])));

/** 履约 and 评单: check-in and check-out, completion with the hours, and the requester's rating. */
@Injectable()
export class FulfilmentService {
  constructor(
    private readonly orders: OrdersService,
    private readonly orderRecords: OrdersRepository,
    private readonly repository: FulfilmentRepository,
  ) {}

  async checkIn(actor: Actor, orderId: string, dto: CheckInDto, now = new Date()): Promise<OrderView> {
    const { order, volunteerId } = await this.resolveAttendance(actor, orderId, dto.volunteerId);
    const start = order.scheduledStart as Date;
    const end = order.scheduledEnd as Date;
    if (!isCheckInOpen(now, start, end))
      throw new BusinessRuleError('CHECK_IN_CLOSED', 'Check-in opens 2 hours before the start and closes at the end of the event.');
    if (order.status === 'scheduled') {
      try {
        // The first check-in starts the event, in the same transaction as its record.
        return await this.orders.transition(
          actor,
          orderId,
          'check_in',
          {},
          async () => ({ payload: { volunteerId }, effects: (manager) => this.repository.checkIn(manager, orderId, volunteerId, start, end, now).then(() => undefined) }),
          async () => ({ isAssignedVolunteer: actor.role === 'volunteer' }),
        );
      } catch (error) {
        // Another volunteer's first check-in won the race: the event is running, record this one.
        if (!(error instanceof OrderStateConflictError)) throw error;
      }
    }
    const current = await this.orderRecords.findVisible(actor, orderId);
    if (current?.status !== 'in_progress') throw new OrderStateConflictError(`The order is ${current?.status ?? 'gone'}; check-in is not possible now.`);
    if (!(await this.repository.checkIn(null, orderId, volunteerId, start, end, now)))
      throw new ConflictError('ALREADY_CHECKED_IN', 'This volunteer has already checked in to this event.');
    return this.orders.get(actor, orderId);
  }

  async checkOut(actor: Actor, orderId: string, dto: CheckInDto, now = new Date()): Promise<ServiceRecordView> {
    const { order, volunteerId } = await this.resolveAttendance(actor, orderId, dto.volunteerId);
    if (order.status !== 'in_progress') throw new OrderStateConflictError(`The order is ${order.status}; check-out is possible while it is in progress.`);
    const record = await this.repository.checkOut(orderId, volunteerId, now);
    if (!record) throw new ConflictError('NOT_CHECKED_IN', 'This volunteer has no open check-in for this event.');
    return { volunteerId, orderId, checkInAt: record.check_in_at?.toISOString() ?? null, checkOutAt: record.check_out_at?.toISOString() ?? null, hours: Number(record.hours) };
  }

  complete(actor: Actor, orderId: string, dto: CompleteOrderDto): Promise<OrderView> {
    return this.orders.transition(actor, orderId, 'complete', dto, async (order) => ({
      patch: { attendance: dto.attendance, summary: dto.summary, completedAt: new Date() },
      payload: { attendance: dto.attendance },
      effects: (manager) => this.repository.closeRecords(manager, order.id, order.scheduledStart as Date, order.scheduledEnd as Date),
    }));
  }

  rate(actor: Actor, orderId: string, dto: RateOrderDto): Promise<OrderView> {
    const scores = { content: dto.content, volunteers: dto.volunteers, punctuality: dto.punctuality };
    const isLow = Object.values(scores).some((score) => score <= LOW_RATING);
    return this.orders.transition(actor, orderId, 'rate', dto, async () => ({
      patch: { rating: { ...scores, comment: dto.comment ?? null, ratedBy: actor.userId, ratedAt: new Date().toISOString() } },
      payload: scores,
      messages: isLow
        ? [{ type: 'rating.low', payload: { ...scores, reason: `内容 ${dto.content} 分、志愿者 ${dto.volunteers} 分、守时 ${dto.punctuality} 分` } }]
        : [],
    }));
  }

  /**
   * GET /orders/:id/assignments: 404 unless the order is visible to the caller (as GET /orders/:id).
   * Of those who see it, the people who run or oversee the event see its team: the accepting
   * organisation's admins, the department, the community's staff, the district's coordinators and
   * the city; a volunteer while they are on the team (invited or confirmed). Everyone else who sees
   * the order (the requester, another organisation that was offered it, a volunteer who only sees
   * its open slots or left the team) is 403: names and attendance are not theirs to see.
   */
  async assignmentsOf(actor: Actor, orderId: string): Promise<OrderAssignmentView[]> {
    const order = await this.orderRecords.findVisible(actor, orderId);
    if (!order) throw new NotFoundError(`No order ${orderId} is visible to you.`);
    const rows = await this.repository.assignmentsOfOrder(order.id);
    const isOnTeam = actor.role === 'volunteer' && rows.some((r) => r.volunteer_id === actor.volunteerId && (r.status === 'invited' || r.status === 'confirmed'));
    const mayList =
      isOnTeam ||
      actor.role === 'city_admin' ||
      actor.role === 'district_coordinator' ||
      actor.role === 'community_staff' ||
      actor.role === 'department_staff' ||
      (actor.role === 'org_admin' && order.organizationId !== null && actor.organizationId === order.organizationId);
    if (!mayList) throw new ForbiddenError('Only those who run or oversee the event, and its volunteers, see its assignments.');
    return rows.map((r) => ({
      id: r.id,
      volunteerId: r.volunteer_id,
      displayName: r.display_name,
      status: r.status,
      isSlotClaim: r.is_slot_claim,
      start: r.start.toISOString(),
      end: r.end.toISOString(),
      reason: r.reason,
      checkInAt: r.check_in_at?.toISOString() ?? null,
      checkOutAt: r.check_out_at?.toISOString() ?? null,
      hours: r.check_out_at !== null || r.is_no_show === true ? Number(r.hours) : null,
      isNoShow: r.is_no_show ?? false,
    }));
  }

  async serviceRecords(actor: Actor, volunteerId: string): Promise<ServiceRecordsView> {
    const visibleId = await this.repository.findVisibleVolunteer(actor, volunteerId);
    if (!visibleId) throw new NotFoundError(`No volunteer ${volunteerId} is visible to you.`);
    const [rows, totalHours] = await Promise.all([this.repository.serviceRecords(visibleId), this.repository.totalHours(visibleId)]);
    return {
      volunteerId: visibleId,
      totalHours,
      starLevel: starLevel(totalHours),
      items: rows.map((r) => ({
        volunteerId: r.volunteer_id,
        orderId: r.order_id,
        orderCode: r.code,
        title: r.title,
        topic: r.topic,
        eventStart: r.event_start.toISOString(),
        eventEnd: r.event_end.toISOString(),
        checkInAt: r.check_in_at?.toISOString() ?? null,
        checkOutAt: r.check_out_at?.toISOString() ?? null,
        hours: Number(r.hours),
        isNoShow: r.is_no_show,
      })),
    };
  }

  /**
   * Who is being checked in or out, on which order: a volunteer for themself, or
   * the accepting organisation's admin for one of its confirmed volunteers.
   */
  private async resolveAttendance(actor: Actor, orderId: string, onBehalfOf?: string): Promise<{ order: OrderRecord; volunteerId: string }> {
    const order = await this.orderRecords.findVisible(actor, orderId);
    if (!order) throw new NotFoundError(`No order ${orderId} is visible to you.`);
    let volunteerId: string;
    if (actor.role === 'volunteer' && actor.volunteerId) {
      if (onBehalfOf !== undefined && onBehalfOf !== actor.volunteerId) throw new ForbiddenError('Volunteers check in for themselves.');
      volunteerId = actor.volunteerId;
    } else if (actor.role === 'org_admin' && actor.organizationId !== null && actor.organizationId === order.organizationId) {
      if (onBehalfOf === undefined)
        throw new ValidationError('volunteerId is required when an organisation checks a volunteer in.', [{ field: 'volunteerId', message: 'required for org_admin' }]);
      volunteerId = onBehalfOf;
    } else {
      throw new ForbiddenError('Only an assigned volunteer, or the accepting organisation on their behalf, may do this.');
    }
    if (order.scheduledStart === null || order.scheduledEnd === null) throw new OrderStateConflictError(`The order is ${order.status}; it has no scheduled event.`);
    if (!(await this.repository.isConfirmed(order.id, volunteerId)))
      throw new BusinessRuleError('NOT_ASSIGNED', 'The volunteer has no confirmed assignment for this event.');
    return { order, volunteerId };
  }
}
