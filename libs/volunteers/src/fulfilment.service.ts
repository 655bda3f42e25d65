import {
  type Actor,
  BusinessRuleError,
  Clock,
  ConflictError,
  ForbiddenError,
  isCheckInOpen,
  NotFoundError,
  OrderStateConflictError,
  starLevel,
  ValidationError,
} from '@kepu/core';
import { decodeCursor, type HistoryPageQueryDto, MAX_PAGE_SIZE, type Page, toCsv, toPage } from '@kepu/http';
import { type OrderRecord, OrdersService, type OrderView, Transactions } from '@kepu/orders';
import { Injectable } from '@nestjs/common';
import { CheckInCodes } from './check-in-codes';
import type { CheckInCodeView, CheckInDto, CompleteOrderDto, OrderAssignmentView, RateOrderDto, ServiceRecordsView, ServiceRecordView } from './fulfilment.dto';
import { FulfilmentRepository } from './fulfilment.repository';

/** A rating this low (any of the three scores) is brought to the district coordinators. */
const LOW_RATING = 2;

const SERVICE_RECORD_COLUMNS = ['orderCode', 'title', 'topic', 'eventStart', 'eventEnd', 'checkInAt', 'checkOutAt', 'hours', 'isNoShow', 'verified'] as const;

/** The records as the CSV proof a volunteer hands on (Accept: text/csv). */
export const serviceRecordsCsv = (records: ServiceRecordsView): string =>
  toCsv(SERVICE_RECORD_COLUMNS, records.items.map((item) => SERVICE_RECORD_COLUMNS.map((column) => item[column])));

/** 履约 and 评单: check-in and check-out, completion with the hours, and the requester's rating. */
@Injectable()
export class FulfilmentService {
  constructor(
    private readonly orders: OrdersService,
    private readonly transactions: Transactions,
    private readonly repository: FulfilmentRepository,
    private readonly clock: Clock,
    private readonly codes: CheckInCodes,
  ) {}

  /**
   * GET /orders/:id/check-in-code: the rotating code the venue shows (as a QR code), for the
   * accepting organisation's admins and the staff of the order's community, while the event
   * is scheduled or running.
   */
  async checkInCode(actor: Actor, orderId: string): Promise<CheckInCodeView> {
    const order = await this.orders.findVisibleRecord(actor, orderId);
    if (!order) throw new NotFoundError(`No order ${orderId} is visible to you.`);
    const mayShow =
      (actor.role === 'org_admin' && actor.organizationId !== null && actor.organizationId === order.organizationId) ||
      (actor.role === 'community_staff' && actor.communityCode === order.communityCode);
    if (!mayShow) throw new ForbiddenError('Only the accepting organisation\'s admins and the community\'s staff show the check-in code.');
    if (order.status !== 'scheduled' && order.status !== 'in_progress')
      throw new OrderStateConflictError(`The order is ${order.status}; a check-in code exists while it is scheduled or in progress.`);
    const { code, expiresAt, validUntil } = this.codes.current(order.id);
    return { code, expiresAt: expiresAt.toISOString(), validUntil: validUntil.toISOString() };
  }

  async checkIn(actor: Actor, orderId: string, dto: CheckInDto): Promise<OrderView> {
    const { order, volunteerId, isSelf } = await this.resolveAttendance(actor, orderId, dto.volunteerId);
    const now = this.clock.now();
    const start = order.scheduledStart as Date;
    const end = order.scheduledEnd as Date;
    if (!isCheckInOpen(now, start, end))
      throw new BusinessRuleError('CHECK_IN_CLOSED', 'Check-in opens 2 hours before the start and closes at the end of the event.');
    // With the venue's code the record is verified (志愿北京-style hours); a wrong code writes nothing.
    const verified = dto.code !== undefined;
    if (verified && !this.codes.isValid(order.id, dto.code ?? '', now))
      throw new BusinessRuleError('INVALID_CHECK_IN_CODE', 'The check-in code is wrong or has expired; read the one shown at the venue.', [{ field: 'code', message: 'wrong or expired' }]);
    if (order.status === 'scheduled') {
      try {
        // The first check-in starts the event, in the same transaction as its record.
        const ticket = await this.orders.authorize(actor, orderId, 'check_in', {}, { isAssignedVolunteer: isSelf });
        return await this.transactions.run(async (tx) => {
          const updated = await this.orders.applyTransition(tx, ticket, { at: now });
          await this.repository.checkIn(tx, orderId, volunteerId, start, end, now, verified);
          return this.orders.recordTransition(tx, ticket, updated, { payload: { volunteerId } });
        });
      } catch (error) {
        // Another volunteer's first check-in won the race: the event is running, record this one.
        if (!(error instanceof OrderStateConflictError)) throw error;
      }
    }
    const current = await this.orders.findVisibleRecord(actor, orderId);
    if (current?.status !== 'in_progress') throw new OrderStateConflictError(`The order is ${current?.status ?? 'gone'}; check-in is not possible now.`);
    if (!(await this.repository.checkIn(null, orderId, volunteerId, start, end, now, verified)))
      throw new ConflictError('ALREADY_CHECKED_IN', 'This volunteer has already checked in to this event.');
    return this.orders.get(actor, orderId);
  }

  async checkOut(actor: Actor, orderId: string, dto: CheckInDto): Promise<ServiceRecordView> {
    const { order, volunteerId } = await this.resolveAttendance(actor, orderId, dto.volunteerId);
    const now = this.clock.now();
    if (order.status !== 'in_progress') throw new OrderStateConflictError(`The order is ${order.status}; check-out is possible while it is in progress.`);
    const record = await this.repository.checkOut(orderId, volunteerId, now);
    if (!record) throw new ConflictError('NOT_CHECKED_IN', 'This volunteer has no open check-in for this event.');
    return {
      volunteerId,
      orderId,
      checkInAt: record.check_in_at?.toISOString() ?? null,
      checkOutAt: record.check_out_at?.toISOString() ?? null,
      hours: Number(record.hours),
      verified: record.verified,
    };
  }

  async complete(actor: Actor, orderId: string, dto: CompleteOrderDto): Promise<OrderView> {
    const ticket = await this.orders.authorize(actor, orderId, 'complete', dto);
    const at = this.clock.now();
    return this.transactions.run(async (tx) => {
      // Without a figure, a published event's scanned tickets are the attendance (DESIGN.md §10).
      const attendance = dto.attendance ?? (await this.repository.attendedAtEvent(tx, orderId));
      if (attendance === null)
        throw new ValidationError('attendance is required: the order was not published as an event with sign-ups.', [{ field: 'attendance', message: 'required' }]);
      const updated = await this.orders.applyTransition(tx, ticket, { patch: { attendance, summary: dto.summary, completedAt: at }, at });
      await this.repository.closeRecords(tx, updated.id, updated.scheduledStart as Date, updated.scheduledEnd as Date, at);
      return this.orders.recordTransition(tx, ticket, updated, { payload: { attendance } });
    });
  }

  async rate(actor: Actor, orderId: string, dto: RateOrderDto): Promise<OrderView> {
    const scores = { content: dto.content, volunteers: dto.volunteers, punctuality: dto.punctuality };
    const isLow = Object.values(scores).some((score) => score <= LOW_RATING);
    const ticket = await this.orders.authorize(actor, orderId, 'rate', dto);
    const at = this.clock.now();
    return this.transactions.run(async (tx) => {
      const updated = await this.orders.applyTransition(tx, ticket, {
        patch: { rating: { ...scores, comment: dto.comment ?? null, ratedBy: actor.userId, ratedAt: at.toISOString() } },
        at,
      });
      return this.orders.recordTransition(tx, ticket, updated, {
        payload: scores,
        messages: isLow
          ? [{ type: 'rating.low', payload: { ...scores, reason: `内容 ${dto.content} 分、志愿者 ${dto.volunteers} 分、守时 ${dto.punctuality} 分` } }]
          : [],
      });
    });
  }

  /**
   * GET /orders/:id/assignments: 404 unless the order is visible to the caller (as GET /orders/:id).
   * Of those who see it, the people who run or oversee the event see its team: the accepting
   * organisation's admins, the department, the community's staff, the district's coordinators and
   * the city; a volunteer while they are on the team (invited or confirmed). Everyone else who sees
   * the order (the requester, another organisation that was offered it, a volunteer who only sees
   * its open slots or left the team) is 403: names and attendance are not theirs to see.
   * A page at a time in the order the team was made (the default page is the largest).
   */
  async assignmentsOf(actor: Actor, orderId: string, query: HistoryPageQueryDto = {}): Promise<Page<OrderAssignmentView>> {
    const order = await this.orders.findVisibleRecord(actor, orderId);
    if (!order) throw new NotFoundError(`No order ${orderId} is visible to you.`);
    const limit = query.limit ?? MAX_PAGE_SIZE;
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const isOnTeam = actor.volunteerId !== null && (await this.repository.isOnTeam(order.id, actor.volunteerId));
    const mayList =
      isOnTeam ||
      actor.role === 'city_admin' ||
      actor.role === 'district_coordinator' ||
      actor.role === 'community_staff' ||
      actor.role === 'department_staff' ||
      (actor.role === 'org_admin' && order.organizationId !== null && actor.organizationId === order.organizationId);
    if (!mayList) throw new ForbiddenError('Only those who run or oversee the event, and its volunteers, see its assignments.');
    const rows = await this.repository.assignmentsOfOrder(order.id, limit + 1, after);
    return toPage(rows, limit, (r) => ({ at: r.created_at, id: r.id }), (r) => ({
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
      verified: r.verified ?? false,
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
        verified: r.verified,
      })),
    };
  }

  /**
   * Who is being checked in or out, on which order: a volunteer (any account with a
   * volunteer profile) for themself, or the accepting organisation's admin for one of
   * its confirmed volunteers.
   */
  private async resolveAttendance(actor: Actor, orderId: string, onBehalfOf?: string): Promise<{ order: OrderRecord; volunteerId: string; isSelf: boolean }> {
    const order = await this.orders.findVisibleRecord(actor, orderId);
    if (!order) throw new NotFoundError(`No order ${orderId} is visible to you.`);
    const isAcceptingAdmin = actor.role === 'org_admin' && actor.organizationId !== null && actor.organizationId === order.organizationId;
    let volunteerId: string;
    if (isAcceptingAdmin && onBehalfOf !== undefined && onBehalfOf !== actor.volunteerId) {
      volunteerId = onBehalfOf;
    } else if (actor.volunteerId) {
      if (onBehalfOf !== undefined && onBehalfOf !== actor.volunteerId) throw new ForbiddenError('Volunteers check in for themselves.');
      volunteerId = actor.volunteerId;
    } else if (isAcceptingAdmin) {
      throw new ValidationError('volunteerId is required when an organisation checks a volunteer in.', [{ field: 'volunteerId', message: 'required for org_admin' }]);
    } else {
      throw new ForbiddenError('Only an assigned volunteer, or the accepting organisation on their behalf, may do this.');
    }
    if (order.scheduledStart === null || order.scheduledEnd === null) throw new OrderStateConflictError(`The order is ${order.status}; it has no scheduled event.`);
    if (!(await this.repository.isConfirmed(order.id, volunteerId)))
      throw new BusinessRuleError('NOT_ASSIGNED', 'The volunteer has no confirmed assignment for this event.');
    return { order, volunteerId, isSelf: volunteerId === actor.volunteerId };
  }
}
