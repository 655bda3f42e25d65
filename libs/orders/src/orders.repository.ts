import { type Actor, NEW_ORDER_STATE, type OrderStatus } from '@kepu/core';
import { preparedQuery, rowsOf, Sql } from '@kepu/db';
import { type KeysetPosition } from '@kepu/http';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { Transaction } from './transactions';

/** A preferred window as the orders table stores it (ISO instants). */
export interface StoredWindow {
  start: string;
  end: string;
}

/** 订单 / 服务需求, as this repository reads it. Its status changes only through `applyTransition`. */
export interface OrderRecord {
  id: string;
  code: string;
  status: OrderStatus;
  version: number;
  communityCode: string;
  subdistrictCode: string;
  districtCode: string;
  requesterId: string;
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
  departmentId: string | null;
  organizationId: string | null;
  offeredOrganizationId: string | null;
  isOpenToOrganizations: boolean;
  scheduledStart: Date | null;
  scheduledEnd: Date | null;
  venueId: string | null;
  returnedCount: number;
  mergedIntoId: string | null;
  possibleDuplicateIds: string[];
  rating: Record<string, unknown> | null;
  /** Slots left for volunteers to claim (DESIGN.md §4). */
  openSlots: number;
  attendance: number | null;
  summary: string | null;
  completedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** 应急科普: every stage deadline is SLA_URGENT_FACTOR of the normal one; first in the worklists. */
  urgent: boolean;
  /** The series (常态化) the order is one occurrence of, or null. */
  seriesId: string | null;
}

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
  urgent: boolean;
  series_id: string | null;
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
    urgent: row.urgent,
    seriesId: row.series_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * One part of what an actor may see: a predicate over `o`, and how to read the ids of its
 * first orders in page order (created_at DESC, id DESC) with an index.
 */
interface VisibleBranch {
  predicate: string;
  /** Ids of the first `part.limit` orders of this branch that also match `part.rest` (more predicates over `o`), by index. */
  firstIds?: (part: PagePart) => string;
}

/** One part of a page (urgent or not) as SQL: the predicates over `o`, the keyset's parameters and the limit. */
interface PagePart {
  /** Predicates over `o`: urgency, filters, keyset. */
  rest: string;
  urgent: boolean;
  /** The keyset's parameters (created_at, id), when after a cursor; `rest` already compares `o` with them. */
  after?: { at: string; id: string };
  limit: string;
}

const firstIdsWhere = (predicate: string, part: PagePart): string =>
  `SELECT o.id FROM orders o WHERE ${predicate} AND ${part.rest} ORDER BY o.created_at DESC, o.id DESC LIMIT ${part.limit}`;

/**
 * The orders an actor may see (DESIGN.md §2), as branches whose union is the visible set (null:
 * everything). An organisation keeps seeing an order that was open in its district after
 * another took it, so the loser of an accept race learns it lost (409), not 404.
 * A user with a volunteer profile (whatever its role: DESIGN.md §10) also sees what a volunteer
 * sees. Each branch is one index range (migration 1764399600000), so a page reads each branch's
 * first rows instead of filtering an OR over the whole table.
 */
function visibleBranches(actor: Actor, sql: Sql): VisibleBranch[] | null {
  const byRole = visibleToRole(actor, sql);
  if (byRole === null) return null;
  if (actor.volunteerId === null) return byRole;
  // Their live assignments (invited or confirmed: not after they declined or withdrew, or were
  // removed by a reschedule, a release or a cancellation), the events they served (a service
  // record), and their organisation's events with slots to claim.
  const volunteer = sql.param(actor.volunteerId);
  return [
    ...byRole,
    { predicate: `o.id IN (SELECT a.order_id FROM assignments a WHERE a.volunteer_id = ${volunteer} AND a.status IN ('invited','confirmed'))` },
    {
      predicate: `o.id IN (SELECT r.order_id FROM service_records r WHERE r.volunteer_id = ${volunteer})`,
      // In page order from service_records_visible_idx (the record carries its order's urgency and
      // created_at, migration 1764399830000): only the orders returned are probed, not every record's.
      firstIds: (part) =>
        `SELECT o.id FROM service_records r JOIN orders o ON o.id = r.order_id
          WHERE r.volunteer_id = ${volunteer} AND r.order_urgent = ${part.urgent}${part.after ? ` AND (r.order_created_at, r.order_id) < (${part.after.at}, ${part.after.id})` : ''}
            AND ${part.rest}
          ORDER BY r.order_created_at DESC, r.order_id DESC LIMIT ${part.limit}`,
    },
    { predicate: `(o.status = 'scheduled' AND o.open_slots > 0 AND o.organization_id = (SELECT organization_id FROM volunteers WHERE id = ${volunteer}))` },
  ];
}

/** The visible set as one predicate over `o` (for a single order). */
function visibleTo(actor: Actor, sql: Sql): string {
  const branches = visibleBranches(actor, sql);
  if (branches === null) return 'TRUE';
  if (branches.length === 0) return 'FALSE';
  return `(${branches.map((b) => b.predicate).join(' OR ')})`;
}

function visibleToRole(actor: Actor, sql: Sql): VisibleBranch[] | null {
  switch (actor.role) {
    case 'city_admin':
      return null;
    case 'district_coordinator':
      return [{ predicate: `o.district_code = ${sql.param(actor.districtCode)}` }];
    case 'resident':
      return [{ predicate: `o.requester_id = ${sql.param(actor.userId)}` }];
    case 'community_staff':
      return [{ predicate: `o.community_code = ${sql.param(actor.communityCode)}` }];
    case 'department_staff':
      return [{ predicate: `o.department_id = ${sql.param(actor.departmentId)}` }];
    case 'org_admin': {
      const org = sql.param(actor.organizationId);
      // An open call is visible to every organisation serving the district only until one accepts it.
      const openCall = `o.is_open_to_organizations AND o.organization_id IS NULL`;
      return [
        { predicate: `o.organization_id = ${org}` },
        { predicate: `o.offered_organization_id = ${org}` },
        {
          predicate: `(${openCall} AND o.district_code IN (SELECT district_code FROM organization_districts WHERE organization_id = ${org}))`,
          // District by district: each a short range of orders_open_call_idx.
          firstIds: (part) =>
            `SELECT x.id FROM organization_districts d
               CROSS JOIN LATERAL (${firstIdsWhere(`o.district_code = d.district_code AND ${openCall}`, part)}) x
              WHERE d.organization_id = ${org}`,
        },
      ];
    }
    case 'volunteer':
      // A volunteer account sees what its profile lets it see (visibleBranches), nothing by its role.
      return [];
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
  /** 应急科普: shortened deadlines, and the district coordinators told at once (order.urgent). */
  urgent: boolean;
  seriesId: string | null;
  /** The clock's time: created_at, updated_at, the first event and the date in the order code. */
  createdAt: Date;
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
  urgent?: boolean;
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

/** Further outbox messages a transition causes (e.g. assignment.invited), committed with it. */
export interface ExtraMessage {
  type: string;
  payload: Record<string, unknown>;
}

/** The conditional update of a transition: it wins only if the order is still at (status, version). */
export interface TransitionUpdate {
  orderId: string;
  fromStatus: OrderStatus;
  fromVersion: number;
  toStatus: OrderStatus;
  patch: OrderPatch;
  at: Date;
  /** The transition starts its stage afresh though the status stays (reassign): open escalations resolve too. */
  restartsStage?: boolean;
}

/** The event of an applied transition (seq = the version it produced) and its outbox messages. */
export interface TransitionRecord {
  eventType: string;
  fromStatus: OrderStatus;
  actorId: string | null;
  actorRole: string;
  payload: Record<string, unknown>;
  messages: readonly ExtraMessage[];
}

/** The order's open slots after a claim or a departure, and the version (= event seq) the change produced. */
export interface OpenSlotChange {
  version: number;
  openSlots: number;
  start: Date;
  end: Date;
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
    const rows = await preparedQuery<{ id: string; preferred_windows: StoredWindow[] }>(
      this.dataSource,
      'kepu_open_orders_like',
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
    if (!idempotency) return this.insertWith(null, order);
    // With a key, the stored answer commits with the order or not at all.
    return this.dataSource.transaction(async (manager) => {
      const record = await this.insertWith(manager, order);
      await manager.query(
        `UPDATE idempotency_records SET response_status = 201, response_body = $3, completed_at = now() WHERE user_id = $1 AND key = $2`,
        [idempotency.userId, idempotency.key, JSON.stringify(idempotency.render(record))],
      );
      return record;
    });
  }

  /** Several orders (a series' occurrences) in one transaction: all of them or none. */
  async insertAll(orders: readonly NewOrder[]): Promise<OrderRecord[]> {
    return this.dataSource.transaction(async (manager) => {
      const records: OrderRecord[] = [];
      for (const order of orders) records.push(await this.insertWith(manager, order));
      return records;
    });
  }

  /**
   * One statement: the order, its first event and its outbox message (and, for an urgent
   * order, the coordinators' order.urgent) commit together in one round trip.
   */
  private async insertWith(manager: EntityManager | null, order: NewOrder): Promise<OrderRecord> {
    const text = `WITH o AS (
         INSERT INTO orders (code, status, version, community_code, subdistrict_code, district_code, requester_id, topic, audience, format,
           title, description, expected_attendance, preferred_windows, last_window_end, accessibility_needs, contact_name, contact_phone, possible_duplicate_ids,
           urgent, series_id, created_at, updated_at)
         VALUES ('KP' || to_char($18::timestamptz AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || lpad(nextval('order_code_seq')::text, 6, '0'),
           'submitted', 1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $19, $20, $18, $18)
         RETURNING *
       ),
       payload AS (
         SELECT o.id, o.created_at, jsonb_build_object('orderId', o.id, 'communityCode', o.community_code, 'districtCode', o.district_code, 'urgent', o.urgent) AS body FROM o
       ),
       event AS (
         INSERT INTO order_events (order_id, seq, type, from_status, to_status, actor_id, actor_role, payload, at)
         SELECT id, 1, 'order.submitted', NULL, 'submitted', $4, $17, body, created_at FROM payload
       ),
       message AS (
         INSERT INTO outbox (type, order_id, payload, created_at)
         SELECT 'order.submitted', id, body || jsonb_build_object('eventSeq', 1, 'actorId', $4::uuid, 'actorRole', $17::text), created_at FROM payload
       ),
       urgent_message AS (
         INSERT INTO outbox (type, order_id, payload, created_at)
         SELECT 'order.urgent', id, body || jsonb_build_object('eventSeq', 1, 'actorId', $4::uuid, 'actorRole', $17::text), created_at FROM payload WHERE $19::boolean
       )
       SELECT id, code, created_at FROM o`;
    const params = [
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
      order.createdAt,
      order.urgent,
      order.seriesId,
    ];
    // Outside a transaction (no Idempotency-Key) a prepared statement: planned once per connection, not per order.
    type Inserted = Pick<OrderRow, 'id' | 'code' | 'created_at'>;
    const rows = manager ? await manager.query<Inserted[]>(text, params) : await preparedQuery<Inserted>(this.dataSource, 'kepu_insert_order', text, params);
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

  /**
   * One page, urgent orders first, then (created_at DESC, id DESC); fetches limit + 1 rows
   * to know whether more follow. Two keyset reads rather than one `ORDER BY urgent DESC, …`:
   * each walks a created_at index (the urgent part a small partial one), so a page stays a
   * short index scan at a million orders. `after.rank` 1: the cursor is inside the urgent part.
   */
  async listVisible(scope: Actor, filters: OrderFilters, limit: number, after?: KeysetPosition): Promise<OrderRecord[]> {
    const inUrgentPart = after === undefined || after.rank === 1;
    const rows: OrderRecord[] = [];
    if (filters.urgent !== false && inUrgentPart) rows.push(...(await this.listPart(scope, filters, true, limit + 1, after)));
    if (filters.urgent !== true && rows.length <= limit)
      rows.push(...(await this.listPart(scope, filters, false, limit + 1 - rows.length, inUrgentPart ? undefined : after)));
    return rows;
  }

  private async listPart(scope: Actor, filters: OrderFilters, urgent: boolean, limit: number, after?: KeysetPosition): Promise<OrderRecord[]> {
    const sql = new Sql();
    const branches = visibleBranches(scope, sql);
    const where = [urgent ? 'o.urgent' : 'NOT o.urgent'];
    if (filters.status) where.push(`o.status = ${sql.param(filters.status)}`);
    if (filters.districtCode) where.push(`o.district_code = ${sql.param(filters.districtCode)}`);
    if (filters.subdistrictCode) where.push(`o.subdistrict_code = ${sql.param(filters.subdistrictCode)}`);
    if (filters.communityCode) where.push(`o.community_code = ${sql.param(filters.communityCode)}`);
    if (filters.topic) where.push(`o.topic = ${sql.param(filters.topic)}`);
    if (filters.audience) where.push(`o.audience = ${sql.param(filters.audience)}`);
    if (filters.from) where.push(`o.created_at >= ${sql.param(filters.from)}`);
    if (filters.to) where.push(`o.created_at < ${sql.param(filters.to)}`);
    const keyset = after ? { at: sql.param(after.at), id: sql.param(after.id) } : undefined;
    if (keyset) where.push(`(o.created_at, o.id) < (${keyset.at}, ${keyset.id})`);
    const rest = where.join(' AND ');
    const top = sql.param(limit);
    const part: PagePart = { rest, urgent, after: keyset, limit: top };
    const order = `ORDER BY o.created_at DESC, o.id DESC LIMIT ${top}`;
    let query: string;
    if (branches === null) query = `SELECT o.* FROM orders o WHERE ${rest} ${order}`;
    else if (branches.length === 0) return [];
    else if (branches.length === 1 && branches[0] && !branches[0].firstIds) query = `SELECT o.* FROM orders o WHERE ${branches[0].predicate} AND ${rest} ${order}`;
    else {
      // Several branches (an OR the planner could only filter row by row): each branch's first
      // `limit` ids by its own index, keyset and filters applied inside, then the page of their union
      // (IN: an order in two branches counts once).
      const ids = branches.map((b) => `(${b.firstIds ? b.firstIds(part) : firstIdsWhere(b.predicate, part)})`).join(' UNION ALL ');
      query = `SELECT o.* FROM orders o WHERE o.id IN (${ids}) ${order}`;
    }
    const rows = await this.dataSource.query<OrderRow[]>(query, sql.params);
    return rows.map(toRecord);
  }

  /** Up to `limit` events after `afterSeq`, oldest first. */
  async events(
    orderId: string,
    limit: number,
    afterSeq = 0,
  ): Promise<{ seq: number; type: string; from_status: string | null; to_status: string; actor_id: string | null; actor_role: string; payload: Record<string, unknown>; at: Date }[]> {
    return this.dataSource.query(
      `SELECT seq, type, from_status, to_status, actor_id, actor_role, payload, at FROM order_events WHERE order_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [orderId, afterSeq, limit],
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

  /**
   * Whether the order was opened to the organisations of its district, one of which (not this
   * one, which serves the district too) has taken it since.
   */
  async isOpenCallTakenByOther(orderId: string, organizationId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM orders o
        WHERE o.id = $1 AND o.organization_id IS NOT NULL AND o.organization_id <> $2
          AND EXISTS (SELECT 1 FROM organization_districts d WHERE d.organization_id = $2 AND d.district_code = o.district_code)
          AND EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id AND e.type = 'order.opened')`,
      [orderId, organizationId],
    );
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
   * The only way an order's status changes: a conditional update on (id, status, version)
   * in the caller's transaction. `null`: someone else changed the order first. The row stays
   * locked until the transaction ends, so what the rest of the transaction reads is stable.
   */
  async applyTransition(tx: Transaction, write: TransitionUpdate): Promise<OrderRecord | null> {
    const sql = new Sql();
    const sets = [`status = ${sql.param(write.toStatus)}`, 'version = version + 1', `updated_at = ${sql.param(write.at)}`];
    for (const [field, column] of Object.entries(PATCH_COLUMNS) as [keyof OrderPatch, string][]) {
      const value = write.patch[field];
      if (value !== undefined) sets.push(`${column} = ${sql.param(field === 'rating' && value !== null ? JSON.stringify(value) : value)}`);
    }
    const rows = rowsOf<OrderRow>(
      await tx.query(
        `UPDATE orders SET ${sets.join(', ')}
         WHERE id = ${sql.param(write.orderId)} AND status = ${sql.param(write.fromStatus)} AND version = ${sql.param(write.fromVersion)}
         RETURNING *`,
        sql.params,
      ),
    );
    if (rows.length === 0) return null;
    // Leaving a stage (or starting it afresh) resolves its open escalations in the transition's
    // transaction. A statement of its own, after the update: its snapshot is taken once the order
    // row is ours, so it sees an escalation the SLA timer committed while we waited for the lock
    // (the timer opens one only under a share lock of the order, seeing the status it breached).
    if (write.fromStatus !== write.toStatus || write.restartsStage === true)
      await tx.query(`UPDATE escalations SET status = 'resolved', resolved_at = $2 WHERE order_id = $1 AND status <> 'resolved'`, [write.orderId, write.at]);
    return rows.length === 0 ? null : toRecord(rows[0] as OrderRow);
  }

  /** The event and outbox messages of a transition `applyTransition` made, in the same transaction. */
  async recordTransition(tx: Transaction, order: OrderRecord, record: TransitionRecord): Promise<void> {
    await this.appendEventAndOutbox(tx, order, record.eventType, record.fromStatus, record.actorId, record.actorRole, record.payload);
    for (const message of record.messages)
      await tx.query(`INSERT INTO outbox (type, order_id, payload, created_at) VALUES ($1, $2, $3, $4)`, [
        message.type,
        order.id,
        JSON.stringify({ orderId: order.id, eventSeq: order.version, actorId: record.actorId, actorRole: record.actorRole, ...message.payload }),
        order.updatedAt,
      ]);
  }

  /** Locks the order row for the rest of the transaction, as a transition's update would. */
  async lockOrder(tx: Transaction, id: string): Promise<void> {
    await tx.query(`SELECT 1 FROM orders WHERE id = $1 FOR UPDATE`, [id]);
  }

  /**
   * One open slot fewer (version + 1): the conditional decrement is the capacity guard.
   * Null when the organisation's scheduled event has no open slot (or is not scheduled).
   */
  async takeOpenSlot(tx: Transaction, orderId: string, organizationId: string, at: Date): Promise<OpenSlotChange | null> {
    const [order] = rowsOf<{ version: number; open_slots: number; scheduled_start: Date; scheduled_end: Date }>(
      await tx.query(
        `UPDATE orders SET open_slots = open_slots - 1, version = version + 1, updated_at = $3
         WHERE id = $1 AND organization_id = $2 AND status = 'scheduled' AND open_slots > 0
         RETURNING version, open_slots, scheduled_start, scheduled_end`,
        [orderId, organizationId, at],
      ),
    );
    return order ? { version: order.version, openSlots: order.open_slots, start: order.scheduled_start, end: order.scheduled_end } : null;
  }

  /** One open slot more (version + 1), never above `cap`; null when the order is no longer scheduled. */
  async returnOpenSlot(tx: Transaction, orderId: string, cap: number, at: Date): Promise<OpenSlotChange | null> {
    const [order] = rowsOf<{ version: number; open_slots: number; scheduled_start: Date; scheduled_end: Date }>(
      await tx.query(
        `UPDATE orders SET open_slots = LEAST(open_slots + 1, $2), version = version + 1, updated_at = $3
         WHERE id = $1 AND status = 'scheduled'
         RETURNING version, open_slots, scheduled_start, scheduled_end`,
        [orderId, cap, at],
      ),
    );
    return order ? { version: order.version, openSlots: order.open_slots, start: order.scheduled_start, end: order.scheduled_end } : null;
  }

  async statusOf(tx: Transaction, orderId: string): Promise<OrderStatus | null> {
    const [row] = await tx.query<{ status: OrderStatus }[]>(`SELECT status FROM orders WHERE id = $1`, [orderId]);
    return row?.status ?? null;
  }

  /** An event that keeps the status (scheduled → scheduled), seq = the version the change produced. */
  async appendScheduledEvent(tx: Transaction, orderId: string, seq: number, type: string, actor: Actor, payload: Record<string, unknown>, at: Date): Promise<void> {
    await tx.query(
      `INSERT INTO order_events (order_id, seq, type, from_status, to_status, actor_id, actor_role, payload, at)
       VALUES ($1, $2, $3, 'scheduled', 'scheduled', $4, $5, $6, $7)`,
      [orderId, seq, type, actor.userId, actor.role, JSON.stringify(payload), at],
    );
  }

  /** Reads another order under a share lock, e.g. a merge target that must stay open until this transaction commits. */
  async lockOrderForShare(tx: Transaction, id: string): Promise<Pick<OrderRecord, 'id' | 'status' | 'communityCode'> | null> {
    const rows = await tx.query<{ id: string; status: OrderStatus; community_code: string }[]>(
      `SELECT id, status, community_code FROM orders WHERE id = $1 FOR SHARE`,
      [id],
    );
    return rows[0] ? { id: rows[0].id, status: rows[0].status, communityCode: rows[0].community_code } : null;
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
