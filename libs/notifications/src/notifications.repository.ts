import type { ChannelChoice, RecipientKind } from '@kepu/core';
import { Sql } from '@kepu/db';
import { type KeysetPosition } from '@kepu/http';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
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

export interface NewDelivery {
  userId: string;
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
  user_id: string;
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
  }
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

  async findOrder(id: string): Promise<OrderForNotice | null> {
    const rows = await this.dataSource.query<
      {
        id: string;
        code: string;
        title: string;
        status: string;
        community_code: string;
        district_code: string;
        requester_id: string;
        department_id: string | null;
        organization_id: string | null;
        offered_organization_id: string | null;
      }[]
    >(
      `SELECT id, code, title, status, community_code, district_code, requester_id, department_id, organization_id, offered_organization_id
       FROM orders WHERE id = $1`,
      [id],
    );
    const r = rows[0];
    return r
      ? {
          id: r.id,
          code: r.code,
          title: r.title,
          status: r.status,
          communityCode: r.community_code,
          districtCode: r.district_code,
          requesterId: r.requester_id,
          departmentId: r.department_id,
          organizationId: r.organization_id,
          offeredOrganizationId: r.offered_organization_id,
        }
      : null;
  }

  /**
   * The active users holding any of `kinds` towards the order, with their channel
   * preferences. `departmentId` / `organizationId` are the ones the event names
   * (e.g. the department that declined), falling back to the order's own.
   */
  async resolveRecipients(
    kinds: readonly RecipientKind[],
    order: OrderForNotice,
    named: { departmentId: string | null; organizationId: string | null; volunteerIds: string[] },
  ): Promise<Recipient[]> {
    if (kinds.length === 0) return [];
    const union = kinds.map(recipientQuery).join(' UNION ');
    const rows = await this.dataSource.query<
      { id: string; phone: string | null; email: string | null; wechat_open_id: string | null; sms: boolean | null; email_on: boolean | null; wechat: boolean | null; quiet_hours: boolean | null }[]
    >(
      `WITH p AS (SELECT $1::uuid AS requester, $2::text AS community, $3::uuid AS department, $4::uuid AS offered, $5::uuid AS accepting,
                         $6::text AS district, $7::uuid[] AS volunteers, $8::uuid AS order_id)
       SELECT u.id, u.phone, u.email, u.wechat_open_id, np.sms, np.email AS email_on, np.wechat, np.quiet_hours
       FROM users u LEFT JOIN notification_preferences np ON np.user_id = u.id
       WHERE u.is_active AND u.id IN (${union})`,
      [
        order.requesterId,
        order.communityCode,
        named.departmentId ?? order.departmentId,
        named.organizationId ?? order.offeredOrganizationId,
        order.organizationId ?? named.organizationId,
        order.districtCode,
        named.volunteerIds,
        order.id,
      ],
    );
    return rows.map((r) => ({
      userId: r.id,
      phone: r.phone,
      emailAddress: r.email,
      wechatOpenId: r.wechat_open_id,
      sms: r.sms ?? false,
      email: r.email_on ?? false,
      wechat: r.wechat ?? false,
      isQuietHours: r.quiet_hours ?? true,
    }));
  }

  /**
   * In-app notifications and external deliveries of one message, under their unique
   * keys in one transaction: a job that runs twice writes nothing the second time.
   * Returns the ids of every delivery of the message still pending (new or left
   * over from a crashed attempt), for the caller to enqueue.
   */
  async recordNotices(notice: NewNotice, userIds: string[], deliveries: (NewDelivery & NewNotice)[]): Promise<{ id: string; notBefore: Date }[]> {
    return this.dataSource.transaction(async (manager) => {
      if (userIds.length > 0)
        await manager.query(
          `INSERT INTO notifications (user_id, source_id, type, title, body, order_id)
           SELECT unnest($1::uuid[]), $2, $3, $4, $5, $6
           ON CONFLICT ON CONSTRAINT notifications_once DO NOTHING`,
          [userIds, notice.sourceId, notice.type, notice.title, notice.body, notice.orderId],
        );
      for (const d of deliveries)
        await manager.query(
          `INSERT INTO deliveries (user_id, source_id, channel, address, type, title, body, order_id, not_before)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT ON CONSTRAINT deliveries_once DO NOTHING`,
          [d.userId, d.sourceId, d.channel, d.address, d.type, d.title, d.body, d.orderId, d.notBefore],
        );
      const pending = await manager.query<{ id: string; not_before: Date }[]>(
        `SELECT id, not_before FROM deliveries WHERE source_id = $1 AND status = 'pending'`,
        [notice.sourceId],
      );
      return pending.map((p) => ({ id: p.id, notBefore: p.not_before }));
    });
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

  async savePreferences(userId: string, p: { sms: boolean; email: boolean; wechat: boolean; quietHours: boolean }): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO notification_preferences (user_id, sms, email, wechat, quiet_hours, updated_at) VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (user_id) DO UPDATE SET sms = $2, email = $3, wechat = $4, quiet_hours = $5, updated_at = now()`,
      [userId, p.sms, p.email, p.wechat, p.quietHours],
    );
  }

  async preferences(userId: string): Promise<{ sms: boolean; email: boolean; wechat: boolean; quietHours: boolean }> {
    const rows = await this.dataSource.query<{ sms: boolean; email: boolean; wechat: boolean; quiet_hours: boolean }[]>(
      `SELECT sms, email, wechat, quiet_hours FROM notification_preferences WHERE user_id = $1`,
      [userId],
    );
    const r = rows[0];
    return r ? { sms: r.sms, email: r.email, wechat: r.wechat, quietHours: r.quiet_hours } : { sms: false, email: false, wechat: false, quietHours: true };
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
