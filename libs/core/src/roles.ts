export const ROLES = [
  'resident',
  'community_staff',
  'department_staff',
  'org_admin',
  'volunteer',
  'district_coordinator',
  'city_admin',
] as const;
export type Role = (typeof ROLES)[number];

/**
 * Who is acting and within which scope. Every repository read of a scoped
 * object takes one of these, so a forgotten scope is a compile error.
 */
export interface Actor {
  userId: string;
  role: Role;
  communityCode: string | null;
  departmentId: string | null;
  organizationId: string | null;
  districtCode: string | null;
  /**
   * The user's volunteer profile (volunteers.user_id = userId), read from the database on each
   * request, whatever the role: a resident approved by an organisation keeps its role and
   * volunteers too (DESIGN.md §10). Volunteer actions and scopes look at this, never at `role`.
   */
  volunteerId: string | null;
}

/** The scope field each role must carry; users are created with it. */
export const ROLE_SCOPE_FIELD: Record<Role, keyof Actor | null> = {
  resident: 'communityCode',
  community_staff: 'communityCode',
  department_staff: 'departmentId',
  org_admin: 'organizationId',
  volunteer: 'organizationId',
  district_coordinator: 'districtCode',
  city_admin: null,
};
