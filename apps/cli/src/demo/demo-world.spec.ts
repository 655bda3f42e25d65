import { ROLES } from '@kepu/core';
import { DEMO_PASSWORD } from './demo-data';
import { buildDemoWorld, type DemoCommunity } from './demo-world';

const communitiesOf = ({ code }: { code: string }): DemoCommunity[] =>
  Array.from({ length: 8 }, (_, i) => ({ code: `${code}${String(i + 1).padStart(3, '0')}001`, name: `第${i + 1}社区居委会`, subdistrictCode: `${code}${String(i + 1).padStart(3, '0')}`, districtCode: code }));

describe('buildDemoWorld', () => {
  const world = buildDemoWorld(communitiesOf);

  it('gives every account a unique username and a password the API accepts (the rules of POST /users)', () => {
    const names = world.users.map((u) => u.username.toLowerCase());
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9._-]{3,64}$/);
    expect(DEMO_PASSWORD).toMatch(/^(?=.*[A-Za-z])(?=.*\d).{8,}$/);
    expect(new Set(world.users.map((u) => u.role))).toEqual(new Set(ROLES));
  });

  it('gives each district its coordinator, community staff and residents, departments, organisation and venues', () => {
    for (const d of world.districts) {
      const scoped = world.users.filter(
        (u) =>
          u.districtCode === d.spec.code ||
          d.communities.some((c) => c.code === u.communityCode) ||
          d.departments.some((x) => x.id === u.departmentId && x.districtCode === d.spec.code) ||
          u.organizationId === d.organization.id,
      );
      expect(new Set(scoped.map((u) => u.role))).toEqual(new Set(['district_coordinator', 'community_staff', 'resident', 'department_staff', 'org_admin', 'volunteer']));
      expect(d.venues.filter((v) => v.community.districtCode === d.spec.code)).toHaveLength(d.venues.length);
    }
  });

  it('has 200+ volunteers, each skilled (levels 1–3), with audiences, formats and weekly availability', () => {
    expect(world.volunteers.length).toBeGreaterThanOrEqual(200);
    for (const v of world.volunteers) {
      expect(v.skills.length).toBeGreaterThan(0);
      for (const s of v.skills) expect([1, 2, 3]).toContain(s.level);
      expect(v.audiences.length).toBeGreaterThan(0);
      expect(v.formats.length).toBeGreaterThan(0);
      expect(v.availability.length).toBeGreaterThan(0);
      expect(v.phone).toMatch(/^\d{11}$/);
    }
    expect(new Set(world.volunteers.map((v) => v.id)).size).toBe(world.volunteers.length);
  });

  it('gives every volunteer a login of role volunteer, named after its organisation', () => {
    const users = new Map(world.users.map((u) => [u.id, u]));
    for (const v of world.volunteers) {
      const login = users.get(v.userId);
      expect(login).toMatchObject({ role: 'volunteer', username: v.username, volunteerId: v.id, organizationId: v.organizationId });
      expect(v.username).toMatch(/\.volunteer\d+$/);
    }
    expect(world.users.filter((u) => u.role === 'volunteer')).toHaveLength(world.volunteers.length);
  });
});
