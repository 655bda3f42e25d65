import { NOTIFICATION_RULES, type RecipientKind } from '@kepu/core';
import type { Pool } from 'pg';
import type { Session } from './world';

/**
 * The notifications the rules of libs/core/src/notification-rules.ts call for,
 * computed independently of the worker: recipients are resolved here in
 * TypeScript from the users table and the order's state at the time of each
 * event (replayed from its order_events), never from the worker's SQL.
 */

interface UserFacts {
  id: string;
  username: string;
  role: string;
  communityCode: string | null;
  departmentId: string | null;
  organizationId: string | null;
  districtCode: string | null;
}

interface OrderState {
  requesterId: string;
  communityCode: string;
  districtCode: string;
  departmentId: string | null;
  offeredOrganizationId: string | null;
  acceptingOrganizationId: string | null;
}

/** One line per notification: `username type orderId`, sorted, so a failed `toEqual` shows exactly who differs. */
export type NotificationKey = string;

const key = (username: string, type: string, orderId: string | null) => `${username} ${type} ${orderId ?? '-'}`;

/** The in-app notifications that exist, as sorted keys (optionally of one order). */
export async function actualNotifications(db: Pool, orderId?: string): Promise<NotificationKey[]> {
  const { rows } = await db.query<{ username: string; type: string; order_id: string | null }>(
    `SELECT u.username, n.type, n.order_id FROM notifications n JOIN users u ON u.id = n.user_id
     WHERE ($1::uuid IS NULL OR n.order_id = $1::uuid)`,
    [orderId ?? null],
  );
  return rows.map((r) => key(r.username, r.type, r.order_id)).sort();
}

/** Hand-written expectations in the same form: who of the sessions is told what about one order. */
export function told(orderId: string, entries: [Session, string][]): NotificationKey[] {
  return entries.map(([s, type]) => key(s.username, type, orderId)).sort();
}

/** Replays the order's events up to `seq` (all when undefined). */
function stateAt(base: OrderState, events: { seq: number; type: string; payload: Record<string, unknown> }[], seq?: number): OrderState {
  const state = { ...base };
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  for (const e of events) {
    if (seq !== undefined && e.seq > seq) break;
    switch (e.type) {
      case 'order.dispatched':
        state.departmentId = str(e.payload.departmentId);
        break;
      case 'order.declined':
        state.departmentId = null;
        break;
      case 'order.reassigned':
        state.departmentId = str(e.payload.departmentId);
        state.offeredOrganizationId = null;
        break;
      case 'order.offered':
        state.offeredOrganizationId = str(e.payload.organizationId);
        break;
      case 'order.accepted':
        state.acceptingOrganizationId = str(e.payload.organizationId);
        break;
      case 'order.released':
        state.acceptingOrganizationId = null;
        state.offeredOrganizationId = null;
        break;
    }
  }
  return state;
}

/**
 * Every notification the rules call for, for every outbox message written so far
 * (order events, SLA breaches), the actor of each excluded.
 */
export async function expectedNotifications(db: Pool, orderId?: string): Promise<NotificationKey[]> {
  const users = (
    await db.query<UserFacts>(
      `SELECT id, username, role, community_code AS "communityCode", department_id AS "departmentId",
              organization_id AS "organizationId", district_code AS "districtCode"
       FROM users WHERE is_active`,
    )
  ).rows;
  const serving = (await db.query<{ organization_id: string; district_code: string }>(`SELECT organization_id, district_code FROM organization_districts`)).rows;
  const orders = new Map(
    (
      await db.query<{ id: string; requester_id: string; community_code: string; district_code: string }>(
        `SELECT id, requester_id, community_code, district_code FROM orders WHERE ($1::uuid IS NULL OR id = $1::uuid)`,
        [orderId ?? null],
      )
    ).rows.map((o) => [o.id, o]),
  );
  const eventsByOrder = new Map<string, { seq: number; type: string; payload: Record<string, unknown> }[]>();
  for (const e of (
    await db.query<{ order_id: string; seq: number; type: string; payload: Record<string, unknown> }>(
      `SELECT order_id, seq, type, payload FROM order_events WHERE ($1::uuid IS NULL OR order_id = $1::uuid) ORDER BY order_id, seq`,
      [orderId ?? null],
    )
  ).rows) {
    const list = eventsByOrder.get(e.order_id) ?? [];
    list.push(e);
    eventsByOrder.set(e.order_id, list);
  }
  const messages = (
    await db.query<{ type: string; order_id: string | null; payload: Record<string, unknown> }>(
      `SELECT type, order_id, payload FROM outbox WHERE ($1::uuid IS NULL OR order_id = $1::uuid)`,
      [orderId ?? null],
    )
  ).rows;

  const expected: NotificationKey[] = [];
  for (const m of messages) {
    const rule = NOTIFICATION_RULES[m.type];
    if (!rule || !m.order_id) continue;
    const order = orders.get(m.order_id);
    if (!order) throw new Error(`outbox message ${m.type} names an unknown order ${m.order_id}`);
    const base: OrderState = {
      requesterId: order.requester_id,
      communityCode: order.community_code,
      districtCode: order.district_code,
      departmentId: null,
      offeredOrganizationId: null,
      acceptingOrganizationId: null,
    };
    const seq = typeof m.payload.eventSeq === 'number' ? m.payload.eventSeq : undefined;
    const state = stateAt(base, eventsByOrder.get(m.order_id) ?? [], seq);
    const named = (field: string) => (typeof m.payload[field] === 'string' ? (m.payload[field] as string) : null);
    const servesDistrict = (orgId: string | null) => serving.some((s) => s.organization_id === orgId && s.district_code === state.districtCode);
    const holds = (u: UserFacts, kind: RecipientKind): boolean => {
      switch (kind) {
        case 'requester':
          return u.id === state.requesterId;
        case 'community_staff':
          return u.role === 'community_staff' && u.communityCode === state.communityCode;
        case 'department_staff': {
          const department = named('departmentId') ?? state.departmentId;
          return u.role === 'department_staff' && department !== null && u.departmentId === department;
        }
        case 'offered_org_admins': {
          const org = named('organizationId') ?? state.offeredOrganizationId;
          return u.role === 'org_admin' && org !== null && u.organizationId === org;
        }
        case 'accepting_org_admins': {
          const org = state.acceptingOrganizationId ?? named('organizationId');
          return u.role === 'org_admin' && org !== null && u.organizationId === org;
        }
        case 'involved_org_admins':
          return (
            u.role === 'org_admin' &&
            u.organizationId !== null &&
            (u.organizationId === state.offeredOrganizationId || u.organizationId === state.acceptingOrganizationId)
          );
        case 'serving_org_admins':
          return u.role === 'org_admin' && servesDistrict(u.organizationId);
        case 'district_coordinators':
          return u.role === 'district_coordinator' && u.districtCode === state.districtCode;
        default:
          // Volunteer kinds: these suites create no volunteers, so nobody holds them.
          return false;
      }
    };
    const actorId = named('actorId');
    for (const u of users)
      if (u.id !== actorId && rule.recipients.some((kind) => holds(u, kind))) expected.push(key(u.username, m.type, m.order_id));
  }
  return expected.sort();
}
