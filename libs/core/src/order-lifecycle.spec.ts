import { type Actor } from './roles';
import {
  decideTransition,
  type OrderAction,
  type OrderFacts,
  ORDER_STATUSES,
  type OrderStatus,
  type RelationContext,
  RESTARTS_STAGE,
  SYSTEM_ACTOR,
  type SystemActor,
  TRANSITIONS,
} from './order-lifecycle';

const order = (status: OrderStatus): OrderFacts => ({
  status,
  requesterId: 'u-requester',
  communityCode: '110108001001',
  districtCode: '110108',
  departmentId: 'dep-1',
  organizationId: 'org-accepting',
  offeredOrganizationId: 'org-offered',
  isOpenToOrganizations: true,
});

const actor = (userId: string, role: Actor['role'], scope: Partial<Actor> = {}): Actor => ({
  userId,
  role,
  communityCode: null,
  departmentId: null,
  organizationId: null,
  districtCode: null,
  volunteerId: null,
  ...scope,
});

/** Everyone who might try, on both sides of every scope boundary. */
const ACTORS: Record<string, { actor: Actor | SystemActor; ctx?: RelationContext }> = {
  requester: { actor: actor('u-requester', 'resident', { communityCode: '110108001001' }) },
  otherResident: { actor: actor('u-other', 'resident', { communityCode: '110108001001' }) },
  communityStaff: { actor: actor('u-staff', 'community_staff', { communityCode: '110108001001' }) },
  otherCommunityStaff: { actor: actor('u-staff2', 'community_staff', { communityCode: '110108002001' }) },
  departmentStaff: { actor: actor('u-dep', 'department_staff', { departmentId: 'dep-1' }) },
  otherDepartmentStaff: { actor: actor('u-dep2', 'department_staff', { departmentId: 'dep-2' }) },
  offeredOrg: { actor: actor('u-org-offered', 'org_admin', { organizationId: 'org-offered' }) },
  openServingOrg: { actor: actor('u-org-serving', 'org_admin', { organizationId: 'org-serving' }), ctx: { doesOrganizationServeDistrict: true } },
  acceptingOrg: { actor: actor('u-org-accepting', 'org_admin', { organizationId: 'org-accepting' }) },
  otherOrg: { actor: actor('u-org-other', 'org_admin', { organizationId: 'org-other' }), ctx: { doesOrganizationServeDistrict: false } },
  assignedVolunteer: { actor: actor('u-vol', 'volunteer', { organizationId: 'org-accepting', volunteerId: 'v-1' }), ctx: { isAssignedVolunteer: true } },
  otherVolunteer: { actor: actor('u-vol2', 'volunteer', { organizationId: 'org-accepting', volunteerId: 'v-2' }), ctx: { isAssignedVolunteer: false } },
  coordinator: { actor: actor('u-coord', 'district_coordinator', { districtCode: '110108' }) },
  otherCoordinator: { actor: actor('u-coord2', 'district_coordinator', { districtCode: '110105' }) },
  cityAdmin: { actor: actor('u-admin', 'city_admin') },
  system: { actor: SYSTEM_ACTOR },
};

const BEFORE_SCHEDULING: OrderStatus[] = ['submitted', 'dispatched', 'claimed', 'accepted'];

/** DESIGN.md §3, written out by hand: who may do what from which statuses, and where it leads. */
const EXPECTED: Record<OrderAction, { to: OrderStatus | 'same'; allowed: Record<string, OrderStatus[]> }> = {
  dispatch: { to: 'dispatched', allowed: { communityStaff: ['submitted'] } },
  reject: { to: 'rejected', allowed: { communityStaff: ['submitted'] } },
  merge: { to: 'merged', allowed: { communityStaff: ['submitted'] } },
  claim: { to: 'claimed', allowed: { departmentStaff: ['dispatched'] } },
  decline: { to: 'submitted', allowed: { departmentStaff: ['dispatched'] } },
  offer: { to: 'same', allowed: { departmentStaff: ['claimed'] } },
  open: { to: 'same', allowed: { departmentStaff: ['claimed'] } },
  accept: { to: 'accepted', allowed: { offeredOrg: ['claimed'], openServingOrg: ['claimed'] } },
  release: { to: 'claimed', allowed: { acceptingOrg: ['accepted'] } },
  schedule: { to: 'scheduled', allowed: { acceptingOrg: ['accepted'] } },
  reschedule: { to: 'same', allowed: { acceptingOrg: ['scheduled'] } },
  check_in: { to: 'in_progress', allowed: { assignedVolunteer: ['scheduled'], acceptingOrg: ['scheduled'] } },
  complete: { to: 'completed', allowed: { acceptingOrg: ['in_progress'] } },
  rate: { to: 'rated', allowed: { requester: ['completed'], communityStaff: ['completed'] } },
  cancel: { to: 'cancelled', allowed: { requester: BEFORE_SCHEDULING, communityStaff: [...BEFORE_SCHEDULING, 'scheduled'] } },
  close: { to: 'closed', allowed: { system: ['completed'] } },
  expire: { to: 'expired', allowed: { system: BEFORE_SCHEDULING } },
  reassign: { to: 'dispatched', allowed: { coordinator: ['submitted', 'dispatched', 'claimed'], cityAdmin: ['submitted', 'dispatched', 'claimed'] } },
};

describe('order lifecycle table', () => {
  it('covers exactly the actions of DESIGN.md §3', () => {
    expect(new Set(TRANSITIONS.map((r) => r.action))).toEqual(new Set(Object.keys(EXPECTED)));
  });

  const cases = Object.entries(EXPECTED).flatMap(([action, expected]) =>
    Object.keys(ACTORS).flatMap((who) => ORDER_STATUSES.map((status) => ({ action: action as OrderAction, expected, who, status }))),
  );

  it.each(cases)('$action by $who from $status', ({ action, expected, who, status }) => {
    const { actor: subject, ctx } = ACTORS[who]!;
    const decision = decideTransition(order(status), action, subject, ctx);
    const statuses = expected.allowed[who];
    if (statuses?.includes(status)) {
      expect(decision).toMatchObject({ allowed: true, to: expected.to === 'same' ? status : expected.to });
    } else if (statuses) {
      expect(decision).toEqual({ allowed: false, reason: 'state' });
    } else {
      expect(decision).toEqual({ allowed: false, reason: 'forbidden' });
    }
  });

  it('lets no one act on a terminal order', () => {
    for (const status of ['rated', 'closed', 'rejected', 'merged', 'cancelled', 'expired'] as const)
      for (const rule of TRANSITIONS) expect(rule.from).not.toContain(status);
  });

  it('an organisation that is neither offered nor serving cannot accept an open order', () => {
    const closed = { ...order('claimed'), isOpenToOrganizations: false };
    expect(decideTransition(closed, 'accept', ACTORS.openServingOrg!.actor, { doesOrganizationServeDistrict: true })).toEqual({
      allowed: false,
      reason: 'forbidden',
    });
  });

  it('reassign restarts the stage it leads to, so the SLA timers count from it', () => {
    expect(RESTARTS_STAGE).toEqual(['order.reassigned']);
    expect(TRANSITIONS.find((r) => r.action === 'reassign')).toMatchObject({ eventType: 'order.reassigned', to: 'dispatched' });
  });

  it('every rule names the notification it emits', () => {
    for (const rule of TRANSITIONS) expect(rule.eventType).toMatch(/^order\.[a-z_]+$/);
  });
});
