import { checkInCodeAt, CHECK_IN_CODE_STEP_SECONDS } from '@kepu/volunteers';
import type { Response, Test } from 'supertest';
import { acceptedOrder, ALWAYS, createVenue, createVolunteerWithLogin, type VolunteerWithLogin } from './support/fulfilment-world';
import { expectProblem } from './support/problem';
import { count, startTestApp, type TestApp } from './support/test-app';
import { clearOfWindowEnd } from './support/wait';
import { COMMUNITY_A1, COMMUNITY_A2, COMMUNITY_B1, createWorld, login, orderBody, type OrderJson, type Session, type World } from './support/world';

/**
 * Residents and volunteers on their own (DESIGN.md §10): one account keeps its role and
 * gains a volunteer profile when an organisation approves its application; volunteer
 * actions look at the profile, not the role. Verified hours: a check-in with the venue's
 * rotating code marks the service record verified.
 */

const SECRET = 'check-in-secret-for-tests-0123456789';
const STEP_MS = CHECK_IN_CODE_STEP_SECONDS * 1000;

interface Application {
  id: string;
  status: string;
  organizationId: string;
  userId: string;
  volunteerId: string | null;
  reason: string | null;
  phone: string;
}

describe('volunteer applications, volunteer profiles and verified hours', () => {
  let t: TestApp;
  let w: World;
  let serial = 0;

  /** A fresh resident (every test its own applicant), signed in. */
  const newResident = async (communityCode = COMMUNITY_A1): Promise<Session> => {
    const username = `applicant-${++serial}`;
    await t.http().post('/users').set(w.admin.auth).send({ username, password: `${username}-pass-1`, displayName: username, role: 'resident', communityCode }).expect(201);
    return login(t, username, `${username}-pass-1`);
  };

  const applicationBody = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
    organizationId: w.organizations.haidian,
    displayName: '王老师',
    phone: '13800001234',
    homeCommunityCode: COMMUNITY_A1,
    skills: [{ topic: 'anti_fraud', level: 3 }],
    audiences: ['elderly'],
    formats: ['lecture'],
    languages: ['zh'],
    availability: ALWAYS,
    maxHoursPerWeek: 10,
    motivation: '退休教师，想给社区老人讲防诈骗',
    ...overrides,
  });

  const apply = (session: Session, overrides: Record<string, unknown> = {}): Test =>
    t.http().post('/volunteer-applications').set(session.auth).send(applicationBody(overrides));

  const approve = (session: Session, id: string, body: object = {}): Test => t.http().post(`/volunteer-applications/${id}/approve`).set(session.auth).send(body);
  const reject = (session: Session, id: string, reason = '名额已满'): Test => t.http().post(`/volunteer-applications/${id}/reject`).set(session.auth).send({ reason });

  /** A volunteer account made through the whole flow: apply, approve. */
  const approvedResident = async (communityCode = COMMUNITY_A1): Promise<{ session: Session; volunteerId: string }> => {
    const session = await newResident(communityCode);
    const application = (await apply(session).expect(201)).body as Application;
    const approved = (await approve(w.orgHaidian, application.id).expect(200)).body as Application;
    return { session, volunteerId: approved.volunteerId as string };
  };

  const outboxPayloads = async (type: string): Promise<Record<string, unknown>[]> =>
    (await t.db.query<{ payload: Record<string, unknown> }>(`SELECT payload FROM outbox WHERE type = $1 ORDER BY created_at`, [type])).rows.map((r) => r.payload);

  /** An event of 海淀's organisation starting in three minutes (check-in is open: 2 h before), with open slots and named volunteers. */
  const eventSoon = async (options: { volunteerIds?: string[]; openSlots?: number } = {}): Promise<OrderJson> => {
    const start = new Date(Date.now() + 180_000);
    start.setUTCSeconds(0, 0);
    const end = new Date(start.getTime() + 3600_000);
    const order = await acceptedOrder(t, w, { preferredWindows: [{ start: start.toISOString(), end: new Date(end.getTime() + 3600_000).toISOString() }] });
    await t
      .http()
      .post(`/orders/${order.id}/schedule`)
      .set(w.orgHaidian.auth)
      .send({ start: start.toISOString(), end: end.toISOString(), venueId: await createVenue(t), volunteerIds: options.volunteerIds ?? [], openSlots: options.openSlots ?? 0 })
      .expect(200);
    return order;
  };

  const confirmInvitation = async (v: VolunteerWithLogin, orderId: string): Promise<void> => {
    const mine = (await t.http().get('/me/assignments').set(v.session.auth).expect(200)).body as { id: string; orderId: string }[];
    const invitation = mine.find((a) => a.orderId === orderId);
    await t.http().post(`/assignments/${invitation?.id}/confirm`).set(v.session.auth).send({}).expect(200);
  };

  beforeAll(async () => {
    t = await startTestApp('volunteering', { CHECK_IN_CODE_SECRET: SECRET });
    w = await createWorld(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('apply → approve → the same resident account orders, claims an open slot, checks in with the venue code and gets verified hours', async () => {
    const resident = await newResident();
    expect((await t.http().get('/me').set(resident.auth).expect(200)).body).toMatchObject({ role: 'resident', volunteerId: null });
    expectProblem(await t.http().get('/me/volunteer-profile').set(resident.auth), 404, 'NOT_FOUND');
    expectProblem(await t.http().get('/me/assignments').set(resident.auth), 403, 'FORBIDDEN');

    const applied = (await apply(resident).expect(201)).body as Application;
    expect(applied).toMatchObject({ status: 'pending', organizationId: w.organizations.haidian, userId: resident.id, volunteerId: null, phone: '13800001234' });
    const submitted = (await outboxPayloads('volunteer_application.submitted')).find((p) => p.applicationId === applied.id);
    expect(submitted).toMatchObject({ userIds: [w.orgHaidian.id], organizationName: '海淀科普志愿服务队', applicantName: '王老师' });

    const mine = (await t.http().get('/me/volunteer-applications').set(resident.auth).expect(200)).body as { items: Application[] };
    expect(mine.items.map((a) => a.id)).toEqual([applied.id]);
    const pending = (await t.http().get(`/organizations/${w.organizations.haidian}/volunteer-applications?status=pending`).set(w.orgHaidian.auth).expect(200)).body as {
      items: Application[];
    };
    expect(pending.items.map((a) => a.id)).toContain(applied.id);
    // The coordinator sees it with the phone masked.
    const seenByCoordinator = (await t.http().get(`/organizations/${w.organizations.haidian}/volunteer-applications`).set(w.coordHaidian.auth).expect(200)).body as {
      items: Application[];
    };
    expect(seenByCoordinator.items.find((a) => a.id === applied.id)?.phone).toBe('138****1234');

    const approved = (await approve(w.orgHaidian, applied.id).expect(200)).body as Application;
    expect(approved).toMatchObject({ id: applied.id, status: 'approved' });
    expect(approved.volunteerId).toEqual(expect.any(String));
    expect((await outboxPayloads('volunteer_application.approved')).find((p) => p.applicationId === applied.id)).toMatchObject({ userIds: [resident.id] });

    // At once, with the token it already holds: the role stays, the profile is there.
    expect((await t.http().get('/me').set(resident.auth).expect(200)).body).toMatchObject({ role: 'resident', volunteerId: approved.volunteerId });
    const profile = (await t.http().get('/me/volunteer-profile').set(resident.auth).expect(200)).body;
    // Declared at level 3; the organisation did not set levels, so level 1.
    expect(profile).toMatchObject({ id: approved.volunteerId, userId: resident.id, organizationId: w.organizations.haidian, skills: [{ topic: 'anti_fraud', level: 1 }], maxHoursPerWeek: 10 });

    // Still a resident: it orders for its community.
    await t.http().post('/orders').set(resident.auth).send(orderBody(COMMUNITY_A1)).expect(201);

    // And a volunteer: an open slot of its organisation's event.
    const named = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
    const unverified = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
    const event = await eventSoon({ volunteerIds: [named.id, unverified.id], openSlots: 2 });
    const tasks = (await t.http().get('/me/open-tasks').set(resident.auth).expect(200)).body as { orderId: string }[];
    expect(tasks.map((task) => task.orderId)).toContain(event.id);
    const claimed = (await t.http().post(`/orders/${event.id}/slots/claim`).set(resident.auth).send({}).expect(201)).body;
    expect(claimed).toMatchObject({ orderId: event.id, status: 'confirmed', isSlotClaim: true });
    expect(((await t.http().get('/me/assignments').set(resident.auth).expect(200)).body as { orderId: string }[]).map((a) => a.orderId)).toContain(event.id);
    // The order is visible to it as an assigned volunteer (it did not request it).
    await t.http().get(`/orders/${event.id}`).set(resident.auth).expect(200);
    await confirmInvitation(named, event.id);
    await confirmInvitation(unverified, event.id);

    // The venue's code: the accepting organisation and the community's staff; the requester sees the order but may not; another organisation does not see it.
    const shown = (await t.http().get(`/orders/${event.id}/check-in-code`).set(w.orgHaidian.auth).expect(200)).body as { code: string; expiresAt: string };
    expect(shown.code).toMatch(/^\d{6}$/);
    expect(new Date(shown.expiresAt).getTime() % STEP_MS).toBe(0);
    expect(((await t.http().get(`/orders/${event.id}/check-in-code`).set(w.staffA1.auth).expect(200)).body as { code: string }).code).toMatch(/^\d{6}$/);
    expectProblem(await t.http().get(`/orders/${event.id}/check-in-code`).set(w.residentA1.auth), 403, 'FORBIDDEN');
    expectProblem(await t.http().get(`/orders/${event.id}/check-in-code`).set(named.session.auth), 403, 'FORBIDDEN');
    expectProblem(await t.http().get(`/orders/${event.id}/check-in-code`).set(w.orgChaoyang.auth), 404, 'NOT_FOUND');

    // Not within 30 s of a step change: "previous" and "two steps old" must mean what they say when the requests land.
    await clearOfWindowEnd(STEP_MS / 1000, 30_000);
    const now = new Date();
    const current = checkInCodeAt(SECRET, event.id, now);
    const previous = checkInCodeAt(SECRET, event.id, new Date(now.getTime() - STEP_MS));
    const twoStepsOld = checkInCodeAt(SECRET, event.id, new Date(now.getTime() - 2 * STEP_MS));
    const wrong = [current, previous, twoStepsOld].includes('000000') ? '111111' : '000000';

    const checkIn = (session: Session, code?: string): Test =>
      t.http().post(`/orders/${event.id}/check-in`).set(session.auth).send(code === undefined ? {} : { code });
    for (const bad of [wrong, twoStepsOld, 'abc']) {
      if (bad === current || bad === previous) continue;
      expectProblem(await checkIn(resident, bad), 422, 'INVALID_CHECK_IN_CODE', 'code');
    }
    // A wrong code writes nothing: no record, the event has not started.
    expect(await count(t.db, 'service_records', 'order_id = $1', [event.id])).toBe(0);
    expect((await t.http().get(`/orders/${event.id}`).set(w.orgHaidian.auth).expect(200)).body.status).toBe('scheduled');
    expectProblem(await t.http().post(`/orders/${event.id}/check-in`).set(resident.auth).send({ code: 123456 }), 400, 'VALIDATION_FAILED', 'code');

    // The previous step's code is still good; the current one too; none at all is today's unverified check-in.
    expect((await checkIn(resident, previous).expect(200)).body.status).toBe('in_progress');
    await checkIn(named.session, current).expect(200);
    await checkIn(unverified.session).expect(200);
    const verifiedOf = async (volunteerId: string): Promise<boolean | undefined> =>
      (await t.db.query<{ verified: boolean }>(`SELECT verified FROM service_records WHERE order_id = $1 AND volunteer_id = $2`, [event.id, volunteerId])).rows[0]?.verified;
    expect(await verifiedOf(approved.volunteerId as string)).toBe(true);
    expect(await verifiedOf(named.id)).toBe(true);
    expect(await verifiedOf(unverified.id)).toBe(false);

    const team = (await t.http().get(`/orders/${event.id}/assignments`).set(resident.auth).expect(200)).body as { volunteerId: string; verified: boolean }[];
    expect(team.find((a) => a.volunteerId === approved.volunteerId)?.verified).toBe(true);
    expect((await t.http().post(`/orders/${event.id}/check-out`).set(resident.auth).send({}).expect(200)).body).toMatchObject({ volunteerId: approved.volunteerId, verified: true });

    const records = (await t.http().get(`/volunteers/${approved.volunteerId}/service-records`).set(resident.auth).expect(200)).body as { items: { orderId: string; verified: boolean }[] };
    expect(records.items).toEqual([expect.objectContaining({ orderId: event.id, verified: true })]);
    const csv = await t.http().get(`/volunteers/${approved.volunteerId}/service-records`).set(resident.auth).set('Accept', 'text/csv').expect(200);
    const [header, row] = csv.text.trim().split(/\r?\n/);
    expect(header?.split(',')).toContain('verified');
    expect(row?.split(',').at(header?.split(',').indexOf('verified') ?? -1)).toBe('true');
    const otherCsv = await t.http().get(`/volunteers/${unverified.id}/service-records`).set(unverified.session.auth).set('Accept', 'text/csv').expect(200);
    expect(otherCsv.text.trim().split(/\r?\n/)[1]?.split(',').at(-1)).toBe('false');
  });

  it('a rejection carries its reason to the applicant, who may apply again', async () => {
    const resident = await newResident(COMMUNITY_A2);
    const applied = (await apply(resident, { homeCommunityCode: COMMUNITY_A2 }).expect(201)).body as Application;
    const before = await count(t.db, 'outbox');
    expectProblem(await t.http().post(`/volunteer-applications/${applied.id}/reject`).set(w.orgHaidian.auth).send({}), 400, 'VALIDATION_FAILED', 'reason');
    expectProblem(await t.http().post(`/volunteer-applications/${applied.id}/reject`).set(w.orgHaidian.auth).send({ reason: '   ' }), 400, 'VALIDATION_FAILED', 'reason');
    expect(await count(t.db, 'outbox')).toBe(before);
    const rejected = (await reject(w.orgHaidian, applied.id, '本季度名额已满').expect(200)).body as Application;
    expect(rejected).toMatchObject({ status: 'rejected', reason: '本季度名额已满', volunteerId: null });
    expect((await outboxPayloads('volunteer_application.rejected')).find((p) => p.applicationId === applied.id)).toMatchObject({
      userIds: [resident.id],
      reason: '本季度名额已满',
      organizationName: '海淀科普志愿服务队',
    });
    expectProblem(await approve(w.orgHaidian, applied.id), 409, 'APPLICATION_STATE_CONFLICT');
    expectProblem(await reject(w.orgHaidian, applied.id), 409, 'APPLICATION_STATE_CONFLICT');
    expect((await t.http().get('/me').set(resident.auth).expect(200)).body.volunteerId).toBeNull();
    await apply(resident, { homeCommunityCode: COMMUNITY_A2, organizationId: w.organizations.haidian2 }).expect(201);
  });

  it('refuses an account that already volunteers, a second pending application, and bad or out-of-area applications, writing nothing', async () => {
    const volunteerAccount = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
    expectProblem(await apply(volunteerAccount.session), 409, 'ALREADY_VOLUNTEER');
    const approved = await approvedResident();
    expectProblem(await apply(approved.session, { organizationId: w.organizations.haidian2 }), 409, 'ALREADY_VOLUNTEER');

    const resident = await newResident(COMMUNITY_B1);
    const before = await count(t.db, 'volunteer_applications');
    const outboxBefore = await count(t.db, 'outbox');
    expectProblem(await apply(resident, { homeCommunityCode: COMMUNITY_B1 }), 422, 'ORGANIZATION_NOT_SERVING_DISTRICT');
    expectProblem(await apply(resident, { organizationId: '00000000-0000-4000-8000-000000000000' }), 422, 'UNKNOWN_ORGANIZATION');
    expectProblem(await apply(resident, { homeCommunityCode: '110108999999', organizationId: w.organizations.chaoyang }), 422, 'UNKNOWN_COMMUNITY');
    expectProblem(await apply(resident, { skills: [{ topic: 'anti_fraud', level: 5 }] }), 400, 'VALIDATION_FAILED', 'skills.0.level');
    expectProblem(await apply(resident, { username: 'sneaky' }), 400, 'VALIDATION_FAILED');
    expectProblem(await apply(resident, { organizationId: 'not-a-uuid' }), 400, 'VALIDATION_FAILED', 'organizationId');
    expectProblem(await apply(resident, { availability: [{ weekday: 1, start: '12:00', end: '09:00' }] }), 400, 'VALIDATION_FAILED', 'availability.0.end');
    expectProblem(await apply(resident, { motivation: 'x'.repeat(2001) }), 400, 'VALIDATION_FAILED', 'motivation');
    expect(await count(t.db, 'volunteer_applications')).toBe(before);
    expect(await count(t.db, 'outbox')).toBe(outboxBefore);

    await apply(resident, { homeCommunityCode: COMMUNITY_B1, organizationId: w.organizations.chaoyang }).expect(201);
    expectProblem(await apply(resident, { homeCommunityCode: COMMUNITY_B1, organizationId: w.organizations.haidian2 }), 409, 'APPLICATION_PENDING');
  });

  it('of parallel applications by one user exactly one is accepted', async () => {
    const resident = await newResident();
    const organizations = [w.organizations.haidian, w.organizations.haidian2];
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => apply(resident, { organizationId: organizations[i % 2] })));
    expect(answers.filter((r) => r.status === 201)).toHaveLength(1);
    for (const loser of answers.filter((r) => r.status !== 201)) expectProblem(loser, 409, 'APPLICATION_PENDING');
    expect(await count(t.db, 'volunteer_applications', 'user_id = $1', [resident.id])).toBe(1);
    const [winner] = answers.filter((r) => r.status === 201);
    expect(await count(t.db, 'outbox', `type = 'volunteer_application.submitted' AND payload->>'applicationId' = $1`, [(winner?.body as Application).id])).toBe(1);
  });

  it('of racing approvals one wins and one profile is made; the others are 409', async () => {
    const resident = await newResident();
    const applied = (await apply(resident).expect(201)).body as Application;
    const answers = await Promise.all(Array.from({ length: 8 }, () => approve(w.orgHaidian, applied.id, { skills: [{ topic: 'anti_fraud', level: 2 }, { topic: 'health', level: 3 }] })));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    for (const loser of answers.filter((r) => r.status !== 200)) expectProblem(loser, 409, 'APPLICATION_STATE_CONFLICT');
    expect(await count(t.db, 'volunteers', 'user_id = $1', [resident.id])).toBe(1);
    expect(await count(t.db, 'outbox', `type = 'volunteer_application.approved' AND payload->>'applicationId' = $1`, [applied.id])).toBe(1);
    // The levels the organisation set.
    expect((await t.http().get('/me/volunteer-profile').set(resident.auth).expect(200)).body.skills).toEqual([
      { topic: 'anti_fraud', level: 2 },
      { topic: 'health', level: 3 },
    ]);
    // Racing approve and reject of another: one decision.
    const other = await newResident();
    const second = (await apply(other).expect(201)).body as Application;
    const decisions = await Promise.all([approve(w.orgHaidian, second.id), reject(w.orgHaidian, second.id), approve(w.orgHaidian, second.id), reject(w.orgHaidian, second.id)]);
    expect(decisions.filter((r) => r.status === 200)).toHaveLength(1);
    const { rows } = await t.db.query<{ status: string; has_profile: boolean }>(
      `SELECT a.status, EXISTS (SELECT 1 FROM volunteers v WHERE v.user_id = a.user_id) AS has_profile FROM volunteer_applications a WHERE a.id = $1`,
      [second.id],
    );
    expect(rows[0]?.has_profile).toBe(rows[0]?.status === 'approved');
  });

  it('scope matrix: every role × applications of two organisations (404 outside scope, 403 wrong role)', async () => {
    const applicantH = await newResident();
    const applicantC = await newResident(COMMUNITY_B1);
    const appH = (await apply(applicantH).expect(201)).body as Application;
    const appC = (await apply(applicantC, { organizationId: w.organizations.chaoyang, homeCommunityCode: COMMUNITY_B1 }).expect(201)).body as Application;
    const volunteer = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
    const sessions: Record<string, Session> = {
      admin: w.admin,
      residentA1: w.residentA1,
      residentB1: w.residentB1,
      staffA1: w.staffA1,
      staffB1: w.staffB1,
      deptHaidian: w.deptHaidian,
      deptChaoyang: w.deptChaoyang,
      deptCity: w.deptCity,
      orgHaidian: w.orgHaidian,
      orgHaidian2: w.orgHaidian2,
      orgChaoyang: w.orgChaoyang,
      coordHaidian: w.coordHaidian,
      coordChaoyang: w.coordChaoyang,
      volunteer: volunteer.session,
      applicantH,
      applicantC,
    };
    const listRoles = new Set(['admin', 'orgHaidian', 'orgHaidian2', 'orgChaoyang', 'coordHaidian', 'coordChaoyang']);
    // Who may list, and who decides, each organisation's applications.
    const lists: Record<string, Set<string>> = {
      [w.organizations.haidian]: new Set(['admin', 'orgHaidian', 'coordHaidian']),
      [w.organizations.chaoyang]: new Set(['admin', 'orgChaoyang', 'coordChaoyang']),
    };
    const sees: Record<string, Set<string>> = {
      [appH.id]: new Set(['admin', 'orgHaidian', 'coordHaidian', 'applicantH']),
      [appC.id]: new Set(['admin', 'orgChaoyang', 'coordChaoyang', 'applicantC']),
    };
    const decider: Record<string, string> = { [appH.id]: 'orgHaidian', [appC.id]: 'orgChaoyang' };

    const mismatches: string[] = [];
    const expectStatus = (label: string, res: Response, status: number): void => {
      if (res.status !== status) mismatches.push(`${label}: ${res.status} ${JSON.stringify(res.body)} (expected ${status})`);
    };
    for (const [name, session] of Object.entries(sessions)) {
      for (const organizationId of Object.keys(lists)) {
        const expected = !listRoles.has(name) ? 403 : lists[organizationId]?.has(name) ? 200 : 404;
        expectStatus(`${name} lists ${organizationId}`, await t.http().get(`/organizations/${organizationId}/volunteer-applications`).set(session.auth), expected);
      }
      for (const application of [appH, appC]) {
        if (decider[application.id] === name) continue;
        const expected = sees[application.id]?.has(name) ? 403 : 404;
        expectStatus(`${name} approves ${application.id}`, await approve(session, application.id), expected);
        expectStatus(`${name} rejects ${application.id}`, await reject(session, application.id), expected);
      }
      const own = (await t.http().get('/me/volunteer-applications').set(session.auth).expect(200)).body as { items: Application[] };
      if (own.items.some((a) => a.userId !== session.id)) mismatches.push(`${name} lists another's application as its own`);
    }
    expect(mismatches).toEqual([]);
    expect(await count(t.db, 'volunteer_applications', `id = ANY($1) AND status = 'pending'`, [[appH.id, appC.id]])).toBe(2);
    await approve(w.orgHaidian, appH.id).expect(200);
    await reject(w.orgChaoyang, appC.id).expect(200);
    expectProblem(await t.http().get(`/organizations/00000000-0000-4000-8000-000000000000/volunteer-applications`).set(w.admin.auth), 404, 'NOT_FOUND');
    expectProblem(await t.http().get(`/organizations/${w.organizations.haidian}/volunteer-applications?status=maybe`).set(w.admin.auth), 400, 'VALIDATION_FAILED', 'status');
  });

  it('PATCH /me/volunteer-profile changes the volunteer\'s own facts, refuses skills, and matching sees it at once', async () => {
    const { session, volunteerId } = await approvedResident();
    const order = await acceptedOrder(t, w);
    const window = (order.preferredWindows as { start: string; end: string }[])[0] as { start: string; end: string };
    const candidateIds = async (): Promise<string[]> =>
      ((await t.http().get(`/orders/${order.id}/candidates`).query(window).set(w.orgHaidian.auth).expect(200)).body as { volunteers: { volunteerId: string }[] }).volunteers.map(
        (c) => c.volunteerId,
      );
    expect(await candidateIds()).toContain(volunteerId);

    const patched = (
      await t
        .http()
        .patch('/me/volunteer-profile')
        .set(session.auth)
        .send({ maxHoursPerWeek: 6, languages: ['zh', 'sign_language'], audiences: ['elderly', 'youth'], formats: ['lecture', 'workshop'], availability: ALWAYS.slice(0, 5) })
        .expect(200)
    ).body;
    expect(patched).toMatchObject({ id: volunteerId, maxHoursPerWeek: 6, languages: ['zh', 'sign_language'], audiences: ['elderly', 'youth'], formats: ['lecture', 'workshop'] });
    expect(patched.availability).toHaveLength(5);

    await t.http().patch('/me/volunteer-profile').set(session.auth).send({ isActive: false }).expect(200);
    expect(await candidateIds()).not.toContain(volunteerId);
    await t.http().patch('/me/volunteer-profile').set(session.auth).send({ isActive: true, availability: ALWAYS }).expect(200);
    expect(await candidateIds()).toContain(volunteerId);

    const before = (await t.db.query(`SELECT v.*, (SELECT json_agg(s ORDER BY topic) FROM volunteer_skills s WHERE s.volunteer_id = v.id) AS skills FROM volunteers v WHERE v.id = $1`, [volunteerId])).rows[0];
    expectProblem(await t.http().patch('/me/volunteer-profile').set(session.auth).send({ skills: [{ topic: 'anti_fraud', level: 3 }] }), 400, 'VALIDATION_FAILED', 'skills');
    expectProblem(await t.http().patch('/me/volunteer-profile').set(session.auth).send({ maxHoursPerWeek: 2, phone: '13900000000' }), 400, 'VALIDATION_FAILED', 'phone');
    expectProblem(await t.http().patch('/me/volunteer-profile').set(session.auth).send({ maxHoursPerWeek: 0 }), 400, 'VALIDATION_FAILED', 'maxHoursPerWeek');
    expectProblem(await t.http().patch('/me/volunteer-profile').set(session.auth).send({ audiences: ['aliens'] }), 400, 'VALIDATION_FAILED', 'audiences');
    expectProblem(
      await t.http().patch('/me/volunteer-profile').set(session.auth).send({ availability: [{ weekday: 1, start: '12:00', end: '09:00' }] }),
      400,
      'VALIDATION_FAILED',
      'availability.0.end',
    );
    const after = (await t.db.query(`SELECT v.*, (SELECT json_agg(s ORDER BY topic) FROM volunteer_skills s WHERE s.volunteer_id = v.id) AS skills FROM volunteers v WHERE v.id = $1`, [volunteerId])).rows[0];
    expect(after).toEqual(before);

    expectProblem(await t.http().patch('/me/volunteer-profile').set(w.residentA1.auth).send({ maxHoursPerWeek: 5 }), 404, 'NOT_FOUND');
    // A volunteer-role account has its profile too.
    const volunteerAccount = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
    expect((await t.http().get('/me/volunteer-profile').set(volunteerAccount.session.auth).expect(200)).body.id).toBe(volunteerAccount.id);
  });
});
