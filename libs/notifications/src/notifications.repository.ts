import type { ChannelChoice, RecipientKind } from '@kepu/core';
import { preparedQuery, Sql } from '@kepu/db';
import { type KeysetPosition } from '@kepu/http';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';

export interface OutboxMessage {
  id: string;
  type: string;
  orderId: string | null;
  payload: Record<string, unknown>;
  createdAt: Date;
}

/** What fan-out needs to know about an order. */
export interface OrderForNotice {
  id: string;
  code: string;
  title: string;
  status: string;
  communityCode: string;
  districtCode: string;
  requesterId: string;
  departmentId: string | null;
  organizationId: string | null;
  offeredOrganizationId: string | null;
}

/** The order's state as the stage timers read it (StageTimersRepository.orderTimes has the same fields). */
export interface OrderTimesForFanOut {
  status: string;
  version: number;
  districtCode: string;
  lastWindowEnd: Date;
  scheduledStart: Date | null;
  scheduledEnd: Date | null;
  completedAt: Date | null;
  urgent: boolean;
}

/** Everything one fan-out needs, read in one statement: the message, its order, the recipients, the stretch of the stage the order waits in. */
export interface FanOutInput {
  message: OutboxMessage;
  /** `null` when the message names no order, or the order is gone. */
  order: (OrderForNotice & { times: OrderTimesForFanOut }) | null;
  recipients: Recipient[];
  /** The event that last brought the order into its current status (the stage timers' stretch); read only when asked. */
  entry: { seq: number; at: Date } | null;
  /** Every status the order has been in (its events' to_status); read only when asked, else empty. */
  everIn: Set<string>;
}

/** A user to tell, with the channels they chose and their addresses. */
export interface Recipient extends ChannelChoice {
  userId: string;
}

export interface NewNotice {
  sourceId: string;
  type: string;
  title: string;
  body: string;
  orderId: string | null;
}

/** An external delivery with its own text (an SMS is shorter and link-free). */
export interface NewDeliveryText extends NewDelivery {
  title: string;
  body: string;
}

export interface NewDelivery {
  /** `null`: a bare address with no account (a sign-up code). */
  userId: string | null;
  channel: 'sms' | 'email' | 'wechat';
  address: string;
  notBefore: Date;
}

export interface InboxRow {
  id: string;
  type: string;
  title: string;
  body: string;
  order_id: string | null;
  channel: 'in_app';
  created_at: Date;
  read_at: Date | null;
}

export interface DeliveryRow {
  id: string;
  user_id: string | null;
  channel: 'sms' | 'email' | 'wechat';
  address: string;
  type: string;
  title: string;
  body: string;
  order_id: string | null;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_error: string | null;
  not_before: Date;
  created_at: Date;
  finished_at: Date | null;
}

/** A user with its channel choices, as the recipient queries select it. */
export interface RecipientRow {
  id: string;
  phone: string | null;
  email: string | null;
  wechat_open_id: string | null;
  sms: boolean | null;
  email_on: boolean | null;
  wechat: boolean | null;
  quiet_hours: boolean | null;
}

export const toRecipient = (r: RecipientRow): Recipient => ({
  userId: r.id,
  phone: r.phone,
  emailAddress: r.email,
  wechatOpenId: r.wechat_open_id,
  sms: r.sms ?? false,
  email: r.email_on ?? false,
  wechat: r.wechat ?? false,
  isQuietHours: r.quiet_hours ?? true,
});

/** Users of one relation to an order: the SQL behind each RecipientKind, over the facts in `p`. */
function recipientQuery(kind: RecipientKind): string {
  switch (kind) {
    case 'requester':
      return `SELECT p.requester FROM p`;
    case 'community_staff':
      return `SELECT u.id FROM users u, p WHERE u.role = 'community_staff' AND u.community_code = p.community`;
    case 'department_staff':
      return `SELECT u.id FROM users u, p WHERE u.role = 'department_staff' AND u.department_id = p.department`;
    case 'offered_org_admins':
      return `SELECT u.id FROM users u, p WHERE u.role = 'org_admin' AND u.organization_id = p.offered`;
    case 'accepting_org_admins':
      return `SELECT u.id FROM users u, p WHERE u.role = 'org_admin' AND u.organization_id = p.accepting`;
    case 'involved_org_admins':
      return `SELECT u.id FROM users u, p WHERE u.role = 'org_admin' AND u.organization_id IN (p.offered, p.accepting)`;
    case 'serving_org_admins':
      return `SELECT u.id FROM users u JOIN organization_districts od ON od.organization_id = u.organization_id, p
              WHERE u.role = 'org_admin' AND od.district_code = p.district`;
    case 'district_coordinators':
      return `SELECT u.id FROM users u, p WHERE u.role = 'district_coordinator' AND u.district_code = p.district`;
    case 'listed_volunteers':
      return `SELECT v.user_id FROM volunteers v, p WHERE v.id = ANY(p.volunteers) AND v.user_id IS NOT NULL`;
    case 'confirmed_volunteers':
      return `SELECT v.user_id FROM assignments a JOIN volunteers v ON v.id = a.volunteer_id, p
              WHERE a.order_id = p.order_id AND a.status = 'confirmed' AND v.user_id IS NOT NULL`;
    case 'listed_users':
      return `SELECT unnest(p.users) FROM p`;
    case 'listed_phone':
      return `SELECT NULL::uuid WHERE false`; // a bare address, not a user: added by fan-out itself
    case 'community_residents':
      return `SELECT u.id FROM users u LEFT JOIN notification_preferences np ON np.user_id = u.id, p
              WHERE u.role = 'resident' AND u.community_code = p.community AND coalesce(np.events, true)`;
    case 'event_attendees':
      return `SELECT s.user_id FROM event_signups s, p WHERE s.order_id = p.order_id AND s.status = 'confirmed'`;
    case 'event_signups':
      return `SELECT s.user_id FROM event_signups s, p WHERE s.order_id = p.order_id AND s.status IN ('confirmed', 'waitlisted')`;
  }
}

interface FanOutRow {
  id: string;
  type: string;
  order_id: string | null;
  payload: Record<string, unknown>;
  created_at: Date;
  o_id: string | null;
  code: string | null;
  title: string | null;
  status: string | null;
  version: number | null;
  community_code: string | null;
  district_code: string | null;
  requester_id: string | null;
  department_id: string | null;
  organization_id: string | null;
  offered_organization_id: string | null;
  last_window_end: Date | null;
  scheduled_start: Date | null;
  scheduled_end: Date | null;
  completed_at: Date | null;
  urgent: boolean | null;
  entry_seq: number | null;
  entry_at: Date | null;
  ever_in: string[] | null;
  recipients: RecipientRow[];
}

@Injectable()
export class NotificationsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async findOutboxMessage(id: string): Promise<OutboxMessage | null> {
    const rows = await this.dataSource.query<{ id: string; type: string; order_id: string | null; payload: Record<string, unknown>; created_at: Date }[]>(
      `SELECT id, type, order_id, payload, created_at FROM outbox WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    return row ? { id: row.id, type: row.type, orderId: row.order_id, payload: row.payload, createdAt: row.created_at } : null;
  }

  /**
   * One message's fan-out input in one round trip: the outbox row, its order, the
   * active users holding any of `kinds` towards it (with their channel choices) and,
   * when `withEntry`, the event that brought the order into its current status.
   * A message about no order resolves only `listed_users` (its payload lists them).
   * `departmentId` / `organizationId` / `volunteerIds` / `userIds` of the payload name
   * who the event is about (e.g. the department that declined), falling back to the order's own.
   */
  async loadForFanOut(outboxId: string, kinds: readonly RecipientKind[], withEntry: boolean, restartsStage: readonly string[]): Promise<FanOutInput | null> {
    // Without an order every fact of `p` but the listed users is NULL, so only `listed_users` can match.
    const union = kinds.length > 0 ? kinds.map(recipientQuery).join(' UNION ') : `SELECT NULL::uuid WHERE false`;
    const rows = await preparedQuery<FanOutRow>(
      this.dataSource,
      // one statement per set of kinds; PostgreSQL cuts names at 63 bytes, so the set is hashed
      `kepu_fan_out_load_${createHash('sha1').update([...kinds].sort().join(',')).digest('hex').slice(0, 20)}`,
      `WITH m AS (SELECT id, type, order_id, payload, created_at FROM outbox WHERE id = $1),
       o AS (SELECT ord.* FROM orders ord JOIN m ON ord.id = m.order_id),
       n AS (
         SELECT CASE WHEN jsonb_typeof(m.payload->'departmentId') = 'string' THEN (m.payload->>'departmentId')::uuid END AS dep,
                CASE WHEN jsonb_typeof(m.payload->'organizationId') = 'string' THEN (m.payload->>'organizationId')::uuid END AS org,
                ARRAY(SELECT e #>> '{}' FROM jsonb_array_elements(CASE WHEN jsonb_typeof(m.payload->'volunteerIds') = 'array' THEN m.payload->'volunteerIds' ELSE '[]'::jsonb END) e
                      WHERE jsonb_typeof(e) = 'string')::uuid[] AS volunteers,
                ARRAY(SELECT e #>> '{}' FROM jsonb_array_elements(CASE WHEN jsonb_typeof(m.payload->'userIds') = 'array' THEN m.payload->'userIds' ELSE '[]'::jsonb END) e
                      WHERE jsonb_typeof(e) = 'string')::uuid[] AS users
         FROM m),
       p AS (
         SELECT o.requester_id AS requester, o.community_code AS community,
                CASE WHEN o.id IS NOT NULL THEN coalesce(n.dep, o.department_id) END AS department,
                CASE WHEN o.id IS NOT NULL THEN coalesce(n.org, o.offered_organization_id) END AS offered,
                CASE WHEN o.id IS NOT NULL THEN coalesce(o.organization_id, n.org) END AS accepting,
                o.district_code AS district, CASE WHEN o.id IS NOT NULL THEN n.volunteers END AS volunteers, o.id AS order_id, n.users
         FROM n LEFT JOIN o ON true),
       r AS (
         SELECT u.id, u.phone, u.email, u.wechat_open_id, np.sms, np.email AS email_on, np.wechat, np.quiet_hours
         FROM users u LEFT JOIN notification_preferences np ON np.user_id = u.id
         WHERE u.is_active AND u.id IN (${union}))
       SELECT m.id, m.type, m.order_id, m.payload, m.created_at,
              o.id AS o_id, o.code, o.title, o.status, o.version, o.community_code, o.district_code, o.requester_id, o.department_id,
              o.organization_id, o.offered_organization_id, o.last_window_end, o.scheduled_start, o.scheduled_end, o.completed_at, o.urgent,
              le.seq AS entry_seq, le.at AS entry_at,
              CASE WHEN $2 AND o.id IS NOT NULL THEN ARRAY(SELECT DISTINCT h.to_status FROM order_events h WHERE h.order_id = o.id) END AS ever_in,
              (SELECT coalesce(json_agg(r), '[]'::json) FROM r) AS recipients
       FROM m LEFT JOIN o ON true
       LEFT JOIN LATERAL (
         SELECT e.seq, e.at FROM order_events e
         WHERE $2 AND e.order_id = o.id AND e.to_status = o.status AND (e.from_status IS DISTINCT FROM e.to_status OR e.type = ANY($3::text[]))
         ORDER BY e.seq DESC LIMIT 1) le ON true`,
      [outboxId, withEntry, restartsStage],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      message: { id: r.id, type: r.type, orderId: r.order_id, payload: r.payload, createdAt: r.created_at },
      order: r.o_id
        ? {
            id: r.o_id,
            code: r.code ?? '',
            title: r.title ?? '',
            status: r.status ?? '',
            communityCode: r.community_code ?? '',
            districtCode: r.district_code ?? '',
            requesterId: r.requester_id ?? '',
            departmentId: r.department_id,
            organizationId: r.organization_id,
            offeredOrganizationId: r.offered_organization_id,
            times: {
              status: r.status ?? '',
              version: r.version ?? 0,
              districtCode: r.district_code ?? '',
              lastWindowEnd: r.last_window_end ?? new Date(0),
              scheduledStart: r.scheduled_start,
              scheduledEnd: r.scheduled_end,
              completedAt: r.completed_at,
              urgent: r.urgent ?? false,
            },
          }
        : null,
      recipients: r.recipients.map(toRecipient),
      entry: r.entry_seq !== null && r.entry_at !== null ? { seq: r.entry_seq, at: r.entry_at } : null,
      everIn: new Set(r.ever_in ?? []),
    };
  }

  /**
   * In-app notifications and external deliveries of one message (or one broadcast
   * batch), under their unique keys, in ONE statement: a job that runs twice writes
   * nothing the second time. Returns every delivery of the source still pending (new,
   * or left over from a crashed attempt), for the caller to enqueue after it;
   * `pendingUsers` narrows that to a range of user ids (a broadcast's batch).
   */
  async recordNotices(
    notice: NewNotice,
    userIds: string[],
    deliveries: NewDeliveryText[],
    pendingUsers?: { first: string; last: string },
  ): Promise<{ id: string; notBefore: Date }[]> {
    const pending = await preparedQuery<{ id: string; not_before: Date }>(
      this.dataSource,
      'kepu_record_notices',
      `WITH n AS (
         INSERT INTO notifications (user_id, source_id, type, title, body, order_id)
         SELECT unnest($1::uuid[]), $2, $3, $4, $5, $6
         ON CONFLICT ON CONSTRAINT notifications_once DO NOTHING
       ), d AS (
         INSERT INTO deliveries (user_id, source_id, channel, address, type, title, body, order_id, not_before)
         SELECT d.user_id, $2, d.channel, d.address, $3, d.title, d.body, $6, d.not_before
         FROM jsonb_to_recordset($7::jsonb) AS d(user_id uuid, channel text, address text, title text, body text, not_before timestamptz)
         ON CONFLICT DO NOTHING -- deliveries_once, or deliveries_once_by_address for a bare phone
         RETURNING id, not_before
       )
       SELECT id, not_before FROM d
       UNION
       SELECT id, not_before FROM deliveries
       WHERE source_id = $2 AND status = 'pending' AND ($8::uuid IS NULL OR user_id BETWEEN $8::uuid AND $9::uuid)`,
      [
        userIds,
        notice.sourceId,
        notice.type,
        notice.title,
        notice.body,
        notice.orderId,
        JSON.stringify(deliveries.map((d) => ({ user_id: d.userId, channel: d.channel, address: d.address, title: d.title, body: d.body, not_before: d.notBefore.toISOString() }))),
        pendingUsers?.first ?? null,
        pendingUsers?.last ?? null,
      ],
    );
    return pending.map((p) => ({ id: p.id, notBefore: p.not_before }));
  }

  async findDelivery(id: string): Promise<DeliveryRow | null> {
    const rows = await this.dataSource.query<DeliveryRow[]>(`SELECT * FROM deliveries WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  async markDelivered(id: string, attempts: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE deliveries SET status = 'delivered', attempts = $2, last_error = NULL, finished_at = now() WHERE id = $1 AND status = 'pending'`,
      [id, attempts],
    );
  }

  async recordAttemptFailure(id: string, attempts: number, error: string, isFinal: boolean): Promise<void> {
    await this.dataSource.query(
      `UPDATE deliveries SET attempts = $2, last_error = $3, status = CASE WHEN $4 THEN 'failed' ELSE status END,
         finished_at = CASE WHEN $4 THEN now() ELSE finished_at END
       WHERE id = $1 AND status = 'pending'`,
      [id, attempts, error.slice(0, 500), isFinal],
    );
  }

  async inbox(userId: string, isUnreadOnly: boolean, limit: number, after?: KeysetPosition): Promise<InboxRow[]> {
    const sql = new Sql();
    const where = [`user_id = ${sql.param(userId)}`];
    if (isUnreadOnly) where.push(`read_at IS NULL`);
    if (after) where.push(`(created_at, id) < (${sql.param(after.at)}, ${sql.param(after.id)})`);
    return this.dataSource.query<InboxRow[]>(
      `SELECT id, type, title, body, order_id, channel, created_at, read_at FROM notifications
       WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ${sql.param(limit + 1)}`,
      sql.params,
    );
  }

  /** Marks one of the user's own notifications read; false when it is not theirs or absent. */
  async markRead(userId: string, id: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE id = $1 AND user_id = $2 RETURNING id`,
      [id, userId],
    );
    return (Array.isArray(rows[0]) ? (rows[0] as unknown[]) : rows).length > 0;
  }

  /** `events` absent: unchanged (on by default). */
  async savePreferences(userId: string, p: { sms: boolean; email: boolean; wechat: boolean; quietHours: boolean; events?: boolean }): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO notification_preferences (user_id, sms, email, wechat, quiet_hours, events, updated_at) VALUES ($1, $2, $3, $4, $5, coalesce($6, true), now())
       ON CONFLICT (user_id) DO UPDATE SET sms = $2, email = $3, wechat = $4, quiet_hours = $5,
         events = coalesce($6, notification_preferences.events), updated_at = now()`,
      [userId, p.sms, p.email, p.wechat, p.quietHours, p.events ?? null],
    );
  }

  async preferences(userId: string): Promise<{ sms: boolean; email: boolean; wechat: boolean; quietHours: boolean; events: boolean }> {
    const rows = await this.dataSource.query<{ sms: boolean; email: boolean; wechat: boolean; quiet_hours: boolean; events: boolean }[]>(
      `SELECT sms, email, wechat, quiet_hours, events FROM notification_preferences WHERE user_id = $1`,
      [userId],
    );
    const r = rows[0];
    return r
      ? { sms: r.sms, email: r.email, wechat: r.wechat, quietHours: r.quiet_hours, events: r.events }
      : { sms: false, email: false, wechat: false, quietHours: true, events: true };
  }

  async deliveries(status: string | undefined, limit: number, after?: KeysetPosition): Promise<DeliveryRow[]> {
    const sql = new Sql();
    const where: string[] = [];
    if (status) where.push(`status = ${sql.param(status)}`);
    if (after) where.push(`(created_at, id) < (${sql.param(after.at)}, ${sql.param(after.id)})`);
    return this.dataSource.query<DeliveryRow[]>(
      `SELECT * FROM deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ${sql.param(limit + 1)}`,
      sql.params,
    );
  }
}
