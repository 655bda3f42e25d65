import type { Actor, Role } from './roles';

export const ORDER_STATUSES = [
  'submitted',
  'dispatched',
  'claimed',
  'accepted',
  'scheduled',
  'in_progress',
  'completed',
  'rated',
  'closed',
  'rejected',
  'merged',
  'cancelled',
  'expired',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const TERMINAL_STATUSES: readonly OrderStatus[] = ['rated', 'closed', 'rejected', 'merged', 'cancelled', 'expired'];
export const isTerminal = (status: OrderStatus): boolean => TERMINAL_STATUSES.includes(status);

export type OrderAction =
  | 'dispatch'
  | 'reject'
  | 'merge'
  | 'claim'
  | 'decline'
  | 'offer'
  | 'open'
  | 'accept'
  | 'release'
  | 'schedule'
  | 'reschedule'
  | 'check_in'
  | 'complete'
  | 'rate'
  | 'cancel'
  | 'close'
  | 'expire';

/**
 * How an actor must relate to the order, beyond its role. Checked against the
 * order's own fields so the same rule serves the service and the tests.
 */
export type Relation =
  | 'requester' // the user who created the order
  | 'community_staff' // staff of the order's community
  | 'department_staff' // staff of the department the order is dispatched to / claimed by
  | 'offered_or_open_org' // admin of the offered organisation, or of one serving the district when open
  | 'accepting_org' // admin of the organisation that accepted
  | 'assigned_volunteer' // a volunteer assigned to the order's event
  | 'system'; // timers in the worker

export interface TransitionRule {
  action: OrderAction;
  from: readonly OrderStatus[];
  /** `null`: the status stays (offer, open, reschedule). */
  to: OrderStatus | null;
  /** Who may do it; any one relation suffices. */
  allowed: readonly Relation[];
  /** The notification/outbox type the transition emits. */
  eventType: string;
  /** One line for people reading the OpenAPI description. */
  summary: string;
}

const CANCELLABLE: readonly OrderStatus[] = ['submitted', 'dispatched', 'claimed', 'accepted'];

/**
 * The order lifecycle (DESIGN.md §3) as data: nothing else decides whether a
 * status may change. Actions with two rows (cancel) differ by who may act.
 */
export const TRANSITIONS: readonly TransitionRule[] = [
  { action: 'dispatch', from: ['submitted'], to: 'dispatched', allowed: ['community_staff'], eventType: 'order.dispatched', summary: '社区派单: the community dispatches the order to a department serving its district' },
  { action: 'reject', from: ['submitted'], to: 'rejected', allowed: ['community_staff'], eventType: 'order.rejected', summary: 'The community rejects the request, with a reason' },
  { action: 'merge', from: ['submitted'], to: 'merged', allowed: ['community_staff'], eventType: 'order.merged', summary: 'The community merges a duplicate into a primary order of the same community' },
  { action: 'claim', from: ['dispatched'], to: 'claimed', allowed: ['department_staff'], eventType: 'order.claimed', summary: '部门领单: the department takes responsibility; exactly one claim wins' },
  { action: 'decline', from: ['dispatched'], to: 'submitted', allowed: ['department_staff'], eventType: 'order.declined', summary: 'The department returns the order to the community' },
  { action: 'offer', from: ['claimed'], to: null, allowed: ['department_staff'], eventType: 'order.offered', summary: 'The department offers the order to one organisation serving the district' },
  { action: 'open', from: ['claimed'], to: null, allowed: ['department_staff'], eventType: 'order.opened', summary: 'The department opens the order to every organisation serving the district' },
  { action: 'accept', from: ['claimed'], to: 'accepted', allowed: ['offered_or_open_org'], eventType: 'order.accepted', summary: '志愿组织接单: an organisation accepts; exactly one accept wins' },
  { action: 'release', from: ['accepted'], to: 'claimed', allowed: ['accepting_org'], eventType: 'order.released', summary: 'The accepting organisation gives the order back to the department' },
  { action: 'schedule', from: ['accepted'], to: 'scheduled', allowed: ['accepting_org'], eventType: 'order.scheduled', summary: 'The organisation fixes time, venue and volunteers' },
  { action: 'reschedule', from: ['scheduled'], to: null, allowed: ['accepting_org'], eventType: 'order.scheduled', summary: 'The organisation moves the event' },
  { action: 'check_in', from: ['scheduled'], to: 'in_progress', allowed: ['assigned_volunteer', 'accepting_org'], eventType: 'order.started', summary: 'The first check-in starts the event' },
  { action: 'complete', from: ['in_progress'], to: 'completed', allowed: ['accepting_org'], eventType: 'order.completed', summary: 'The organisation closes the event with attendance and a summary' },
  { action: 'rate', from: ['completed'], to: 'rated', allowed: ['requester', 'community_staff'], eventType: 'order.rated', summary: '评单: the requester or community staff rate the service, once' },
  { action: 'cancel', from: CANCELLABLE, to: 'cancelled', allowed: ['requester', 'community_staff'], eventType: 'order.cancelled', summary: 'The requester or community staff cancel before scheduling' },
  { action: 'cancel', from: ['scheduled'], to: 'cancelled', allowed: ['community_staff'], eventType: 'order.cancelled', summary: 'Community staff cancel a scheduled order' },
  { action: 'close', from: ['completed'], to: 'closed', allowed: ['system'], eventType: 'order.closed', summary: 'No rating within 7 days' },
  { action: 'expire', from: CANCELLABLE, to: 'expired', allowed: ['system'], eventType: 'order.expired', summary: 'The last preferred window ended before scheduling' },
];

/** What the rules need to know about an order. */
export interface OrderFacts {
  status: OrderStatus;
  requesterId: string;
  communityCode: string;
  departmentId: string | null;
  organizationId: string | null;
  offeredOrganizationId: string | null;
  isOpenToOrganizations: boolean;
}

/** Facts about the actor that come from other tables. */
export interface RelationContext {
  /** The actor's organisation serves the order's district. */
  doesOrganizationServeDistrict?: boolean;
  /** The actor is a volunteer assigned to the order's event. */
  isAssignedVolunteer?: boolean;
}

export type SystemActor = { role: 'system' };
export const SYSTEM_ACTOR: SystemActor = { role: 'system' };

const ROLE_OF_RELATION: Record<Relation, Role | 'system'> = {
  requester: 'resident',
  community_staff: 'community_staff',
  department_staff: 'department_staff',
  offered_or_open_org: 'org_admin',
  accepting_org: 'org_admin',
  assigned_volunteer: 'volunteer',
  system: 'system',
};

export function holdsRelation(relation: Relation, actor: Actor | SystemActor, order: OrderFacts, ctx: RelationContext = {}): boolean {
  if (actor.role === 'system') return relation === 'system';
  switch (relation) {
    case 'requester':
      return actor.userId === order.requesterId;
    case 'community_staff':
      return actor.role === 'community_staff' && actor.communityCode === order.communityCode;
    case 'department_staff':
      return actor.role === 'department_staff' && actor.departmentId !== null && actor.departmentId === order.departmentId;
    case 'offered_or_open_org':
      return (
        actor.role === 'org_admin' &&
        actor.organizationId !== null &&
        (actor.organizationId === order.offeredOrganizationId ||
          (order.isOpenToOrganizations && ctx.doesOrganizationServeDistrict === true))
      );
    case 'accepting_org':
      return actor.role === 'org_admin' && actor.organizationId !== null && actor.organizationId === order.organizationId;
    case 'assigned_volunteer':
      return actor.role === 'volunteer' && ctx.isAssignedVolunteer === true;
    case 'system':
      return false;
  }
}

/** Roles that can ever hold one of the relations, for documentation and quick refusals. */
export function rolesFor(action: OrderAction): (Role | 'system')[] {
  const roles = new Set<Role | 'system'>();
  for (const rule of TRANSITIONS.filter((r) => r.action === action)) {
    for (const relation of rule.allowed) {
      roles.add(ROLE_OF_RELATION[relation]);
      // The requester may be community staff who filed the order for residents.
      if (relation === 'requester') roles.add('community_staff');
    }
  }
  return [...roles];
}

export type TransitionDecision =
  | { allowed: true; rule: TransitionRule; to: OrderStatus }
  | { allowed: false; reason: 'forbidden' | 'state' };

/**
 * Decide whether `actor` may apply `action` to `order` now.
 * - `forbidden`: no row of this action lets this actor act on this order at all (403);
 * - `state`: the actor could, but not from the current status (409).
 */
export function decideTransition(
  order: OrderFacts,
  action: OrderAction,
  actor: Actor | SystemActor,
  ctx: RelationContext = {},
): TransitionDecision {
  const rules = TRANSITIONS.filter((r) => r.action === action);
  const actorRules = rules.filter((r) => r.allowed.some((relation) => holdsRelation(relation, actor, order, ctx)));
  if (actorRules.length === 0) return { allowed: false, reason: 'forbidden' };
  const rule = actorRules.find((r) => r.from.includes(order.status));
  if (!rule) return { allowed: false, reason: 'state' };
  return { allowed: true, rule, to: rule.to ?? order.status };
}

/** The lifecycle fields of an order as `POST /orders` creates it: submitted, nobody holding it yet. */
export const NEW_ORDER_STATE = {
  status: 'submitted' as const,
  version: 1,
  departmentId: null,
  organizationId: null,
  offeredOrganizationId: null,
  isOpenToOrganizations: false,
  scheduledStart: null,
  scheduledEnd: null,
  venueId: null,
  returnedCount: 0,
  mergedIntoId: null,
  rating: null,
  openSlots: 0,
  attendance: null,
  summary: null,
  completedAt: null,
};
