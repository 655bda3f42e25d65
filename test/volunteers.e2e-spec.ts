import { expectProblem, problemMismatches } from './support/problem';
import { count, startTestApp, type TestApp } from './support/test-app';
import { CHAOYANG, COMMUNITY_A1, COMMUNITY_A2, COMMUNITY_B1, createWorld, HAIDIAN, login, type Session, type World } from './support/world';

/**
 * Volunteers and venues (DESIGN.md §4, API.md Accounts): who registers and
 * reads them, what a body must hold, and that a refused request writes nothing.
 */

interface VolunteerJson {
  id: string;
  userId: string | null;
  organizationId: string;
  displayName: string;
  phone: string;
  homeCommunityCode: string;
  homeSubdistrictCode: string;
  homeDistrictCode: string;
  skills: { topic: string; level: number }[];
  availability: { weekday: number; start: string; end: string }[];
  unavailable: { start: string; end: string }[];
  maxHoursPerWeek: number;
  isActive: boolean;
  [field: string]: unknown;
}

interface VenueJson {
  id: string;
  ownerType: string;
  ownerId: string | null;
  communityCode: string;
  subdistrictCode: string;
  districtCode: string;
  [field: string]: unknown;
}

const PHONE = '13912345678';
const MASKED = '139****5678';

function volunteerBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    displayName: '张明',
    phone: PHONE,
    homeCommunityCode: COMMUNITY_A1,
    skills: [
      { topic: 'anti_fraud', level: 3 },
      { topic: 'digital_skills', level: 2 },
    ],
    audiences: ['elderly', 'general'],
    formats: ['lecture', 'consultation'],
    languages: ['zh', 'sign_language'],
    availability: [
      { weekday: 6, start: '09:00', end: '12:00' },
      { weekday: 7, start: '14:00', end: '24:00' },
    ],
    unavailable: [{ start: '2027-02-10T00:00:00+08:00', end: '2027-02-17T00:00:00+08:00' }],
    maxHoursPerWeek: 8,
    ...overrides,
  };
}

const venueBody = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: '学院路社区活动室',
  communityCode: COMMUNITY_A1,
  kind: 'community_room',
  capacity: 80,
  accessibility: ['wheelchair'],
  lat: 39.99,
  lng: 116.35,
  ...overrides,
});

describe('volunteers and venues', () => {
  let t: TestApp;
  let w: World;

  beforeAll(async () => {
    t = await startTestApp('volunteers');
    w = await createWorld(t);
  });
  afterAll(() => t.close());

  const post = (who: Session, path: string, body: object) => t.http().post(path).set(who.auth).send(body);
  const written = async () => ({ volunteers: await count(t.db, 'volunteers'), skills: await count(t.db, 'volunteer_skills'), users: await count(t.db, 'users'), venues: await count(t.db, 'venues') });

  describe('POST /organizations/:id/volunteers', () => {
    it('an org_admin registers a volunteer without a login: 201 with the home subdistrict and district taken from the community', async () => {
      const res = await post(w.orgHaidian, `/organizations/${w.organizations.haidian}/volunteers`, volunteerBody()).expect(201);
      const v = res.body as VolunteerJson;
      expect(v).toMatchObject({
        userId: null,
        organizationId: w.organizations.haidian,
        displayName: '张明',
        phone: PHONE,
        homeCommunityCode: COMMUNITY_A1,
        homeSubdistrictCode: '110108001',
        homeDistrictCode: HAIDIAN,
        audiences: ['elderly', 'general'],
        formats: ['lecture', 'consultation'],
        languages: ['zh', 'sign_language'],
        availability: [
          { weekday: 6, start: '09:00', end: '12:00' },
          { weekday: 7, start: '14:00', end: '24:00' },
        ],
        unavailable: [{ start: '2027-02-09T16:00:00.000Z', end: '2027-02-16T16:00:00.000Z' }],
        maxHoursPerWeek: 8,
        isActive: true,
      });
      expect(v.skills).toEqual([
        { topic: 'anti_fraud', level: 3 },
        { topic: 'digital_skills', level: 2 },
      ]);
      expect(await count(t.db, 'volunteer_skills', 'volunteer_id = $1', [v.id])).toBe(2);
    });

    it('with username and password it also creates a login: role volunteer, its organisation and volunteerId, usable at once', async () => {
      const body = volunteerBody({ displayName: '李红', username: 'li.hong', password: 'li-hong-pass-1' });
      const v = (await post(w.orgHaidian, `/organizations/${w.organizations.haidian}/volunteers`, body).expect(201)).body as VolunteerJson;
      expect(v.userId).toEqual(expect.any(String));
      const { rows } = await t.db.query<{ user_id: string; volunteer_id: string }>(
        `SELECT v.user_id, u.volunteer_id FROM volunteers v JOIN users u ON u.id = v.user_id WHERE v.id = $1`,
        [v.id],
      );
      expect(rows).toEqual([{ user_id: v.userId, volunteer_id: v.id }]);

      const session = await login(t, 'li.hong', 'li-hong-pass-1');
      const me = (await t.http().get('/me').set(session.auth).expect(200)).body as Record<string, unknown>;
      expect(me).toMatchObject({ id: v.userId, username: 'li.hong', displayName: '李红', role: 'volunteer', organizationId: w.organizations.haidian, volunteerId: v.id });
    });

    it('the city admin registers for any organisation; an unknown organisation is 404', async () => {
      const res = await post(w.admin, `/organizations/${w.organizations.chaoyang}/volunteers`, volunteerBody({ homeCommunityCode: COMMUNITY_B1 })).expect(201);
      expect(res.body).toMatchObject({ organizationId: w.organizations.chaoyang, homeDistrictCode: CHAOYANG, phone: MASKED });
      const before = await written();
      expectProblem(await post(w.admin, '/organizations/00000000-0000-4000-8000-000000000000/volunteers', volunteerBody()), 404, 'NOT_FOUND');
      expect(await written()).toEqual(before);
    });

    it.each(['orgHaidian2', 'orgChaoyang', 'coordHaidian', 'residentA1', 'staffA1', 'deptHaidian'] as const)(
      '%s may not register volunteers of 海淀科普志愿服务队: 403, nothing written',
      async (who) => {
        const before = await written();
        expectProblem(await post(w[who], `/organizations/${w.organizations.haidian}/volunteers`, volunteerBody({ username: `x-${who}`, password: 'pass-word-1' })), 403, 'FORBIDDEN');
        expect(await written()).toEqual(before);
      },
    );

    const windows = (n: number) => Array.from({ length: n }, (_, i) => ({ weekday: (i % 7) + 1, start: `${String(8 + Math.floor(i / 7)).padStart(2, '0')}:00`, end: '23:00' }));
    const BAD: [string, Record<string, unknown>, string][] = [
      ['no displayName', { displayName: undefined }, 'displayName'],
      ['a blank displayName', { displayName: '   ' }, 'displayName'],
      ['a null displayName', { displayName: null }, 'displayName'],
      ['a phone with letters', { phone: '138-abc' }, 'phone'],
      ['no phone', { phone: undefined }, 'phone'],
      ['a short community code', { homeCommunityCode: '110108001' }, 'homeCommunityCode'],
      ['no skills', { skills: [] }, 'skills'],
      ['skills not an array', { skills: 'anti_fraud' }, 'skills'],
      ['a skill that is not an object', { skills: ['anti_fraud'] }, 'skills'],
      ['a null skill', { skills: [null] }, 'skills'],
      ['an unknown topic', { skills: [{ topic: 'astrology', level: 1 }] }, 'skills'],
      ['level 0', { skills: [{ topic: 'health', level: 0 }] }, 'skills'],
      ['level 4', { skills: [{ topic: 'health', level: 4 }] }, 'skills'],
      ['a fractional level', { skills: [{ topic: 'health', level: 1.5 }] }, 'skills'],
      ['one topic twice', { skills: [{ topic: 'health', level: 1 }, { topic: 'health', level: 2 }] }, 'skills'],
      ['21 skills', { skills: Array.from({ length: 21 }, (_, i) => ({ topic: `t${i}`, level: 1 })) }, 'skills'],
      ['an unknown audience', { audiences: ['aliens'] }, 'audiences'],
      ['no audiences', { audiences: undefined }, 'audiences'],
      ['an unknown format', { formats: ['podcast'] }, 'formats'],
      ['a language of 31 characters', { languages: ['x'.repeat(31)] }, 'languages'],
      ['a language that is a number', { languages: [7] }, 'languages'],
      ['weekday 0', { availability: [{ weekday: 0, start: '09:00', end: '10:00' }] }, 'availability'],
      ['weekday 8', { availability: [{ weekday: 8, start: '09:00', end: '10:00' }] }, 'availability'],
      ['a start of 9:00', { availability: [{ weekday: 1, start: '9:00', end: '10:00' }] }, 'availability'],
      ['an end of 25:00', { availability: [{ weekday: 1, start: '09:00', end: '25:00' }] }, 'availability'],
      ['an end before the start', { availability: [{ weekday: 1, start: '10:00', end: '09:00' }] }, 'availability.0.end'],
      ['an end equal to the start', { availability: [{ weekday: 1, start: '10:00', end: '10:00' }] }, 'availability.0.end'],
      ['22 weekly windows', { availability: windows(22) }, 'availability'],
      ['an exception without an offset', { unavailable: [{ start: '2027-02-10T00:00:00', end: '2027-02-11T00:00:00+08:00' }] }, 'unavailable'],
      ['an exception ending before it starts', { unavailable: [{ start: '2027-02-10T00:00:00+08:00', end: '2027-02-09T00:00:00+08:00' }] }, 'unavailable.0.end'],
      ['maxHoursPerWeek 0.4', { maxHoursPerWeek: 0.4 }, 'maxHoursPerWeek'],
      ['maxHoursPerWeek 169', { maxHoursPerWeek: 169 }, 'maxHoursPerWeek'],
      ['maxHoursPerWeek as a string', { maxHoursPerWeek: '8' }, 'maxHoursPerWeek'],
      ['a username without a password', { username: 'lonely.name' }, 'password'],
      ['a password without a username', { password: 'pass-word-1' }, 'username'],
      ['a password without a digit', { username: 'weak.pass', password: 'password-only' }, 'password'],
      ['a short password', { username: 'short.pass', password: 'ab1' }, 'password'],
      ['a username with spaces', { username: 'two words', password: 'pass-word-1' }, 'username'],
      ['an unknown field', { favouriteColour: 'blue' }, 'favouriteColour'],
    ];
    it.each(BAD)('%s is 400 VALIDATION_FAILED naming the field, and nothing is written', async (_case, overrides, field) => {
      const before = await written();
      const res = await post(w.orgHaidian, `/organizations/${w.organizations.haidian}/volunteers`, volunteerBody(overrides));
      expect(problemMismatches(res, 400, 'VALIDATION_FAILED', field)).toEqual([]);
      expect(await written()).toEqual(before);
    });

    it('a community that does not exist is 422 UNKNOWN_COMMUNITY, nothing written', async () => {
      const before = await written();
      expectProblem(await post(w.orgHaidian, `/organizations/${w.organizations.haidian}/volunteers`, volunteerBody({ homeCommunityCode: '110108999999' })), 422, 'UNKNOWN_COMMUNITY');
      expect(await written()).toEqual(before);
    });

    it.each(['resident-a1', 'RESIDENT-A1'])('a taken username (%s) is 409 USERNAME_TAKEN and neither volunteer, skills nor user is written', async (username) => {
      const before = await written();
      const res = await post(w.orgHaidian, `/organizations/${w.organizations.haidian}/volunteers`, volunteerBody({ username, password: 'pass-word-1' }));
      expectProblem(res, 409, 'USERNAME_TAKEN');
      expect(await written()).toEqual(before);
    });

    it('two registrations racing for one username: exactly one wins, the other writes nothing', async () => {
      const before = await written();
      const body = volunteerBody({ username: 'race.name', password: 'pass-word-1' });
      const answers = await Promise.all(Array.from({ length: 5 }, () => post(w.orgHaidian, `/organizations/${w.organizations.haidian}/volunteers`, body)));
      expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409, 409, 409]);
      const after = await written();
      expect(after).toEqual({ volunteers: before.volunteers + 1, skills: before.skills + 2, users: before.users + 1, venues: before.venues });
    });
  });

  describe('GET /organizations/:id/volunteers and PATCH /volunteers/:id', () => {
    let haidian2Volunteer: VolunteerJson;
    beforeAll(async () => {
      haidian2Volunteer = (await post(w.orgHaidian2, `/organizations/${w.organizations.haidian2}/volunteers`, volunteerBody({ displayName: '王青' })).expect(201)).body as VolunteerJson;
    });

    const list = (who: Session, org: string, query: Record<string, string | number> = {}) => t.http().get(`/organizations/${org}/volunteers`).query(query).set(who.auth);

    it('the organisation\'s admin lists its volunteers, newest first, phones in full, across pages without repeats', async () => {
      const all = (await list(w.orgHaidian, w.organizations.haidian, { limit: 100 }).expect(200)).body as { items: VolunteerJson[]; nextCursor: string | null };
      expect(all.items.length).toBeGreaterThanOrEqual(3);
      expect(all.nextCursor).toBeNull();
      expect(all.items.every((v) => v.organizationId === w.organizations.haidian && v.phone === PHONE)).toBe(true);
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const query: Record<string, string | number> = cursor === null ? { limit: 2 } : { limit: 2, cursor };
        const page = (await list(w.orgHaidian, w.organizations.haidian, query).expect(200)).body as { items: VolunteerJson[]; nextCursor: string | null };
        paged.push(...page.items.map((v) => v.id));
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect(paged).toEqual(all.items.map((v) => v.id));
    });

    it.each([
      ['coordHaidian', 'haidian', 200],
      ['coordChaoyang', 'haidian', 403],
      ['coordChaoyang', 'haidian2', 200],
      ['admin', 'haidian', 200],
      ['orgHaidian2', 'haidian', 403],
      ['orgChaoyang', 'haidian', 403],
      ['residentA1', 'haidian', 403],
      ['staffA1', 'haidian', 403],
      ['deptHaidian', 'haidian', 403],
    ] as const)('%s listing the volunteers of %s: %s, phones masked for anyone but the organisation\'s admins', async (who, org, status) => {
      const res = await list(w[who], w.organizations[org]);
      if (status === 403) return expectProblem(res, 403, 'FORBIDDEN');
      expect(res.status).toBe(200);
      const items = (res.body as { items: VolunteerJson[] }).items;
      expect(items.length).toBeGreaterThan(0);
      expect(items.every((v) => v.phone === MASKED)).toBe(true);
    });

    it('an unknown organisation is 404; a bad cursor or limit is 400', async () => {
      expectProblem(await list(w.admin, '00000000-0000-4000-8000-000000000000'), 404, 'NOT_FOUND');
      expectProblem(await list(w.orgHaidian, w.organizations.haidian, { cursor: 'nonsense' }), 400, 'VALIDATION_FAILED', 'cursor');
      expectProblem(await list(w.orgHaidian, w.organizations.haidian, { limit: 101 }), 400, 'VALIDATION_FAILED', 'limit');
    });

    it('the organisation deactivates a volunteer and replaces its skills, availability and cap', async () => {
      const patch = { isActive: false, skills: [{ topic: 'health', level: 1 }], availability: [{ weekday: 1, start: '18:00', end: '21:00' }], unavailable: [], maxHoursPerWeek: 2.5 };
      const res = await t.http().patch(`/volunteers/${haidian2Volunteer.id}`).set(w.orgHaidian2.auth).send(patch).expect(200);
      expect(res.body).toMatchObject({ ...patch, id: haidian2Volunteer.id, displayName: '王青' });
      expect(await count(t.db, 'volunteer_skills', 'volunteer_id = $1', [haidian2Volunteer.id])).toBe(1);
      const again = await t.http().patch(`/volunteers/${haidian2Volunteer.id}`).set(w.orgHaidian2.auth).send({ isActive: true }).expect(200);
      expect(again.body).toMatchObject({ isActive: true, skills: [{ topic: 'health', level: 1 }], maxHoursPerWeek: 2.5 });
    });

    it('PATCH scope and input: another organisation 404, other roles 403, bad windows 400, nothing changed', async () => {
      const url = `/volunteers/${haidian2Volunteer.id}`;
      const before = (await t.db.query(`SELECT is_active, max_hours_per_week, availability FROM volunteers WHERE id = $1`, [haidian2Volunteer.id])).rows;
      expectProblem(await t.http().patch(url).set(w.orgHaidian.auth).send({ isActive: false }), 404, 'NOT_FOUND');
      expectProblem(await t.http().patch(url).set(w.coordHaidian.auth).send({ isActive: false }), 403, 'FORBIDDEN');
      expectProblem(await t.http().patch(url).set(w.residentA1.auth).send({ isActive: false }), 403, 'FORBIDDEN');
      expectProblem(await t.http().patch(url).set(w.orgHaidian2.auth).send({ availability: [{ weekday: 1, start: '12:00', end: '11:00' }] }), 400, 'VALIDATION_FAILED', 'availability.0.end');
      expectProblem(await t.http().patch(url).set(w.orgHaidian2.auth).send({ skills: [] }), 400, 'VALIDATION_FAILED', 'skills');
      expectProblem(await t.http().patch(url).set(w.orgHaidian2.auth).send({ isActive: 'no' }), 400, 'VALIDATION_FAILED', 'isActive');
      expectProblem(await t.http().patch('/volunteers/00000000-0000-4000-8000-000000000000').set(w.admin.auth).send({ isActive: false }), 404, 'NOT_FOUND');
      expectProblem(await t.http().patch('/volunteers/not-a-uuid').set(w.admin.auth).send({ isActive: false }), 400, 'VALIDATION_FAILED');
      expect((await t.db.query(`SELECT is_active, max_hours_per_week, availability FROM volunteers WHERE id = $1`, [haidian2Volunteer.id])).rows).toEqual(before);
    });
  });

  describe('venues', () => {
    const create = (who: Session, overrides: Record<string, unknown> = {}) => post(who, '/venues', venueBody(overrides));

    it.each([
      ['staffA1', COMMUNITY_A1, 'community', (): string | null => COMMUNITY_A1],
      ['deptHaidian', COMMUNITY_B1, 'department', (): string | null => w.departments.haidian],
      ['orgHaidian', COMMUNITY_A2, 'organization', (): string | null => w.organizations.haidian],
      ['admin', COMMUNITY_B1, 'city', (): string | null => null],
    ] as const)('%s registers a venue in %s, owned as %s', async (who, communityCode, ownerType, ownerId) => {
      const res = await create(w[who], { communityCode, name: `${who} 的场地` }).expect(201);
      const venue = res.body as VenueJson;
      expect(venue).toMatchObject({ ownerType, ownerId: ownerId(), communityCode, kind: 'community_room', capacity: 80, accessibility: ['wheelchair'], lat: 39.99, lng: 116.35 });
      expect(venue.districtCode).toBe(communityCode.slice(0, 6));
      expect(venue.subdistrictCode).toBe(communityCode.slice(0, 9));
    });

    it.each([
      ['staffA1', { communityCode: COMMUNITY_A2 }],
      ['residentA1', {}],
      ['coordHaidian', {}],
    ] as const)('%s may not register %j: 403, nothing written', async (who, overrides) => {
      const before = await written();
      expectProblem(await create(w[who], overrides), 403, 'FORBIDDEN');
      expect(await written()).toEqual(before);
    });

    it('a volunteer may not register venues', async () => {
      await post(w.orgHaidian, `/organizations/${w.organizations.haidian}/volunteers`, volunteerBody({ username: 'venue.volunteer', password: 'pass-word-1' })).expect(201);
      const volunteer = await login(t, 'venue.volunteer', 'pass-word-1');
      expectProblem(await create(volunteer), 403, 'FORBIDDEN');
    });

    const BAD_VENUES: [string, Record<string, unknown>, string][] = [
      ['no name', { name: undefined }, 'name'],
      ['a blank name', { name: ' ' }, 'name'],
      ['an unknown kind', { kind: 'stadium' }, 'kind'],
      ['capacity 0', { capacity: 0 }, 'capacity'],
      ['capacity 100001', { capacity: 100001 }, 'capacity'],
      ['a fractional capacity', { capacity: 10.5 }, 'capacity'],
      ['an unknown accessibility feature', { accessibility: ['elevator'] }, 'accessibility'],
      ['a feature twice', { accessibility: ['wheelchair', 'wheelchair'] }, 'accessibility'],
      ['no accessibility list', { accessibility: undefined }, 'accessibility'],
      ['lat 91', { lat: 91 }, 'lat'],
      ['lng -181', { lng: -181 }, 'lng'],
      ['lat without lng', { lng: undefined }, 'lng'],
      ['a malformed community code', { communityCode: 'A1' }, 'communityCode'],
    ];
    it.each(BAD_VENUES)('%s is 400 naming the field, nothing written', async (_case, overrides, field) => {
      const before = await written();
      expectProblem(await create(w.admin, overrides), 400, 'VALIDATION_FAILED', field);
      expect(await written()).toEqual(before);
    });

    it('an unknown community is 422 UNKNOWN_COMMUNITY', async () => {
      const before = await written();
      expectProblem(await create(w.deptHaidian, { communityCode: '110108999999' }), 422, 'UNKNOWN_COMMUNITY');
      expect(await written()).toEqual(before);
    });

    it('any user lists venues by community or district, newest first, in pages', async () => {
      const byCommunity = (await t.http().get('/venues').query({ communityCode: COMMUNITY_A1 }).set(w.residentA2.auth).expect(200)).body as { items: VenueJson[] };
      expect(byCommunity.items.length).toBeGreaterThan(0);
      expect(byCommunity.items.every((v) => v.communityCode === COMMUNITY_A1)).toBe(true);
      const byDistrict = (await t.http().get('/venues').query({ districtCode: CHAOYANG, limit: 100 }).set(w.orgChaoyang.auth).expect(200)).body as { items: VenueJson[] };
      expect(byDistrict.items.length).toBe(2);
      expect(byDistrict.items.every((v) => v.districtCode === CHAOYANG)).toBe(true);
      const first = (await t.http().get('/venues').query({ limit: 1 }).set(w.staffB1.auth).expect(200)).body as { items: VenueJson[]; nextCursor: string };
      const second = (await t.http().get('/venues').query({ limit: 1, cursor: first.nextCursor }).set(w.staffB1.auth).expect(200)).body as { items: VenueJson[] };
      expect(second.items[0]?.id).not.toBe(first.items[0]?.id);
      expectProblem(await t.http().get('/venues').query({ districtCode: '1101' }).set(w.staffB1.auth), 400, 'VALIDATION_FAILED', 'districtCode');
    });
  });
});
