import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createApiApp } from '../apps/api/src/app.factory';
import { expectProblem } from './support/problem';
import { ADMIN, count, startTestApp, type TestApp } from './support/test-app';
import { acceptedOrder, at, createVenue, createVolunteerWithLogin, wideWindows } from './support/fulfilment-world';
import { startTestWorker, suitePrefix } from './support/test-worker';
import { clearOfWindowEnd, waitFor } from './support/wait';
import { COMMUNITY_A1, COMMUNITY_B1, createWorld, orderIn, type OrderJson, type Session, type World } from './support/world';

interface Tokens {
  accessToken: string;
  refreshToken: string;
  refreshExpiresIn: number;
}

describe('login: per-address failures shared by API processes, ASCII usernames only (issue #14 item 3)', () => {
  const LIMIT = 8;
  let t: TestApp;
  let second: NestFastifyApplication;
  let secondUrl: string;

  beforeAll(async () => {
    t = await startTestApp('hardening-login', { LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE: String(LIMIT) });
    // A second API process on the same database (same configuration): the limit must hold across both.
    second = await createApiApp({ logger: false });
    await second.listen({ port: 0, host: '127.0.0.1' });
    const address = second.getHttpServer().address();
    secondUrl = typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : '';
  });
  afterAll(async () => {
    await second.close();
    await t.close();
  });

  it('failures from one address count whatever the username, on every API process; parallel attempts cannot overshoot; a success does not count', async () => {
    await clearOfWindowEnd(60, 20_000);
    const base = Number((await t.db.query<{ hits: number }>(`SELECT coalesce(sum(hits), 0)::int AS hits FROM rate_limit_counters WHERE key LIKE 'login.address-failures:%' AND window_end > now()`)).rows[0]?.hits ?? 0);
    expect(base).toBe(0);
    // Successes are forgiven: they do not use up the address's failures.
    for (let i = 0; i < LIMIT + 2; i++) await t.http().post('/auth/login').send(ADMIN).expect(200);
    for (let i = 0; i < 3; i++) expectProblem(await t.http().post('/auth/login').send({ username: `spray-a${i}`, password: 'Spring2026!' }), 401, 'UNAUTHENTICATED');
    for (let i = 0; i < 3; i++) expectProblem(await request(secondUrl).post('/auth/login').send({ username: `spray-b${i}`, password: 'Spring2026!' }), 401, 'UNAUTHENTICATED');
    // 2 failures left: 12 parallel guesses on both processes, each a fresh username → exactly 2 are checked.
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? t.http() : request(secondUrl)).post('/auth/login').send({ username: `spray-c${i}`, password: 'Spring2026!' })),
    );
    expect(answers.filter((r) => r.status === 401)).toHaveLength(2);
    const limited = answers.filter((r) => r.status === 429);
    expect(limited).toHaveLength(10);
    for (const res of limited) {
      expectProblem(res, 429, 'RATE_LIMITED');
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
    }
    // Until the window ends, even the right password from this address is refused, on either process.
    expectProblem(await t.http().post('/auth/login').send(ADMIN), 429, 'RATE_LIMITED');
    expectProblem(await request(secondUrl).post('/auth/login').send(ADMIN), 429, 'RATE_LIMITED');
    // The refused attempts made no lockout rows: only the 8 checked usernames have one.
    expect(await count(t.db, 'login_failures', `username_key LIKE 'spray-%'`)).toBe(LIMIT);
  }, 120_000);
});

describe('login: a cap on concurrent password hashes (issue #14 item 3)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp('hardening-hash', { LOGIN_HASH_CONCURRENCY: '1', LOGIN_HASH_QUEUE: '0' });
  });
  afterAll(() => t.close());

  it('beyond LOGIN_HASH_CONCURRENCY hashes at once (and LOGIN_HASH_QUEUE waiting), a login is 503 with Retry-After: 1 and counts as no failure', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, () => t.http().post('/auth/login').send(ADMIN)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    const busy = answers.filter((r) => r.status === 503);
    expect(busy.length).toBeGreaterThanOrEqual(1);
    for (const res of busy) {
      expectProblem(res, 503, 'DEPENDENCY_UNAVAILABLE');
      expect(res.headers['retry-after']).toBe('1');
    }
    // A refused login was no failed guess: nothing is left counted against the address or the username.
    expect(await count(t.db, 'login_failures')).toBe(0);
    const { rows } = await t.db.query<{ hits: number }>(`SELECT coalesce(sum(hits), 0)::int AS hits FROM rate_limit_counters WHERE key LIKE 'login.address-failures:%'`);
    expect(rows[0]?.hits).toBe(0);
    await t.http().post('/auth/login').send(ADMIN).expect(200);
  });
});

describe('sessions (issue #14 item 6) and ASCII usernames at login (item 3)', () => {
  let t: TestApp;
  const refresh = (refreshToken: string) => t.http().post('/auth/refresh').send({ refreshToken });
  const login = async () => (await t.http().post('/auth/login').send(ADMIN).expect(200)).body as Tokens;
  const ageSession = (refreshToken: string, interval: string) =>
    t.db.query(
      `UPDATE refresh_tokens SET session_started_at = now() - $2::interval
       WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8')))`,
      [refreshToken, interval],
    );

  beforeAll(async () => {
    t = await startTestApp('hardening-sessions');
  });
  afterAll(() => t.close());

  it('a username outside the ASCII pattern (admİn) is 401 and makes no lockout row; it never locks the real admin', async () => {
    const before = await count(t.db, 'login_failures');
    for (const username of ['admİn', 'ADMİN', 'admın', 'ａｄｍｉｎ', 'admin ', 'ad min']) {
      for (let i = 0; i < 6; i++) expectProblem(await t.http().post('/auth/login').send({ username, password: `wrong-pass-${i}` }), 401, 'UNAUTHENTICATED');
    }
    expect(await count(t.db, 'login_failures')).toBe(before);
    await t.http().post('/auth/login').send(ADMIN).expect(200);
  });

  it('a session ends SESSION_MAX_AGE_SECONDS (30 days) after its login, however often it was refreshed: then refresh is 401', async () => {
    const first = await login();
    const second = (await refresh(first.refreshToken).expect(200)).body as Tokens;
    await ageSession(second.refreshToken, '30 days 1 minute');
    expectProblem(await refresh(second.refreshToken), 401, 'UNAUTHENTICATED');
  });

  it('near the end of the session, the new refresh token lives only until it', async () => {
    const first = await login();
    expect(first.refreshExpiresIn).toBe(7 * 24 * 3600);
    await ageSession(first.refreshToken, '30 days -1 hour');
    const next = (await refresh(first.refreshToken).expect(200)).body as Tokens;
    expect(next.refreshExpiresIn).toBeGreaterThan(3500);
    expect(next.refreshExpiresIn).toBeLessThanOrEqual(3600);
    const { rows } = await t.db.query<{ left: number }>(
      `SELECT extract(epoch FROM expires_at - (session_started_at + interval '30 days'))::int AS left FROM refresh_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8'))`,
      [next.refreshToken],
    );
    expect(rows[0]?.left).toBeLessThanOrEqual(0);
  });

  it('city_admin logins are audited (user.logged_in), other roles\' are not', async () => {
    const before = await count(t.db, 'audit_log', `action = 'user.logged_in'`);
    await login();
    const { rows } = await t.db.query<{ actor_role: string; ip: string; summary: { username: string } }>(
      `SELECT actor_role, ip, summary FROM audit_log WHERE action = 'user.logged_in' ORDER BY at DESC LIMIT 1`,
    );
    expect(await count(t.db, 'audit_log', `action = 'user.logged_in'`)).toBe(before + 1);
    expect(rows[0]).toMatchObject({ actor_role: 'city_admin', summary: { username: 'admin' } });
    expect(rows[0]?.ip).toBeTruthy();
    const admin = await login();
    await t.http()
      .post('/users')
      .set('Authorization', `Bearer ${admin.accessToken}`)
      .send({ username: 'plain.resident', password: 'plain-resident-pass-1', displayName: 'x', role: 'resident', communityCode: '110108001001' })
      .expect(201);
    const mid = await count(t.db, 'audit_log', `action = 'user.logged_in'`);
    await t.http().post('/auth/login').send({ username: 'plain.resident', password: 'plain-resident-pass-1' }).expect(200);
    expect(await count(t.db, 'audit_log', `action = 'user.logged_in'`)).toBe(mid);
  });
});

describe('the worker sweeps expired rows periodically (issue #14 items 3 and 6)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp('hardening-sweep', { QUEUE_PREFIX: suitePrefix('hardening-sweep') });
  });
  afterAll(() => t.close());

  it('expired refresh tokens and phone codes, stale login failures and old rate-limit counters go; live ones stay', async () => {
    const admin = (await t.db.query<{ id: string }>(`SELECT id FROM users WHERE username = 'admin'`)).rows[0]?.id;
    await t.db.query(
      `INSERT INTO refresh_tokens (family_id, user_id, token_hash, expires_at, session_started_at) VALUES
         (gen_random_uuid(), $1, '\\x01', now() - interval '2 days', now() - interval '9 days'),
         (gen_random_uuid(), $1, '\\x02', now() + interval '2 days', now())`,
      [admin],
    );
    await t.db.query(
      `INSERT INTO phone_codes (phone, purpose, code_hash, expires_at) VALUES
         ('13800000001', 'register', 'x', now() - interval '2 hours'), ('13800000002', 'register', 'x', now() + interval '5 minutes')`,
    );
    await t.db.query(
      `INSERT INTO login_failures (username_key, failures, locked_until, updated_at) VALUES
         ('old-unlocked', 2, NULL, now() - interval '1 hour'), ('old-lock', 5, now() - interval '1 minute', now() - interval '16 minutes'),
         ('recent', 2, NULL, now()), ('locked', 5, now() + interval '10 minutes', now())`,
    );
    await t.db.query(
      `INSERT INTO rate_limit_counters (key, window_start, window_end, hits) VALUES
         ('x:old', now() - interval '3 days', now() - interval '3 days' + interval '1 minute', 3), ('x:live', now(), now() + interval '1 minute', 3)`,
    );
    const worker = await startTestWorker({ HOUSEKEEPING_INTERVAL_SECONDS: '1' });
    try {
      await waitFor(async () => (await count(t.db, 'refresh_tokens', `token_hash = '\\x01'`)) === 0, 15_000, 'the expired refresh token swept');
      await waitFor(async () => (await count(t.db, 'rate_limit_counters', `key = 'x:old'`)) === 0, 15_000, 'the old counter swept');
      expect(await count(t.db, 'refresh_tokens', `token_hash = '\\x02'`)).toBe(1);
      expect((await t.db.query<{ phone: string }>(`SELECT phone FROM phone_codes ORDER BY phone`)).rows.map((r) => r.phone)).toEqual(['13800000002']);
      expect((await t.db.query<{ k: string }>(`SELECT username_key AS k FROM login_failures ORDER BY 1`)).rows.map((r) => r.k)).toEqual(['locked', 'recent']);
      expect(await count(t.db, 'rate_limit_counters', `key = 'x:live'`)).toBe(1);
      // Periodically, not only at start: rows that expire later are swept by a later tick.
      await t.db.query(`INSERT INTO login_failures (username_key, failures, locked_until, updated_at) VALUES ('later', 1, NULL, now() - interval '1 hour')`);
      await waitFor(async () => (await count(t.db, 'login_failures', `username_key = 'later'`)) === 0, 15_000, 'a later sweep');
    } finally {
      await worker.close();
    }
  });
});

describe('order visibility and venue scope (issue #14 items 4 and 5)', () => {
  let t: TestApp;
  let w: World;
  const get = (who: Session, path: string) => t.http().get(path).set(who.auth);
  const post = (who: Session, path: string, body: object = {}) => t.http().post(path).set(who.auth).send(body);
  const listed = async (who: Session, id: string) => ((await get(who, '/orders?limit=100').expect(200)).body as { items: { id: string }[] }).items.some((o) => o.id === id);

  beforeAll(async () => {
    t = await startTestApp('hardening-scope');
    w = await createWorld(t);
  });
  afterAll(() => t.close());

  it('an open call accepted by one organisation is no longer readable by the others serving the district (order, events, list)', async () => {
    const open = await orderIn(t, w, 'claimed', { open: true });
    // 海淀青年科普队 serves 海淀 too: it sees the open call…
    await get(w.orgHaidian2, `/orders/${open.id}`).expect(200);
    expect(await listed(w.orgHaidian2, open.id)).toBe(true);
    const accepted = (await post(w.orgHaidian, `/orders/${open.id}/accept`).expect(200)).body as OrderJson;
    expect(accepted).toMatchObject({ status: 'accepted', organizationId: w.organizations.haidian, openToOrganizations: false });
    // …and nothing of it once another won it.
    expectProblem(await get(w.orgHaidian2, `/orders/${open.id}`), 404, 'NOT_FOUND');
    expectProblem(await get(w.orgHaidian2, `/orders/${open.id}/events`), 404, 'NOT_FOUND');
    expect(await listed(w.orgHaidian2, open.id)).toBe(false);
    await get(w.orgHaidian, `/orders/${open.id}`).expect(200);
    await get(w.orgHaidian, `/orders/${open.id}/events`).expect(200);
    // Rows accepted before the fix kept the flag: the visibility query itself requires an open call with no winner.
    await t.db.query(`UPDATE orders SET is_open_to_organizations = true WHERE id = $1`, [open.id]);
    expectProblem(await get(w.orgHaidian2, `/orders/${open.id}`), 404, 'NOT_FOUND');
    expect(await listed(w.orgHaidian2, open.id)).toBe(false);
  });

  it('volunteers stop reading an order once they declined or a reschedule removed them; those still assigned keep reading it', async () => {
    const order = await acceptedOrder(t, w, wideWindows(40));
    const venue = await createVenue(t);
    const [stays, declines, removed] = [
      await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian }),
      await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian }),
      await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian }),
    ];
    await post(w.orgHaidian, `/orders/${order.id}/schedule`, { start: at(40, 10), end: at(40, 12), venueId: venue, volunteerIds: [stays.id, declines.id, removed.id] }).expect(200);
    for (const v of [stays, declines, removed]) {
      await get(v.session, `/orders/${order.id}`).expect(200);
      await get(v.session, `/orders/${order.id}/events`).expect(200);
    }
    const assignmentOf = async (volunteerId: string) =>
      (await t.db.query<{ id: string }>(`SELECT id FROM assignments WHERE order_id = $1 AND volunteer_id = $2`, [order.id, volunteerId])).rows[0]?.id as string;

    await post(declines.session, `/assignments/${await assignmentOf(declines.id)}/decline`, { reason: '临时出差' }).expect(200);
    expectProblem(await get(declines.session, `/orders/${order.id}`), 404, 'NOT_FOUND');
    expectProblem(await get(declines.session, `/orders/${order.id}/events`), 404, 'NOT_FOUND');
    expect(await listed(declines.session, order.id)).toBe(false);

    await post(w.orgHaidian, `/orders/${order.id}/reschedule`, { start: at(40, 14), end: at(40, 16), venueId: venue, volunteerIds: [stays.id] }).expect(200);
    expectProblem(await get(removed.session, `/orders/${order.id}`), 404, 'NOT_FOUND');
    expectProblem(await get(removed.session, `/orders/${order.id}/events`), 404, 'NOT_FOUND');
    expect(await listed(removed.session, order.id)).toBe(false);

    await get(stays.session, `/orders/${order.id}`).expect(200);
    expect(await listed(stays.session, order.id)).toBe(true);
  });

  it('audits volunteer updates (by the organisation and by the volunteer) and the creation of a volunteer\'s login account', async () => {
    const created = (await post(w.orgHaidian, `/organizations/${w.organizations.haidian}/volunteers`, {
      displayName: '审计志愿者',
      phone: '13912345678',
      homeCommunityCode: COMMUNITY_A1,
      skills: [{ topic: 'anti_fraud', level: 2 }],
      audiences: ['elderly'],
      formats: ['lecture'],
      availability: [{ weekday: 6, start: '09:00', end: '12:00' }],
      maxHoursPerWeek: 8,
      username: 'audit.volunteer',
      password: 'audit-volunteer-pass-1',
    }).expect(201)).body as { id: string };
    const account = (await t.db.query<{ id: string }>(`SELECT id FROM users WHERE username = 'audit.volunteer'`)).rows[0]?.id;
    const { rows: creation } = await t.db.query<{ actor_id: string; summary: Record<string, unknown> }>(
      `SELECT actor_id, summary FROM audit_log WHERE action = 'user.created' AND target_id = $1`,
      [account],
    );
    expect(creation).toEqual([{ actor_id: w.orgHaidian.id, summary: { username: 'audit.volunteer', role: 'volunteer', organizationId: w.organizations.haidian } }]);

    await t.http().patch(`/volunteers/${created.id}`).set(w.orgHaidian.auth).send({ isActive: false, maxHoursPerWeek: 6 }).expect(200);
    const { rows: byOrg } = await t.db.query<{ actor_id: string; actor_role: string; summary: { fields: string[]; isActive?: boolean } }>(
      `SELECT actor_id, actor_role, summary FROM audit_log WHERE action = 'volunteer.updated' AND target_id = $1`,
      [created.id],
    );
    expect(byOrg).toHaveLength(1);
    expect(byOrg[0]).toMatchObject({ actor_id: w.orgHaidian.id, actor_role: 'org_admin', summary: { isActive: false } });
    expect(byOrg[0]?.summary.fields.sort()).toEqual(['isActive', 'maxHoursPerWeek']);

    await t.http().patch(`/volunteers/${created.id}`).set(w.orgHaidian.auth).send({ isActive: true }).expect(200);
    const own = (await t.http().post('/auth/login').send({ username: 'audit.volunteer', password: 'audit-volunteer-pass-1' }).expect(200)).body as Tokens;
    await t.http().patch('/me/volunteer-profile').set('Authorization', `Bearer ${own.accessToken}`).send({ maxHoursPerWeek: 4 }).expect(200);
    expect(await count(t.db, 'audit_log', `action = 'volunteer.updated' AND target_id = $1 AND actor_id = $2`, [created.id, account])).toBe(1);
    // No phone number in any of them.
    expect(await count(t.db, 'audit_log', `summary::text LIKE '%13912345678%'`)).toBe(0);
  });

  it('an org_admin books only venues of the order\'s district, the city\'s or its own: another district\'s is 422 VENUE_OUT_OF_SCOPE and books nothing', async () => {
    const venueBody = (communityCode: string) => ({ name: `活动室 ${communityCode} ${Math.random()}`, communityCode, kind: 'community_room', capacity: 100, accessibility: ['wheelchair'] });
    const chaoyangCommunity = ((await post(w.staffB1, '/venues', venueBody(COMMUNITY_B1)).expect(201)).body as { id: string }).id;
    const chaoyangOtherOrg = ((await post(w.orgChaoyang, '/venues', venueBody(COMMUNITY_B1)).expect(201)).body as { id: string }).id;
    const haidianCommunity = ((await post(w.staffA1, '/venues', venueBody(COMMUNITY_A1)).expect(201)).body as { id: string }).id;
    const cityInChaoyang = ((await post(w.admin, '/venues', venueBody(COMMUNITY_B1)).expect(201)).body as { id: string }).id;
    const ownInChaoyang = ((await post(w.orgHaidian, '/venues', venueBody(COMMUNITY_B1)).expect(201)).body as { id: string }).id;

    const order = await acceptedOrder(t, w, wideWindows(50));
    for (const venueId of [chaoyangCommunity, chaoyangOtherOrg]) {
      for (const action of ['schedule'] as const) {
        const res = await post(w.orgHaidian, `/orders/${order.id}/${action}`, { start: at(50, 10), end: at(50, 12), venueId, openSlots: 1 });
        expectProblem(res, 422, 'VENUE_OUT_OF_SCOPE');
      }
      expect(await count(t.db, 'bookings', 'venue_id = $1', [venueId])).toBe(0);
    }
    expect(((await get(w.orgHaidian, `/orders/${order.id}`).expect(200)).body as OrderJson).status).toBe('accepted');

    // Allowed: the order's district, the city's venue, the organisation's own (schedule, then reschedule through each).
    await post(w.orgHaidian, `/orders/${order.id}/schedule`, { start: at(50, 10), end: at(50, 12), venueId: haidianCommunity, openSlots: 1 }).expect(200);
    await post(w.orgHaidian, `/orders/${order.id}/reschedule`, { start: at(50, 13), end: at(50, 14), venueId: cityInChaoyang }).expect(200);
    await post(w.orgHaidian, `/orders/${order.id}/reschedule`, { start: at(50, 15), end: at(50, 16), venueId: ownInChaoyang }).expect(200);
    // Reschedule is held to the same rule.
    expectProblem(await post(w.orgHaidian, `/orders/${order.id}/reschedule`, { start: at(50, 17), end: at(50, 18), venueId: chaoyangCommunity }), 422, 'VENUE_OUT_OF_SCOPE');
    expect(await count(t.db, 'bookings', `venue_id = $1`, [chaoyangCommunity])).toBe(0);
  });
});
