import type { Test } from 'supertest';
import { startFakeProvider, type FakeProvider } from './support/fake-provider';
import { expectProblem, outcome, problemMismatches } from './support/problem';
import { count, startTestApp, type TestApp } from './support/test-app';
import { drain, openTestQueues, startTestWorker, suitePrefix, type TestQueues, type TestWorker } from './support/test-worker';
import { clearOfWindowEnd } from './support/wait';
import { COMMUNITY_A1, COMMUNITY_A2, COMMUNITY_B1, createWorld, login, type Session, type World } from './support/world';

/**
 * Residents on their own (API.md "Residents and volunteers on their own",
 * DESIGN.md §10): a code by SMS, an account with it, the own phone and contact
 * addresses; community staff signing residents up on their behalf (代注册).
 * The API trusts X-Forwarded-For here (TRUST_PROXY=true), so each test speaks
 * from its own client address and the per-address limits of one do not touch another.
 */
const PASSWORD = 'spring-garden-42';

let phones = 0;
/** A fresh mainland mobile number per call. */
const newPhone = (): string => `1390${String(++phones).padStart(7, '0')}`;
let addresses = 0;
const newAddress = (): string => `10.1.${Math.floor(++addresses / 250)}.${addresses % 250}`;

const signupHelpers = (t: TestApp) => {
  const sendCode = (phone: string, address: string, purpose = 'register'): Test =>
    t.http().post('/auth/phone-codes').set('X-Forwarded-For', address).send({ phone, purpose });
  const register = (body: Record<string, unknown>, address: string): Test =>
    t.http().post('/auth/register').set('X-Forwarded-For', address).send(body);
  /** The code as the SMS carries it: the outbox message's payload (the provider's copy is checked in the first test). */
  const codeOf = async (phone: string): Promise<string> => {
    const { rows } = await t.db.query<{ code: string }>(
      `SELECT payload->>'code' AS code FROM outbox WHERE type = 'auth.phone_code' AND payload->>'phone' = $1 ORDER BY created_at DESC LIMIT 1`,
      [phone],
    );
    if (!rows[0]) throw new Error(`no code was sent to ${phone}`);
    return rows[0].code;
  };
  const wrong = (code: string): string => String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  const body = (phone: string, code: string, overrides: Record<string, unknown> = {}) => ({ phone, code, password: PASSWORD, displayName: '张阿姨', communityCode: COMMUNITY_A1, ...overrides });
  /** Lets a phone be sent another code at once (the per-phone limit is tested on its own). */
  const forgetPhoneLimits = (phone: string) => t.db.query(`DELETE FROM rate_limit_counters WHERE key LIKE 'phone-code.phone.%:' || $1`, [phone]);
  return { sendCode, register, codeOf, wrong, body, forgetPhoneLimits };
};

describe('sign-up by phone code', () => {
  let t: TestApp;
  let w: World;
  let worker: TestWorker;
  let queues: TestQueues;
  let provider: FakeProvider;
  let h: ReturnType<typeof signupHelpers>;

  beforeAll(async () => {
    provider = await startFakeProvider();
    t = await startTestApp('signup', { QUEUE_PREFIX: suitePrefix('signup'), NOTIFY_WEBHOOK_URL: provider.url, OUTBOX_POLL_MS: '200', TRUST_PROXY: 'true' });
    worker = await startTestWorker();
    queues = openTestQueues();
    w = await createWorld(t);
    h = signupHelpers(t);
  }, 60_000);

  afterAll(async () => {
    await worker?.close();
    await queues?.obliterate();
    await queues?.close();
    await t?.close();
    await provider?.close();
  });

  it('the whole flow: a code by SMS, a resident account with it, signed in at once with working refresh; the code works once', async () => {
    const phone = newPhone();
    const address = newAddress();
    const sent = await h.sendCode(phone, address).expect(202);
    expect(sent.body).toEqual({ expiresIn: 300 });
    await drain(t.db, queues);
    const sms = provider.accepted().filter((r) => r.body.type === 'auth.phone_code' && r.body.to === phone);
    expect(sms).toHaveLength(1);
    const code = /\d{6}/.exec(sms[0]!.body.body)?.[0] ?? '';
    expect(code).toMatch(/^\d{6}$/);
    expect(sms[0]!.body).toMatchObject({ channel: 'sms', userId: null, orderId: null });

    // Stored as an HMAC, never the digits.
    const stored = (await t.db.query<{ code_hash: string }>(`SELECT code_hash FROM phone_codes WHERE phone = $1`, [phone])).rows;
    expect(stored).toHaveLength(1);
    expect(stored[0]!.code_hash).not.toContain(code);

    const res = await h.register(h.body(phone, code), address).expect(201);
    const session = res.body as { accessToken: string; refreshToken: string; expiresIn: number; user: { id: string; username: string; role: string; communityCode: string } };
    expect(session.user).toMatchObject({ username: phone, role: 'resident', communityCode: COMMUNITY_A1, displayName: '张阿姨' });
    expect(session.expiresIn).toBeGreaterThan(0);
    const me = await t.http().get('/me').set({ Authorization: `Bearer ${session.accessToken}` }).expect(200);
    expect(me.body).toMatchObject({ id: session.user.id, role: 'resident' });
    const refreshed = await t.http().post('/auth/refresh').send({ refreshToken: session.refreshToken }).expect(200);
    expect((refreshed.body as { user: { id: string } }).user.id).toBe(session.user.id);
    await login(t, phone, PASSWORD);
    expect((await t.db.query<{ phone: string }>(`SELECT phone FROM users WHERE id = $1`, [session.user.id])).rows[0]?.phone).toBe(phone);
    expect(await count(t.db, 'audit_log', `action = 'user.registered' AND target_id = $1 AND actor_id = $2`, [session.user.id, session.user.id])).toBe(1);
    expect(await count(t.db, 'phone_codes', 'phone = $1', [phone])).toBe(0);
    // The username is the phone here: the audit log shows it masked, as every number.
    const summary = (await t.db.query<{ summary: string }>(`SELECT summary::text AS summary FROM audit_log WHERE target_id = $1`, [session.user.id])).rows[0]?.summary;
    expect(summary).toContain(`${phone.slice(0, 3)}****${phone.slice(-4)}`);
    expect(summary).not.toContain(phone);

    // The same code again, even for another username: used.
    expectProblem(await h.register(h.body(phone, code, { username: 'second.try' }), address), 422, 'INVALID_PHONE_CODE');
    expect(await count(t.db, 'users', `username = 'second.try'`)).toBe(0);
  });

  it('+86 and a chosen username are taken; the phone is stored as 11 digits', async () => {
    const phone = newPhone();
    const address = newAddress();
    await h.sendCode(`+86${phone}`, address).expect(202);
    const res = await h.register(h.body(`+86${phone}`, await h.codeOf(phone), { username: 'zhang.ayi' }), address).expect(201);
    expect((res.body as { user: { username: string } }).user.username).toBe('zhang.ayi');
    expect(await count(t.db, 'users', 'phone = $1', [phone])).toBe(1);
  });

  it('answers the same 202 for a registered and an unregistered phone; only the code holder learns PHONE_TAKEN, and the code stays usable', async () => {
    const taken = newPhone();
    const free = newPhone();
    await t.http().post('/users').set(w.admin.auth).send({ username: 'has.phone', password: PASSWORD, displayName: '老李', role: 'resident', communityCode: COMMUNITY_A1, phone: taken }).expect(201);
    const address = newAddress();
    const a = await h.sendCode(taken, address);
    const b = await h.sendCode(free, address);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.body).toEqual(b.body);
    expect(Object.keys(a.headers).sort()).toEqual(Object.keys(b.headers).sort());

    // A wrong code does not tell either.
    expectProblem(await h.register(h.body(taken, h.wrong(await h.codeOf(taken))), address), 422, 'INVALID_PHONE_CODE');
    expectProblem(await h.register(h.body(taken, await h.codeOf(taken)), address), 409, 'PHONE_TAKEN');
    expect(await count(t.db, 'phone_codes', 'phone = $1', [taken])).toBe(1);
    expect(await count(t.db, 'users', 'phone = $1', [taken])).toBe(1);
  });

  it('five wrong tries spend a code: the right one then fails too', async () => {
    const phone = newPhone();
    const address = newAddress();
    await h.sendCode(phone, address).expect(202);
    const code = await h.codeOf(phone);
    for (let i = 0; i < 5; i++) expectProblem(await h.register(h.body(phone, h.wrong(code)), address), 422, 'INVALID_PHONE_CODE');
    expectProblem(await h.register(h.body(phone, code), address), 422, 'INVALID_PHONE_CODE');
    expect(await count(t.db, 'users', 'phone = $1', [phone])).toBe(0);
  });

  it('four wrong tries leave the code usable: each wrong try counts, no more', async () => {
    const phone = newPhone();
    const address = newAddress();
    await h.sendCode(phone, address).expect(202);
    const code = await h.codeOf(phone);
    // In parallel: every wrong try is counted, none lost.
    const tries = await Promise.all(Array.from({ length: 4 }, () => h.register(h.body(phone, h.wrong(code)), address)));
    expect(tries.map(outcome)).toEqual(Array.from({ length: 4 }, () => ({ status: 422, code: 'INVALID_PHONE_CODE' })));
    expect((await t.db.query<{ wrong_tries: number }>(`SELECT wrong_tries FROM phone_codes WHERE phone = $1`, [phone])).rows[0]?.wrong_tries).toBe(4);
    await h.register(h.body(phone, code), address).expect(201);
  });

  it('an attempt refused for another reason than the code (weak password, unknown community, taken username) writes nothing and keeps the code', async () => {
    const phone = newPhone();
    const address = newAddress();
    await h.sendCode(phone, address).expect(202);
    const code = await h.codeOf(phone);
    const users = await count(t.db, 'users');
    expectProblem(await h.register(h.body(phone, code, { password: 'short1' }), address), 400, 'VALIDATION_FAILED', 'password');
    expectProblem(await h.register(h.body(phone, code, { communityCode: '110108999999' }), address), 422, 'UNKNOWN_COMMUNITY');
    expectProblem(await h.register(h.body(phone, code, { username: 'RESIDENT-A1' }), address), 409, 'USERNAME_TAKEN');
    expect(await count(t.db, 'users')).toBe(users);
    expect((await t.db.query<{ wrong_tries: number }>(`SELECT wrong_tries FROM phone_codes WHERE phone = $1`, [phone])).rows[0]?.wrong_tries).toBe(0);
    await h.register(h.body(phone, code), address).expect(201);
  });

  it('a new code replaces the last one of that phone and purpose', async () => {
    const phone = newPhone();
    const address = newAddress();
    await h.sendCode(phone, address).expect(202);
    const first = await h.codeOf(phone);
    await h.forgetPhoneLimits(phone);
    await h.sendCode(phone, address).expect(202);
    const second = await h.codeOf(phone);
    if (first !== second) expectProblem(await h.register(h.body(phone, first), address), 422, 'INVALID_PHONE_CODE');
    await h.register(h.body(phone, second), address).expect(201);
  });

  it('one code a minute per phone, from any address: 429 with Retry-After, and nothing is sent', async () => {
    await clearOfWindowEnd(60, 20_000);
    const phone = newPhone();
    await h.sendCode(phone, newAddress()).expect(202);
    const outbox = await count(t.db, 'outbox', `type = 'auth.phone_code'`);
    for (const address of [newAddress(), newAddress()]) {
      const res = await h.sendCode(phone, address, 'change_phone');
      expectProblem(res, 429, 'RATE_LIMITED');
      const retryAfter = Number(res.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    expect(await count(t.db, 'outbox', `type = 'auth.phone_code'`)).toBe(outbox);
  });

  it('five codes an hour per phone', async () => {
    await clearOfWindowEnd(3600);
    const phone = newPhone();
    const address = newAddress();
    for (let i = 0; i < 5; i++) {
      await t.db.query(`DELETE FROM rate_limit_counters WHERE key = 'phone-code.phone.minute:' || $1`, [phone]);
      await h.sendCode(phone, address).expect(202);
    }
    await t.db.query(`DELETE FROM rate_limit_counters WHERE key = 'phone-code.phone.minute:' || $1`, [phone]);
    const res = await h.sendCode(phone, address);
    expectProblem(res, 429, 'RATE_LIMITED');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('at least 30 sign-up attempts an hour per address pass; past 60 they get 429', async () => {
    await clearOfWindowEnd(3600);
    const address = newAddress();
    const attempts = await Promise.all(Array.from({ length: 60 }, () => h.register(h.body(newPhone(), '123456', { communityCode: '110108999999' }), address)));
    expect(attempts.map(outcome).filter((o) => o.status === 429)).toEqual([]);
    const res = await h.register(h.body(newPhone(), '123456'), address);
    expectProblem(res, 429, 'RATE_LIMITED');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not held back.
    expectProblem(await h.register(h.body(newPhone(), '123456'), newAddress()), 422, 'INVALID_PHONE_CODE');
  });

  it('parallel sign-ups with one code: exactly one account, the others are told the code is used', async () => {
    const phone = newPhone();
    const address = newAddress();
    await h.sendCode(phone, address).expect(202);
    const code = await h.codeOf(phone);
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => h.register(h.body(phone, code, { username: `racer.${i}` }), address)));
    expect(answers.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of answers.filter((x) => x.status !== 201)) expect(problemMismatches(r, 422, 'INVALID_PHONE_CODE')).toEqual([]);
    expect(await count(t.db, 'users', 'phone = $1', [phone])).toBe(1);
  });

  it('a sign-up and a phone change racing for one number: one wins, the other is 409 PHONE_TAKEN and keeps its code', async () => {
    for (let round = 0; round < 3; round++) {
      const phone = newPhone();
      const address = newAddress();
      await h.sendCode(phone, address, 'register').expect(202);
      const registerCode = await h.codeOf(phone);
      await h.forgetPhoneLimits(phone);
      await h.sendCode(phone, address, 'change_phone').expect(202);
      const changeCode = await h.codeOf(phone);
      const changer = await login(t, 'resident-b1', 'resident-b1-pass-1');
      const [registered, changed] = await Promise.all([
        h.register(h.body(phone, registerCode, { username: `race.phone.${round}` }), address),
        t.http().post('/me/phone').set(changer.auth).send({ phone, code: changeCode }),
      ]);
      expect([registered.status, changed.status].sort()).toEqual(registered.status === 201 ? [201, 409] : [200, 409]);
      expectProblem(registered.status === 201 ? changed : registered, 409, 'PHONE_TAKEN');
      expect(await count(t.db, 'users', 'phone = $1', [phone])).toBe(1);
      expect(await count(t.db, 'phone_codes', 'phone = $1', [phone])).toBe(1); // the loser's code
    }
  });

  it('bad input is 400 with the field named and writes nothing', async () => {
    const phone = newPhone();
    const address = newAddress();
    const before = await Promise.all(['outbox', 'phone_codes', 'users', 'rate_limit_counters'].map((table) => count(t.db, table)));
    const CODE_CASES: [string, unknown, string][] = [
      ['a landline', { phone: '01062345678', purpose: 'register' }, 'phone'],
      ['a Hong Kong number', { phone: '+85261234567', purpose: 'register' }, 'phone'],
      ['12 digits', { phone: `${phone}1`, purpose: 'register' }, 'phone'],
      ['a number as a number', { phone: Number(phone), purpose: 'register' }, 'phone'],
      ['no phone', { purpose: 'register' }, 'phone'],
      ['another purpose', { phone, purpose: 'login' }, 'purpose'],
      ['no purpose', { phone }, 'purpose'],
      ['an extra field', { phone, purpose: 'register', code: '123456' }, 'code'],
    ];
    for (const [label, sent, field] of CODE_CASES) {
      const res = await t.http().post('/auth/phone-codes').set('X-Forwarded-For', address).send(sent as object);
      expect({ label, problems: problemMismatches(res, 400, 'VALIDATION_FAILED', field) }).toEqual({ label, problems: [] });
    }
    const REGISTER_CASES: [string, Record<string, unknown>, string][] = [
      ['five digits', { code: '12345' }, 'code'],
      ['letters in the code', { code: '12345a' }, 'code'],
      ['a blank name', { displayName: '   ' }, 'displayName'],
      ['no name', { displayName: undefined }, 'displayName'],
      ['a short community code', { communityCode: '110108' }, 'communityCode'],
      ['a username with spaces', { username: 'two words' }, 'username'],
      ['a password without a digit', { password: 'only-letters-here' }, 'password'],
      ['a role', { role: 'city_admin' }, 'role'],
    ];
    for (const [label, overrides, field] of REGISTER_CASES) {
      const res = await h.register(h.body(phone, '123456', overrides), address);
      expect({ label, problems: problemMismatches(res, 400, 'VALIDATION_FAILED', field) }).toEqual({ label, problems: [] });
    }
    const after = await Promise.all(['outbox', 'phone_codes', 'users'].map((table) => count(t.db, table)));
    expect(after).toEqual(before.slice(0, 3));
  });

  describe('代注册: community staff sign residents up', () => {
    type Who = 'staffA1' | 'staffB1' | 'residentA1' | 'deptHaidian' | 'orgHaidian' | 'coordHaidian' | 'admin';
    const CASES: [label: string, who: Who, role: string, community: string, status: 201 | 403][] = [
      ['community staff: a resident of its own community', 'staffA1', 'resident', COMMUNITY_A1, 201],
      ['community staff: a resident of another community of its district', 'staffA1', 'resident', COMMUNITY_A2, 403],
      ['community staff: a resident of another district', 'staffA1', 'resident', COMMUNITY_B1, 403],
      ['community staff: staff of its own community', 'staffA1', 'community_staff', COMMUNITY_A1, 403],
      ['another community\'s staff: a resident of 海淀 A1', 'staffB1', 'resident', COMMUNITY_A1, 403],
      ['resident: a resident of its community', 'residentA1', 'resident', COMMUNITY_A1, 403],
      ['department staff: a resident', 'deptHaidian', 'resident', COMMUNITY_A1, 403],
      ['org admin: a resident', 'orgHaidian', 'resident', COMMUNITY_A1, 403],
      ['district coordinator: a resident of its district', 'coordHaidian', 'resident', COMMUNITY_A1, 201],
      ['city admin: a resident', 'admin', 'resident', COMMUNITY_B1, 201],
    ];

    it('allowed and refused as the roles say; refusals write nothing; the resident signs in', async () => {
      const before = await count(t.db, 'users');
      const answers = await Promise.all(
        CASES.map(([, who, role, community], i) =>
          t.http().post('/users').set((w[who] as Session).auth).send({ username: `proxy.${i}`, password: PASSWORD, displayName: '王奶奶', role, communityCode: community, phone: newPhone() }),
        ),
      );
      expect(answers.map((res, i) => ({ label: CASES[i]![0], ...outcome(res) }))).toEqual(
        CASES.map(([label, , , , status]) => ({ label, status, code: status === 403 ? 'FORBIDDEN' : undefined })),
      );
      expect(await count(t.db, 'users')).toBe(before + CASES.filter((c) => c[4] === 201).length);
      const resident = await login(t, 'proxy.0', PASSWORD);
      expect((await t.http().get('/me').set(resident.auth).expect(200)).body).toMatchObject({ role: 'resident', communityCode: COMMUNITY_A1 });
      expect(await count(t.db, 'audit_log', `action = 'user.created' AND actor_id = $1 AND target_id = $2`, [w.staffA1.id, resident.id])).toBe(1);
    });

    it('a resident with a phone another resident has is 409 PHONE_TAKEN', async () => {
      const phone = newPhone();
      await t.http().post('/users').set(w.staffA1.auth).send({ username: 'proxy.phone.1', password: PASSWORD, displayName: '王奶奶', role: 'resident', communityCode: COMMUNITY_A1, phone }).expect(201);
      const res = await t.http().post('/users').set(w.staffA1.auth).send({ username: 'proxy.phone.2', password: PASSWORD, displayName: '王爷爷', role: 'resident', communityCode: COMMUNITY_A1, phone });
      expectProblem(res, 409, 'PHONE_TAKEN');
      expect(await count(t.db, 'users', `username = 'proxy.phone.2'`)).toBe(0);
    });
  });

  describe('the own contact addresses and phone', () => {
    const contactOf = async (id: string) =>
      (await t.db.query<{ email: string | null; wechat_open_id: string | null; phone: string | null }>(`SELECT email, wechat_open_id, phone FROM users WHERE id = $1`, [id])).rows[0];

    it('PUT /me/contact sets, keeps (absent) and removes (null) the e-mail address and the WeChat OpenID', async () => {
      const res = await t.http().put('/me/contact').set(w.residentA2.auth).send({ email: 'a2@example.cn', wechatOpenId: 'wx_resident_a2' }).expect(200);
      expect(res.body).toMatchObject({ id: w.residentA2.id, role: 'resident' });
      expect(await contactOf(w.residentA2.id)).toMatchObject({ email: 'a2@example.cn', wechat_open_id: 'wx_resident_a2' });
      await t.http().put('/me/contact').set(w.residentA2.auth).send({ email: null }).expect(200);
      expect(await contactOf(w.residentA2.id)).toMatchObject({ email: null, wechat_open_id: 'wx_resident_a2' });
      await t.http().put('/me/contact').set(w.residentA2.auth).send({}).expect(200);
      expect(await contactOf(w.residentA2.id)).toMatchObject({ email: null, wechat_open_id: 'wx_resident_a2' });
    });

    it('PUT /me/contact refuses bad addresses (400, nothing written) and strangers (401)', async () => {
      await t.http().put('/me/contact').set(w.staffA2.auth).send({ email: 'staff@example.cn' }).expect(200);
      for (const [sent, field] of [
        [{ email: 'not-an-address' }, 'email'],
        [{ email: 42 }, 'email'],
        [{ wechatOpenId: 'a b' }, 'wechatOpenId'],
        [{ email: `${'x'.repeat(200)}@example.cn` }, 'email'],
        [{ phone: '13900000000' }, 'phone'],
      ] as const)
        expectProblem(await t.http().put('/me/contact').set(w.staffA2.auth).send(sent), 400, 'VALIDATION_FAILED', field);
      expect(await contactOf(w.staffA2.id)).toMatchObject({ email: 'staff@example.cn', wechat_open_id: null });
      expectProblem(await t.http().put('/me/contact').send({ email: null }), 401, 'UNAUTHENTICATED');
    });

    it('POST /me/phone with a change_phone code sent to the new number: 200, the phone changed, the code used, audited', async () => {
      const phone = newPhone();
      const address = newAddress();
      await h.sendCode(phone, address, 'change_phone').expect(202);
      const code = await h.codeOf(phone);
      expectProblem(await t.http().post('/me/phone').set(w.residentA1.auth).send({ phone, code: h.wrong(code) }), 422, 'INVALID_PHONE_CODE');
      const res = await t.http().post('/me/phone').set(w.residentA1.auth).send({ phone, code }).expect(200);
      expect(res.body).toMatchObject({ id: w.residentA1.id, role: 'resident' });
      expect((await contactOf(w.residentA1.id))?.phone).toBe(phone);
      expect(await count(t.db, 'audit_log', `action = 'user.phone_changed' AND target_id = $1`, [w.residentA1.id])).toBe(1);
      expectProblem(await t.http().post('/me/phone').set(w.residentA1b.auth).send({ phone, code }), 422, 'INVALID_PHONE_CODE');
    });

    it('a register code does not change a phone, nor a change_phone code sign up', async () => {
      const phone = newPhone();
      const address = newAddress();
      await h.sendCode(phone, address, 'register').expect(202);
      const registerCode = await h.codeOf(phone);
      expectProblem(await t.http().post('/me/phone').set(w.residentA1b.auth).send({ phone, code: registerCode }), 422, 'INVALID_PHONE_CODE');
      await h.forgetPhoneLimits(phone);
      await h.sendCode(phone, address, 'change_phone').expect(202);
      const changeCode = await h.codeOf(phone);
      if (changeCode !== registerCode) expectProblem(await h.register(h.body(phone, changeCode), address), 422, 'INVALID_PHONE_CODE');
      await t.http().post('/me/phone').set(w.residentA1b.auth).send({ phone, code: changeCode }).expect(200);
    });

    it('a number another account has is 409 PHONE_TAKEN, and the code stays usable', async () => {
      const phone = newPhone();
      await t.http().post('/users').set(w.admin.auth).send({ username: 'staff.with.phone', password: PASSWORD, displayName: '周老师', role: 'community_staff', communityCode: COMMUNITY_A2, phone }).expect(201);
      await h.sendCode(phone, newAddress(), 'change_phone').expect(202);
      const code = await h.codeOf(phone);
      expectProblem(await t.http().post('/me/phone').set(w.residentA2.auth).send({ phone, code }), 409, 'PHONE_TAKEN');
      expect(await count(t.db, 'phone_codes', 'phone = $1', [phone])).toBe(1);
      expect((await contactOf(w.residentA2.id))?.phone).toBeNull();
      expectProblem(await t.http().post('/me/phone').send({ phone, code }), 401, 'UNAUTHENTICATED');
    });
  });
});

describe('sign-up codes with a short life and a small per-address allowance', () => {
  let t: TestApp;
  let h: ReturnType<typeof signupHelpers>;

  beforeAll(async () => {
    t = await startTestApp('signup-limits', { TRUST_PROXY: 'true', PHONE_CODE_TTL_SECONDS: '2', PHONE_CODES_PER_ADDRESS_PER_HOUR: '3' });
    h = signupHelpers(t);
  }, 60_000);
  afterAll(() => t?.close());

  it('a code expires after PHONE_CODE_TTL_SECONDS', async () => {
    const phone = newPhone();
    const address = newAddress();
    expect((await h.sendCode(phone, address).expect(202)).body).toEqual({ expiresIn: 2 });
    const code = await h.codeOf(phone);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expectProblem(await h.register(h.body(phone, code), address), 422, 'INVALID_PHONE_CODE');
    expect(await count(t.db, 'users', 'phone = $1', [phone])).toBe(0);
  });

  it('PHONE_CODES_PER_ADDRESS_PER_HOUR codes per client address, whatever the phones; another address still gets its own', async () => {
    await clearOfWindowEnd(60, 10_000);
    await clearOfWindowEnd(3600);
    const address = newAddress();
    const answers = await Promise.all(Array.from({ length: 6 }, () => h.sendCode(newPhone(), address)));
    expect(answers.map((r) => r.status).sort()).toEqual([202, 202, 202, 429, 429, 429]);
    for (const r of answers.filter((x) => x.status === 429)) {
      expectProblem(r, 429, 'RATE_LIMITED');
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    }
    await h.sendCode(newPhone(), newAddress()).expect(202);
  });

  it('a phone refused by its own limit does not use up the address allowance', async () => {
    await clearOfWindowEnd(60, 10_000);
    await clearOfWindowEnd(3600);
    const address = newAddress();
    const phone = newPhone();
    await h.sendCode(phone, address).expect(202);
    for (let i = 0; i < 3; i++) expectProblem(await h.sendCode(phone, address), 429, 'RATE_LIMITED');
    await h.sendCode(newPhone(), address).expect(202);
    await h.sendCode(newPhone(), address).expect(202);
    expectProblem(await h.sendCode(newPhone(), address), 429, 'RATE_LIMITED');
  });
});
