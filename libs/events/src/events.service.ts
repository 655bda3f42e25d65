import { AppConfig } from '@kepu/config';
import {
  type Actor,
  attendanceClosedReason,
  BusinessRuleError,
  Clock,
  ConflictError,
  eventStatus,
  fitsInSeats,
  ForbiddenError,
  type Decision,
  formatEventTime,
  Lanes,
  maskPhone,
  NotFoundError,
  OrderStateConflictError,
  promotionsFor,
  seatInOrder,
  signupClosedReason,
  ticketCodeFrom,
  TICKET_CODE_LENGTH,
  ValidationError,
} from '@kepu/core';
import { decodeCursor, type Page, type PageQueryDto, toPage } from '@kepu/http';
import { type NewOutboxMessage, OutboxService } from '@kepu/notifications';
import { OrdersService, type Transaction, Transactions } from '@kepu/orders';
import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { QueryFailedError } from 'typeorm';
import type {
  AttendanceDto,
  CreateSignupDto,
  EventFeedbackDto,
  EventFeedbackView,
  EventSignupView,
  EventView,
  ListEventsQueryDto,
  MySignupView,
  PublishEventDto,
  SignupView,
} from './events.dto';
import { type EventRecord, EventsRepository, type LockedEvent, type NewSignup, type SignupRecord } from './events.repository';

const DEFAULT_PAGE_SIZE = 20;
/** PostgreSQL's unique_violation on event_signups_one_active: one active sign-up per user and event. */
const UNIQUE_VIOLATION = '23505';
/**
 * Sign-ups of one event decided in one transaction at most: a rush of hundreds is a few
 * short transactions (each holds the event's lock for a handful of statements, whatever its size).
 */
const SIGNUP_BATCH = 100;

/** A sign-up waiting in its event's lane: taken at `at`, when the checks before the queue passed. */
interface SignupRequest {
  userId: string;
  attendees: number;
  ticketCode: string;
  at: Date;
}

/** What the batch decided for one sign-up. */
interface DecidedSignup {
  id: string;
  status: 'confirmed' | 'waitlisted';
  position: number | null;
}

const refused = (reason: unknown): PromiseRejectedResult => ({ status: 'rejected', reason });
const isUniqueViolation = (error: unknown): boolean => error instanceof QueryFailedError && (error as QueryFailedError & { code?: string }).code === UNIQUE_VIOLATION;

const alreadySignedUp = (): ConflictError => new ConflictError('ALREADY_SIGNED_UP', 'You already have a sign-up for this event; cancel it to sign up again.');

/** A sign-up's place in the waiting line travels as the queue number it was given; the cursor is that number. */
const encodeSeqCursor = (seq: number): string => Buffer.from(`seq:${seq}`, 'utf8').toString('base64url');
function decodeSeqCursor(cursor: string): number {
  const match = /^seq:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match?.[1]) throw new ValidationError('cursor: is not a cursor this API issued', [{ field: 'cursor', message: 'invalid cursor' }]);
  return Number(match[1]);
}

/** The roles that run an event: the accepting organisation's admins and the community's staff. */
function runsEvent(actor: Actor, e: { communityCode: string; organizationId: string | null }): boolean {
  return (
    (actor.role === 'org_admin' && e.organizationId !== null && actor.organizationId === e.organizationId) ||
    (actor.role === 'community_staff' && actor.communityCode === e.communityCode)
  );
}

/** Who may read an event's sign-up list: those who run it, the district's coordinators, the city. */
function overseesEvent(actor: Actor, e: EventRecord): boolean {
  return runsEvent(actor, e) || actor.role === 'city_admin' || (actor.role === 'district_coordinator' && actor.districtCode === e.districtCode);
}

/**
 * Published events with sign-ups (DESIGN.md §10): a scheduled order opens seats to
 * residents; sign-ups past the seats wait in line and are promoted in order; a ticket
 * code per sign-up is scanned at the door; attendees give feedback once.
 */
@Injectable()
export class EventsService {
  /** Per event, this process's sign-ups and cancellations, one transaction at a time (see signUp). */
  private readonly lanes: Lanes<SignupRequest, DecidedSignup>;

  constructor(
    private readonly repository: EventsRepository,
    private readonly orders: OrdersService,
    private readonly transactions: Transactions,
    private readonly outbox: OutboxService,
    private readonly clock: Clock,
    config: AppConfig,
  ) {
    this.lanes = new Lanes({
      queue: config.signupQueuePerEvent,
      batch: SIGNUP_BATCH,
      decide: (orderId, requests) => this.decideSignups(orderId, requests),
      busyDetail: 'Too many sign-ups for this event at once; try again in a moment.',
    });
  }

  async publish(actor: Actor, orderId: string, dto: PublishEventDto): Promise<EventView> {
    const order = await this.orders.findVisibleRecord(actor, orderId);
    if (!order) throw new NotFoundError(`No order ${orderId} is visible to you.`);
    if (!runsEvent(actor, order)) throw new ForbiddenError('Only the accepting organisation\'s admins and the community\'s staff publish an event.');
    const deadline = dto.signupDeadline === undefined ? null : new Date(dto.signupDeadline);
    const now = this.clock.now();
    await this.transactions.run(async (tx) => {
      // The order's lock: a reschedule or cancellation racing the publish waits, so the checks below hold at commit.
      await this.orders.lockOrder(tx, orderId);
      const current = await this.repository.orderStatus(tx, orderId);
      if (current?.status !== 'scheduled' || !current.start) throw new OrderStateConflictError(`The order is ${current?.status ?? 'gone'}; only a scheduled order is published.`);
      if (deadline && deadline.getTime() > current.start.getTime())
        throw new BusinessRuleError('INVALID_SIGNUP_DEADLINE', 'The sign-up deadline must not be after the start.', [{ field: 'signupDeadline', message: 'after the start' }]);
      if (deadline && deadline.getTime() <= now.getTime())
        throw new BusinessRuleError('INVALID_SIGNUP_DEADLINE', 'The sign-up deadline must be in the future.', [{ field: 'signupDeadline', message: 'in the past' }]);
      const isNew = await this.repository.insertEvent(tx, { orderId, seats: dto.seats, signupDeadline: deadline, note: dto.note?.trim() || null, publishedBy: actor.userId, publishedAt: now });
      if (!isNew) throw new ConflictError('ALREADY_PUBLISHED', 'This order is published already.');
      const when = order.scheduledStart && order.scheduledEnd ? formatEventTime(order.scheduledStart, order.scheduledEnd) : null;
      await this.outbox.append(tx, [{ type: 'event.published', orderId, payload: { orderId, seats: String(dto.seats), when, actorId: actor.userId } }]);
    });
    return this.get(actor, orderId);
  }

  async list(actor: Actor, query: ListEventsQueryDto): Promise<Page<EventView>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const now = this.clock.now();
    const rows = await this.repository.listVisible(
      actor,
      {
        districtCode: query.districtCode,
        communityCode: query.communityCode,
        from: query.from ? new Date(query.from) : undefined,
        to: query.to ? new Date(query.to) : undefined,
        now,
      },
      limit,
      query.cursor ? decodeCursor(query.cursor) : undefined,
    );
    return toPage(rows, limit, (e) => ({ at: e.start, id: e.orderId }), (e) => this.toEventView(e, now));
  }

  async get(actor: Actor, orderId: string): Promise<EventView> {
    return this.toEventView(await this.findVisible(actor, orderId), this.clock.now());
  }

  /**
   * One sign-up: confirmed when its people fit in the seats left, else waiting in line.
   * After the checks any reader can make (visible, open, not signed up yet), it waits in its
   * event's lane in this process (libs/core's Lanes): the sign-ups that arrive while one batch is
   * being decided wait in memory, not each holding a pool connection that waits for the
   * event's row lock, and are decided together in the next transaction. So a rush takes one
   * connection per event, the rest of the API keeps the pool, and the row lock still orders
   * the API processes among themselves.
   */
  async signUp(actor: Actor, orderId: string, dto: CreateSignupDto): Promise<SignupView> {
    const event = await this.findVisible(actor, orderId);
    const now = this.clock.now();
    const closed = signupClosedReason(event, now);
    if (closed) throw new BusinessRuleError('SIGNUP_CLOSED', closed);
    if (event.mySignup) throw alreadySignedUp();
    const attendees = dto.attendees ?? 1;
    const ticketCode = ticketCodeFrom(randomBytes(TICKET_CODE_LENGTH));
    const decided = await this.lanes.submit(orderId, { userId: actor.userId, attendees, ticketCode, at: now });
    return {
      id: decided.id,
      orderId,
      status: decided.status,
      attendees,
      ticketCode,
      ...(decided.position === null ? {} : { position: decided.position }),
      createdAt: now.toISOString(),
      attendedAt: null,
    };
  }

  /** Sign-ups and cancellations of one event in this process waiting and being decided now: for tests and metrics. */
  signupLoad(orderId: string): { deciding: number; waiting: number } {
    return this.lanes.load(orderId);
  }

  /**
   * A batch of one event's sign-ups, in one transaction under the event's row lock, each
   * decided in arrival order as if alone: refused when the event closed (422) or the user
   * has an active sign-up, made before or earlier in this batch (409); confirmed while the
   * seats last, else waiting; a `signup.confirmed` outbox row for each confirmed one.
   */
  private async decideSignups(orderId: string, requests: SignupRequest[]): Promise<Decision<DecidedSignup>[]> {
    return this.transactions.run(async (tx) => {
      const locked = await this.repository.lockEvent(tx, orderId);
      if (!locked) return requests.map(() => refused(new NotFoundError(`No event ${orderId}.`)));
      const decisions: Decision<DecidedSignup>[] = [];
      const active = await this.repository.activeSignupUsers(tx, orderId, [...new Set(requests.map((r) => r.userId))]);
      const passed: { index: number; request: SignupRequest }[] = [];
      for (const [index, request] of requests.entries()) {
        const closed = signupClosedReason(locked, request.at);
        if (closed) decisions[index] = refused(new BusinessRuleError('SIGNUP_CLOSED', closed));
        else if (active.has(request.userId)) decisions[index] = refused(alreadySignedUp());
        else {
          active.add(request.userId);
          passed.push({ index, request });
        }
      }
      const made = await this.insertInOrder(tx, orderId, locked, passed.map((p) => p.request));
      const when = formatEventTime(locked.start, locked.end);
      const confirmations: NewOutboxMessage[] = [];
      for (const [k, { index, request }] of passed.entries()) {
        const decision = made[k] ?? refused(new Error('no decision'));
        decisions[index] = decision;
        if (decision.status === 'fulfilled' && decision.value.status === 'confirmed')
          confirmations.push({ type: 'signup.confirmed', orderId, payload: { orderId, userIds: [request.userId], signupId: decision.value.id, ticketCode: request.ticketCode, when } });
      }
      await this.outbox.append(tx, confirmations);
      return decisions;
    });
  }

  /**
   * The sign-ups the checks let through, seated in their order and written in one statement.
   * Should that statement fail (nothing the checks under the lock leave possible but, say, a
   * ticket code drawn twice), it is undone and each is written alone in a savepoint, seated
   * after those before it that were written: one failing sign-up fails only itself.
   */
  private async insertInOrder(tx: Transaction, orderId: string, locked: LockedEvent, requests: SignupRequest[]): Promise<Decision<DecidedSignup>[]> {
    if (requests.length === 0) return [];
    const statuses = seatInOrder(locked.seats, locked.confirmed, requests.map((r) => r.attendees));
    const signups: NewSignup[] = requests.map((r, i) => ({ ...r, status: statuses[i] ?? 'waitlisted' }));
    const together = await this.repository.inSavepoint(tx, () => this.repository.insertSignups(tx, orderId, signups));
    if (together.status === 'fulfilled') return together.value.map((row, i): Decision<DecidedSignup> => ({ status: 'fulfilled', value: { ...row, status: statuses[i] ?? 'waitlisted' } }));
    let confirmed = locked.confirmed;
    const decisions: Decision<DecidedSignup>[] = [];
    for (const r of requests) {
      const status = fitsInSeats(locked.seats, confirmed, r.attendees) ? ('confirmed' as const) : ('waitlisted' as const);
      const alone = await this.repository.inSavepoint(tx, () => this.repository.insertSignups(tx, orderId, [{ ...r, status }]));
      if (alone.status === 'rejected') {
        decisions.push(refused(isUniqueViolation(alone.reason) ? alreadySignedUp() : alone.reason));
        continue;
      }
      if (status === 'confirmed') confirmed += r.attendees;
      const [row] = alone.value;
      if (!row) throw new Error(`event ${orderId} vanished under its lock`);
      decisions.push({ status: 'fulfilled', value: { ...row, status } });
    }
    return decisions;
  }

  /** The attendee cancels before the start; the seats freed go to the waiting line in order (signup.promoted). */
  async cancelSignup(actor: Actor, signupId: string): Promise<SignupView> {
    const signup = await this.repository.findSignup(signupId);
    if (!signup) throw new NotFoundError(`No sign-up ${signupId}.`);
    if (signup.userId !== actor.userId) {
      const event = await this.repository.findVisible(actor, signup.orderId);
      if (event && overseesEvent(actor, event)) throw new ForbiddenError('Only the attendee cancels a sign-up.');
      throw new NotFoundError(`No sign-up ${signupId}.`);
    }
    const now = this.clock.now();
    // In the event's lane, in its place among the sign-ups: this process waits for the event's lock on one connection only.
    await this.lanes.exclusive(signup.orderId, () => this.transactions.run((tx) => this.cancelLocked(tx, signup, now)));
    const after = await this.repository.findSignup(signupId);
    if (!after) throw new NotFoundError(`No sign-up ${signupId}.`);
    return this.toSignupView(after);
  }

  /** The cancellation under the event's lock, and the promotions it makes. */
  private async cancelLocked(tx: Transaction, signup: SignupRecord, now: Date): Promise<void> {
    const locked = await this.repository.lockEvent(tx, signup.orderId);
    if (!locked) throw new NotFoundError(`No sign-up ${signup.id}.`);
    if (now.getTime() >= locked.start.getTime()) throw new BusinessRuleError('SIGNUP_CLOSED', 'The event has started; a sign-up is cancelled before the start.');
    const cancelled = await this.repository.cancelSignup(tx, signup.id, now);
    if (!cancelled) throw new ConflictError('SIGNUP_NOT_ACTIVE', 'The sign-up is cancelled already, or was scanned at the door.');
    if (!cancelled.wasConfirmed || locked.orderStatus === 'cancelled') return;
    const line = await this.repository.waitingLine(tx, signup.orderId);
    const promoted = promotionsFor(locked.seats - (locked.confirmed - cancelled.attendees), line);
    await this.repository.promote(tx, signup.orderId, promoted, now);
    const when = formatEventTime(locked.start, locked.end);
    await this.outbox.append(
      tx,
      line
        .filter((s) => promoted.includes(s.id))
        .map((s) => ({ type: 'signup.promoted', orderId: signup.orderId, payload: { orderId: signup.orderId, userIds: [s.userId], signupId: s.id, ticketCode: s.ticketCode, when } })),
    );
  }

  async listMine(actor: Actor, query: PageQueryDto): Promise<Page<MySignupView>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.repository.listMine(actor.userId, limit, query.cursor ? decodeCursor(query.cursor) : undefined);
    const events = new Map((await this.repository.eventsForUser(actor.userId, [...new Set(rows.map((r) => r.orderId))])).map((e) => [e.orderId, e]));
    const now = this.clock.now();
    return toPage(
      rows.filter((r) => events.has(r.orderId)),
      limit,
      (r) => ({ at: r.createdAt, id: r.id }),
      (r) => ({ ...this.toSignupView(r), event: this.toEventView(events.get(r.orderId) as EventRecord, now) }),
    );
  }

  async listSignups(actor: Actor, orderId: string, query: PageQueryDto): Promise<Page<EventSignupView>> {
    const event = await this.findVisible(actor, orderId);
    if (!overseesEvent(actor, event)) throw new ForbiddenError('Only the event\'s organisers and coordinators list its sign-ups.');
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.repository.listSignups(orderId, limit, query.cursor ? decodeSeqCursor(query.cursor) : undefined);
    const hasMore = rows.length > limit;
    const page = hasMore ? rows.slice(0, limit) : rows;
    const last = page[page.length - 1];
    return { items: page.map(toEventSignupView), nextCursor: hasMore && last ? encodeSeqCursor(last.queueSeq) : null };
  }

  /** A ticket scanned at the door, from 2 h before the start until the end. */
  async recordAttendance(actor: Actor, orderId: string, dto: AttendanceDto): Promise<EventSignupView> {
    const event = await this.findVisible(actor, orderId);
    const isAssigned = actor.volunteerId !== null && (await this.repository.isAssigned(orderId, actor.volunteerId));
    if (!runsEvent(actor, event) && !isAssigned) throw new ForbiddenError('Tickets are scanned by the organisation, its assigned volunteers and the community\'s staff.');
    const now = this.clock.now();
    const closed = attendanceClosedReason(event, now);
    if (closed) throw new BusinessRuleError('ATTENDANCE_CLOSED', closed);
    const signup = await this.repository.findByTicket(orderId, dto.ticketCode.trim().toUpperCase());
    if (!signup) throw new NotFoundError('No sign-up of this event has this ticket code.');
    if (signup.attendedAt) throw new ConflictError('ALREADY_ATTENDED', `This ticket was scanned at ${signup.attendedAt.toISOString()}.`);
    if (signup.status !== 'confirmed') throw new BusinessRuleError('SIGNUP_NOT_CONFIRMED', `The sign-up is ${signup.status}, not confirmed.`);
    if (!(await this.repository.markAttended(signup.id, now))) {
      const current = await this.repository.findSignup(signup.id);
      if (current?.attendedAt) throw new ConflictError('ALREADY_ATTENDED', `This ticket was scanned at ${current.attendedAt.toISOString()}.`);
      throw new BusinessRuleError('SIGNUP_NOT_CONFIRMED', `The sign-up is ${current?.status ?? 'gone'}, not confirmed.`);
    }
    const after = await this.repository.findSignup(signup.id);
    if (!after) throw new NotFoundError('No sign-up of this event has this ticket code.');
    return toEventSignupView(after);
  }

  /** Feedback from an attendee whose ticket was scanned, once per sign-up. */
  async giveFeedback(actor: Actor, orderId: string, dto: EventFeedbackDto): Promise<EventFeedbackView> {
    await this.findVisible(actor, orderId);
    const signup = await this.repository.attendedSignupOf(orderId, actor.userId);
    if (!signup) throw new ForbiddenError('Only attendees whose ticket was scanned give feedback.');
    const now = this.clock.now();
    const comment = dto.comment?.trim() || null;
    if (!(await this.repository.saveFeedback(signup.id, dto.score, comment, now))) throw new ConflictError('ALREADY_RATED', 'You gave feedback on this event already.');
    return { signupId: signup.id, orderId, score: dto.score, comment, createdAt: now.toISOString() };
  }

  private async findVisible(actor: Actor, orderId: string): Promise<EventRecord> {
    const event = await this.repository.findVisible(actor, orderId);
    if (!event) throw new NotFoundError(`No published event ${orderId} is visible to you.`);
    return event;
  }

  private toEventView(e: EventRecord, now: Date): EventView {
    return {
      orderId: e.orderId,
      title: e.title,
      topic: e.topic,
      audience: e.audience,
      format: e.format,
      start: e.start.toISOString(),
      end: e.end.toISOString(),
      venue: e.venue,
      communityCode: e.communityCode,
      districtCode: e.districtCode,
      seats: e.seats,
      confirmed: e.confirmed,
      waitlisted: e.waitlisted,
      signupDeadline: e.signupDeadline?.toISOString() ?? null,
      status: eventStatus(e, now),
      mySignup: e.mySignup,
      note: e.note,
      publishedAt: e.publishedAt.toISOString(),
    };
  }

  private toSignupView(s: SignupRecord): SignupView {
    return {
      id: s.id,
      orderId: s.orderId,
      status: s.status,
      attendees: s.attendees,
      ticketCode: s.ticketCode,
      ...(s.position === null ? {} : { position: s.position }),
      createdAt: s.createdAt.toISOString(),
      attendedAt: s.attendedAt?.toISOString() ?? null,
    };
  }
}

function toEventSignupView(s: SignupRecord): EventSignupView {
  return {
    id: s.id,
    userId: s.userId,
    displayName: s.displayName,
    phone: s.phone ? maskPhone(s.phone) : null,
    attendees: s.attendees,
    status: s.status,
    position: s.position,
    ticketCode: s.ticketCode,
    attendedAt: s.attendedAt?.toISOString() ?? null,
  };
}
