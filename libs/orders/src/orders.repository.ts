import { type Actor, NEW_ORDER_STATE, type OrderStatus } from '@kepu/core';
import { type OrderEntity, rowsOf, Sql, type StoredWindow } from '@kepu/db';
import { type KeysetPosition } from '@kepu/http';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

export type OrderRecord = OrderEntity;

interface OrderRow {
  id: string;
  code: string;
  status: OrderStatus;
  version: number;
  community_code: string;
  subdistrict_code: string;
  district_code: string;
  requester_id: string;
  topic: string;
  audience: string;
  format: string;
  title: string;
  description: string;
  expected_attendance: number;
  preferred_windows: StoredWindow[];
  last_window_end: Date;
  accessibility_needs: string[];
  contact_name: string;
  contact_phone: string;
  department_id: string | null;
  organization_id: string | null;
  offered_organization_id: string | null;
  is_open_to_organizations: boolean;
  scheduled_start: Date | null;
  scheduled_end: Date | null;
  venue_id: string | null;
  returned_count: number;
  merged_into_id: string | null;
  possible_duplicate_ids: string[];
  rating: Record<string, unknown> | null;
  open_slots: number;
  attendance: number | null;
  summary: string | null;
  completed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

function toRecord(row: OrderRow): OrderRecord {
  return {
    id: row.id,
    code: row.code,
    status: row.status,
    version: row.version,
    communityCode: row.community_code,
    subdistrictCode: row.subdistrict_code,
    districtCode: row.district_code,
    requesterId: row.requester_id,
    topic: row.topic,
    audience: row.audience,
    format: row.format,
    title: row.title,
    description: row.description,
    expectedAttendance: row.expected_attendance,
    preferredWindows: row.preferred_windows,
    lastWindowEnd: row.last_window_end,
    accessibilityNeeds: row.accessibility_needs,
    contactName: row.contact_name,
    contactPhone: row.contact_phone,
    departmentId: row.department_id,
    organizationId: row.organization_id,
    offeredOrganizationId: row.offered_organization_id,
    isOpenToOrganizations: row.is_open_to_organizations,
    scheduledStart: row.scheduled_start,
    scheduledEnd: row.scheduled_end,
    venueId: row.venue_id,
    returnedCount: row.returned_count,
    mergedIntoId: row.merged_into_id,
    possibleDuplicateIds: row.possible_duplicate_ids,
    rating: row.rating,
    openSlots: row.open_slots,
    attendance: row.attendance,
    summary: row.summary,
    completedAt: row.completed_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * The orders an actor may see (DESIGN.md §2), as a SQL predicate over `o`.
 * An organisation keeps seeing an order that was open in its district after
 * another took it, so the loser of an accept race learns it lost (409), not 404.
 */
function visibleTo(actor: Actor, sql: Sql): string {
  switch (actor.role) {
    case 'city_admin':
      return 'TRUE';
    case 'district_coordinator':
      return `o.district_code = ${sql.param(actor.districtCode)}`;
    case 'resident':
      return `o.requester_id = ${sql.param(actor.userId)}`;
    case 'community_staff':
      return `o.community_code = ${sql.param(actor.communityCode)}`;
    case 'department_staff':
      return `o.department_id = ${sql.param(actor.departmentId)}`;
    case 'org_admin': {
      const org = sql.param(actor.organizationId);
      return `(o.organization_id = ${org} OR o.offered_organization_id = ${org} OR (o.is_open_to_organizations AND o.district_code IN (SELECT district_code FROM organization_districts WHERE organization_id = ${org})))`;
    }
    case 'volunteer': {
      // Their own assignments (any status), and their organisation's events with slots to claim.
      const volunteer = sql.param(actor.volunteerId);
      const org = sql.param(actor.organizationId);
      return `(EXISTS (SELECT 1 FROM assignments a WHERE a.order_id = o.id AND a.volunteer_id = ${volunteer}) OR (o.organization_id = ${org} AND o.status = 'scheduled' AND o.open_slots > 0))`;
    }
  }
}

export interface NewOrder {
  communityCode: string;
  subdistrictCode: string;
  districtCode: string;
  requesterId: string;
  actorRole: string;
  topic: string;
  audience: string;
  format: string;
  title: string;
  description: string;
  expectedAttendance: number;
  preferredWindows: StoredWindow[];
  lastWindowEnd: Date;
  accessibilityNeeds: string[];
  contactName: string;
  contactPhone: string;
  possibleDuplicateIds: string[];
}

export interface OrderFilters {
  status?: OrderStatus;
  districtCode?: string;
  subdistrictCode?: string;
  communityCode?: string;
  topic?: string;
  audience?: string;
  from?: Date;
  to?: Date;
}

/** Columns a transition may set besides status and version. */
export interface OrderPatch {
  departmentId?: string | null;
  organizationId?: string | null;
  offeredOrganizationId?: string | null;
  isOpenToOrganizations?: boolean;
  returnedCount?: number;
  mergedIntoId?: string | null;
  scheduledStart?: Date | null;
  scheduledEnd?: Date | null;
  venueId?: string | null;
  openSlots?: number;
  attendance?: number | null;
  summary?: string | null;
  completedAt?: Date | null;
  rating?: Record<string, unknown> | null;
}

const PATCH_COLUMNS: Record<keyof OrderPatch, string> = {
  departmentId: 'department_id',
  organizationId: 'organization_id',
  offeredOrganizationId: 'offered_organization_id',
  isOpenToOrganizations: 'is_open_to_organizations',
  returnedCount: 'returned_count',
  mergedIntoId: 'merged_into_id',
  scheduledStart: 'scheduled_start',
  scheduledEnd: 'scheduled_end',
  venueId: 'venue_id',
  openSlots: 'open_slots',
  attendance: 'attendance',
  summary: 'summary',
  completedAt: 'completed_at',
  rating: 'rating',
};

/** Further outbox messages the transition causes (e.g. assignment.invited), committed with it. */
export interface ExtraMessage {
  type: string;
  payload: Record<string, unknown>;
}

/**
 * What effects learned inside the transaction: `payload` joins the event's payload
 * (e.g. the volunteers whose assignments ended); `messages` are outbox messages only
 * the transaction can know (e.g. assignment.cancelled to the volunteers a reschedule removed).
 */
export interface EffectsOutcome {
  payload?: Record<string, unknown>;
  messages?: ExtraMessage[];
}

/**
 * Writes another library makes in the transition's own transaction, after the
 * conditional update won (bookings, assignments, service records): a repository
 * method of that library, handed the transaction's manager.
 */
export type TransitionEffects = (manager: EntityManager, order: OrderRecord) => Promise<EffectsOutcome | void>;

export interface TransitionWrite {
  orderId: string;
  fromStatus: OrderStatus;
  fromVersion: number;
  toStatus: OrderStatus;
  patch: OrderPatch;
  eventType: string;
  actorId: string | null;
  actorRole: string;
  payload: Record<string, unknown>;
  /** Runs inside the transaction before the update; throw to abort (e.g. re-check a merge target under lock). */
  precheck?: (tx: OrdersTransaction) => Promise<void>;
  effects?: TransitionEffects;
  messages?: ExtraMessage[];
}

/** What a precheck may read inside the transition's transaction. */
export interface OrdersTransaction {
  lockOrderForShare(id: string): Promise<Pick<OrderRecord, 'id' | 'status' | 'communityCode'> | null>;
}

export interface IdempotencyCompletion {
  userId: string;
  key: string;
  render: (order: OrderRecord) => unknown;
}

@Injectable()
export class OrdersRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Communities are reference data that only an import changes: cached per process after the first read. */
  private readonly communities = new Map<string, { code: string; subdistrictCode: string; districtCode: string }>();

  async findCommunity(code: string): Promise<{ code: string; subdistrictCode: string; districtCode: string } | null> {
    const cached = this.communities.get(code);
    if (cached) return cached;
    const rows = await this.dataSource.query<{ code: string; subdistrict_code: string; district_code: string }[]>(
      `SELECT code, subdistrict_code, district_code FROM communities WHERE code = $1`,
      [code],
    );
    const row = rows[0];
    if (!row) return null;
    const community = { code: row.code, subdistrictCode: row.subdistrict_code, districtCode: row.district_code };
    this.communities.set(code, community);
    return community;
  }

  /** Open orders of a community with this topic and audience: the candidates for duplicate hints. */
  async openOrdersLike(communityCode: string, topic: string, audience: string): Promise<{ id: string; preferredWindows: StoredWindow[] }[]> {
    const rows = await this.dataSource.query<{ id: string; preferred_windows: StoredWindow[] }[]>(
      `SELECT id, preferred_windows FROM orders
       WHERE community_code = $1 AND topic = $2 AND audience = $3
         AND status IN ('submitted','dispatched','claimed','accepted','scheduled')
       ORDER BY created_at DESC LIMIT 20`,
      [communityCode, topic, audience],
    );
    return rows.map((r) => ({ id: r.id, preferredWindows: r.preferred_windows }));
  }

  /**
   * Inserts the order, its first event and its outbox message in one transaction;
   * with `idempotency`, the stored answer commits with the order or not at all.
   */
  async insert(order: NewOrder, idempotency?: IdempotencyCompletion): Promise<OrderRecord> {
    const run = async (manager: EntityManager): Promise<OrderRecord> => {
      // One statement: the order, its first event and its outbox message commit together in one round trip.
      const rows = await manager.query<Pick<OrderRow, 'id' | 'code' | 'created_at'>[]>(
        `WITH o AS (
           INSERT INTO orders (code, status, version, community_code, subdistrict_code, district_code, requester_id, topic, audience, format,
             title, description, expected_attendance, preferred_windows, last_window_end, accessibility_needs, contact_name, contact_phone, possible_duplicate_ids)
           VALUES ('KP' || to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || lpad(nextval('order_code_seq')::text, 6, '0'),
             'submitted', 1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
           RETURNING *
         ),
         payload AS (
           SELECT o.id, o.created_at, jsonb_build_object('orderId', o.id, 'communityCode', o.community_code, 'districtCode', o.district_code) AS body FROM o
         ),
         event AS (
           INSERT INTO order_events (order_id, seq, type, from_status, to_status, actor_id, actor_role, payload, at)
           SELECT id, 1, 'order.submitted', NULL, 'submitted', $4, $17, body, created_at FROM payload
         ),
         message AS (
           INSERT INTO outbox (type, order_id, payload, created_at)
           SELECT 'order.submitted', id, body || jsonb_build_object('eventSeq', 1, 'actorId', $4::uuid, 'actorRole', $17::text), created_at FROM payload
         )
         SELECT id, code, created_at FROM o`,
        [
          order.communityCode,
          order.subdistrictCode,
          order.districtCode,
          order.requesterId,
          order.topic,
          order.audience,
          order.format,
          order.title,
          order.description,
          order.expectedAttendance,
          JSON.stringify(order.preferredWindows),
          order.lastWindowEnd,
          order.accessibilityNeeds,
          order.contactName,
          order.contactPhone,
          order.possibleDuplicateIds,
          order.actorRole,
        ],
      );
      const row = rows[0];
      if (!row) throw new Error('order insert returned no row');
      // Everything else is what was written: no need to read it back and parse it again.
      const { actorRole: _actorRole, ...fields } = order;
      return {
        ...fields,
        id: row.id,
        code: row.code,
        ...NEW_ORDER_STATE,
        createdAt: row.created_at,
        updatedAt: row.created_at,
      };
    };
    if (!idempotency) return run(this.dataSource.manager);
    // With a key, the stored answer commits with the order or not at all.
    return this.dataSource.transaction(async (manager) => {
      const record = await run(manager);
      await manager.query(
        `UPDATE idempotency_records SET response_status = 201, response_body = $3, completed_at = now() WHERE user_id = $1 AND key = $2`,
        [idempotency.userId, idempotency.key, JSON.stringify(idempotency.render(record))],
      );
      return record;
    });
  }

  /** Unscoped: for the system's own timers in the worker, never for a request. */
  async findForSystem(id: string): Promise<OrderRecord | null> {
    const rows = await this.dataSource.query<OrderRow[]>(`SELECT o.* FROM orders o WHERE o.id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async findVisible(scope: Actor, id: string): Promise<OrderRecord | null> {
    const sql = new Sql();
    const rows = await this.dataSource.query<OrderRow[]>(
      `SELECT o.* FROM orders o WHERE o.id = ${sql.param(id)} AND ${visibleTo(scope, sql)}`,
      sql.params,
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** One page in (created_at DESC, id DESC) order; fetches limit + 1 rows to know whether more follow. */
  async listVisible(scope: Actor, filters: OrderFilters, limit: number, after?: KeysetPosition): Promise<OrderRecord[]> {
    const sql = new Sql();
    const where = [visibleTo(scope, sql)];
    if (filters.status) where.push(`o.status = ${sql.param(filters.status)}`);
    if (filters.districtCode) where.push(`o.district_code = ${sql.param(filters.districtCode)}`);
    if (filters.subdistrictCode) where.push(`o.subdistrict_code = ${sql.param(filters.subdistrictCode)}`);
    if (filters.communityCode) where.push(`o.community_code = ${sql.param(filters.communityCode)}`);
    if (filters.topic) where.push(`o.topic = ${sql.param(filters.topic)}`);
    if (filters.audience) where.push(`o.audience = ${sql.param(filters.audience)}`);
    if (filters.from) where.push(`o.created_at >= ${sql.param(filters.from)}`);
    if (filters.to) where.push(`o.created_at < ${sql.param(filters.to)}`);
    if (after) where.push(`(o.created_at, o.id) < (${sql.param(after.at)}, ${sql.param(after.id)})`);
    const rows = await this.dataSource.query<OrderRow[]>(
      `SELECT o.* FROM orders o WHERE ${where.join(' AND ')} ORDER BY o.created_at DESC, o.id DESC LIMIT ${sql.param(limit + 1)}`,
      sql.params,
    );
    return rows.map(toRecord);
  }

  async events(orderId: string): Promise<
    { seq: number; type: string; from_status: string | null; to_status: string; actor_id: string | null; actor_role: string; payload: Record<string, unknown>; at: Date }[]
  > {
    return this.dataSource.query(
      `SELECT seq, type, from_status, to_status, actor_id, actor_role, payload, at FROM order_events WHERE order_id = $1 ORDER BY seq`,
      [orderId],
    );
  }

  async findDepartment(id: string): Promise<{ id: string; districtCode: string | null } | null> {
    const rows = await this.dataSource.query<{ id: string; district_code: string | null }[]>(`SELECT id, district_code FROM departments WHERE id = $1`, [id]);
    return rows[0] ? { id: rows[0].id, districtCode: rows[0].district_code } : null;
  }

  async organizationExists(id: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(`SELECT 1 FROM organizations WHERE id = $1`, [id]);
    return rows.length > 0;
  }

  async doesOrganizationServeDistrict(organizationId: string, districtCode: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM organization_districts WHERE organization_id = $1 AND district_code = $2`,
      [organizationId, districtCode],
    );
    return rows.length > 0;
  }

  /**
   * The only way an order's status changes: a conditional update on (id, status, version),
   * its event and its outbox message, in one transaction. `null`: someone else changed the order first.
   */
  async transition(write: TransitionWrite): Promise<OrderRecord | null> {
    return this.dataSource.transaction(async (manager) => {
      if (write.precheck) await write.precheck(this.transactionReader(manager));
      const sql = new Sql();
      const sets = [`status = ${sql.param(write.toStatus)}`, 'version = version + 1', 'updated_at = now()'];
      for (const [field, column] of Object.entries(PATCH_COLUMNS) as [keyof OrderPatch, string][]) {
        const value = write.patch[field];
        if (value !== undefined) sets.push(`${column} = ${sql.param(field === 'rating' && value !== null ? JSON.stringify(value) : value)}`);
      }
      const rows = await manager.query<OrderRow[]>(
        `UPDATE orders SET ${sets.join(', ')}
         WHERE id = ${sql.param(write.orderId)} AND status = ${sql.param(write.fromStatus)} AND version = ${sql.param(write.fromVersion)}
         RETURNING *`,
        sql.params,
      );
      const updated = rowsOf<OrderRow>(rows);
      if (updated.length === 0) return null;
      const record = toRecord(updated[0] as OrderRow);
      // Effects run while the order row is locked by the update, so what they read is stable;
      // what they report joins the event's payload, and their messages the outbox, in this transaction.
      const outcome = write.effects ? await write.effects(manager, record) : undefined;
      const payload = { orderId: record.id, fromStatus: write.fromStatus, toStatus: write.toStatus, ...write.payload, ...(outcome?.payload ?? {}) };
      await this.appendEventAndOutbox(manager, record, write.eventType, write.fromStatus, write.actorId, write.actorRole, payload);
      for (const message of [...(write.messages ?? []), ...(outcome?.messages ?? [])])
        await manager.query(`INSERT INTO outbox (type, order_id, payload, created_at) VALUES ($1, $2, $3, $4)`, [
          message.type,
          record.id,
          JSON.stringify({ orderId: record.id, eventSeq: record.version, actorId: write.actorId, actorRole: write.actorRole, ...message.payload }),
          record.updatedAt,
        ]);
      return record;
    });
  }

  /** Frees what an order held when it is cancelled or released: its bookings and active assignments. */
  static readonly releaseHoldings: TransitionEffects = async (manager, order) => {
    await manager.query(`UPDATE bookings SET status = 'cancelled' WHERE order_id = $1 AND status = 'active'`, [order.id]);
    const ended: unknown = await manager.query(
      `UPDATE assignments SET status = 'cancelled', updated_at = now() WHERE order_id = $1 AND status IN ('invited','confirmed') RETURNING volunteer_id`,
      [order.id],
    );
    return { payload: { volunteerIds: rowsOf<{ volunteer_id: string }>(ended).map((r) => r.volunteer_id) } };
  };

  private transactionReader(manager: EntityManager): OrdersTransaction {
    return {
      lockOrderForShare: async (id) => {
        const rows = await manager.query<{ id: string; status: OrderStatus; community_code: string }[]>(
          `SELECT id, status, community_code FROM orders WHERE id = $1 FOR SHARE`,
          [id],
        );
        return rows[0] ? { id: rows[0].id, status: rows[0].status, communityCode: rows[0].community_code } : null;
      },
    };
  }

  private async appendEventAndOutbox(
    manager: EntityManager,
    order: OrderRecord,
    type: string,
    fromStatus: OrderStatus | null,
    actorId: string | null,
    actorRole: string,
    payload: Record<string, unknown>,
  ): Promise<void> {
    // seq = the version the transition produced: a second event for the same version violates the unique key.
    await manager.query(
      `WITH event AS (
         INSERT INTO order_events (order_id, seq, type, from_status, to_status, actor_id, actor_role, payload, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       )
       INSERT INTO outbox (type, order_id, payload, created_at) VALUES ($3, $1, $10, $9)`,
      [
        order.id,
        order.version,
        type,
        fromStatus,
        order.status,
        actorId,
        actorRole,
        JSON.stringify(payload),
        order.updatedAt,
        JSON.stringify({ ...payload, eventSeq: order.version, actorId, actorRole }),
      ],
    );
  }
}
