import {
  type Actor,
  BusinessRuleError,
  Clock,
  ConflictError,
  type FieldError,
  formatEventTime,
  type IneligibleReason,
  ineligibility,
  OrderStateConflictError,
  rankVolunteers,
  type SlotFacts,
  ValidationError,
  type VolunteerFacts,
  weekStart,
} from '@kepu/core';
import { type ExtraMessage, type OrderPatch, type OrderRecord, OrdersService, type OrderView, type Transaction, Transactions, type TransitionFacts } from '@kepu/orders';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { MAX_EVENT_HOURS, type ScheduleOrderDto } from './scheduling.dto';
import { type EventHold, type Holding, type Invitation, SchedulingRepository, type VolunteerProfile } from './scheduling.repository';

const HOUR_MS = 3600 * 1000;
/** Why a volunteer left off a reschedule's list hears that their assignment ended (assignment.cancelled). */
const REMOVED_REASON = '活动改期后的名单不再包括您';
const WEEK_MS = 7 * 24 * HOUR_MS;
/** task.open tells at most this many eligible volunteers, best ranked first. */
export const MAX_TASK_OPEN_RECIPIENTS = 200;
/** Ranking for task.open looks at no more of the organisation's skilled volunteers than this. */
const MAX_TASK_OPEN_CANDIDATES = 5000;

/** The time around a slot whose assignments matter: the slot's week (weekly cap) and the slot itself (overlap). */
export function factsWindow(start: Date, end: Date): { from: Date; to: Date } {
  const monday = weekStart(start);
  return {
    from: new Date(Math.min(monday.getTime(), start.getTime())),
    to: new Date(Math.max(monday.getTime() + WEEK_MS, end.getTime())),
  };
}

/** The facts libs/core matching decides on, for one volunteer and one slot, from what they already hold. */
export function volunteerFactsAt(profile: VolunteerProfile, holdings: readonly Holding[], start: Date, end: Date): VolunteerFacts {
  const monday = weekStart(start).getTime();
  const sunday = monday + WEEK_MS;
  const own = holdings.filter((h) => h.volunteerId === profile.id);
  const bookedMs = own.reduce((sum, h) => sum + Math.max(0, Math.min(h.end.getTime(), sunday) - Math.max(h.start.getTime(), monday)), 0);
  return {
    id: profile.id,
    isActive: profile.isActive,
    home: profile.home,
    skills: profile.skills,
    audiences: profile.audiences,
    availability: profile.availability,
    unavailable: profile.unavailable,
    maxHoursPerWeek: profile.maxHoursPerWeek,
    bookedHoursThatWeek: bookedMs / HOUR_MS,
    hasOverlappingAssignment: own.some((h) => h.start < end && start < h.end),
    recentHours: profile.recentHours,
    averageRating: profile.averageRating,
    servedCount: profile.servedCount,
    noShowCount: profile.noShowCount,
  };
}

/**
 * What keeps a volunteer the organisation names from an event. Skill is not one:
 * an organisation may bring an assistant who does not teach the topic. Being busy
 * is not either: that is a conflict (409), not a rule break (422).
 */
const NAMED_VOLUNTEER_RULES: readonly IneligibleReason[] = ['inactive', 'unavailable', 'over_weekly_cap'];

/** Where a volunteer sits in the request, for field errors: a named one by index, a slot claimer by id. */
const fieldOf = (named: readonly string[], id: string): string => (named.includes(id) ? `volunteerIds.${named.indexOf(id)}` : `slotClaims.${id}`);

interface ScheduleRequest {
  start: Date;
  end: Date;
  venueId: string;
  volunteerIds: string[];
  openSlots: number | undefined;
}

/** Shape checks that need more than one field: end after start, an event of at most 12 h, nobody named twice. */
function readRequest(dto: ScheduleOrderDto): ScheduleRequest {
  const start = new Date(dto.start);
  const end = new Date(dto.end);
  const errors: FieldError[] = [];
  if (!(end > start)) errors.push({ field: 'end', message: 'end must be after start' });
  else if (end.getTime() - start.getTime() > MAX_EVENT_HOURS * HOUR_MS) errors.push({ field: 'end', message: `an event lasts at most ${MAX_EVENT_HOURS} hours` });
  // UUIDs compare case-insensitively in PostgreSQL: compare them the same way here.
  const volunteerIds = (dto.volunteerIds ?? []).map((id) => id.toLowerCase());
  if (new Set(volunteerIds).size !== volunteerIds.length) errors.push({ field: 'volunteerIds', message: 'volunteerIds must not name a volunteer twice' });
  if (errors.length > 0) throw new ValidationError(errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
  return { start, end, venueId: dto.venueId.toLowerCase(), volunteerIds, openSlots: dto.openSlots };
}

/** What a schedule will write, decided before its transaction. */
interface SchedulePlan {
  patch: OrderPatch;
  payload: Record<string, unknown>;
  messages: ExtraMessage[];
  hold: EventHold;
  volunteerIds: readonly string[];
  invitations: readonly Invitation[];
  /** Every volunteer whose assignments the transaction writes: locked first (see lockVolunteers). */
  writers: readonly string[];
  previousWhen: string;
}

/**
 * schedule / reschedule (DESIGN.md §3–4): checks the rules for a friendly answer, then
 * in one transaction moves the order (libs/orders), books the venue and writes the
 * assignments (this library's tables), and records the order's event and outbox
 * messages, so all of it commits together or not at all.
 */
@Injectable()
export class SchedulingService {
  constructor(
    private readonly orders: OrdersService,
    private readonly transactions: Transactions,
    private readonly repository: SchedulingRepository,
    private readonly clock: Clock,
  ) {}

  schedule(actor: Actor, orderId: string, dto: ScheduleOrderDto): Promise<OrderView> {
    return this.place(actor, orderId, 'schedule', dto);
  }

  reschedule(actor: Actor, orderId: string, dto: ScheduleOrderDto): Promise<OrderView> {
    return this.place(actor, orderId, 'reschedule', dto);
  }

  private async place(actor: Actor, orderId: string, action: 'schedule' | 'reschedule', dto: ScheduleOrderDto): Promise<OrderView> {
    const request = readRequest(dto);
    const ticket = await this.orders.authorize(actor, orderId, action, dto);
    const at = this.clock.now();
    const plan = await this.plan(ticket.order, action, request, at);
    return this.transactions.run(async (tx) => {
      // The order first: its conditional update decides the race and locks the row for what follows.
      const updated = await this.orders.applyTransition(tx, ticket, { patch: plan.patch, at });
      const held = await this.holdEvent(tx, action, plan);
      return this.orders.recordTransition(tx, ticket, updated, {
        payload: { ...plan.payload, ...held.payload },
        messages: [...plan.messages, ...(held.messages ?? [])],
      });
    });
  }

  private async plan(order: OrderRecord, action: 'schedule' | 'reschedule', request: ScheduleRequest, now: Date): Promise<SchedulePlan> {
    const { start, end, venueId, volunteerIds } = request;
    const organizationId = order.organizationId;
    // decideTransition let only the accepting organisation's admin this far.
    if (organizationId === null) throw new OrderStateConflictError('The order has no accepting organisation.');

    if (start <= now) throw new BusinessRuleError('SLOT_IN_PAST', 'The event must start in the future.');
    if (!order.preferredWindows.some((w) => new Date(w.start) <= start && end <= new Date(w.end)))
      throw new BusinessRuleError('OUTSIDE_PREFERRED_WINDOW', 'The event must lie inside one of the order\'s preferred windows.');
    await this.checkVenue(order, venueId);

    // On reschedule, slot claims stay (a claim is the volunteer's own commitment) and move with the event.
    const current = action === 'reschedule' ? await this.repository.activeAssignmentsOfOrder(order.id) : [];
    const keptClaims = current.filter((a) => a.isSlotClaim && !volunteerIds.includes(a.volunteerId)).map((a) => a.volunteerId);
    const openSlots = request.openSlots ?? (action === 'reschedule' ? order.openSlots : 0);
    if (volunteerIds.length === 0 && openSlots === 0 && keptClaims.length === 0)
      throw new ValidationError('volunteerIds: name at least one volunteer or leave open slots', [
        { field: 'volunteerIds', message: 'name at least one volunteer or leave open slots' },
      ]);

    const slot: SlotFacts = { start, end, topic: order.topic, audience: order.audience, place: { communityCode: order.communityCode, subdistrictCode: order.subdistrictCode, districtCode: order.districtCode } };
    const attending = [...volunteerIds, ...keptClaims];
    const facts = await this.checkVolunteers(order, organizationId, volunteerIds, attending, slot, now);

    // Conflicts last, checked here for a friendly answer; the exclusion constraints decide under concurrency.
    if (await this.repository.isVenueBooked(venueId, start, end, order.id)) throw new ConflictError('VENUE_CONFLICT', 'The venue is already booked for an overlapping time.');
    const busy = facts.filter((f) => f.hasOverlappingAssignment).map((f) => ({ field: fieldOf(volunteerIds, f.id), message: 'busy' }));
    if (busy.length > 0) throw new ConflictError('VOLUNTEER_CONFLICT', 'A volunteer already has an assignment at an overlapping time.', busy);

    const holding = new Set(current.map((a) => a.volunteerId));
    const invitations: Invitation[] = volunteerIds.filter((id) => !holding.has(id)).map((volunteerId) => ({ volunteerId, assignmentId: randomUUID() }));
    const when = formatEventTime(start, end);
    const messages: ExtraMessage[] = invitations.map((i) => ({ type: 'assignment.invited', payload: { volunteerIds: [i.volunteerId], assignmentId: i.assignmentId, when } }));
    if (openSlots > 0) messages.push({ type: 'task.open', payload: { volunteerIds: await this.taskOpenRecipients(organizationId, slot, attending, now), openSlots, when } });

    const hold: EventHold = { orderId: order.id, organizationId, venueId, start, end, at: now };
    const previous = action === 'reschedule' ? { previousStart: order.scheduledStart?.toISOString() ?? null, previousEnd: order.scheduledEnd?.toISOString() ?? null, previousVenueId: order.venueId } : {};
    // Those a reschedule removes are told of the time they had been given.
    const previousWhen = order.scheduledStart && order.scheduledEnd ? formatEventTime(order.scheduledStart, order.scheduledEnd) : when;
    return {
      patch: { scheduledStart: start, scheduledEnd: end, venueId, openSlots },
      payload: { start: start.toISOString(), end: end.toISOString(), venueId, volunteerIds, openSlots, when, ...previous },
      messages,
      hold,
      volunteerIds,
      invitations,
      writers: [...holding, ...volunteerIds],
      previousWhen,
    };
  }

  /**
   * Known, one the organisation may book, large enough, accessible as the audience needs (422s).
   * Whether it is free comes later (409). An organisation books venues of the order's district,
   * the city's own (registered by a city_admin, open to every district) and its own; any other
   * is `422 VENUE_OUT_OF_SCOPE`, so no org_admin can block venues across the city by id.
   */
  private async checkVenue(order: OrderRecord, venueId: string): Promise<void> {
    const venue = await this.repository.findVenue(venueId);
    if (!venue) throw new BusinessRuleError('UNKNOWN_VENUE', `No venue has the id ${venueId}.`);
    const usable =
      venue.districtCode === order.districtCode || venue.ownerType === 'city' || (venue.ownerType === 'organization' && venue.ownerId === order.organizationId);
    if (!usable)
      throw new BusinessRuleError('VENUE_OUT_OF_SCOPE', `The venue is in another district (${venue.districtCode}); book one of the order's district (${order.districtCode}), a city venue or your own.`);
    if (venue.capacity < order.expectedAttendance)
      throw new BusinessRuleError('VENUE_TOO_SMALL', `The venue seats ${venue.capacity}; ${order.expectedAttendance} are expected.`);
    const missing = order.accessibilityNeeds.filter((need) => !venue.accessibility.includes(need));
    if (missing.length > 0) throw new BusinessRuleError('VENUE_NOT_ACCESSIBLE', `The venue lacks what the audience needs: ${missing.join(', ')}.`);
  }

  /**
   * Everyone who will attend (the named and, on reschedule, the slot claimers who stay) is of the
   * organisation and can serve then (422s); returns their facts for the conflict check.
   */
  private async checkVolunteers(
    order: OrderRecord,
    organizationId: string,
    named: readonly string[],
    attending: readonly string[],
    slot: SlotFacts,
    now: Date,
  ): Promise<VolunteerFacts[]> {
    const profiles = await this.repository.profilesOf(organizationId, attending, now);
    const outsiders = named.flatMap((id, index) => (profiles.some((p) => p.id === id) ? [] : [{ field: `volunteerIds.${index}`, message: `${id} is not a volunteer of the organisation` }]));
    if (outsiders.length > 0) throw new BusinessRuleError('VOLUNTEER_NOT_IN_ORGANIZATION', 'Every volunteer must belong to the accepting organisation.', outsiders);

    const window = factsWindow(slot.start, slot.end);
    const holdings = await this.repository.holdings(attending, window.from, window.to, order.id);
    const facts = attending.flatMap((id) => profiles.filter((p) => p.id === id).map((p) => volunteerFactsAt(p, holdings, slot.start, slot.end)));
    const ineligible = facts.flatMap((f) =>
      ineligibility(f, slot)
        .filter((reason) => NAMED_VOLUNTEER_RULES.includes(reason))
        .map((reason) => ({ field: fieldOf(named, f.id), message: reason })),
    );
    if (ineligible.length > 0)
      throw new BusinessRuleError('NOT_ELIGIBLE', `Not every volunteer can serve then: ${ineligible.map((e) => `${e.field} ${e.message}`).join(', ')}.`, ineligible);
    return facts;
  }

  /** The booking and the assignments, in the transition's transaction, after the order's conditional update won. */
  private async holdEvent(tx: Transaction, action: 'schedule' | 'reschedule', plan: SchedulePlan): Promise<TransitionFacts> {
    const { hold, volunteerIds, invitations, previousWhen } = plan;
    await this.repository.book(tx, hold);
    await this.repository.lockVolunteers(tx, plan.writers);
    if (action === 'schedule') {
      await this.repository.invite(tx, hold, invitations);
      return {};
    }
    const removedVolunteerIds = await this.repository.removeUnlisted(tx, hold.orderId, volunteerIds, hold.at);
    const holding = new Set(await this.repository.moveActive(tx, hold));
    // A volunteer declined or withdrew between the checks and this transaction: the invitations
    // (and their outbox messages) were planned on another picture, so refuse rather than half-apply.
    const due = volunteerIds.filter((id) => !holding.has(id));
    if (due.length !== invitations.length || due.some((id) => !invitations.some((i) => i.volunteerId === id)))
      throw new OrderStateConflictError('The event\'s assignments changed while rescheduling; reload and try again.');
    await this.repository.invite(tx, hold, invitations);
    // Who was removed is known only here, inside the transaction: their message commits with it.
    const messages: ExtraMessage[] =
      removedVolunteerIds.length > 0
        ? [{ type: 'assignment.cancelled', payload: { volunteerIds: removedVolunteerIds, reason: REMOVED_REASON, when: previousWhen } }]
        : [];
    return { payload: { removedVolunteerIds }, messages };
  }

  /** Eligible volunteers of the organisation for the slot (skilled, free, available, under the cap), best first. */
  private async taskOpenRecipients(organizationId: string, slot: SlotFacts, assigned: readonly string[], now: Date): Promise<string[]> {
    // Ranking needs the whole eligible set; the candidates are bounded by skill and activity first.
    const profiles = await this.repository.skilledProfiles(organizationId, slot.topic, assigned, MAX_TASK_OPEN_CANDIDATES, now);
    const window = factsWindow(slot.start, slot.end);
    const holdings = await this.repository.holdings(
      profiles.map((p) => p.id),
      window.from,
      window.to,
      null,
    );
    const facts = profiles.map((p) => volunteerFactsAt(p, holdings, slot.start, slot.end));
    return rankVolunteers(facts, slot)
      .slice(0, MAX_TASK_OPEN_RECIPIENTS)
      .map((r) => r.item.id);
  }
}
