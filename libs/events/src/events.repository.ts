import type { Actor, SignupStatus } from '@kepu/core';
import { rowsOf, Sql } from '@kepu/db';
import type { KeysetPosition } from '@kepu/http';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

/** A published event with the facts of its order (title, times, venue) as one record. */
export interface EventRecord {
  orderId: string;
  orderStatus: string;
  title: string;
  topic: string;
  audience: string;
  format: string;
  start: Date;
  end: Date;
  venue: { id: string; name: string; communityCode: string } | null;
  communityCode: string;
  districtCode: string;
  organizationId: string | null;
  seats: number;
  confirmed: number;
  waitlisted: number;
  signupDeadline: Date | null;
  note: string | null;
  publishedAt: Date;
  mySignup: { id: string; status: SignupStatus } | null;
}

interface EventRow {
  order_id: string;
  order_status: string;
  title: string;
  topic: string;
  audience: string;
  format: string;
  scheduled_start: Date;
  scheduled_end: Date;
  venue_id: string | null;
  venue_name: string | null;
  venue_community_code: string | null;
  community_code: string;
  district_code: string;
  organization_id: string | null;
  seats: number;
  confirmed: number;
  waitlisted: number;
  signup_deadline: Date | null;
  note: string | null;
  published_at: Date;
  my_signup_id: string | null;
  my_signup_status: SignupStatus | null;
}

const toEventRecord = (r: EventRow): EventRecord => ({
  orderId: r.order_id,
  orderStatus: r.order_status,
  title: r.title,
  topic: r.topic,
  audience: r.audience,
  format: r.format,
  start: r.scheduled_start,
  end: r.scheduled_end,
  venue: r.venue_id ? { id: r.venue_id, name: r.venue_name ?? '', communityCode: r.venue_community_code ?? '' } : null,
  communityCode: r.community_code,
  districtCode: r.district_code,
  organizationId: r.organization_id,
  seats: r.seats,
  confirmed: r.confirmed,
  waitlisted: r.waitlisted,
  signupDeadline: r.signup_deadline,
  note: r.note,
  publishedAt: r.published_at,
  mySignup: r.my_signup_id && r.my_signup_status ? { id: r.my_signup_id, status: r.my_signup_status } : null,
});

/** The event columns, joined with its order and venue and the viewer's active sign-up ($me). */
const selectEvents = (me: string) => `
  SELECT e.order_id, o.status AS order_status, o.title, o.topic, o.audience, o.format, o.scheduled_start, o.scheduled_end,
         v.id AS venue_id, v.name AS venue_name, v.community_code AS venue_community_code,
         o.community_code, o.district_code, o.organization_id,
         e.seats, e.confirmed, e.waitlisted, e.signup_deadline, e.note, e.published_at,
         ms.id AS my_signup_id, ms.status AS my_signup_status
  FROM events e
  JOIN orders o ON o.id = e.order_id
  LEFT JOIN venues v ON v.id = o.venue_id
  LEFT JOIN event_signups ms ON ms.order_id = e.order_id AND ms.user_id = ${me} AND ms.status <> 'cancelled'`;

/**
 * The events an actor sees, as a predicate over `o` (the order) and `e`: residents and
 * community staff their district's, coordinators their district's, organisations the ones
 * they run or that are in a district they serve, departments their orders', volunteers
 * their organisation's and assignments', everyone the events they signed up for.
 */
export function eventVisibleTo(actor: Actor, sql: Sql): string {
  // Parameters are added only where used: one the statement does not use has no type and fails it.
  if (actor.role === 'city_admin') return 'TRUE';
  const parts = [`EXISTS (SELECT 1 FROM event_signups os WHERE os.order_id = e.order_id AND os.user_id = ${sql.param(actor.userId)})`];
  switch (actor.role) {
    case 'district_coordinator':
      parts.push(`o.district_code = ${sql.param(actor.districtCode)}`);
      break;
    case 'resident':
    case 'community_staff':
      parts.push(`o.district_code = (SELECT district_code FROM communities WHERE code = ${sql.param(actor.communityCode)})`);
      break;
    case 'department_staff':
      parts.push(`o.department_id = ${sql.param(actor.departmentId)}`);
      break;
    case 'org_admin': {
      const org = sql.param(actor.organizationId);
      parts.push(`(o.organization_id = ${org} OR o.district_code IN (SELECT district_code FROM organization_districts WHERE organization_id = ${org}))`);
      break;
    }
    case 'volunteer':
      break;
  }
  if (actor.volunteerId) {
    const volunteer = sql.param(actor.volunteerId);
    parts.push(
      `(EXISTS (SELECT 1 FROM assignments a WHERE a.order_id = o.id AND a.volunteer_id = ${volunteer}) OR o.organization_id = (SELECT organization_id FROM volunteers WHERE id = ${volunteer}))`,
    );
  }
  return `(${parts.join(' OR ')})`;
}

export interface SignupRecord {
  id: string;
  orderId: string;
  userId: string;
  attendees: number;
  status: SignupStatus;
  queueSeq: number;
  ticketCode: string;
  createdAt: Date;
  attendedAt: Date | null;
  feedbackAt: Date | null;
  /** Place in the waiting line while waiting. */
  position: number | null;
  displayName: string;
  phone: string | null;
}

interface SignupRow {
  id: string;
  order_id: string;
  user_id: string;
  attendees: number;
  status: SignupStatus;
  queue_seq: number;
  ticket_code: string;
  created_at: Date;
  attended_at: Date | null;
  feedback_at: Date | null;
  position: string | null;
  display_name: string;
  phone: string | null;
}

const toSignupRecord = (r: SignupRow): SignupRecord => ({
  id: r.id,
  orderId: r.order_id,
  userId: r.user_id,
  attendees: r.attendees,
  status: r.status,
  queueSeq: r.queue_seq,
  ticketCode: r.ticket_code,
  createdAt: r.created_at,
  attendedAt: r.attended_at,
  feedbackAt: r.feedback_at,
  position: r.position === null ? null : Number(r.position),
  displayName: r.display_name,
  phone: r.phone,
});

const SELECT_SIGNUPS = `
  SELECT s.id, s.order_id, s.user_id, s.attendees, s.status, s.queue_seq, s.ticket_code, s.created_at, s.attended_at, s.feedback_at,
         CASE WHEN s.status = 'waitlisted' THEN (SELECT count(*) FROM event_signups w WHERE w.order_id = s.order_id AND w.status = 'waitlisted' AND w.queue_seq <= s.queue_seq) END AS position,
         u.display_name, u.phone
  FROM event_signups s JOIN users u ON u.id = s.user_id`;

/** The counters and times a sign-up decides on, read under the event row's lock. */
export interface LockedEvent {
  seats: number;
  confirmed: number;
  orderStatus: string;
  start: Date;
  end: Date;
  signupDeadline: Date | null;
}

/** A sign-up decided under the event's lock, to be written. */
export interface NewSignup {
  userId: string;
  attendees: number;
  status: 'confirmed' | 'waitlisted';
  ticketCode: string;
  at: Date;
}

export interface NewEvent {
  orderId: string;
  seats: number;
  signupDeadline: Date | null;
  note: string | null;
  publishedBy: string;
  publishedAt: Date;
}

/** Events and sign-ups (DESIGN.md §10); libs/events alone writes them. */
@Injectable()
export class EventsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async findVisible(actor: Actor, orderId: string): Promise<EventRecord | null> {
    const sql = new Sql();
    const me = sql.param(actor.userId);
    const rows = await this.dataSource.query<EventRow[]>(`${selectEvents(me)} WHERE e.order_id = ${sql.param(orderId)} AND ${eventVisibleTo(actor, sql)}`, sql.params);
    return rows[0] ? toEventRecord(rows[0]) : null;
  }

  /** Soonest first, keyset on (start, order id). */
  async listVisible(
    actor: Actor,
    filters: { districtCode?: string; communityCode?: string; from?: Date; to?: Date; now: Date },
    limit: number,
    after?: KeysetPosition,
  ): Promise<EventRecord[]> {
    const sql = new Sql();
    const me = sql.param(actor.userId);
    const where = [eventVisibleTo(actor, sql)];
    if (filters.districtCode) where.push(`o.district_code = ${sql.param(filters.districtCode)}`);
    if (filters.communityCode) where.push(`o.community_code = ${sql.param(filters.communityCode)}`);
    if (filters.from) where.push(`o.scheduled_start >= ${sql.param(filters.from)}`);
    else where.push(`o.scheduled_end > ${sql.param(filters.now)}`);
    if (filters.to) where.push(`o.scheduled_start < ${sql.param(filters.to)}`);
    if (after) where.push(`(o.scheduled_start, e.order_id) > (${sql.param(after.at)}, ${sql.param(after.id)})`);
    const rows = await this.dataSource.query<EventRow[]>(
      `${selectEvents(me)} WHERE ${where.join(' AND ')} ORDER BY o.scheduled_start, e.order_id LIMIT ${sql.param(limit + 1)}`,
      sql.params,
    );
    return rows.map(toEventRecord);
  }

  /** The order's status as it is now, for a publish that holds the order's row lock. */
  async orderStatus(tx: EntityManager, orderId: string): Promise<{ status: string; start: Date | null } | null> {
    const rows = await tx.query<{ status: string; scheduled_start: Date | null }[]>(`SELECT status, scheduled_start FROM orders WHERE id = $1`, [orderId]);
    return rows[0] ? { status: rows[0].status, start: rows[0].scheduled_start } : null;
  }

  /** False when the order was published before (one event per order). */
  async insertEvent(tx: EntityManager, e: NewEvent): Promise<boolean> {
    const rows = await tx.query<unknown[]>(
      `INSERT INTO events (order_id, seats, signup_deadline, note, published_by, published_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
      [e.orderId, e.seats, e.signupDeadline, e.note, e.publishedBy, e.publishedAt],
    );
    return rows.length > 0;
  }

  /**
   * Locks the event row for the rest of the transaction: every change of its counters
   * (sign-up, cancellation, promotion) queues here, so seats are exact under any concurrency.
   */
  async lockEvent(tx: EntityManager, orderId: string): Promise<LockedEvent | null> {
    const rows = await tx.query<
      { seats: number; confirmed: number; order_status: string; scheduled_start: Date; scheduled_end: Date; signup_deadline: Date | null }[]
    >(
      `SELECT e.seats, e.confirmed, o.status AS order_status, o.scheduled_start, o.scheduled_end, e.signup_deadline
       FROM events e JOIN orders o ON o.id = e.order_id WHERE e.order_id = $1 FOR UPDATE OF e`,
      [orderId],
    );
    const r = rows[0];
    return r
      ? { seats: r.seats, confirmed: r.confirmed, orderStatus: r.order_status, start: r.scheduled_start, end: r.scheduled_end, signupDeadline: r.signup_deadline }
      : null;
  }

  /** Which of these users have an active sign-up to the event (under its lock, so no other can be inserted meanwhile). */
  async activeSignupUsers(tx: EntityManager, orderId: string, userIds: string[]): Promise<Set<string>> {
    const rows = await tx.query<{ user_id: string }[]>(`SELECT user_id FROM event_signups WHERE order_id = $1 AND user_id = ANY($2::uuid[]) AND status <> 'cancelled'`, [
      orderId,
      userIds,
    ]);
    return new Set(rows.map((r) => r.user_id));
  }

  /**
   * Sign-ups (a batch, or one), decided by the caller in their order, and the event's
   * counters in one statement, under the event's lock (lockEvent in the same transaction):
   * queue numbers follow the batch's order after those given before, and each waiting one's
   * place in line counts the line as this transaction sees it plus the batch's waiting ones
   * ahead of it. One row per sign-up, in the batch's order.
   */
  async insertSignups(tx: EntityManager, orderId: string, signups: readonly NewSignup[]): Promise<{ id: string; position: number | null }[]> {
    const sum = (status: NewSignup['status']) => signups.filter((s) => s.status === status).reduce((n, s) => n + s.attendees, 0);
    const rows = await tx.query<{ id: string; position: string | null }[]>(
      `WITH ev AS (
         UPDATE events SET confirmed = confirmed + $2, waitlisted = waitlisted + $3, next_queue_seq = next_queue_seq + $4
         WHERE order_id = $1 RETURNING next_queue_seq - $4 AS seq_before
       ), line AS (
         SELECT count(*) AS waiting FROM event_signups WHERE order_id = $1 AND status = 'waitlisted'
       ), ins AS (
         INSERT INTO event_signups (order_id, user_id, attendees, status, queue_seq, ticket_code, created_at, confirmed_at)
         SELECT $1, s.user_id, s.attendees, s.status, ev.seq_before + s.ord, s.ticket_code, s.created_at, CASE WHEN s.status = 'confirmed' THEN s.created_at END
         FROM ev, unnest($5::uuid[], $6::smallint[], $7::text[], $8::text[], $9::timestamptz[]) WITH ORDINALITY AS s(user_id, attendees, status, ticket_code, created_at, ord)
         RETURNING id, queue_seq, status
       )
       SELECT ins.id,
              CASE WHEN ins.status = 'waitlisted' THEN line.waiting + count(*) FILTER (WHERE ins.status = 'waitlisted') OVER (ORDER BY ins.queue_seq) END AS position
       FROM ins, line ORDER BY ins.queue_seq`,
      [
        orderId,
        sum('confirmed'),
        sum('waitlisted'),
        signups.length,
        signups.map((s) => s.userId),
        signups.map((s) => s.attendees),
        signups.map((s) => s.status),
        signups.map((s) => s.ticketCode),
        signups.map((s) => s.at),
      ],
    );
    if (rows.length !== signups.length) throw new Error(`event ${orderId} vanished under its lock`);
    return rows.map((r) => ({ id: r.id, position: r.position === null ? null : Number(r.position) }));
  }

  /**
   * Runs `work` in a savepoint of `tx`: when one of its statements fails, only its own
   * writes are undone and the transaction goes on (one refused sign-up of a batch does not
   * fail the others).
   */
  async inSavepoint<T>(tx: EntityManager, work: () => Promise<T>): Promise<PromiseSettledResult<T>> {
    await tx.query('SAVEPOINT batch_item');
    try {
      const value = await work();
      await tx.query('RELEASE SAVEPOINT batch_item');
      return { status: 'fulfilled', value };
    } catch (reason) {
      await tx.query('ROLLBACK TO SAVEPOINT batch_item');
      return { status: 'rejected', reason };
    }
  }

  async findSignup(id: string): Promise<SignupRecord | null> {
    const rows = await this.dataSource.query<SignupRow[]>(`${SELECT_SIGNUPS} WHERE s.id = $1`, [id]);
    return rows[0] ? toSignupRecord(rows[0]) : null;
  }

  async findActiveSignupOf(orderId: string, userId: string): Promise<SignupRecord | null> {
    const rows = await this.dataSource.query<SignupRow[]>(`${SELECT_SIGNUPS} WHERE s.order_id = $1 AND s.user_id = $2 AND s.status <> 'cancelled'`, [orderId, userId]);
    return rows[0] ? toSignupRecord(rows[0]) : null;
  }

  async findByTicket(orderId: string, ticketCode: string): Promise<SignupRecord | null> {
    const rows = await this.dataSource.query<SignupRow[]>(`${SELECT_SIGNUPS} WHERE s.order_id = $1 AND s.ticket_code = $2`, [orderId, ticketCode]);
    return rows[0] ? toSignupRecord(rows[0]) : null;
  }

  /** Cancels an active, unattended sign-up and gives back its people to the counters; null when it was not active. */
  async cancelSignup(tx: EntityManager, id: string, at: Date): Promise<{ orderId: string; attendees: number; wasConfirmed: boolean } | null> {
    const rows = rowsOf<{ order_id: string; attendees: number; was: SignupStatus }>(
      await tx.query(
        `WITH old AS (SELECT id, status FROM event_signups WHERE id = $1 AND status IN ('confirmed', 'waitlisted') AND attended_at IS NULL FOR UPDATE)
         UPDATE event_signups s SET status = 'cancelled', cancelled_at = $2 FROM old WHERE s.id = old.id
         RETURNING s.order_id, s.attendees, old.status AS was`,
        [id, at],
      ),
    );
    const r = rows[0];
    if (!r) return null;
    const wasConfirmed = r.was === 'confirmed';
    await tx.query(`UPDATE events SET confirmed = confirmed - $2, waitlisted = waitlisted - $3 WHERE order_id = $1`, [
      r.order_id,
      wasConfirmed ? r.attendees : 0,
      wasConfirmed ? 0 : r.attendees,
    ]);
    return { orderId: r.order_id, attendees: r.attendees, wasConfirmed };
  }

  /** The waiting line, first come first (under the event's lock). */
  async waitingLine(tx: EntityManager, orderId: string): Promise<{ id: string; userId: string; attendees: number; ticketCode: string }[]> {
    const rows = await tx.query<{ id: string; user_id: string; attendees: number; ticket_code: string }[]>(
      `SELECT id, user_id, attendees, ticket_code FROM event_signups WHERE order_id = $1 AND status = 'waitlisted' ORDER BY queue_seq`,
      [orderId],
    );
    return rows.map((r) => ({ id: r.id, userId: r.user_id, attendees: r.attendees, ticketCode: r.ticket_code }));
  }

  /** Confirms the given waiting sign-ups and moves their people between the counters (under the event's lock). */
  async promote(tx: EntityManager, orderId: string, ids: string[], at: Date): Promise<void> {
    if (ids.length === 0) return;
    await tx.query(
      `WITH p AS (
         UPDATE event_signups SET status = 'confirmed', confirmed_at = $3 WHERE order_id = $1 AND id = ANY($2::uuid[]) AND status = 'waitlisted' RETURNING attendees
       )
       UPDATE events SET confirmed = confirmed + (SELECT coalesce(sum(attendees), 0) FROM p), waitlisted = waitlisted - (SELECT coalesce(sum(attendees), 0) FROM p)
       WHERE order_id = $1`,
      [orderId, ids, at],
    );
  }

  /** Marks a confirmed sign-up attended once; null when it was not confirmed or already attended. */
  async markAttended(id: string, at: Date): Promise<boolean> {
    const rows = rowsOf<unknown>(await this.dataSource.query(`UPDATE event_signups SET attended_at = $2 WHERE id = $1 AND status = 'confirmed' AND attended_at IS NULL RETURNING id`, [id, at]));
    return rows.length > 0;
  }

  /** The user's attended sign-up to the event, if any. */
  async attendedSignupOf(orderId: string, userId: string): Promise<SignupRecord | null> {
    const rows = await this.dataSource.query<SignupRow[]>(`${SELECT_SIGNUPS} WHERE s.order_id = $1 AND s.user_id = $2 AND s.attended_at IS NOT NULL`, [orderId, userId]);
    return rows[0] ? toSignupRecord(rows[0]) : null;
  }

  /** Feedback once per sign-up: false when it was given before. */
  async saveFeedback(id: string, score: number, comment: string | null, at: Date): Promise<boolean> {
    const rows = rowsOf<unknown>(
      await this.dataSource.query(
        `UPDATE event_signups SET feedback_score = $2, feedback_comment = $3, feedback_at = $4 WHERE id = $1 AND attended_at IS NOT NULL AND feedback_at IS NULL RETURNING id`,
        [id, score, comment, at],
      ),
    );
    return rows.length > 0;
  }

  /** The event's sign-ups in the order they came (queue_seq), keyset on it. */
  async listSignups(orderId: string, limit: number, afterSeq?: number): Promise<SignupRecord[]> {
    const sql = new Sql();
    const where = [`s.order_id = ${sql.param(orderId)}`];
    if (afterSeq !== undefined) where.push(`s.queue_seq > ${sql.param(afterSeq)}`);
    const rows = await this.dataSource.query<SignupRow[]>(`${SELECT_SIGNUPS} WHERE ${where.join(' AND ')} ORDER BY s.queue_seq LIMIT ${sql.param(limit + 1)}`, sql.params);
    return rows.map(toSignupRecord);
  }

  /** The user's own sign-ups, newest first, keyset on (created_at, id). */
  async listMine(userId: string, limit: number, after?: KeysetPosition): Promise<SignupRecord[]> {
    const sql = new Sql();
    const where = [`s.user_id = ${sql.param(userId)}`];
    if (after) where.push(`(s.created_at, s.id) < (${sql.param(after.at)}, ${sql.param(after.id)})`);
    const rows = await this.dataSource.query<SignupRow[]>(
      `${SELECT_SIGNUPS} WHERE ${where.join(' AND ')} ORDER BY s.created_at DESC, s.id DESC LIMIT ${sql.param(limit + 1)}`,
      sql.params,
    );
    return rows.map(toSignupRecord);
  }

  /** Events by order id as the user sees them (mySignup included), for a page of their sign-ups. */
  async eventsForUser(userId: string, orderIds: string[]): Promise<EventRecord[]> {
    if (orderIds.length === 0) return [];
    const sql = new Sql();
    const me = sql.param(userId);
    const rows = await this.dataSource.query<EventRow[]>(`${selectEvents(me)} WHERE e.order_id = ANY(${sql.param(orderIds)}::uuid[])`, sql.params);
    return rows.map(toEventRecord);
  }

  /** Whether the volunteer is assigned (invited or confirmed) to the order's event. */
  async isAssigned(orderId: string, volunteerId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(`SELECT 1 FROM assignments WHERE order_id = $1 AND volunteer_id = $2 AND status IN ('invited', 'confirmed')`, [
      orderId,
      volunteerId,
    ]);
    return rows.length > 0;
  }
}
