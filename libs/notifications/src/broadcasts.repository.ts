import { Sql } from '@kepu/db';
import { type KeysetPosition } from '@kepu/http';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { BroadcastChannel } from './broadcasts.dto';
import { type Recipient, type RecipientRow, toRecipient } from './notifications.repository';

/** Users per batch job: bounded, so one job holds a transaction for a fraction of a second. */
export const BROADCAST_BATCH_SIZE = 500;

/** Who a broadcast goes to: users of `roles` in `districtCodes` (null: the whole city), never the sender. */
export interface BroadcastAudience {
  senderId: string;
  roles: string[];
  districtCodes: string[] | null;
}

export interface NewBroadcast extends BroadcastAudience {
  title: string;
  body: string;
  channels: BroadcastChannel[];
  isUrgent: boolean;
  idempotencyKey: string | null;
  requestHash: string | null;
}

export interface BroadcastRecord extends BroadcastAudience {
  id: string;
  title: string;
  body: string;
  channels: BroadcastChannel[];
  isUrgent: boolean;
  recipients: number;
  batches: number;
  createdAt: Date;
}

export interface BroadcastBatch {
  broadcastId: string;
  batchNo: number;
  firstUserId: string;
  lastUserId: string;
  recipients: number;
  doneAt: Date | null;
}

/** A broadcast with its progress figures as PostgreSQL counts them now. */
export interface BroadcastProgressRow {
  id: string;
  sender_id: string;
  title: string;
  body: string;
  district_codes: string[] | null;
  roles: string[];
  channels: BroadcastChannel[];
  is_urgent: boolean;
  recipients: number;
  created_at: Date;
  /** Recipients of batches not yet fanned out. */
  unsent: number;
  open_batches: number;
  last_batch_at: Date | null;
  failed_users: number;
  pending_users: number;
  last_delivery_at: Date | null;
}

interface BroadcastRow {
  id: string;
  sender_id: string;
  title: string;
  body: string;
  district_codes: string[] | null;
  roles: string[];
  channels: BroadcastChannel[];
  is_urgent: boolean;
  recipients: number;
  batches: number;
  created_at: Date;
}

const toRecord = (r: BroadcastRow): BroadcastRecord => ({
  id: r.id,
  senderId: r.sender_id,
  title: r.title,
  body: r.body,
  districtCodes: r.district_codes,
  roles: r.roles,
  channels: r.channels,
  isUrgent: r.is_urgent,
  recipients: r.recipients,
  batches: r.batches,
  createdAt: r.created_at,
});

/**
 * The users of an audience, as a predicate on `u` (users). A user's district: its
 * community's (residents, community staff), its own (coordinators), its department's
 * (department staff; a city-wide department serves every district), the districts its
 * organisation serves (org admins, volunteers). City admins belong to no district:
 * only a whole-city broadcast reaches them.
 */
function audiencePredicate(sql: Sql, audience: BroadcastAudience): string {
  const base = `u.is_active AND u.id <> ${sql.param(audience.senderId)} AND u.role = ANY(${sql.param(audience.roles)}::text[])`;
  if (audience.districtCodes === null) return base;
  const d = `${sql.param(audience.districtCodes)}::text[]`;
  return `${base} AND (
      (u.role IN ('resident', 'community_staff') AND left(u.community_code, 6) = ANY(${d}))
   OR (u.role = 'district_coordinator' AND u.district_code = ANY(${d}))
   OR (u.role = 'department_staff' AND EXISTS (SELECT 1 FROM departments dep WHERE dep.id = u.department_id AND (dep.district_code IS NULL OR dep.district_code = ANY(${d}))))
   OR (u.role IN ('org_admin', 'volunteer') AND EXISTS (SELECT 1 FROM organization_districts od WHERE od.organization_id = u.organization_id AND od.district_code = ANY(${d}))))`;
}

/** Broadcasts and their batches (the batch fan-out writes its notifications and deliveries through NotificationsRepository.recordNotices). */
@Injectable()
export class BroadcastsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Serialises the requests of one sender and key: the second waits for the first's commit, then finds its answer. */
  async lockKey(manager: EntityManager, senderId: string, key: string): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('broadcast:' || $1 || ':' || $2, 0))`, [senderId, key]);
  }

  /** The broadcast a sender's Idempotency-Key made, if any (in the caller's transaction when given). */
  async findByKey(senderId: string, key: string, manager: EntityManager = this.dataSource.manager): Promise<{ requestHash: string | null; response: unknown } | null> {
    const rows = await manager.query<{ request_hash: string | null; response: unknown }[]>(
      `SELECT request_hash, response FROM broadcasts WHERE sender_id = $1 AND idempotency_key = $2`,
      [senderId, key],
    );
    const row = rows[0];
    return row ? { requestHash: row.request_hash, response: row.response } : null;
  }

  async unknownDistricts(codes: string[]): Promise<string[]> {
    const rows = await this.dataSource.query<{ code: string }[]>(
      `SELECT c.code FROM unnest($1::text[]) AS c(code) WHERE NOT EXISTS (SELECT 1 FROM districts d WHERE d.code = c.code)`,
      [codes],
    );
    return rows.map((r) => r.code);
  }

  /**
   * Writes the broadcast and cuts its recipients (as they are now) into keyset batches
   * of `BROADCAST_BATCH_SIZE` over user ids: batch n covers the ids from its first to
   * its last. Fixed here, a batch re-run later covers the same users.
   */
  async create(manager: EntityManager, input: NewBroadcast, response: (id: string, recipients: number) => unknown): Promise<{ id: string; recipients: number }> {
    const sql = new Sql();
    const where = audiencePredicate(sql, input);
    const plan = await manager.query<{ batch_no: number; first_id: string; last_id: string; n: number }[]>(
      `SELECT batch_no::int, min(id::text)::uuid AS first_id, max(id::text)::uuid AS last_id, count(*)::int AS n
       FROM (SELECT u.id, (row_number() OVER (ORDER BY u.id) - 1) / ${sql.param(BROADCAST_BATCH_SIZE)} AS batch_no FROM users u WHERE ${where}) r
       GROUP BY batch_no ORDER BY batch_no`,
      sql.params,
    );
    const recipients = plan.reduce((sum, b) => sum + b.n, 0);
    const inserted = await manager.query<{ id: string }[]>(
      `INSERT INTO broadcasts (sender_id, title, body, district_codes, roles, channels, is_urgent, recipients, batches, idempotency_key, request_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
      [input.senderId, input.title, input.body, input.districtCodes, input.roles, input.channels, input.isUrgent, recipients, plan.length, input.idempotencyKey, input.requestHash],
    );
    const id = inserted[0]?.id ?? '';
    if (plan.length > 0)
      await manager.query(
        `INSERT INTO broadcast_batches (broadcast_id, batch_no, first_user_id, last_user_id, recipients)
         SELECT $1, b.batch_no, b.first_id, b.last_id, b.n FROM jsonb_to_recordset($2::jsonb) AS b(batch_no int, first_id uuid, last_id uuid, n int)`,
        [id, JSON.stringify(plan)],
      );
    if (input.idempotencyKey !== null) await manager.query(`UPDATE broadcasts SET response = $2 WHERE id = $1`, [id, JSON.stringify(response(id, recipients))]);
    return { id, recipients };
  }

  private progressSelect(where: string): string {
    return `
      SELECT b.id, b.sender_id, b.title, b.body, b.district_codes, b.roles, b.channels, b.is_urgent, b.recipients, b.created_at,
             coalesce(bt.unsent, 0)::int AS unsent, coalesce(bt.open_batches, 0)::int AS open_batches, bt.last_batch_at,
             coalesce(d.failed_users, 0)::int AS failed_users, coalesce(d.pending_users, 0)::int AS pending_users, d.last_delivery_at
      FROM broadcasts b
      LEFT JOIN LATERAL (
        SELECT sum(recipients) FILTER (WHERE done_at IS NULL) AS unsent, count(*) FILTER (WHERE done_at IS NULL) AS open_batches, max(done_at) AS last_batch_at
        FROM broadcast_batches WHERE broadcast_id = b.id) bt ON true
      LEFT JOIN LATERAL (
        SELECT count(*) FILTER (WHERE is_failed) AS failed_users, count(*) FILTER (WHERE is_pending AND NOT is_failed) AS pending_users, max(last_at) AS last_delivery_at
        FROM (SELECT bool_or(status = 'failed') AS is_failed, bool_or(status = 'pending') AS is_pending, max(finished_at) AS last_at
              FROM deliveries dl WHERE dl.source_id = b.id
                -- users of a batch not done yet are counted among its unsent recipients
                AND NOT EXISTS (SELECT 1 FROM broadcast_batches ob WHERE ob.broadcast_id = b.id AND ob.done_at IS NULL
                                AND dl.user_id BETWEEN ob.first_user_id AND ob.last_user_id)
              GROUP BY dl.user_id) per_user) d ON true
      WHERE ${where}`;
  }

  async findProgress(id: string): Promise<BroadcastProgressRow | null> {
    const rows = await this.dataSource.query<BroadcastProgressRow[]>(this.progressSelect(`b.id = $1`), [id]);
    return rows[0] ?? null;
  }

  /** Newest first; `senderId` null: every broadcast (city_admin). */
  async listProgress(senderId: string | null, limit: number, after?: KeysetPosition): Promise<BroadcastProgressRow[]> {
    const sql = new Sql();
    const where = ['TRUE'];
    if (senderId !== null) where.push(`b.sender_id = ${sql.param(senderId)}`);
    if (after) where.push(`(b.created_at, b.id) < (${sql.param(after.at)}, ${sql.param(after.id)})`);
    return this.dataSource.query<BroadcastProgressRow[]>(
      `${this.progressSelect(where.join(' AND '))} ORDER BY b.created_at DESC, b.id DESC LIMIT ${sql.param(limit + 1)}`,
      sql.params,
    );
  }

  // ---------------------------------------------------------------- worker side

  /**
   * Hands broadcasts whose batch jobs were not yet added to `enqueue` (locked with SKIP
   * LOCKED, so several workers share them) and marks them enqueued in the same
   * transaction; when `enqueue` throws they stay unmarked for the next look.
   */
  async enqueueNext(limit: number, enqueue: (broadcasts: { id: string; batches: number }[]) => Promise<void>): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const rows = await manager.query<{ id: string; batches: number }[]>(
        `SELECT id, batches FROM broadcasts WHERE enqueued_at IS NULL ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      if (rows.length === 0) return 0;
      await enqueue(rows);
      await manager.query(`UPDATE broadcasts SET enqueued_at = now() WHERE id = ANY($1::uuid[])`, [rows.map((r) => r.id)]);
      return rows.length;
    });
  }

  /** Batches not fanned out yet of broadcasts enqueued before `enqueuedBefore`: their jobs may have been lost with Redis' data. */
  async openBatches(enqueuedBefore: Date): Promise<{ broadcastId: string; batchNo: number }[]> {
    const rows = await this.dataSource.query<{ broadcast_id: string; batch_no: number }[]>(
      `SELECT bb.broadcast_id, bb.batch_no FROM broadcast_batches bb JOIN broadcasts b ON b.id = bb.broadcast_id
       WHERE bb.done_at IS NULL AND b.enqueued_at < $1 ORDER BY b.created_at, bb.batch_no`,
      [enqueuedBefore],
    );
    return rows.map((r) => ({ broadcastId: r.broadcast_id, batchNo: r.batch_no }));
  }

  async find(id: string): Promise<BroadcastRecord | null> {
    const rows = await this.dataSource.query<BroadcastRow[]>(
      `SELECT id, sender_id, title, body, district_codes, roles, channels, is_urgent, recipients, batches, created_at FROM broadcasts WHERE id = $1`,
      [id],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async findBatch(broadcastId: string, batchNo: number): Promise<BroadcastBatch | null> {
    const rows = await this.dataSource.query<
      { broadcast_id: string; batch_no: number; first_user_id: string; last_user_id: string; recipients: number; done_at: Date | null }[]
    >(`SELECT broadcast_id, batch_no, first_user_id, last_user_id, recipients, done_at FROM broadcast_batches WHERE broadcast_id = $1 AND batch_no = $2`, [
      broadcastId,
      batchNo,
    ]);
    const r = rows[0];
    return r ? { broadcastId: r.broadcast_id, batchNo: r.batch_no, firstUserId: r.first_user_id, lastUserId: r.last_user_id, recipients: r.recipients, doneAt: r.done_at } : null;
  }

  /** The audience's users within the batch's id range (a primary-key range scan), with their channel choices. */
  async batchRecipients(broadcast: BroadcastRecord, batch: BroadcastBatch): Promise<Recipient[]> {
    const sql = new Sql();
    const where = audiencePredicate(sql, broadcast);
    const rows = await this.dataSource.query<RecipientRow[]>(
      `SELECT u.id, u.phone, u.email, u.wechat_open_id, np.sms, np.email AS email_on, np.wechat, np.quiet_hours
       FROM users u LEFT JOIN notification_preferences np ON np.user_id = u.id
       WHERE u.id BETWEEN ${sql.param(batch.firstUserId)}::uuid AND ${sql.param(batch.lastUserId)}::uuid AND ${where}
       ORDER BY u.id`,
      sql.params,
    );
    return rows.map(toRecipient);
  }

  async markBatchDone(broadcastId: string, batchNo: number): Promise<void> {
    await this.dataSource.query(`UPDATE broadcast_batches SET done_at = now() WHERE broadcast_id = $1 AND batch_no = $2 AND done_at IS NULL`, [broadcastId, batchNo]);
  }
}
