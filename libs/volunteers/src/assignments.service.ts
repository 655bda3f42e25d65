import { type Actor, BusinessRuleError, Clock, ConflictError, ForbiddenError, ineligibility, NotFoundError, OrderStateConflictError, scoreVolunteer, type SlotFacts } from '@kepu/core';
import { decodeCursor, type Page, toPage } from '@kepu/http';
import { OrdersService, Transactions } from '@kepu/orders';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { AssignmentStatus, AssignmentView, DeclineAssignmentDto, MyAssignmentsQueryDto, OpenTaskView } from './assignments.dto';
import { type AssignmentRecord, AssignmentsRepository, type ClaimableOrder } from './assignments.repository';
import { MAX_OPEN_SLOTS } from './scheduling.dto';
import { SchedulingRepository, type VolunteerProfile } from './scheduling.repository';
import { factsWindow, volunteerFactsAt } from './scheduling.service';

const DEFAULT_PAGE_SIZE = 20;
/** Open tasks are looked for among the organisation's next events with slots, and the best are shown. */
const OPEN_EVENTS_CONSIDERED = 200;
const OPEN_TASKS_SHOWN = 100;

export function toAssignmentView(a: AssignmentRecord): AssignmentView {
  return {
    id: a.id,
    orderId: a.orderId,
    status: a.status,
    isSlotClaim: a.isSlotClaim,
    start: a.start.toISOString(),
    end: a.end.toISOString(),
    venue: a.venue,
    order: a.order,
    reason: a.reason,
  };
}

const slotOf = (event: ClaimableOrder): SlotFacts => ({
  start: event.start,
  end: event.end,
  topic: event.topic,
  audience: event.audience,
  place: { communityCode: event.communityCode, subdistrictCode: event.subdistrictCode, districtCode: event.districtCode },
});

/** The acting volunteer's profile, or 403: these endpoints act on the caller's own volunteer record only, whatever its role (DESIGN.md §10). */
function volunteerIdOf(actor: Actor): string {
  if (!actor.volunteerId) throw new ForbiddenError('Only a volunteer acts on their own assignments.');
  return actor.volunteerId;
}

/**
 * The volunteer's side (派员): invitations answered, slots claimed and given back.
 * Another volunteer's assignment is 404, never 403: it is outside the caller's scope.
 */
@Injectable()
export class AssignmentsService {
  constructor(
    private readonly repository: AssignmentsRepository,
    private readonly scheduling: SchedulingRepository,
    private readonly orders: OrdersService,
    private readonly transactions: Transactions,
    private readonly clock: Clock,
  ) {}

  async listMine(actor: Actor, query: MyAssignmentsQueryDto): Promise<Page<AssignmentView>> {
    const volunteerId = volunteerIdOf(actor);
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await this.repository.listForVolunteer(volunteerId, query.status, limit, after);
    return toPage(rows, limit, (a) => ({ at: a.start, id: a.id }), toAssignmentView);
  }

  async confirm(actor: Actor, assignmentId: string): Promise<AssignmentView> {
    const volunteerId = volunteerIdOf(actor);
    const now = this.clock.now();
    const assignment = await this.findMine(volunteerId, assignmentId);
    this.expectOpen(assignment, ['invited'], now, 'confirm');
    if (!(await this.repository.confirm(volunteerId, assignmentId, now))) throw this.changedMeanwhile();
    return toAssignmentView(await this.findMine(volunteerId, assignmentId));
  }

  async decline(actor: Actor, assignmentId: string, dto: DeclineAssignmentDto): Promise<AssignmentView> {
    return this.leave(actor, assignmentId, 'declined', ['invited', 'confirmed'], dto.reason.trim());
  }

  async withdraw(actor: Actor, assignmentId: string): Promise<AssignmentView> {
    return this.leave(actor, assignmentId, 'withdrawn', ['confirmed'], null);
  }

  /** Scheduled events of the volunteer's organisation with open slots the volunteer may claim, ranked for them (matching in reverse). */
  async openTasks(actor: Actor, limit = OPEN_TASKS_SHOWN): Promise<OpenTaskView[]> {
    const { volunteerId, organizationId } = await this.volunteerOf(actor);
    const now = this.clock.now();
    const profile = await this.profileOf(organizationId, volunteerId, now);
    if (!profile.isActive) return [];
    const events = await this.repository.openEvents(
      organizationId,
      volunteerId,
      profile.skills.map((s) => s.topic),
      now,
      OPEN_EVENTS_CONSIDERED,
    );
    if (events.length === 0) return [];
    const windows = events.map((e) => factsWindow(e.start, e.end));
    const holdings = await this.scheduling.holdings(
      [volunteerId],
      new Date(Math.min(...windows.map((w) => w.from.getTime()))),
      new Date(Math.max(...windows.map((w) => w.to.getTime()))),
      null,
    );
    return events
      .flatMap((event) => {
        const slot = slotOf(event);
        const facts = volunteerFactsAt(profile, holdings, event.start, event.end);
        if (ineligibility(facts, slot).length > 0) return [];
        return [{ event, ...scoreVolunteer(facts, slot) }];
      })
      .sort((a, b) => b.score - a.score || a.event.start.getTime() - b.event.start.getTime() || a.event.id.localeCompare(b.event.id))
      .slice(0, limit)
      .map(({ event, score, breakdown }) => ({
        orderId: event.id,
        title: event.title,
        topic: event.topic,
        audience: event.audience,
        start: event.start.toISOString(),
        end: event.end.toISOString(),
        venue: event.venue,
        openSlots: event.openSlots,
        score,
        breakdown,
      }));
  }

  /**
   * Claims an open slot: confirmed at once. The checks here give the friendly answer;
   * the conditional decrement (SLOTS_FULL) and the exclusion constraint (VOLUNTEER_CONFLICT)
   * in one transaction are what hold under concurrency.
   */
  async claim(actor: Actor, orderId: string): Promise<AssignmentView> {
    const { volunteerId, organizationId } = await this.volunteerOf(actor);
    const now = this.clock.now();
    // A volunteer may claim on any scheduled event of its organisation: one with no slot
    // left answers SLOTS_FULL (the losers of a race learn why), anything else is 404.
    const event = await this.repository.findClaimable(organizationId, orderId);
    if (!event) throw new NotFoundError(`No scheduled event ${orderId} of your organisation.`);
    if (event.start <= now) throw new ConflictError('EVENT_STARTED', 'The event has started; its slots can no longer be claimed.');
    if (await this.repository.isOnEvent(orderId, volunteerId)) throw new ConflictError('VOLUNTEER_CONFLICT', 'You are already on this event.');
    if (event.openSlots === 0) throw slotsFull();

    const profile = await this.profileOf(organizationId, volunteerId, now);
    const window = factsWindow(event.start, event.end);
    const holdings = await this.scheduling.holdings([volunteerId], window.from, window.to, orderId);
    const reasons = ineligibility(volunteerFactsAt(profile, holdings, event.start, event.end), slotOf(event));
    const broken = reasons.filter((r) => r !== 'busy');
    if (broken.length > 0)
      throw new BusinessRuleError(
        'NOT_ELIGIBLE',
        `You cannot take this task: ${broken.join(', ')}.`,
        broken.map((reason) => ({ field: 'volunteer', message: reason })),
      );
    if (reasons.includes('busy')) throw new ConflictError('VOLUNTEER_CONFLICT', 'You already have an assignment at an overlapping time.');

    const assignmentId = randomUUID();
    const outcome = await this.transactions.run(async (tx) => {
      // The order's slot first (libs/orders owns the count and its event), then the assignment: both commit or neither.
      const slot = await this.orders.takeOpenSlot(tx, actor, { orderId, organizationId, assignmentId, volunteerId, at: now });
      if (slot.kind !== 'taken') return slot.kind;
      // Eligibility was checked for the time read above: a reschedule in between is a conflict, not a silent move.
      if (slot.start.getTime() !== event.start.getTime() || slot.end.getTime() !== event.end.getTime())
        throw new OrderStateConflictError('The event was rescheduled while you claimed; look at it again.');
      await this.repository.insertClaim(tx, { assignmentId, orderId, volunteerId, organizationId, start: slot.start, end: slot.end, at: now });
      return 'claimed';
    });
    if (outcome === 'full') throw slotsFull();
    if (outcome === 'gone') throw new OrderStateConflictError('The event is no longer scheduled.');
    return toAssignmentView(await this.findMine(volunteerId, assignmentId));
  }

  /**
   * Decline or withdraw, before the event starts: the assignment ends, a claimed slot
   * reopens (order version + 1 and its event), and the organisation is told through
   * the outbox, all in one transaction.
   */
  private async leave(actor: Actor, assignmentId: string, to: 'declined' | 'withdrawn', from: readonly AssignmentStatus[], reason: string | null): Promise<AssignmentView> {
    const volunteerId = volunteerIdOf(actor);
    const now = this.clock.now();
    const assignment = await this.findMine(volunteerId, assignmentId);
    this.expectOpen(assignment, from, now, to === 'declined' ? 'decline' : 'withdraw from');
    const hasLeft = await this.transactions.run(async (tx) => {
      // The order row first, as every transition and claim takes it: a reschedule moving this
      // assignment and this departure then queue one behind the other instead of deadlocking.
      await this.orders.lockOrder(tx, assignment.orderId);
      const ended = await this.repository.end(tx, { assignmentId, volunteerId, to, from, reason, now });
      if (!ended) return false;
      const type = `assignment.${to}`;
      const facts = { orderId: ended.orderId, assignmentId, volunteerId, isSlotClaim: ended.isSlotClaim };
      // The open_slots check (≤ 50) must hold even if a reschedule reopened the maximum meanwhile.
      const reopened = ended.isSlotClaim ? await this.orders.returnOpenSlot(tx, actor, { orderId: ended.orderId, type, facts, cap: MAX_OPEN_SLOTS, at: now }) : null;
      // The reason goes to the organisation only, not into the order's event log that the requester reads.
      await this.repository.tellOrganization(
        tx,
        type,
        ended.orderId,
        {
          ...facts,
          organizationId: ended.organizationId,
          reason,
          actorId: actor.userId,
          actorRole: actor.role,
          ...(reopened ? { eventSeq: reopened.eventSeq } : {}),
        },
        now,
      );
      return true;
    });
    if (!hasLeft) throw this.changedMeanwhile();
    return toAssignmentView(await this.findMine(volunteerId, assignmentId));
  }

  /** The profile and its organisation: the profile's, not the token's (a resident volunteer carries none). */
  private async volunteerOf(actor: Actor): Promise<{ volunteerId: string; organizationId: string }> {
    const volunteerId = volunteerIdOf(actor);
    const organizationId = await this.repository.organizationOfVolunteer(volunteerId);
    if (!organizationId) throw new ForbiddenError('Your account is not linked to a volunteer.');
    return { volunteerId, organizationId };
  }

  private expectOpen(assignment: AssignmentRecord, from: readonly AssignmentStatus[], now: Date, verb: string): void {
    if (!from.includes(assignment.status))
      throw new ConflictError('ASSIGNMENT_STATE_CONFLICT', `The assignment is ${assignment.status}; you cannot ${verb} it.`);
    if (assignment.start <= now) throw new ConflictError('EVENT_STARTED', `The event has started; you can no longer ${verb} it.`);
  }

  private changedMeanwhile(): ConflictError {
    return new ConflictError('ASSIGNMENT_STATE_CONFLICT', 'The assignment changed meanwhile; reload it.');
  }

  private async findMine(volunteerId: string, assignmentId: string): Promise<AssignmentRecord> {
    const assignment = await this.repository.findForVolunteer(volunteerId, assignmentId);
    if (!assignment) throw new NotFoundError(`You have no assignment ${assignmentId}.`);
    return assignment;
  }

  private async profileOf(organizationId: string, volunteerId: string, now: Date): Promise<VolunteerProfile> {
    const [profile] = await this.scheduling.profilesOf(organizationId, [volunteerId], now);
    if (!profile) throw new ForbiddenError('Your account is not linked to a volunteer of your organisation.');
    return profile;
  }
}

function slotsFull(): ConflictError {
  return new ConflictError('SLOTS_FULL', 'Every open slot of this event has been taken.');
}
