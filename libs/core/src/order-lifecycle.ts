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
  | 'expire'
  | 'reassign';

/**
 * How an actor must relate to the order, beyond its role. Checked against the
 * order's own fields so the same rule serves the service and the tests.
 */
export type Relation =
  | 'requester'
  | 'community_staff'
  | 'department_staff'
  | 'offered_or_open_org'
  | 'accepting_org'
  | 'assigned_volunteer'
  | 'district_coordinator'
  | 'city_admin'
  | 'system';

/** Each relation in words, for the OpenAPI description of the transition endpoints. */
export const RELATION_DESCRIPTIONS: Record<Relation, string> = {
  requester: 'the requester (the resident or community staff member who created the order)',
  community_staff: 'staff of the order\'s community',
  department_staff: 'staff of the department the order is dispatched to or claimed by',
  offered_or_open_org: 'admins of the offered organisation, or of any organisation serving the district while the order is open',
  accepting_org: 'admins of the organisation that accepted',
  assigned_volunteer: 'a volunteer (any account with a volunteer profile) with a confirmed assignment for the event',
  district_coordinator: 'the coordinator of the order\'s district',
  city_admin: 'a city administrator',
  system: 'the worker\'s timers',
};

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
  { action: 'dispatch', from: ['submitted'], to: 'dispatched', allowed: ['community_staff'], eventType: 'order.dispatched', summary: '社区派单: the community dispatches the order to a department serving its district, or a city-wide one' },
  { action: 'reject', from: ['submitted'], to: 'rejected', allowed: ['community_staff'], eventType: 'order.rejected', summary: 'The community rejects the request, with a reason' },
  { action: 'merge', from: ['submitted'], to: 'merged', allowed: ['community_staff'], eventType: 'order.merged', summary: 'The community merges a duplicate into a primary order of the same community' },
  { action: 'claim', from: ['dispatched'], to: 'claimed', allowed: ['department_staff'], eventType: 'order.claimed', summary: '部门领单: the department takes responsibility; exactly one claim wins, the others get 409' },
  { action: 'decline', from: ['dispatched'], to: 'submitted', allowed: ['department_staff'], eventType: 'order.declined', summary: 'The department returns the order to the community (returnedCount + 1)' },
  { action: 'offer', from: ['claimed'], to: null, allowed: ['department_staff'], eventType: 'order.offered', summary: 'The department offers the order to one organisation serving the district' },
  { action: 'open', from: ['claimed'], to: null, allowed: ['department_staff'], eventType: 'order.opened', summary: 'The department opens the order to every organisation serving the district' },
  { action: 'accept', from: ['claimed'], to: 'accepted', allowed: ['offered_or_open_org'], eventType: 'order.accepted', summary: '志愿组织接单: the offered organisation, or any serving the district when open, accepts; exactly one accept wins' },
  { action: 'release', from: ['accepted'], to: 'claimed', allowed: ['accepting_org'], eventType: 'order.released', summary: 'The accepting organisation gives the order back to the department' },
  { action: 'schedule', from: ['accepted'], to: 'scheduled', allowed: ['accepting_org'], eventType: 'order.scheduled', summary: 'The organisation fixes time, venue and volunteers (invited by name) and may leave slots open for its volunteers to claim' },
  {
    action: 'reschedule',
    from: ['scheduled'],
    to: null,
    allowed: ['accepting_org'],
    eventType: 'order.scheduled',
    summary: 'The organisation moves the event: re-books the venue, moves every invited and confirmed volunteer (slot claims too), removes named volunteers no longer listed and invites new ones, atomically',
  },
  { action: 'check_in', from: ['scheduled'], to: 'in_progress', allowed: ['assigned_volunteer', 'accepting_org'], eventType: 'order.started', summary: 'A confirmed volunteer (or the accepting organisation for one) checks in, from 2 h before the start to the end; the first check-in starts the event' },
  { action: 'complete', from: ['in_progress'], to: 'completed', allowed: ['accepting_org'], eventType: 'order.completed', summary: 'The organisation completes the event with attendance and a summary: open check-ins close at its end, absent confirmed volunteers are no-shows' },
  { action: 'rate', from: ['completed'], to: 'rated', allowed: ['requester', 'community_staff'], eventType: 'order.rated', summary: '评单: the requester or community staff rate the service, once; a score of 2 or less tells the district coordinators' },
  { action: 'cancel', from: CANCELLABLE, to: 'cancelled', allowed: ['requester', 'community_staff'], eventType: 'order.cancelled', summary: 'The requester or community staff cancel before scheduling' },
  { action: 'cancel', from: ['scheduled'], to: 'cancelled', allowed: ['community_staff'], eventType: 'order.cancelled', summary: 'Community staff cancel a scheduled order' },
  { action: 'close', from: ['completed'], to: 'closed', allowed: ['system'], eventType: 'order.closed', summary: 'No rating within 7 days' },
  { action: 'expire', from: CANCELLABLE, to: 'expired', allowed: ['system'], eventType: 'order.expired', summary: 'The last preferred window ended before scheduling' },
  {
    action: 'reassign',
    from: ['submitted', 'dispatched', 'claimed'],
    to: 'dispatched',
    allowed: ['district_coordinator', 'city_admin'],
    eventType: 'order.reassigned',
    summary: 'A coordinator moves a stuck order to another department serving the district, with a reason: offers and open calls are withdrawn, the claim stage starts again, old and new department are told',
  },
];

/**
 * What an action answers besides 403 (FORBIDDEN), 404 (outside scope) and 409
 * `ORDER_STATE_CONFLICT`, which every transition may give: the codes its own
 * checks raise, each with when. The OpenAPI description of the endpoints is
 * generated from this and the table; an action with no rules documents no 422.
 */
export interface TransitionErrors {
  /** 422 BusinessRuleError codes. */
  rules: Readonly<Record<string, string>>;
  /** 409 codes other than ORDER_STATE_CONFLICT. */
  conflicts: Readonly<Record<string, string>>;
}

const NO_OTHER_ERRORS: TransitionErrors = { rules: {}, conflicts: {} };

const SCHEDULING_ERRORS: TransitionErrors = {
  rules: {
    SLOT_IN_PAST: 'the event starts in the past',
    OUTSIDE_PREFERRED_WINDOW: 'the event is not inside one of the preferred windows',
    UNKNOWN_VENUE: 'no venue has that id',
    VENUE_OUT_OF_SCOPE: 'the venue is in another district and neither the city\'s nor the organisation\'s own',
    VENUE_TOO_SMALL: 'the venue seats fewer than are expected',
    VENUE_NOT_ACCESSIBLE: 'the venue lacks an accessibility need of the order',
    VOLUNTEER_NOT_IN_ORGANIZATION: 'a named volunteer is not of the accepting organisation',
    NOT_ELIGIBLE: 'a volunteer cannot serve then; `errors` lists each one\'s reasons: inactive, unavailable, over_weekly_cap',
  },
  conflicts: {
    VENUE_CONFLICT: 'the venue is booked for an overlapping time (double booking is excluded by a constraint)',
    VOLUNTEER_CONFLICT: 'a volunteer has an assignment at an overlapping time (excluded by a constraint)',
  },
};

export const TRANSITION_ERRORS: Record<OrderAction, TransitionErrors> = {
  dispatch: {
    rules: { UNKNOWN_DEPARTMENT: 'no department has that id', DEPARTMENT_NOT_SERVING_DISTRICT: 'the department neither serves the order\'s district nor is city-wide' },
    conflicts: {},
  },
  reject: NO_OTHER_ERRORS,
  merge: { rules: { INVALID_MERGE_TARGET: 'the primary order is not another open order of the same community' }, conflicts: {} },
  claim: NO_OTHER_ERRORS,
  decline: NO_OTHER_ERRORS,
  offer: {
    rules: { UNKNOWN_ORGANIZATION: 'no organisation has that id', ORGANIZATION_NOT_SERVING_DISTRICT: 'the organisation does not serve the order\'s district' },
    conflicts: {},
  },
  open: NO_OTHER_ERRORS,
  accept: NO_OTHER_ERRORS,
  release: NO_OTHER_ERRORS,
  schedule: SCHEDULING_ERRORS,
  reschedule: SCHEDULING_ERRORS,
  check_in: {
    rules: { NOT_ASSIGNED: 'the volunteer has no confirmed assignment for the event', CHECK_IN_CLOSED: 'earlier than 2 h before the start, or after the end', INVALID_CHECK_IN_CODE: 'the code is not the venue\'s current or previous one (nothing is written)' },
    conflicts: { ALREADY_CHECKED_IN: 'the volunteer has already checked in' },
  },
  complete: NO_OTHER_ERRORS,
  rate: NO_OTHER_ERRORS,
  cancel: NO_OTHER_ERRORS,
  close: NO_OTHER_ERRORS,
  expire: NO_OTHER_ERRORS,
  reassign: {
    rules: {
      UNKNOWN_DEPARTMENT: 'no department has that id',
      DEPARTMENT_NOT_SERVING_DISTRICT: 'the department neither serves the order\'s district nor is city-wide',
      SAME_DEPARTMENT: 'the order is already with that department',
    },
    conflicts: {},
  },
};

/** Actions a person takes through the API; the others (close, expire) only the worker's timers. */
export const isPersonAction = (action: OrderAction): boolean =>
  TRANSITIONS.some((r) => r.action === action && r.allowed.some((relation) => relation !== 'system'));

/** What the rules need to know about an order. */
export interface OrderFacts {
  status: OrderStatus;
  requesterId: string;
  communityCode: string;
  districtCode: string;
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
  district_coordinator: 'district_coordinator',
  city_admin: 'city_admin',
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
      // The volunteer profile, not the role: a resident approved as a volunteer keeps its role (DESIGN.md §10).
      return actor.volunteerId !== null && ctx.isAssignedVolunteer === true;
    case 'district_coordinator':
      return actor.role === 'district_coordinator' && actor.districtCode !== null && actor.districtCode === order.districtCode;
    case 'city_admin':
      return actor.role === 'city_admin';
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

/**
 * Transitions that start the stage they lead to afresh even when the status stays
 * (reassign: dispatched → dispatched at another department): the SLA timers count
 * from them, and the order's open escalations resolve with them.
 */
export const RESTARTS_STAGE: readonly string[] = ['order.reassigned'];

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
