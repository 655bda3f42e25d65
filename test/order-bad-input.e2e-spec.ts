import { sign } from 'jsonwebtoken';
import type { Response, Test } from 'supertest';
import { problemMismatches } from './support/problem';
import { ADMIN, count, startTestApp, TEST_JWT_SECRET, type TestApp } from './support/test-app';
import { COMMUNITY_A1, createWorld, HAIDIAN, orderBody, orderIn, type OrderJson, type Session, type World } from './support/world';

/**
 * Invariant 5 of DESIGN.md §8: bad input is a 400 VALIDATION_FAILED problem
 * naming the field (413 for a body that is too large), never a 5xx, a stack
 * trace or a partial write; and every door refuses a caller without a valid token.
 */

const MISSING = Symbol('missing');
type Variant = [label: string, value: unknown];
const LONG = 'x'.repeat(10_000);
const DAY_MS = 24 * 3600 * 1000;

const NOT_A_STRING: Variant[] = [
  ['a number', 12345],
  ['an object', { text: 'x' }],
  ['an array', ['x']],
  ['null', null],
  ['a boolean', true],
];
const REQUIRED_TEXT: Variant[] = [['missing', MISSING], ...NOT_A_STRING, ['empty', ''], ['whitespace only', '   \t '], ['10,000 characters', LONG]];
const NOT_A_NUMBER: Variant[] = [
  ['a string', '60'],
  ['an object', { n: 60 }],
  ['an array', [60]],
  ['null', null],
  ['a boolean', true],
];
const NOT_A_UUID: Variant[] = [['missing', MISSING], ...NOT_A_STRING, ['empty', ''], ['whitespace only', '  '], ['not a UUID', 'haidian-kexie'], ['10,000 characters', LONG]];
const OPTIONAL_NOT_A_STRING: Variant[] = NOT_A_STRING.filter(([label]) => label !== 'null');
const enumCode = (unknown: string): Variant[] => [
  ['missing', MISSING],
  ...NOT_A_STRING,
  ['empty', ''],
  ['whitespace only', '  '],
  ['an unknown code', unknown],
  ['10,000 characters', LONG],
];
const EXPECTED_VERSION: Variant[] = [
  ['a string', '2'],
  ['zero', 0],
  ['negative', -1],
  ['a fraction', 1.5],
  ['an object', { v: 2 }],
  ['an array', [2]],
  ['a boolean', true],
];

interface Case {
  label: string;
  body: Record<string, unknown>;
  field: string;
}

/** One case per (field, invalid form): the valid body with just that field broken. */
function casesFor(base: Record<string, unknown>, fields: Record<string, Variant[]>): Case[] {
  return Object.entries(fields).flatMap(([field, variants]) =>
    variants.map(([label, value]) => {
      const body = { ...base };
      if (value === MISSING) delete body[field];
      else body[field] = value;
      return { label: `${field} ${label}`, body, field };
    }),
  );
}

/** A valid window `days` ahead, as the API wants it: ISO 8601 with an offset. */
function window(startDays: number, hours = 2): { start: string; end: string } {
  const start = new Date(Date.now() + startDays * DAY_MS);
  start.setUTCHours(1, 0, 0, 0);
  return { start: start.toISOString(), end: new Date(start.getTime() + hours * 3600 * 1000).toISOString() };
}

describe('bad input never gets past the door', () => {
  let t: TestApp;
  let w: World;
  const fixtures = {} as Record<'submitted' | 'dispatched' | 'claimed' | 'accepted', OrderJson>;

  beforeAll(async () => {
    t = await startTestApp('bad-input');
    w = await createWorld(t);
    for (const status of ['submitted', 'dispatched', 'claimed', 'accepted'] as const) fixtures[status] = await orderIn(t, w, status);
  });
  afterAll(() => t.close());

  const TABLES = ['orders', 'order_events', 'outbox', 'users', 'departments', 'organizations', 'organization_districts', 'idempotency_records'];
  const footprint = async (): Promise<Record<string, number>> => {
    const counts = await Promise.all(TABLES.map((table) => count(t.db, table)));
    const versions = (await t.db.query<{ total: string }>(`SELECT coalesce(sum(version), 0) AS total FROM orders`)).rows[0]?.total;
    return { ...Object.fromEntries(TABLES.map((table, i) => [table, counts[i] ?? -1])), 'sum of order versions': Number(versions) };
  };
  /** Runs the requests and fails unless every answer is the expected problem, and nothing was written. */
  const expectAllRefused = async (requests: { label: string; send: () => PromiseLike<Response>; status?: number; code?: string; field?: string }[]) => {
    const before = await footprint();
    const answers = await Promise.all(requests.map((r) => r.send()));
    const wrong = answers.flatMap((res, i) => {
      const r = requests[i];
      if (!r) return [];
      return problemMismatches(res, r.status ?? 400, r.code ?? 'VALIDATION_FAILED', r.field).map((m) => `${r.label}: ${m}`);
    });
    expect(wrong).toEqual([]);
    expect(await footprint()).toEqual(before);
  };

  describe('POST /orders', () => {
    const base = () => orderBody(COMMUNITY_A1);
    const fields = (): Record<string, Variant[]> => ({
      communityCode: [...REQUIRED_TEXT, ['11 digits', '11010800100'], ['letters', 'community-a1']],
      topic: enumCode('cooking'),
      audience: enumCode('aliens'),
      format: enumCode('dance'),
      title: [...REQUIRED_TEXT, ['201 characters', 'x'.repeat(201)]],
      description: [...REQUIRED_TEXT, ['5,001 characters', 'x'.repeat(5001)]],
      contactName: [...REQUIRED_TEXT, ['101 characters', 'x'.repeat(101)]],
      contactPhone: [...REQUIRED_TEXT, ['letters', '138abcd1234'], ['too short', '12345']],
      expectedAttendance: [['missing', MISSING], ...NOT_A_NUMBER, ['0', 0], ['2001', 2001], ['1.5', 1.5], ['-1', -1], ['a numeric string', '2000']],
      preferredWindows: [
        ['missing', MISSING],
        ['null', null],
        ['a string', 'next Saturday morning'],
        ['an object', window(30)],
        ['0 windows', []],
        ['6 windows', [1, 2, 3, 4, 5, 6].map((d) => window(20 + d))],
        ['a null window', [null]],
        ['an empty window', [{}]],
        ['a window without end', [{ start: window(30).start }]],
        ['a number as start', [{ ...window(30), start: Date.now() + 30 * DAY_MS }]],
        ['start in the past', [window(-1)]],
        ['end before start', [{ start: window(30).end, end: window(30).start }]],
        ['end equal to start', [{ start: window(30).start, end: window(30).start }]],
        ['end more than 180 days out', [window(180, 24)]],
        ['start 200 days out', [window(200)]],
        ['no offset', [{ start: '2027-03-14T09:00:00', end: '2027-03-14T11:00:00' }]],
        ['not a date', [{ start: 'tomorrow 9am', end: 'tomorrow 11am' }]],
        ['an impossible date', [{ start: '2027-02-30T09:00:00+08:00', end: '2027-02-30T11:00:00+08:00' }]],
        ['an unknown field in a window', [{ ...window(30), note: 'x' }]],
        ['one good window and one bad', [window(30), window(-2)]],
      ],
      accessibilityNeeds: [
        ['a string', 'wheelchair'],
        ['an unknown code', ['teleporter']],
        ['a number in the list', [1]],
        ['a repeated code', ['wheelchair', 'wheelchair']],
        ['an object', { wheelchair: true }],
      ],
      status: [['an unknown field', 'accepted']],
      requesterId: [['an unknown field', '00000000-0000-4000-8000-000000000000']],
    });

    it.each(Object.keys(fields()))('each invalid form of %s → 400 naming it', async (field) => {
      const cases = casesFor(base(), { [field]: fields()[field] ?? [] });
      await expectAllRefused(cases.map((c) => ({ label: c.label, field: c.field, send: () => t.http().post('/orders').set(w.residentA1.auth).send(c.body) })));
    });

    it('an Idempotency-Key that is too long, empty or has spaces → 400, and no key is stored', async () => {
      await expectAllRefused(
        ['k'.repeat(256), 'k'.repeat(10_000), '', 'has spaces in it'].map((key) => ({
          label: `key of ${key.length} characters`,
          field: 'Idempotency-Key',
          send: () => t.http().post('/orders').set(w.residentA1.auth).set('Idempotency-Key', key).send(base()),
        })),
      );
    });

    it('an Idempotency-Key of exactly 255 characters is accepted', async () => {
      const res = await t.http().post('/orders').set(w.residentA1.auth).set('Idempotency-Key', 'k'.repeat(255)).send(base()).expect(201);
      expect(res.body.status).toBe('submitted');
      expect(await count(t.db, 'idempotency_records', 'key = $1', ['k'.repeat(255)])).toBe(1);
    });
  });

  describe('accounts', () => {
    const userBase = () => ({ username: 'valid.user', password: 'valid-pass-1', displayName: '王老师', role: 'resident', communityCode: COMMUNITY_A1 });
    const userFields = (): Record<string, Variant[]> => ({
      username: [...REQUIRED_TEXT, ['2 characters', 'ab'], ['65 characters', 'a'.repeat(65)], ['a space', 'bad name'], ['Chinese', '王老师']],
      password: [['missing', MISSING], ...NOT_A_STRING, ['empty', ''], ['7 characters', 'abc1234'], ['no digit', 'only-letters'], ['no letter', '12345678'], ['10,000 characters', LONG]],
      displayName: [...REQUIRED_TEXT, ['101 characters', 'x'.repeat(101)]],
      role: enumCode('superuser'),
      phone: [...OPTIONAL_NOT_A_STRING, ['empty', ''], ['letters', 'call-me'], ['10,000 characters', LONG]],
      communityCode: [['missing for a resident', MISSING], ...OPTIONAL_NOT_A_STRING, ['empty', ''], ['letters', 'community-a1'], ['10,000 characters', LONG]],
      departmentId: [['not a UUID', 'haidian'], ['a number', 1], ['given to a resident', '00000000-0000-4000-8000-000000000000']],
      organizationId: [['not a UUID', 'team'], ['an array', ['x']], ['given to a resident', '00000000-0000-4000-8000-000000000000']],
      districtCode: [['5 digits', '11010'], ['a number', 110108], ['given to a resident', HAIDIAN]],
      isActive: [['an unknown field', false]],
      passwordHash: [['an unknown field', 'x']],
    });
    it.each(Object.keys(userFields()))('POST /users: each invalid form of %s → 400 naming it', async (field) => {
      const cases = casesFor(userBase(), { [field]: userFields()[field] ?? [] });
      await expectAllRefused(cases.map((c) => ({ label: c.label, field: c.field, send: () => t.http().post('/users').set(w.admin.auth).send(c.body) })));
    });

    const NULLED_SCOPES: [role: string, field: string][] = [
      ['resident', 'communityCode'],
      ['community_staff', 'communityCode'],
      ['department_staff', 'departmentId'],
      ['org_admin', 'organizationId'],
      ['district_coordinator', 'districtCode'],
    ];
    const withNullScope = (role: string, field: string) => () =>
      t.http().post('/users').set(w.admin.auth).send({ ...userBase(), communityCode: undefined, role, [field]: null });

    it('POST /users: a scope field sent as null is never a 5xx and writes nothing', async () => {
      const before = await footprint();
      const answers = await Promise.all(NULLED_SCOPES.map(([role, field]) => withNullScope(role, field)()));
      expect(answers.map((res, i) => `${NULLED_SCOPES[i]?.join(' ')}: ${res.status < 500 ? '4xx' : `${res.status} ${String(res.body.code)}`}`)).toEqual(
        NULLED_SCOPES.map(([role, field]) => `${role} ${field}: 4xx`),
      );
      expect(await footprint()).toEqual(before);
    });

    it('POST /users: the scope field a role needs, sent as null → 400 naming it (not a lookup of "null")', async () => {
      await expectAllRefused(NULLED_SCOPES.map(([role, field]) => ({ label: `${role} with ${field}: null`, field, send: withNullScope(role, field) })));
    });

    const departmentFields = (): Record<string, Variant[]> => ({
      name: [...REQUIRED_TEXT, ['201 characters', 'x'.repeat(201)]],
      districtCode: [['missing', MISSING], ...OPTIONAL_NOT_A_STRING, ['empty', ''], ['whitespace only', '  '], ['5 digits', '11010'], ['10,000 characters', LONG]],
      topics: [
        ['a string', 'health'],
        ['an unknown code', ['cooking']],
        ['a number in the list', [1]],
        ['a repeated code', ['health', 'health']],
        ['an object', { health: true }],
      ],
      id: [['an unknown field', '00000000-0000-4000-8000-000000000000']],
    });
    it.each(Object.keys(departmentFields()))('POST /departments: each invalid form of %s → 400 naming it', async (field) => {
      const cases = casesFor({ name: '海淀区教委', districtCode: HAIDIAN, topics: ['health'] }, { [field]: departmentFields()[field] ?? [] });
      await expectAllRefused(cases.map((c) => ({ label: c.label, field: c.field, send: () => t.http().post('/departments').set(w.admin.auth).send(c.body) })));
    });

    const organizationFields = (): Record<string, Variant[]> => ({
      name: [...REQUIRED_TEXT, ['201 characters', 'x'.repeat(201)]],
      districtCodes: [
        ['missing', MISSING],
        ...NOT_A_STRING.filter(([label]) => label !== 'an array'),
        ['a string', HAIDIAN],
        ['empty', []],
        ['numbers', [110108]],
        ['5 digits', ['11010']],
        ['a repeated code', [HAIDIAN, HAIDIAN]],
        ['a null entry', [null]],
        ['51 entries', Array.from({ length: 51 }, (_, i) => String(110100 + i))],
      ],
      id: [['an unknown field', '00000000-0000-4000-8000-000000000000']],
    });
    it.each(Object.keys(organizationFields()))('POST /organizations: each invalid form of %s → 400 naming it', async (field) => {
      const cases = casesFor({ name: '海淀银发科普队', districtCodes: [HAIDIAN] }, { [field]: organizationFields()[field] ?? [] });
      await expectAllRefused(cases.map((c) => ({ label: c.label, field: c.field, send: () => t.http().post('/organizations').set(w.admin.auth).send(c.body) })));
    });

    it('well-formed references to what does not exist are 422, and write nothing', async () => {
      const nobody = '00000000-0000-4000-8000-000000000000';
      await expectAllRefused([
        { label: 'department in an unknown district', status: 422, code: 'UNKNOWN_DISTRICT', send: () => t.http().post('/departments').set(w.admin.auth).send({ name: 'x部门', districtCode: '119999' }) },
        { label: 'organisation in an unknown district', status: 422, code: 'UNKNOWN_DISTRICT', send: () => t.http().post('/organizations').set(w.admin.auth).send({ name: 'x队', districtCodes: [HAIDIAN, '119999'] }) },
        { label: 'resident of an unknown community', status: 422, code: 'UNKNOWN_COMMUNITY', send: () => t.http().post('/users').set(w.admin.auth).send({ ...userBase(), communityCode: '110108999999' }) },
        { label: 'staff of an unknown department', status: 422, code: 'UNKNOWN_DEPARTMENT', send: () => t.http().post('/users').set(w.admin.auth).send({ ...userBase(), role: 'department_staff', communityCode: undefined, departmentId: nobody }) },
        { label: 'admin of an unknown organisation', status: 422, code: 'UNKNOWN_ORGANIZATION', send: () => t.http().post('/users').set(w.admin.auth).send({ ...userBase(), role: 'org_admin', communityCode: undefined, organizationId: nobody }) },
        { label: 'dispatch to an unknown department', status: 422, code: 'UNKNOWN_DEPARTMENT', send: () => t.http().post(`/orders/${fixtures.submitted.id}/dispatch`).set(w.staffA1.auth).send({ departmentId: nobody }) },
        { label: 'offer to an unknown organisation', status: 422, code: 'UNKNOWN_ORGANIZATION', send: () => t.http().post(`/orders/${fixtures.claimed.id}/offer`).set(w.deptHaidian.auth).send({ organizationId: nobody }) },
        { label: 'merge into an unknown order', status: 422, code: 'INVALID_MERGE_TARGET', send: () => t.http().post(`/orders/${fixtures.submitted.id}/merge`).set(w.staffA1.auth).send({ primaryOrderId: nobody }) },
      ]);
    });

    const loginFields: Record<string, Variant[]> = {
      username: [['missing', MISSING], ...NOT_A_STRING, ['empty', ''], ['101 characters', 'a'.repeat(101)], ['10,000 characters', LONG]],
      password: [['missing', MISSING], ...NOT_A_STRING, ['empty', ''], ['201 characters', 'a'.repeat(201)], ['10,000 characters', LONG]],
      rememberMe: [['an unknown field', true]],
    };
    it.each(Object.keys(loginFields))('POST /auth/login: each invalid form of %s → 400 naming it', async (field) => {
      const cases = casesFor({ username: ADMIN.username, password: ADMIN.password }, { [field]: loginFields[field] ?? [] });
      await expectAllRefused(cases.map((c) => ({ label: c.label, field: c.field, send: () => t.http().post('/auth/login').send(c.body) })));
    });
  });

  describe('transitions', () => {
    type Fixture = keyof typeof fixtures;
    interface Door {
      action: string;
      who: () => Session;
      order: Fixture;
      base: () => Record<string, unknown>;
      fields: Record<string, Variant[]>;
    }
    const REASON: Variant[] = [...REQUIRED_TEXT, ['1,001 characters', 'x'.repeat(1001)]];
    const DOORS: Door[] = [
      {
        action: 'dispatch',
        who: () => w.staffA1,
        order: 'submitted',
        base: () => ({ departmentId: w.departments.haidian }),
        fields: { departmentId: NOT_A_UUID, note: [...OPTIONAL_NOT_A_STRING, ['1,001 characters', 'x'.repeat(1001)], ['10,000 characters', LONG]] },
      },
      { action: 'reject', who: () => w.staffA1, order: 'submitted', base: () => ({ reason: '不属于科普服务' }), fields: { reason: REASON } },
      { action: 'merge', who: () => w.staffA1, order: 'submitted', base: () => ({ primaryOrderId: fixtures.dispatched.id }), fields: { primaryOrderId: NOT_A_UUID } },
      { action: 'cancel', who: () => w.residentA1, order: 'submitted', base: () => ({ reason: '活动取消' }), fields: { reason: REASON } },
      { action: 'claim', who: () => w.deptHaidian, order: 'dispatched', base: () => ({}), fields: { departmentId: [['an unknown field', '00000000-0000-4000-8000-000000000000']] } },
      { action: 'decline', who: () => w.deptHaidian, order: 'dispatched', base: () => ({ reason: '本月排期已满' }), fields: { reason: REASON } },
      { action: 'offer', who: () => w.deptHaidian, order: 'claimed', base: () => ({ organizationId: w.organizations.haidian2 }), fields: { organizationId: NOT_A_UUID } },
      { action: 'open', who: () => w.deptHaidian, order: 'claimed', base: () => ({}), fields: { districtCodes: [['an unknown field', [HAIDIAN]]] } },
      { action: 'accept', who: () => w.orgHaidian, order: 'claimed', base: () => ({}), fields: { status: [['an unknown field', 'accepted']] } },
      { action: 'release', who: () => w.orgHaidian, order: 'accepted', base: () => ({ reason: '志愿者不足' }), fields: { reason: REASON } },
    ];

    it.each(DOORS.map((d) => [d.action, d] as const))('POST /orders/:id/%s: each invalid field, expectedVersion included → 400 naming it', async (_action, door) => {
      const cases = casesFor(door.base(), { ...door.fields, expectedVersion: EXPECTED_VERSION });
      await expectAllRefused(
        cases.map((c) => ({
          label: c.label,
          field: c.field,
          send: () => t.http().post(`/orders/${fixtures[door.order].id}/${door.action}`).set(door.who().auth).send(c.body),
        })),
      );
    });

    it('a path id that is not a UUID → 400 naming id, on every order route', async () => {
      const ids = ['abc', '1', '00000000-0000-0000-0000-00000000000g', `${fixtures.submitted.id}x`, encodeURIComponent("1' OR '1'='1")];
      const routes = ['dispatch', 'reject', 'merge', 'claim', 'decline', 'offer', 'open', 'accept', 'release', 'cancel'];
      await expectAllRefused(
        ids.flatMap((id) => [
          { label: `GET /orders/${id}`, field: 'id', send: () => t.http().get(`/orders/${id}`).set(w.admin.auth) },
          { label: `GET /orders/${id}/events`, field: 'id', send: () => t.http().get(`/orders/${id}/events`).set(w.admin.auth) },
          ...routes.map((route) => ({
            label: `POST /orders/${id}/${route}`,
            field: 'id',
            send: () => t.http().post(`/orders/${id}/${route}`).set(w.staffA1.auth).send({ reason: 'x', departmentId: w.departments.haidian }),
          })),
        ]),
      );
    });
  });

  describe('whole bodies', () => {
    const doors = (): { label: string; path: string; who: Session | null }[] => [
      { label: 'POST /orders', path: '/orders', who: w.residentA1 },
      { label: 'POST /users', path: '/users', who: w.admin },
      { label: 'POST /departments', path: '/departments', who: w.admin },
      { label: 'POST /organizations', path: '/organizations', who: w.admin },
      { label: 'POST /auth/login', path: '/auth/login', who: null },
      { label: 'dispatch', path: `/orders/${fixtures.submitted.id}/dispatch`, who: w.staffA1 },
      { label: 'reject', path: `/orders/${fixtures.submitted.id}/reject`, who: w.staffA1 },
      { label: 'merge', path: `/orders/${fixtures.submitted.id}/merge`, who: w.staffA1 },
      { label: 'cancel', path: `/orders/${fixtures.submitted.id}/cancel`, who: w.residentA1 },
      { label: 'claim', path: `/orders/${fixtures.dispatched.id}/claim`, who: w.deptHaidian },
      { label: 'decline', path: `/orders/${fixtures.dispatched.id}/decline`, who: w.deptHaidian },
      { label: 'offer', path: `/orders/${fixtures.claimed.id}/offer`, who: w.deptHaidian },
      { label: 'open', path: `/orders/${fixtures.claimed.id}/open`, who: w.deptHaidian },
      { label: 'accept', path: `/orders/${fixtures.claimed.id}/accept`, who: w.orgHaidian },
      { label: 'release', path: `/orders/${fixtures.accepted.id}/release`, who: w.orgHaidian },
    ];
    const RAW: [label: string, raw: string][] = [
      ['malformed JSON', '{"reason": "x",'],
      ['an empty body', ''],
      ['a JSON array', '[{"reason": "x"}]'],
      ['an empty JSON array', '[]'],
      ['a JSON string', '"dispatch it please"'],
      ['a JSON number', '42'],
      ['a __proto__ key', '{"__proto__": {"isAdmin": true}, "reason": "x"}'],
    ];
    const raw = (door: { path: string; who: Session | null }, body: string, contentType = 'application/json') => {
      const req = t.http().post(door.path).set('Content-Type', contentType);
      if (door.who) void req.set(door.who.auth);
      return req.send(body);
    };

    it.each(RAW)('%s → 400 on every door that takes a body', async (_label, body) => {
      await expectAllRefused(doors().map((door) => ({ label: door.label, send: () => raw(door, body) })));
    });

    it('JSON null → 400 on every door that needs fields (claim, open and accept take it as no body)', async () => {
      const needsFields = doors().filter((door) => !['claim', 'open', 'accept'].includes(door.label));
      await expectAllRefused(needsFields.map((door) => ({ label: door.label, send: () => raw(door, 'null') })));
    });

    it('a body over 256 KiB → 413 on every door', async () => {
      const huge = JSON.stringify({ ...orderBody(COMMUNITY_A1), description: 'x'.repeat(300 * 1024) });
      await expectAllRefused(doors().map((door) => ({ label: door.label, status: 413, code: 'PAYLOAD_TOO_LARGE', send: () => raw(door, huge) })));
    });

    it('a plain-text body → 400, an XML body → 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      await expectAllRefused([
        ...doors().map((door) => ({ label: `${door.label} text/plain`, send: () => raw(door, 'reason=x', 'text/plain') })),
        ...doors().map((door) => ({
          label: `${door.label} XML`,
          status: 415,
          code: 'UNSUPPORTED_MEDIA_TYPE',
          send: () => raw(door, '<reason>x</reason>', 'application/xml'),
        })),
      ]);
    });

    it('list queries out of range or unknown → 400 naming the parameter', async () => {
      const QUERIES: [Record<string, string>, string][] = [
        [{ limit: '0' }, 'limit'],
        [{ limit: '101' }, 'limit'],
        [{ limit: 'ten' }, 'limit'],
        [{ limit: '1.5' }, 'limit'],
        [{ status: 'lost' }, 'status'],
        [{ districtCode: 'haidian' }, 'districtCode'],
        [{ subdistrictCode: '1101' }, 'subdistrictCode'],
        [{ communityCode: '1' }, 'communityCode'],
        [{ topic: 'cooking' }, 'topic'],
        [{ audience: 'aliens' }, 'audience'],
        [{ from: 'yesterday' }, 'from'],
        [{ to: '2027-13-01' }, 'to'],
        [{ cursor: 'not-a-cursor' }, 'cursor'],
        [{ cursor: LONG }, 'cursor'],
        [{ sort: 'title' }, 'sort'],
      ];
      await expectAllRefused(
        QUERIES.map(([query, field]) => ({ label: JSON.stringify(query).slice(0, 60), field, send: () => t.http().get('/orders').query(query).set(w.coordHaidian.auth) })),
      );
    });
  });

  describe('authentication', () => {
    const claimsOf = (who: Session) => ({ sub: who.id, role: who.role, cc: COMMUNITY_A1, dep: null, org: null, dis: null, vol: null });
    const unsigned = (claims: object) =>
      `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;

    it('no token, a garbage token, another secret, an expired token, an unsigned token, forged claims → 401 UNAUTHENTICATED, and nothing written', async () => {
      const headers: [label: string, value: string | null][] = [
        ['no Authorization header', null],
        ['an empty Bearer', 'Bearer '],
        ['a garbage token', 'Bearer not.a.token'],
        ['a random string', `Bearer ${'z'.repeat(500)}`],
        ['Basic credentials', `Basic ${Buffer.from('admin:admin-pass-1').toString('base64')}`],
        ['the token without a scheme', w.residentA1.token],
        ['a token signed by another secret', `Bearer ${sign(claimsOf(w.residentA1), 'another-secret-0123456789abcdef', { expiresIn: 600 })}`],
        ['an expired token', `Bearer ${sign({ ...claimsOf(w.residentA1), exp: Math.floor(Date.now() / 1000) - 60 }, TEST_JWT_SECRET)}`],
        ['a token valid only in the future', `Bearer ${sign({ ...claimsOf(w.residentA1), nbf: Math.floor(Date.now() / 1000) + 3600 }, TEST_JWT_SECRET)}`],
        ['an unsigned token (alg none)', `Bearer ${unsigned(claimsOf(w.residentA1))}`],
        ['a signed token with an unknown role', `Bearer ${sign({ ...claimsOf(w.residentA1), role: 'superuser' }, TEST_JWT_SECRET, { expiresIn: 600 })}`],
        ['a signed token without a subject', `Bearer ${sign({ role: 'city_admin' }, TEST_JWT_SECRET, { expiresIn: 600 })}`],
        ['a token whose signature was altered', `Bearer ${w.residentA1.token.slice(0, -4)}AAAA`],
      ];
      const doors: [label: string, request: () => Test][] = [
        ['GET /orders', () => t.http().get('/orders')],
        ['GET /me', () => t.http().get('/me')],
        ['GET /orders/:id', () => t.http().get(`/orders/${fixtures.submitted.id}`)],
      ];
      const withHeader = (req: Test, value: string | null): Test => (value === null ? req : req.set('Authorization', value));
      await expectAllRefused([
        ...headers.flatMap(([label, value]) =>
          doors.map(([door, request]) => ({ label: `${door} with ${label}`, status: 401, code: 'UNAUTHENTICATED', send: () => withHeader(request(), value) })),
        ),
        ...headers.map(([label, value]) => ({
          label: `POST /orders with ${label}`,
          status: 401,
          code: 'UNAUTHENTICATED',
          send: () => withHeader(t.http().post('/orders'), value).send(orderBody(COMMUNITY_A1)),
        })),
        ...headers.map(([label, value]) => ({
          label: `POST claim with ${label}`,
          status: 401,
          code: 'UNAUTHENTICATED',
          send: () => withHeader(t.http().post(`/orders/${fixtures.dispatched.id}/claim`), value).send({}),
        })),
      ]);
      // the same resident's real token still works
      await t.http().get(`/orders/${fixtures.submitted.id}`).set(w.residentA1.auth).expect(200);
    });

    it('a wrong password and an unknown username are the same 401, telling nothing about which', async () => {
      const [wrongPassword, unknownUser] = await Promise.all([
        t.http().post('/auth/login').send({ username: ADMIN.username, password: 'wrong-pass-1' }),
        t.http().post('/auth/login').send({ username: 'nobody-here', password: 'wrong-pass-1' }),
      ]);
      for (const res of [wrongPassword, unknownUser] as Response[]) {
        expect(problemMismatches(res, 401, 'UNAUTHENTICATED')).toEqual([]);
        expect(res.body.accessToken).toBeUndefined();
      }
      expect(wrongPassword.body.detail).toBe(unknownUser.body.detail);
    });
  });
});

describe('login rate limit', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp('login-limit', { LOGIN_RATE_LIMIT_PER_MINUTE: '5' });
  });
  afterAll(() => t.close());

  it('after 5 attempts for one username the 6th is 429 RATE_LIMITED with Retry-After, even with the right password; another username is unaffected', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await t.http().post('/auth/login').send({ username: ADMIN.username, password: `wrong-pass-${i}` });
      expect(problemMismatches(res, 401, 'UNAUTHENTICATED')).toEqual([]);
    }
    const limited = await t.http().post('/auth/login').send({ username: ADMIN.username, password: ADMIN.password });
    expect(problemMismatches(limited, 429, 'RATE_LIMITED')).toEqual([]);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body.accessToken).toBeUndefined();

    const other = await t.http().post('/auth/login').send({ username: 'someone-else', password: 'wrong-pass-1' });
    expect(problemMismatches(other, 401, 'UNAUTHENTICATED')).toEqual([]);
  });

  it('parallel attempts cannot slip past the limit', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => t.http().post('/auth/login').send({ username: 'burst-user', password: 'wrong-pass-1' })));
    const statuses = answers.map((res) => res.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
    for (const res of answers.filter((r) => r.status === 429)) expect(res.headers['retry-after']).toBeDefined();
  });
});
