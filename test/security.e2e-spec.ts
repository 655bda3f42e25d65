import { createHash } from 'node:crypto';
import type { Response } from 'supertest';
import { expectProblem, problemMismatches } from './support/problem';
import { ADMIN, count, startTestApp, type TestApp } from './support/test-app';
import { sleep } from './support/wait';
import { COMMUNITY_A1, createWorld, HAIDIAN, login, orderBody, type Session, type World } from './support/world';

const ALLOWED_ORIGIN = 'https://dashboard.kepu.example.cn';
const OTHER_ORIGIN = 'https://evil.example.com';
const PHONE = '13912345678';

function volunteerBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    displayName: '张明',
    phone: PHONE,
    homeCommunityCode: COMMUNITY_A1,
    skills: [{ topic: 'anti_fraud', level: 3 }],
    audiences: ['elderly'],
    formats: ['lecture'],
    availability: [{ weekday: 6, start: '09:00', end: '12:00' }],
    maxHoursPerWeek: 8,
    ...overrides,
  };
}

interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  refreshExpiresIn: number;
  tokenType: string;
}

/** Every <script> of a page that is neither external (src=) nor a JSON data block: code a strict CSP would block. */
const inlineScripts = (html: string): string[] =>
  [...html.matchAll(/<script\b([^>]*)>/gi)].map((m) => m[1] ?? '').filter((attributes) => !/\bsrc=/i.test(attributes) && !/type=["']application\/json["']/i.test(attributes));

describe('security with the default configuration', () => {
  let t: TestApp;
  let w: World;
  let volunteer: Session;

  beforeAll(async () => {
    t = await startTestApp('security');
    w = await createWorld(t);
    await t.http()
      .post(`/organizations/${w.organizations.haidian}/volunteers`)
      .set(w.orgHaidian.auth)
      .send(volunteerBody({ username: 'sec.volunteer', password: 'sec-volunteer-pass-1' }))
      .expect(201);
    volunteer = await login(t, 'sec.volunteer', 'sec-volunteer-pass-1');
  });
  afterAll(() => t.close());

  describe('headers', () => {
    it('every API answer says nosniff, no framing, no referrer and a CSP that loads nothing; no HSTS unless configured', async () => {
      for (const res of [await t.http().get('/health'), await t.http().get('/me').set(w.admin.auth), await t.http().get('/me'), await t.http().get('/nowhere')]) {
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.headers['x-frame-options']).toBe('DENY');
        expect(res.headers['referrer-policy']).toBe('no-referrer');
        expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
        expect(res.headers['strict-transport-security']).toBeUndefined();
        expect(res.headers['x-powered-by']).toBeUndefined();
      }
    });

    it('Swagger UI still answers its page and assets, with no inline script and a CSP that allows only its inline styles', async () => {
      const page = await t.http().get('/docs').redirects(1).expect(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(page.text).toContain('swagger-ui');
      expect(inlineScripts(page.text)).toEqual([]);
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self';");
      expect(csp).toContain("style-src 'self' 'unsafe-inline'");
      const scripts = [...page.text.matchAll(/<script[^>]*src=["']([^"']+)["']/g)].map((m) => m[1] ?? '');
      expect(scripts.length).toBeGreaterThan(0);
      for (const src of scripts) await t.http().get(new URL(src, `${t.url}/docs`).pathname).expect(200);
      await t.http().get('/docs-json').expect(200);
    });

    it('Bull Board still answers its page to a city_admin, with no inline script and a CSP for its styles and fonts', async () => {
      const page = await t.http().get('/admin/queues').set(w.admin.auth).expect(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(inlineScripts(page.text)).toEqual([]);
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self';");
      expect(csp).toContain('https://fonts.googleapis.com');
      expect(page.headers['x-frame-options']).toBe('DENY');
    });
  });

  describe('CORS without CORS_ORIGINS', () => {
    it('answers no cross-origin headers to any origin', async () => {
      const preflight = await t.http()
        .options('/orders')
        .set('Origin', ALLOWED_ORIGIN)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization,content-type');
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      const get = await t.http().get('/health').set('Origin', ALLOWED_ORIGIN);
      expect(get.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('request bodies', () => {
    it('a body over BODY_LIMIT_BYTES (100 KiB by default) is 413 PAYLOAD_TOO_LARGE and writes nothing', async () => {
      const before = await count(t.db, 'orders');
      const res = await t.http()
        .post('/orders')
        .set(w.residentA1.auth)
        .send(orderBody(COMMUNITY_A1, { description: 'x'.repeat(100 * 1024) }));
      expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
      expect(await count(t.db, 'orders')).toBe(before);
    });

    it('malformed JSON is 400 VALIDATION_FAILED and another content type 415, both problem details', async () => {
      const malformed = await t.http().post('/orders').set(w.residentA1.auth).set('content-type', 'application/json').send('{"communityCode": ');
      expectProblem(malformed, 400, 'VALIDATION_FAILED');
      const xml = await t.http().post('/auth/login').set('content-type', 'application/xml').send('<login/>');
      expectProblem(xml, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });
  });

  describe('page sizes', () => {
    /** Every list endpoint, with who may read it. A new list endpoint belongs here. */
    const lists = (): { path: string; as: Session; max: number }[] => [
      { path: '/orders', as: w.residentA1, max: 100 },
      { path: '/me/notifications', as: w.residentA1, max: 100 },
      { path: '/admin/deliveries', as: w.admin, max: 100 },
      { path: '/admin/audit-log', as: w.admin, max: 100 },
      { path: `/organizations/${w.organizations.haidian}/volunteers`, as: w.orgHaidian, max: 100 },
      { path: '/venues', as: w.admin, max: 100 },
      { path: '/me/assignments', as: volunteer, max: 100 },
      { path: '/me/open-tasks', as: volunteer, max: 100 },
      { path: '/coverage/districts/110108/gaps', as: w.admin, max: 100 },
    ];

    it('every list endpoint refuses ?limit above its cap (and 0) with 400 VALIDATION_FAILED naming limit, and answers at the cap', async () => {
      const mismatches: string[] = [];
      for (const { path, as, max } of lists()) {
        for (const limit of [max + 1, 1000, 0, -1])
          for (const m of problemMismatches(await t.http().get(`${path}?limit=${limit}`).set(as.auth), 400, 'VALIDATION_FAILED', 'limit'))
            mismatches.push(`${path}?limit=${limit}: ${m}`);
        const atCap = await t.http().get(`${path}?limit=${max}`).set(as.auth);
        if (atCap.status !== 200) mismatches.push(`${path}?limit=${max}: ${atCap.status}`);
      }
      expect(mismatches).toEqual([]);
    });

    it('candidates are capped at 50; the directories (departments, organisations) take no ?limit at all', async () => {
      const order = (await t.http().post('/orders').set(w.residentA1.auth).send(orderBody(COMMUNITY_A1)).expect(201)).body as { id: string };
      expectProblem(await t.http().get(`/orders/${order.id}/candidates?limit=51`).set(w.orgHaidian.auth), 400, 'VALIDATION_FAILED', 'limit');
      expectProblem(await t.http().get('/departments?limit=101').set(w.admin.auth), 400, 'VALIDATION_FAILED', 'limit');
      expectProblem(await t.http().get('/organizations?limit=101').set(w.admin.auth), 400, 'VALIDATION_FAILED', 'limit');
    });
  });

  describe('tokens', () => {
    const loginBody = { username: 'resident-a2', password: 'resident-a2-pass-1' };
    const refresh = (refreshToken: string) => t.http().post('/auth/refresh').send({ refreshToken });

    it('login answers the API.md fields plus a refresh token; the access token lives ACCESS_TOKEN_TTL_SECONDS (900)', async () => {
      const body = (await t.http().post('/auth/login').send(loginBody).expect(200)).body as Tokens & { user: { username: string } };
      expect(body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, refreshExpiresIn: 7 * 24 * 3600, user: { username: 'resident-a2' } });
      expect(body.refreshToken).toMatch(/^[\w-]{40,}$/);
      const claims = JSON.parse(Buffer.from(body.accessToken.split('.')[1] ?? '', 'base64url').toString()) as { iat: number; exp: number };
      expect(claims.exp - claims.iat).toBe(900);
    });

    it('refresh tokens are stored only as their SHA-256', async () => {
      const { refreshToken } = (await t.http().post('/auth/login').send(loginBody).expect(200)).body as Tokens;
      const digest = createHash('sha256').update(refreshToken).digest();
      expect(await count(t.db, 'refresh_tokens', 'token_hash = $1', [digest])).toBe(1);
      const { rows } = await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM refresh_tokens WHERE position(convert_to($1, 'UTF8') IN token_hash) > 0`, [refreshToken]);
      expect(Number(rows[0]?.n)).toBe(0);
    });

    it('refresh answers a new working pair and retires the old refresh token; presenting it again revokes the whole session', async () => {
      const first = (await t.http().post('/auth/login').send(loginBody).expect(200)).body as Tokens;
      const second = (await refresh(first.refreshToken).expect(200)).body as Tokens;
      expect(second.refreshToken).not.toBe(first.refreshToken);
      await t.http().get('/me').set('Authorization', `Bearer ${second.accessToken}`).expect(200);
      const third = (await refresh(second.refreshToken).expect(200)).body as Tokens;

      // first was already used: someone copied it. The family, third included, is revoked.
      expectProblem(await refresh(first.refreshToken), 401, 'UNAUTHENTICATED');
      expectProblem(await refresh(third.refreshToken), 401, 'UNAUTHENTICATED');
      // another login's session is untouched
      const other = (await t.http().post('/auth/login').send(loginBody).expect(200)).body as Tokens;
      await refresh(other.refreshToken).expect(200);
    });

    it('of 10 parallel refreshes with one token exactly one wins, and the session is then revoked', async () => {
      const { refreshToken } = (await t.http().post('/auth/login').send(loginBody).expect(200)).body as Tokens;
      const answers = await Promise.all(Array.from({ length: 10 }, () => refresh(refreshToken)));
      expect(answers.map((r) => r.status).sort()).toEqual([200, ...Array(9).fill(401)]);
      const winner = answers.find((r) => r.status === 200)?.body as Tokens;
      expectProblem(await refresh(winner.refreshToken), 401, 'UNAUTHENTICATED');
    });

    it('logout revokes the session: its refresh token no longer works; logout is 204 even for an unknown token', async () => {
      const { refreshToken } = (await t.http().post('/auth/login').send(loginBody).expect(200)).body as Tokens;
      await t.http().post('/auth/logout').send({ refreshToken }).expect(204);
      expectProblem(await refresh(refreshToken), 401, 'UNAUTHENTICATED');
      await t.http().post('/auth/logout').send({ refreshToken: 'never-issued' }).expect(204);
      expectProblem(await refresh('never-issued'), 401, 'UNAUTHENTICATED');
      expectProblem(await t.http().post('/auth/refresh').send({}), 400, 'VALIDATION_FAILED', 'refreshToken');
    });

    it('an access token is refused as a refresh token, and a refresh token as an access token', async () => {
      const body = (await t.http().post('/auth/login').send(loginBody).expect(200)).body as Tokens;
      expectProblem(await refresh(body.accessToken), 401, 'UNAUTHENTICATED');
      expectProblem(await t.http().get('/me').set('Authorization', `Bearer ${body.refreshToken}`), 401, 'UNAUTHENTICATED');
    });
  });

  describe('password policy', () => {
    const userBody = (username: string, password: string) => ({ username, password, displayName: 'x', role: 'resident', communityCode: COMMUNITY_A1 });

    it.each([
      ['shorter than 10 characters', 'weak.one', 'abcde1234'],
      ['without a digit', 'weak.two', 'only-letters-here'],
      ['the username itself', 'weak.three99', 'weak.three99'],
      ['the username with a short suffix', 'weak.four', 'Weak.Four2027'],
      ['a common password', 'weak.five', 'Password123'],
    ])('POST /users refuses a password %s: 400 VALIDATION_FAILED on password, nothing written', async (_case, username, password) => {
      const res = await t.http().post('/users').set(w.admin.auth).send(userBody(username, password));
      expectProblem(res, 400, 'VALIDATION_FAILED', 'password');
      expect(await count(t.db, 'users', 'username = $1', [username])).toBe(0);
    });

    it('volunteer logins obey it too', async () => {
      const res = await t.http()
        .post(`/organizations/${w.organizations.haidian}/volunteers`)
        .set(w.orgHaidian.auth)
        .send(volunteerBody({ username: 'weak.volunteer', password: 'weak.volunteer1' }));
      expectProblem(res, 400, 'VALIDATION_FAILED', 'password');
    });
  });

  describe('lockout', () => {
    const attempt = (username: string, password: string) => t.http().post('/auth/login').send({ username, password });

    it('5 wrong passwords lock the username for 15 minutes: 429 ACCOUNT_LOCKED with Retry-After, even with the right password; audited once', async () => {
      for (let i = 0; i < 5; i++) expectProblem(await attempt('staff-a2', `wrong-pass-${i}`), 401, 'UNAUTHENTICATED');
      const locked = await attempt('staff-a2', 'staff-a2-pass-1');
      expectProblem(locked, 429, 'ACCOUNT_LOCKED');
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(14 * 60);
      expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);
      expect(locked.body.accessToken).toBeUndefined();
      // the lock is per username: others sign in as usual
      await attempt('staff-b1', 'staff-b1-pass-1').expect(200);
      const audited = await t.db.query<{ target_id: string; summary: { username: string } }>(`SELECT target_id, summary FROM audit_log WHERE action = 'account.locked'`);
      expect(audited.rows).toEqual([{ target_id: w.staffA2.id, summary: expect.objectContaining({ username: 'staff-a2', failures: 5 }) }]);
    });

    it('20 parallel wrong passwords: exactly 5 are checked (401), 15 are refused (429), every attempt is counted and the account is locked', async () => {
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt('dept-chaoyang', `wrong-pass-${i}`)));
      const statuses = answers.map((r: Response) => r.status);
      expect(statuses.filter((s) => s === 401)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(15);
      for (const res of answers.filter((r) => r.status === 429)) expectProblem(res, 429, 'ACCOUNT_LOCKED');
      const { rows } = await t.db.query<{ failures: number; locked: boolean }>(`SELECT failures, locked_until > now() AS locked FROM login_failures WHERE username_key = 'dept-chaoyang'`);
      expect(rows).toEqual([{ failures: 20, locked: true }]);
      expectProblem(await attempt('dept-chaoyang', 'dept-chaoyang-pass-1'), 429, 'ACCOUNT_LOCKED');
      expect(await count(t.db, 'audit_log', `action = 'account.locked' AND target_id = $1`, [w.deptChaoyang.id])).toBe(1);
    });

    it('a success forgives the failures before it', async () => {
      for (let i = 0; i < 4; i++) expectProblem(await attempt('staff-b1', `wrong-pass-${i}`), 401, 'UNAUTHENTICATED');
      await attempt('staff-b1', 'staff-b1-pass-1').expect(200);
      for (let i = 0; i < 4; i++) expectProblem(await attempt('staff-b1', `wrong-pass-${i}`), 401, 'UNAUTHENTICATED');
      await attempt('staff-b1', 'staff-b1-pass-1').expect(200);
    });

    it('an unknown username locks the same way, so a lock reveals nothing about which usernames exist', async () => {
      for (let i = 0; i < 5; i++) expectProblem(await attempt('nobody-at-all', `wrong-pass-${i}`), 401, 'UNAUTHENTICATED');
      expectProblem(await attempt('nobody-at-all', 'wrong-pass-9'), 429, 'ACCOUNT_LOCKED');
    });
  });

  describe('audit log', () => {
    it('records who created users, departments, organisations and volunteers, from where, without secrets or phone numbers', async () => {
      const user = (await t.http()
        .post('/users')
        .set(w.coordHaidian.auth)
        .send({ username: 'audited.staff', password: 'audited-staff-pass-1', displayName: '审计', role: 'community_staff', communityCode: COMMUNITY_A1, phone: PHONE })
        .expect(201)).body as { id: string };
      const department = (await t.http().post('/departments').set(w.admin.auth).send({ name: '审计部门', districtCode: HAIDIAN }).expect(201)).body as { id: string };
      const organization = (await t.http().post('/organizations').set(w.admin.auth).send({ name: '审计组织', districtCodes: [HAIDIAN] }).expect(201)).body as { id: string };
      const volunteerRecord = (await t.http()
        .post(`/organizations/${organization.id}/volunteers`)
        .set(w.admin.auth)
        .send(volunteerBody({ username: 'audited.volunteer', password: 'audited-volunteer-pass-1' }))
        .expect(201)).body as { id: string };

      const page = (await t.http().get('/admin/audit-log?limit=100').set(w.admin.auth).expect(200)).body as {
        items: { action: string; targetId: string; actorId: string; actorRole: string; ip: string; summary: Record<string, unknown>; at: string }[];
        nextCursor: string | null;
      };
      const entry = (action: string, targetId: string) => page.items.find((i) => i.action === action && i.targetId === targetId);
      expect(entry('user.created', user.id)).toMatchObject({
        actorId: w.coordHaidian.id,
        actorRole: 'district_coordinator',
        ip: expect.stringMatching(/127\.0\.0\.1/),
        summary: { username: 'audited.staff', role: 'community_staff', communityCode: COMMUNITY_A1 },
      });
      expect(entry('department.created', department.id)).toMatchObject({ actorId: w.admin.id, actorRole: 'city_admin', summary: { name: '审计部门', districtCode: HAIDIAN } });
      expect(entry('organization.created', organization.id)).toMatchObject({ actorId: w.admin.id, summary: { name: '审计组织', districtCodes: [HAIDIAN] } });
      expect(entry('volunteer.created', volunteerRecord.id)).toMatchObject({ actorId: w.admin.id, summary: { organizationId: organization.id, username: 'audited.volunteer' } });
      // the world's own setup is there too: the 17 accounts it created, this one, and the
      // volunteers' login accounts (sec.volunteer, audited.volunteer), audited as accounts too
      expect(page.items.filter((i) => i.action === 'user.created')).toHaveLength(20);
      expect(page.items.filter((i) => i.action === 'user.created' && i.summary.role === 'volunteer').map((i) => i.summary.username).sort()).toEqual(['audited.volunteer', 'sec.volunteer']);
      const text = JSON.stringify(page);
      for (const secret of [PHONE, 'audited-staff-pass-1', 'audited-volunteer-pass-1', 'scrypt$']) expect(text).not.toContain(secret);
      // newest first
      const times = page.items.map((i) => i.at);
      expect([...times].sort().reverse()).toEqual(times);
    });

    it('filters by action and pages with a cursor', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: Response = await t.http()
          .get(`/admin/audit-log?action=department.created&limit=2${cursor ? `&cursor=${cursor}` : ''}`)
          .set(w.admin.auth)
          .expect(200);
        const body = res.body as { items: { id: string; action: string }[]; nextCursor: string | null };
        expect(body.items.length).toBeLessThanOrEqual(2);
        for (const item of body.items) expect(item.action).toBe('department.created');
        seen.push(...body.items.map((i) => i.id));
        cursor = body.nextCursor;
      } while (cursor);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.length).toBe(await count(t.db, 'audit_log', `action = 'department.created'`));
      expectProblem(await t.http().get('/admin/audit-log?action=DROP%20TABLE').set(w.admin.auth), 400, 'VALIDATION_FAILED', 'action');
    });

    it('is the city_admin\'s alone: 403 FORBIDDEN for every other role, 401 without a token', async () => {
      for (const who of [w.coordHaidian, w.orgHaidian, w.staffA1, w.residentA1, w.deptHaidian, volunteer])
        expectProblem(await t.http().get('/admin/audit-log').set(who.auth), 403, 'FORBIDDEN');
      expectProblem(await t.http().get('/admin/audit-log'), 401, 'UNAUTHENTICATED');
    });

    it('keeps the peer address, not a client\'s X-Forwarded-For (TRUST_PROXY is off by default)', async () => {
      const department = (await t.http().post('/departments').set(w.admin.auth).set('X-Forwarded-For', '203.0.113.9').send({ name: '伪造来源', districtCode: null }).expect(201)).body as { id: string };
      const { rows } = await t.db.query<{ ip: string }>(`SELECT ip FROM audit_log WHERE target_id = $1`, [department.id]);
      expect(rows).toEqual([{ ip: expect.stringMatching(/127\.0\.0\.1/) }]);
    });

    it('a refused action leaves no entry: the entry commits with the action', async () => {
      const before = await count(t.db, 'audit_log');
      const taken = await t.http()
        .post('/users')
        .set(w.admin.auth)
        .send({ username: 'audited.staff', password: 'another-pass-123', displayName: 'x', role: 'resident', communityCode: COMMUNITY_A1 });
      expectProblem(taken, 409, 'USERNAME_TAKEN');
      const volunteerTaken = await t.http()
        .post(`/organizations/${w.organizations.haidian}/volunteers`)
        .set(w.orgHaidian.auth)
        .send(volunteerBody({ username: 'audited.staff', password: 'another-pass-123' }));
      expectProblem(volunteerTaken, 409, 'USERNAME_TAKEN');
      expect(await count(t.db, 'audit_log')).toBe(before);
    });
  });
});

describe('security with CORS_ORIGINS, HSTS, a small body limit and short-lived tokens', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp('security-configured', {
      CORS_ORIGINS: `${ALLOWED_ORIGIN}, http://localhost:5173`,
      HSTS_MAX_AGE_SECONDS: '31536000',
      BODY_LIMIT_BYTES: '2048',
      ACCESS_TOKEN_TTL_SECONDS: '1',
      LOGIN_LOCKOUT_THRESHOLD: '3',
      LOGIN_LOCKOUT_MINUTES: '0.02',
    });
  });
  afterAll(() => t.close());

  it('a preflight from an allowed origin gets the CORS headers; from another origin none', async () => {
    const preflight = (origin: string) =>
      t.http()
        .options('/orders')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization,content-type,idempotency-key');
    const allowed = await preflight(ALLOWED_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(String(allowed.headers['access-control-allow-methods'])).toContain('POST');
    expect(String(allowed.headers['access-control-allow-headers'])).toContain('idempotency-key');
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();
    const other = await preflight(OTHER_ORIGIN);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();

    const get = await t.http().get('/health').set('Origin', 'http://localhost:5173');
    expect(get.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(String(get.headers['access-control-expose-headers'])).toContain('x-next-cursor');
    expect((await t.http().get('/health').set('Origin', OTHER_ORIGIN)).headers['access-control-allow-origin']).toBeUndefined();
  });

  it('sends Strict-Transport-Security when HSTS_MAX_AGE_SECONDS is set', async () => {
    const res = await t.http().get('/health');
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  });

  it('refuses a body over BODY_LIMIT_BYTES with 413 PAYLOAD_TOO_LARGE', async () => {
    expectProblem(await t.http().post('/auth/login').send({ username: 'admin', password: 'x'.repeat(3000) }), 413, 'PAYLOAD_TOO_LARGE');
    await t.http().post('/auth/login').send(ADMIN).expect(200);
  });

  it('an expired access token is 401 UNAUTHENTICATED; the refresh token still gets a fresh one', async () => {
    const body = (await t.http().post('/auth/login').send(ADMIN).expect(200)).body as Tokens;
    expect(body.expiresIn).toBe(1);
    await sleep(2100);
    expectProblem(await t.http().get('/me').set('Authorization', `Bearer ${body.accessToken}`), 401, 'UNAUTHENTICATED');
    const renewed = (await t.http().post('/auth/refresh').send({ refreshToken: body.refreshToken }).expect(200)).body as Tokens;
    await t.http().get('/me').set('Authorization', `Bearer ${renewed.accessToken}`).expect(200);
  });

  it('a lock runs out after LOGIN_LOCKOUT_MINUTES, and the count starts again', async () => {
    for (let i = 0; i < 3; i++) expectProblem(await t.http().post('/auth/login').send({ username: ADMIN.username, password: `wrong-pass-${i}` }), 401, 'UNAUTHENTICATED');
    expectProblem(await t.http().post('/auth/login').send(ADMIN), 429, 'ACCOUNT_LOCKED');
    await sleep(1500);
    expectProblem(await t.http().post('/auth/login').send({ username: ADMIN.username, password: 'wrong-pass-3' }), 401, 'UNAUTHENTICATED');
    await t.http().post('/auth/login').send(ADMIN).expect(200);
  });
});

// Apart from the one-second tokens above: a login and the request after it may take longer than
// a second on a loaded machine, and the token would run out in between.
describe('security behind a TRUST_PROXY proxy', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp('security-proxy', { TRUST_PROXY: '127.0.0.1, ::1' });
  });
  afterAll(() => t.close());

  it('believes X-Forwarded-For from a TRUST_PROXY address: the audit log keeps the client behind the proxy', async () => {
    const admin = await login(t, ADMIN.username, ADMIN.password);
    const department = (await t.http().post('/departments').set(admin.auth).set('X-Forwarded-For', '203.0.113.9').send({ name: '代理之后', districtCode: null }).expect(201)).body as { id: string };
    const { rows } = await t.db.query<{ ip: string }>(`SELECT ip FROM audit_log WHERE target_id = $1`, [department.id]);
    expect(rows).toEqual([{ ip: '203.0.113.9' }]);
  });
});
