import type { VenueKind } from '@kepu/volunteers';
import { type Place, type Role, TOPIC_CODES, AUDIENCE_CODES, FORMAT_CODES, type WeeklyWindow } from '@kepu/core';
import {
  AVAILABILITY_PATTERNS,
  CITY_DEPARTMENT,
  CITY_ORGANIZATIONS,
  COMMUNITIES_PER_DISTRICT,
  DEMO_DISTRICTS,
  DemoRandom,
  type DemoDistrictSpec,
  DISTRICT_DEPARTMENTS,
  DISTRICT_VENUES,
  districtOrganizationName,
  demoId,
  FARM_DEPARTMENT,
  FEATURED_VOLUNTEERS_PER_ORGANIZATION,
  VOLUNTEERS_PER_CITY_ORGANIZATION,
  VOLUNTEERS_PER_DISTRICT_ORGANIZATION,
} from './demo-data';

/**
 * The people, departments, organisations, volunteers and venues of the demo, planned in memory
 * before any write. Ids here are planning keys (demoId); demo-seed.ts maps them to the rows the
 * services create, found again by username or name on a second run.
 */

export interface DemoCommunity {
  code: string;
  name: string;
  subdistrictCode: string;
  districtCode: string;
}

export interface DemoUser {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  phone: string;
  communityCode: string | null;
  departmentId: string | null;
  organizationId: string | null;
  districtCode: string | null;
  volunteerId: string | null;
}

export interface DemoDepartment {
  id: string;
  name: string;
  districtCode: string | null;
  topics: string[];
  staffId: string;
}

export interface DemoOrganization {
  id: string;
  name: string;
  districtCodes: string[];
  adminId: string;
}

export interface DemoVolunteer {
  id: string;
  organizationId: string;
  /** Every demo volunteer has a login: `<organisation key>.volunteer<n>`. */
  userId: string;
  username: string;
  /** The first few of each organisation: reachable every day, named first for upcoming events. */
  isFeatured: boolean;
  displayName: string;
  phone: string;
  home: Place;
  skills: { topic: string; level: number }[];
  audiences: string[];
  formats: string[];
  languages: string[];
  availability: WeeklyWindow[];
  maxHoursPerWeek: number;
  isActive: boolean;
}

export interface DemoVenue {
  id: string;
  name: string;
  ownerType: 'community' | 'department' | 'organization' | 'city';
  ownerId: string | null;
  community: DemoCommunity;
  kind: VenueKind;
  capacity: number;
  accessibility: string[];
  createdBy: string;
}

export interface DemoDistrict {
  spec: DemoDistrictSpec;
  communities: DemoCommunity[];
  coordinatorId: string;
  /** Per community code: its staff member and its resident. */
  staffOf: Map<string, string>;
  residentOf: Map<string, string>;
  departments: DemoDepartment[];
  organization: DemoOrganization;
  venues: DemoVenue[];
}

export interface DemoWorld {
  cityAdminId: string;
  districts: DemoDistrict[];
  users: DemoUser[];
  departments: DemoDepartment[];
  organizations: DemoOrganization[];
  volunteers: DemoVolunteer[];
  venues: DemoVenue[];
}

const userId = (username: string) => demoId(`user:${username}`);

/** "富强西里社区居委会" → "富强西里社区": the name people use for the place. */
const placeName = (communityName: string) => communityName.replace(/(居委会|村委会|居民委员会|村民委员会)$/, '');

class WorldBuilder {
  readonly users: DemoUser[] = [];
  private readonly random = new DemoRandom('demo-world');

  user(
    username: string,
    role: Role,
    scope: Partial<Pick<DemoUser, 'communityCode' | 'departmentId' | 'organizationId' | 'districtCode' | 'volunteerId'>>,
    displayName?: string,
    phone?: string,
  ): string {
    const id = userId(username);
    this.users.push({
      id,
      username,
      displayName: displayName ?? this.random.personName(),
      role,
      phone: phone ?? this.random.phone(),
      communityCode: scope.communityCode ?? null,
      departmentId: scope.departmentId ?? null,
      organizationId: scope.organizationId ?? null,
      districtCode: scope.districtCode ?? null,
      volunteerId: scope.volunteerId ?? null,
    });
    return id;
  }

  department(key: string, name: string, districtCode: string | null, topics: readonly string[]): DemoDepartment {
    const id = demoId(`department:${key}`);
    const staffId = this.user(key, 'department_staff', { departmentId: id });
    return { id, name, districtCode, topics: [...topics], staffId };
  }

  organization(key: string, name: string, districtCodes: string[]): DemoOrganization {
    const id = demoId(`organization:${key}`);
    const adminId = this.user(key, 'org_admin', { organizationId: id });
    return { id, name, districtCodes, adminId };
  }

  /** Volunteers of one organisation living in `homes`, each with a login `<key>.volunteer<n>`. */
  volunteers(key: string, organization: DemoOrganization, homes: readonly DemoCommunity[], count: number, topicBias: readonly string[]): DemoVolunteer[] {
    const random = new DemoRandom(`volunteers:${key}`);
    const patterns: WeeklyWindow[][] = [
      AVAILABILITY_PATTERNS.weekend,
      [...AVAILABILITY_PATTERNS.weekend, ...AVAILABILITY_PATTERNS.afternoons],
      [...AVAILABILITY_PATTERNS.weekend, ...AVAILABILITY_PATTERNS.evenings],
      AVAILABILITY_PATTERNS.daily,
      [...AVAILABILITY_PATTERNS.afternoons, ...AVAILABILITY_PATTERNS.evenings],
    ];
    return Array.from({ length: count }, (_, index) => {
      const id = demoId(`volunteer:${key}:${index + 1}`);
      const home = random.pick(homes);
      const displayName = random.personName();
      const phone = random.phone();
      // Every topic has experts somewhere; each organisation leans to its own.
      const primary = index % 3 === 0 ? random.pick(topicBias) : (TOPIC_CODES[index % TOPIC_CODES.length] as string);
      const others = random.sample(TOPIC_CODES.filter((t) => t !== primary), random.int(1, 3));
      const skills = [{ topic: primary, level: random.int(2, 3) }, ...others.map((topic) => ({ topic, level: random.int(1, 3) }))];
      const languages = ['zh', ...(random.chance(0.08) ? ['sign_language'] : []), ...(random.chance(0.12) ? ['en'] : [])];
      const isFeatured = index < FEATURED_VOLUNTEERS_PER_ORGANIZATION;
      const username = `${key}.volunteer${index + 1}`;
      return {
        id,
        organizationId: organization.id,
        userId: this.user(username, 'volunteer', { organizationId: organization.id, volunteerId: id }, displayName, phone),
        username,
        isFeatured,
        displayName,
        phone,
        home: { communityCode: home.code, subdistrictCode: home.subdistrictCode, districtCode: home.districtCode },
        skills,
        audiences: random.sample(AUDIENCE_CODES, random.int(2, 4)),
        formats: random.sample(FORMAT_CODES, random.int(2, 3)),
        languages,
        // The featured ones are reachable every day, so they always have something to see.
        availability: isFeatured ? AVAILABILITY_PATTERNS.daily : (patterns[index % patterns.length] as WeeklyWindow[]),
        maxHoursPerWeek: random.pick([6, 8, 10, 12, 16, 20]),
        isActive: isFeatured || index % 23 !== 22,
      };
    });
  }
}

/** Plans the demo's population from each district's communities (read from the imported regions). */
export function buildDemoWorld(communitiesOf: (spec: DemoDistrictSpec) => DemoCommunity[]): DemoWorld {
  const b = new WorldBuilder();
  const random = new DemoRandom('demo-venues');
  const cityAdminId = b.user('city.admin', 'city_admin', {}, '北京市科普工作协调员');
  const cityDepartment = b.department(CITY_DEPARTMENT.key, CITY_DEPARTMENT.name, null, CITY_DEPARTMENT.topics);
  const allCodes = DEMO_DISTRICTS.map((d) => d.code);
  const cityOrganizations = CITY_ORGANIZATIONS.map((o) => b.organization(o.key, o.name, allCodes));

  const districts: DemoDistrict[] = DEMO_DISTRICTS.map((spec) => {
    const communities = communitiesOf(spec).slice(0, COMMUNITIES_PER_DISTRICT);
    if (communities.length === 0) throw new Error(`No communities for district ${spec.code}: import the regions of province 11 (npm run db:setup) first.`);
    const coordinatorId = b.user(`${spec.slug}.coordinator`, 'district_coordinator', { districtCode: spec.code });
    const staffOf = new Map<string, string>();
    const residentOf = new Map<string, string>();
    communities.forEach((c, i) => {
      staffOf.set(c.code, b.user(`${spec.slug}.staff${i + 1}`, 'community_staff', { communityCode: c.code }));
      residentOf.set(c.code, b.user(`${spec.slug}.resident${i + 1}`, 'resident', { communityCode: c.code }));
    });
    const departmentSpecs = spec.hasFarms ? [...DISTRICT_DEPARTMENTS, FARM_DEPARTMENT] : DISTRICT_DEPARTMENTS;
    const departments = departmentSpecs.map((d) => b.department(`${spec.slug}.${d.key}`, `${spec.name}${d.name}`, spec.code, d.topics));
    const organization = b.organization(`${spec.slug}.org`, districtOrganizationName(spec.name), [spec.code]);

    const kexie = departments[0] as DemoDepartment;
    const venues: DemoVenue[] = communities.map((c) => ({
      id: demoId(`venue:${c.code}`),
      name: `${placeName(c.name)}活动中心`,
      ownerType: 'community',
      ownerId: c.code,
      community: c,
      kind: 'community_room',
      capacity: random.pick([40, 60, 80, 100, 120]),
      accessibility: random.chance(0.7) ? ['wheelchair', ...(random.chance(0.3) ? ['large_print'] : [])] : [],
      createdBy: staffOf.get(c.code) as string,
    }));
    DISTRICT_VENUES.forEach((v, i) => {
      const owner =
        v.key === 'school'
          ? { ownerType: 'organization' as const, ownerId: organization.id, createdBy: organization.adminId }
          : v.key === 'practice'
            ? { ownerType: 'city' as const, ownerId: null, createdBy: cityAdminId }
            : { ownerType: 'department' as const, ownerId: kexie.id, createdBy: kexie.staffId };
      venues.push({
        id: demoId(`venue:${spec.slug}.${v.key}`),
        name: `${spec.name}${v.name}`,
        kind: v.kind,
        capacity: v.capacity,
        accessibility: [...v.accessibility],
        community: communities[(i * 3) % communities.length] as DemoCommunity,
        ...owner,
      });
    });
    return { spec, communities, coordinatorId, staffOf, residentOf, departments: [...departments, cityDepartment], organization, venues };
  });

  const everyCommunity = districts.flatMap((d) => d.communities);
  const volunteers = [
    ...districts.flatMap((d) =>
      b.volunteers(`${d.spec.slug}`, d.organization, d.communities, VOLUNTEERS_PER_DISTRICT_ORGANIZATION, d.spec.hasFarms ? ['agriculture', 'food_safety'] : ['anti_fraud', 'health', 'digital_skills']),
    ),
    ...cityOrganizations.map((o, i) =>
      b.volunteers(CITY_ORGANIZATIONS[i]?.key ?? o.id, o, everyCommunity, VOLUNTEERS_PER_CITY_ORGANIZATION, i === 0 ? ['astronomy', 'experiments', 'ai_frontier'] : ['health', 'medicine_use', 'agriculture']),
    ).flat(),
  ];

  return {
    cityAdminId,
    districts,
    users: b.users,
    departments: [cityDepartment, ...districts.flatMap((d) => d.departments.filter((x) => x !== cityDepartment))],
    organizations: [...cityOrganizations, ...districts.map((d) => d.organization)],
    volunteers,
    venues: districts.flatMap((d) => d.venues),
  };
}
