import {
  type Actor,
  BusinessRuleError,
  type FieldError,
  ForbiddenError,
  localSlot,
  NotFoundError,
  OrderStateConflictError,
  type OrderStatus,
  rankVenues,
  rankVolunteers,
  type SlotFacts,
  ValidationError,
  weekStart,
} from '@kepu/core';
import { type OrderRecord, OrdersService } from '@kepu/orders';
import { Injectable } from '@nestjs/common';
import { CandidatesRepository } from './candidates.repository';
import { type CandidatesQueryDto, type CandidatesView, MAX_CANDIDATES, MAX_SLOT_HOURS } from './volunteers.dto';

const HOUR_MS = 3600 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** Candidates are for planning the event: before it is scheduled, or to reschedule it. */
const MATCHABLE: readonly OrderStatus[] = ['accepted', 'scheduled'];

export function slotProblems(start: Date, end: Date): FieldError[] {
  if (!(end > start)) return [{ field: 'end', message: 'end must be after start' }];
  if (end.getTime() - start.getTime() > MAX_SLOT_HOURS * HOUR_MS) return [{ field: 'end', message: `the slot lasts at most ${MAX_SLOT_HOURS} hours` }];
  return [];
}

export const isInsidePreferredWindow = (order: Pick<OrderRecord, 'preferredWindows'>, start: Date, end: Date): boolean =>
  order.preferredWindows.some((w) => new Date(w.start) <= start && end <= new Date(w.end));

@Injectable()
export class CandidatesService {
  constructor(
    private readonly candidates: CandidatesRepository,
    private readonly orders: OrdersService,
  ) {}

  /**
   * The accepting organisation's volunteers and the district's venues for one
   * slot of the order, ranked by libs/core with the score broken down. 404
   * outside scope, 403 for anyone but the accepting organisation's admins.
   */
  async forOrder(actor: Actor, orderId: string, query: CandidatesQueryDto): Promise<CandidatesView> {
    const start = new Date(query.start);
    const end = new Date(query.end);
    const problems = slotProblems(start, end);
    if (problems.length > 0) throw new ValidationError(problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems);

    const order = await this.orders.findVisibleRecord(actor, orderId);
    if (!order) throw new NotFoundError(`No order ${orderId} is visible to you.`);
    const organizationId = order.organizationId;
    // An order no organisation holds yet is a state question (409), not a role one.
    if (actor.role !== 'org_admin' || (organizationId !== null && organizationId !== actor.organizationId))
      throw new ForbiddenError('Only the accepting organisation\'s admins see candidates.');
    if (!MATCHABLE.includes(order.status)) throw new OrderStateConflictError(`The order is ${order.status}; candidates are for accepted or scheduled orders.`);
    if (organizationId === null || organizationId !== actor.organizationId) throw new ForbiddenError('Only the accepting organisation\'s admins see candidates.');
    if (!isInsidePreferredWindow(order, start, end))
      throw new BusinessRuleError('OUTSIDE_PREFERRED_WINDOW', 'The slot must lie inside one of the order\'s preferred windows.');

    const monday = weekStart(start);
    const place = { communityCode: order.communityCode, subdistrictCode: order.subdistrictCode, districtCode: order.districtCode };
    const slot: SlotFacts = { start, end, topic: order.topic, audience: order.audience, place };
    const needs = { expectedAttendance: order.expectedAttendance, accessibilityNeeds: order.accessibilityNeeds, place };
    const [volunteers, venues] = await Promise.all([
      this.candidates.volunteerFacts({
        organizationId,
        topic: order.topic,
        orderId: order.id,
        start,
        end,
        weekStart: monday,
        weekEnd: new Date(monday.getTime() + 7 * DAY_MS),
        local: localSlot(start, end),
      }),
      this.candidates.venueFacts({ districtCode: order.districtCode, orderId: order.id, start, end, ...needs }),
    ]);

    const limit = query.limit ?? MAX_CANDIDATES;
    return {
      volunteers: rankVolunteers(volunteers, slot)
        .slice(0, limit)
        .map(({ item, score, breakdown }) => ({ volunteerId: item.id, displayName: item.displayName, score, breakdown })),
      venues: rankVenues(venues, needs)
        .slice(0, limit)
        .map(({ item, score, breakdown }) => ({ venueId: item.id, name: item.name, kind: item.kind, capacity: item.capacity, communityCode: item.place.communityCode, score, breakdown })),
    };
  }
}
