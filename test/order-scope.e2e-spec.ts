import type { Response } from 'supertest';
import { problemMismatches } from './support/problem';
import { count, startTestApp, type TestApp } from './support/test-app';
import {
  CHAOYANG,
  COMMUNITY_A1,
  COMMUNITY_A2,
  COMMUNITY_B1,
  createWorld,
  HAIDIAN,
  login,
  orderBody,
  orderIn,
  type OrderJson,
  type Session,
  type World,
} from './support/world';

/**
 * DESIGN.md §2 as a matrix: who may see which order, and what happens when
 * someone outside the scope (404) or inside it with the wrong role (403) acts.
 */

type SessionName = Exclude<keyof World, 'departments' | 'organizations'>;
const ORDERS = ['submittedA1', 'dispatchedA1', 'offeredA1', 'acceptedA1', 'cityA1b', 'openA2', 'openB1'] as const;
type OrderName = (typeof ORDERS)[number];

// submittedA1  residentA1's, still with the community
// dispatchedA1 residentA1's, dispatched to 海淀区科协 (departments.haidian)
// offeredA1    residentA1's, claimed by 海淀区科协, offered to organizations.haidian
// acceptedA1   residentA1's, accepted by organizations.haidian
// cityA1b      residentA1b's (same community), dispatched to the city-wide department
// openA2       residentA2's (海淀, another subdistrict), claimed by 海淀区科协, open to 海淀's organisations
// openB1       residentB1's (朝阳), claimed by 朝阳区科协, open to 朝阳's organisations (organizations.haidian2 serves both)
const VISIBILITY: Record<SessionName, string> = {
  //              sA1 dA1 oA1 aA1 cA1 oA2 oB1
  admin:         ' x   x   x   x   x   x   x ',
  residentA1:    ' x   x   x   x   .   .   . ',
  residentA1b:   ' .   .   .   .   x   .   . ',
  residentA2:    ' .   .   .   .   .   x   . ',
  residentB1:    ' .   .   .   .   .   .   x ',
  staffA1:       ' x   x   x   x   x   .   . ',
  staffA2:       ' .   .   .   .   .   x   . ',
  staffB1:       ' .   .   .   .   .   .   x ',
  deptHaidian:   ' .   x   x   x   .   x   . ',
  deptHaidianB:  ' .   x   x   x   .   x   . ',
  deptHaidian2:  ' .   .   .   .   .   .   . ',
  deptChaoyang:  ' .   .   .   .   .   .   x ',
  deptCity:      ' .   .   .   .   x   .   . ',
  orgHaidian:    ' .   .   x   x   .   x   . ',
  orgHaidian2:   ' .   .   .   .   .   x   x ',
  orgChaoyang:   ' .   .   .   .   .   .   x ',
  coordHaidian:  ' x   x   x   x   x   x   . ',
  coordChaoyang: ' .   .   .   .   .   .   x ',
};
const SESSIONS = Object.keys(VISIBILITY) as SessionName[];
const cells = (row: string): string[] => row.trim().split(/\s+/);
const sees = (who: SessionName, order: OrderName): boolean => cells(VISIBILITY[who])[ORDERS.indexOf(order)] === 'x';

describe('order scope: who sees and touches which order (DESIGN.md §2)', () => {
  let t: TestApp;
  let w: World;
  const orders = {} as Record<OrderName, OrderJson>;
  const session = (name: SessionName): Session => w[name];

  const create = async (who: Session, communityCode: string): Promise<OrderJson> =>
    (await t.http().post('/orders').set(who.auth).send(orderBody(communityCode)).expect(201)).body as OrderJson;
  const act = async (who: Session, order: OrderJson, action: string, body: object = {}): Promise<OrderJson> =>
    (await t.http().post(`/orders/${order.id}/${action}`).set(who.auth).send(body).expect(200)).body as OrderJson;

  beforeAll(async () => {
    t = await startTestApp('scope');
    w = await createWorld(t);
    orders.submittedA1 = await create(w.residentA1, COMMUNITY_A1);
    orders.dispatchedA1 = await act(w.staffA1, await create(w.residentA1, COMMUNITY_A1), 'dispatch', { departmentId: w.departments.haidian });
    orders.offeredA1 = await orderIn(t, w, 'claimed');
    orders.acceptedA1 = await orderIn(t, w, 'accepted');
    orders.cityA1b = await act(w.staffA1, await create(w.residentA1b, COMMUNITY_A1), 'dispatch', { departmentId: w.departments.city });
    const a2 = await act(w.staffA2, await create(w.residentA2, COMMUNITY_A2), 'dispatch', { departmentId: w.departments.haidian });
    orders.openA2 = await act(w.deptHaidian, await act(w.deptHaidian, a2, 'claim'), 'open');
    const b1 = await act(w.staffB1, await create(w.residentB1, COMMUNITY_B1), 'dispatch', { departmentId: w.departments.chaoyang });
    orders.openB1 = await act(w.deptChaoyang, await act(w.deptChaoyang, b1, 'claim'), 'open');
  });
  afterAll(() => t.close());

  /** Every order's version and event count, and the outbox size: what a refused request must leave alone. */
  const snapshot = async (): Promise<unknown> => ({
    orders: (
      await t.db.query<{ id: string; status: string; version: number; events: string }>(
        `SELECT o.id, o.status, o.version, (SELECT count(*) FROM order_events e WHERE e.order_id = o.id) AS events FROM orders o ORDER BY o.id`,
      )
    ).rows,
    outbox: await count(t.db, 'outbox'),
  });

  /** 'x' for 200 with the order, '.' for a proper 404 NOT_FOUND problem, anything else spelled out. */
  const cell = (res: Response, id: string, isList = false): string => {
    if (res.status === 200) return (isList ? Array.isArray(res.body) : (res.body as OrderJson).id === id) ? 'x' : `200?`;
    return problemMismatches(res, 404, 'NOT_FOUND').length === 0 ? '.' : `${res.status}:${(res.body as { code?: string }).code}`;
  };
  const matrixOf = async (path: (id: string) => string, isList: boolean): Promise<Record<string, string>> => {
    const rows = await Promise.all(
      SESSIONS.map(async (name) => {
        const answers = await Promise.all(ORDERS.map((o) => t.http().get(path(orders[o].id)).set(session(name).auth)));
        return [name, ` ${answers.map((res, i) => cell(res, orders[ORDERS[i] as OrderName].id, isList)).join('   ')} `] as const;
      }),
    );
    return Object.fromEntries(rows);
  };

  describe('reading', () => {
    it('GET /orders/:id answers 200 exactly inside the scope and 404 NOT_FOUND (never 403) outside it', async () => {
      expect(await matrixOf((id) => `/orders/${id}`, false)).toEqual(VISIBILITY);
    });

    it('GET /orders/:id/events follows the same matrix', async () => {
      expect(await matrixOf((id) => `/orders/${id}/events`, true)).toEqual(VISIBILITY);
    });

    it('the event log of a visible order is the order\'s own history', async () => {
      const res = await t.http().get(`/orders/${orders.openB1.id}/events`).set(w.orgHaidian2.auth).expect(200);
      expect((res.body as { type: string }[]).map((e) => e.type)).toEqual(['order.submitted', 'order.dispatched', 'order.claimed', 'order.opened']);
    });

    it('GET /orders lists exactly the orders in scope, across pages of two, without repeats', async () => {
      const listAll = async (who: Session): Promise<string[]> => {
        const ids: string[] = [];
        let cursor: string | null = null;
        do {
          const query: Record<string, string | number> = cursor === null ? { limit: 2 } : { limit: 2, cursor };
          const page = (await t.http().get('/orders').query(query).set(who.auth).expect(200)).body as { items: OrderJson[]; nextCursor: string | null };
          expect(page.items.length).toBeLessThanOrEqual(2);
          ids.push(...page.items.map((o) => o.id));
          cursor = page.nextCursor;
        } while (cursor !== null);
        return ids;
      };
      const listed = Object.fromEntries(await Promise.all(SESSIONS.map(async (name) => [name, await listAll(session(name))] as const)));
      const asRow = (ids: string[]): string => ` ${ORDERS.map((o) => (ids.includes(orders[o].id) ? 'x' : '.')).join('   ')} `;
      expect(Object.fromEntries(SESSIONS.map((name) => [name, asRow(listed[name] ?? [])]))).toEqual(VISIBILITY);
      const known = new Set(ORDERS.map((o) => orders[o].id));
      for (const name of SESSIONS) {
        const ids = listed[name] ?? [];
        expect({ name, repeats: ids.length - new Set(ids).size, unknown: ids.filter((id) => !known.has(id)) }).toEqual({ name, repeats: 0, unknown: [] });
      }
    });

    const FILTERED: [SessionName, Record<string, string>, OrderName[]][] = [
      ['residentA1', { districtCode: CHAOYANG }, []],
      ['residentA1b', { communityCode: COMMUNITY_A1 }, ['cityA1b']],
      ['staffA1', { communityCode: COMMUNITY_A2 }, []],
      ['staffA1', { subdistrictCode: '110105001' }, []],
      ['staffB1', { districtCode: HAIDIAN }, []],
      ['deptHaidian', { districtCode: CHAOYANG }, []],
      ['deptHaidian2', { status: 'dispatched' }, []],
      ['deptCity', { districtCode: HAIDIAN }, ['cityA1b']],
      ['orgHaidian', { districtCode: CHAOYANG }, []],
      ['orgHaidian', { status: 'submitted' }, []],
      ['orgHaidian2', { districtCode: CHAOYANG }, ['openB1']],
      ['orgHaidian2', { districtCode: HAIDIAN }, ['openA2']],
      ['coordHaidian', { districtCode: CHAOYANG }, []],
      ['coordHaidian', { communityCode: COMMUNITY_B1 }, []],
      ['coordHaidian', { status: 'claimed' }, ['offeredA1', 'openA2']],
      ['coordChaoyang', { districtCode: HAIDIAN }, []],
      ['admin', { districtCode: CHAOYANG }, ['openB1']],
      ['admin', { communityCode: COMMUNITY_A1, status: 'dispatched' }, ['dispatchedA1', 'cityA1b']],
    ];
    it.each(FILTERED)('%s with %j lists %j: a filter never widens the scope', async (who, query, expected) => {
      const page = (await t.http().get('/orders').query({ ...query, limit: 100 }).set(session(who).auth).expect(200)).body as { items: OrderJson[] };
      const names = ORDERS.filter((o) => page.items.some((item) => item.id === orders[o].id));
      expect({ names, total: page.items.length }).toEqual({ names: [...expected], total: expected.length });
    });
  });

  describe('contact phone', () => {
    const MASKED = '138****1234';
    const FULL = '13812341234';
    const PHONE: [SessionName, OrderName, string][] = [
      ['residentA1', 'acceptedA1', FULL],
      ['staffA1', 'acceptedA1', FULL],
      ['orgHaidian', 'acceptedA1', FULL],
      ['coordHaidian', 'acceptedA1', MASKED],
      ['deptHaidian', 'acceptedA1', MASKED],
      ['admin', 'acceptedA1', MASKED],
      ['orgHaidian', 'offeredA1', MASKED],
      ['staffA1', 'offeredA1', FULL],
      ['orgHaidian', 'openA2', MASKED],
      ['orgHaidian2', 'openA2', MASKED],
      ['residentA2', 'openA2', FULL],
      ['staffA2', 'openA2', FULL],
      ['deptCity', 'cityA1b', MASKED],
      ['residentA1b', 'cityA1b', FULL],
      ['staffA1', 'cityA1b', FULL],
      ['coordChaoyang', 'openB1', MASKED],
      ['deptChaoyang', 'openB1', MASKED],
      ['orgChaoyang', 'openB1', MASKED],
    ];
    it.each(PHONE)('%s reading %s sees %s', async (who, order, phone) => {
      const res = await t.http().get(`/orders/${orders[order].id}`).set(session(who).auth).expect(200);
      expect(res.body.contactPhone).toBe(phone);
    });

    it('lists mask exactly as the single read does, for every role', async () => {
      const differences: string[] = [];
      await Promise.all(
        SESSIONS.map(async (name) => {
          const page = (await t.http().get('/orders').query({ limit: 100 }).set(session(name).auth).expect(200)).body as { items: OrderJson[] };
          for (const item of page.items) {
            const single = (await t.http().get(`/orders/${item.id}`).set(session(name).auth).expect(200)).body as OrderJson;
            if (single.contactPhone !== item.contactPhone) differences.push(`${name} ${item.id}: list ${String(item.contactPhone)}, read ${String(single.contactPhone)}`);
            if (item.contactPhone !== MASKED && item.contactPhone !== FULL) differences.push(`${name} ${item.id}: ${String(item.contactPhone)}`);
          }
        }),
      );
      expect(differences).toEqual([]);
    });
  });

  describe('acting', () => {
    type Act = { action: string; order: OrderName; body: () => object };
    const REASON = { reason: '测试' };
    const ACTS: Act[] = [
      { action: 'dispatch', order: 'submittedA1', body: () => ({ departmentId: w.departments.haidian }) },
      { action: 'reject', order: 'submittedA1', body: () => REASON },
      { action: 'merge', order: 'submittedA1', body: () => ({ primaryOrderId: orders.dispatchedA1.id }) },
      { action: 'cancel', order: 'submittedA1', body: () => REASON },
      { action: 'claim', order: 'dispatchedA1', body: () => ({}) },
      { action: 'decline', order: 'dispatchedA1', body: () => REASON },
      { action: 'cancel', order: 'dispatchedA1', body: () => REASON },
      { action: 'offer', order: 'offeredA1', body: () => ({ organizationId: w.organizations.haidian2 }) },
      { action: 'open', order: 'offeredA1', body: () => ({}) },
      { action: 'accept', order: 'offeredA1', body: () => ({}) },
      { action: 'release', order: 'acceptedA1', body: () => REASON },
      { action: 'cancel', order: 'acceptedA1', body: () => REASON },
      { action: 'accept', order: 'openB1', body: () => ({}) },
      { action: 'accept', order: 'openA2', body: () => ({}) },
      { action: 'cancel', order: 'openB1', body: () => REASON },
      { action: 'reassign', order: 'submittedA1', body: () => ({ departmentId: w.departments.haidian2, reason: '改派' }) },
      { action: 'reassign', order: 'dispatchedA1', body: () => ({ departmentId: w.departments.haidian2, reason: '改派' }) },
      { action: 'reassign', order: 'offeredA1', body: () => ({ departmentId: w.departments.haidian2, reason: '改派' }) },
      { action: 'reassign', order: 'openB1', body: () => ({ departmentId: w.departments.city, reason: '改派' }) },
    ];

    it.each(ACTS.map((a) => [a.action, a.order, a]))(
      'POST /orders/:id/%s on %s by everyone who cannot see it → 404 NOT_FOUND, and nothing changes',
      async (_action, _order, { action, order, body }) => {
        const outsiders = SESSIONS.filter((name) => !sees(name, order));
        expect(outsiders.length).toBeGreaterThan(0);
        const before = await snapshot();
        const answers = await Promise.all(outsiders.map((name) => t.http().post(`/orders/${orders[order].id}/${action}`).set(session(name).auth).send(body())));
        const wrong = answers.flatMap((res, i) => problemMismatches(res, 404, 'NOT_FOUND').map((m) => `${String(outsiders[i])}: ${m}`));
        expect(wrong).toEqual([]);
        expect(await snapshot()).toEqual(before);
      },
    );

    // Visible to the caller, but its role has no part in this step.
    const FORBIDDEN: [SessionName, string, OrderName, () => object][] = [
      ['residentA1', 'dispatch', 'submittedA1', () => ({ departmentId: w.departments.haidian })],
      ['residentA1', 'reject', 'submittedA1', () => REASON],
      ['residentA1', 'merge', 'submittedA1', () => ({ primaryOrderId: orders.dispatchedA1.id })],
      ['residentA1', 'claim', 'dispatchedA1', () => ({})],
      ['residentA1', 'accept', 'offeredA1', () => ({})],
      ['residentA1', 'release', 'acceptedA1', () => REASON],
      ['staffA1', 'claim', 'dispatchedA1', () => ({})],
      ['staffA1', 'decline', 'dispatchedA1', () => REASON],
      ['staffA1', 'offer', 'offeredA1', () => ({ organizationId: w.organizations.haidian2 })],
      ['staffA1', 'open', 'offeredA1', () => ({})],
      ['staffA1', 'accept', 'offeredA1', () => ({})],
      ['staffA1', 'release', 'acceptedA1', () => REASON],
      ['deptHaidian', 'dispatch', 'dispatchedA1', () => ({ departmentId: w.departments.haidian })],
      ['deptHaidian', 'cancel', 'dispatchedA1', () => REASON],
      ['deptHaidian', 'accept', 'offeredA1', () => ({})],
      ['deptHaidian', 'release', 'acceptedA1', () => REASON],
      ['orgHaidian', 'dispatch', 'offeredA1', () => ({ departmentId: w.departments.haidian })],
      ['orgHaidian', 'claim', 'offeredA1', () => ({})],
      ['orgHaidian', 'offer', 'offeredA1', () => ({ organizationId: w.organizations.haidian })],
      ['orgHaidian', 'open', 'offeredA1', () => ({})],
      ['orgHaidian', 'cancel', 'acceptedA1', () => REASON],
      ['orgHaidian2', 'release', 'openA2', () => REASON],
      ['coordHaidian', 'dispatch', 'submittedA1', () => ({ departmentId: w.departments.haidian })],
      ['coordHaidian', 'reject', 'submittedA1', () => REASON],
      ['coordHaidian', 'claim', 'dispatchedA1', () => ({})],
      ['coordHaidian', 'offer', 'offeredA1', () => ({ organizationId: w.organizations.haidian2 })],
      ['coordHaidian', 'accept', 'offeredA1', () => ({})],
      ['coordHaidian', 'cancel', 'acceptedA1', () => REASON],
      ['residentA1', 'reassign', 'submittedA1', () => ({ departmentId: w.departments.haidian2, reason: '改派' })],
      ['staffA1', 'reassign', 'dispatchedA1', () => ({ departmentId: w.departments.haidian2, reason: '改派' })],
      ['deptHaidian', 'reassign', 'dispatchedA1', () => ({ departmentId: w.departments.haidian2, reason: '改派' })],
      ['orgHaidian', 'reassign', 'offeredA1', () => ({ departmentId: w.departments.haidian2, reason: '改派' })],
      ['orgHaidian2', 'reassign', 'openB1', () => ({ departmentId: w.departments.city, reason: '改派' })],
    ];
    it('a visible order acted on by a role that has no part in the step → 403 FORBIDDEN, and nothing changes', async () => {
      for (const [who, , order] of FORBIDDEN) expect({ who, order, sees: sees(who, order) }).toEqual({ who, order, sees: true });
      const before = await snapshot();
      const answers = await Promise.all(
        FORBIDDEN.map(([who, action, order, body]) => t.http().post(`/orders/${orders[order].id}/${action}`).set(session(who).auth).send(body())),
      );
      const wrong = answers.flatMap((res, i) => {
        const [who, action, order] = FORBIDDEN[i] ?? [];
        return problemMismatches(res, 403, 'FORBIDDEN').map((m) => `${String(who)} ${String(action)} ${String(order)}: ${m}`);
      });
      expect(wrong).toEqual([]);
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('accounts', () => {
    type Row = [label: string, who: SessionName, path: string, body: () => Record<string, unknown>, status: 201 | 403];
    const user = (username: string, role: string, scope: () => Record<string, string>) => () => ({
      username,
      password: `${username}-pass-1`,
      displayName: username,
      role,
      ...scope(),
    });
    const ACCOUNTS: Row[] = [
      ['coordinator: resident of another district', 'coordHaidian', '/users', user('c-res-b1', 'resident', () => ({ communityCode: COMMUNITY_B1 })), 403],
      ['coordinator: resident of its district', 'coordHaidian', '/users', user('c-res-a2', 'resident', () => ({ communityCode: COMMUNITY_A2 })), 201],
      ['coordinator: staff of another district', 'coordHaidian', '/users', user('c-staff-b1', 'community_staff', () => ({ communityCode: COMMUNITY_B1 })), 403],
      ['coordinator: department staff of its district', 'coordHaidian', '/users', user('c-dep-hd', 'department_staff', () => ({ departmentId: w.departments.haidian })), 201],
      ['coordinator: department staff of another district', 'coordHaidian', '/users', user('c-dep-cy', 'department_staff', () => ({ departmentId: w.departments.chaoyang })), 403],
      ['coordinator: department staff of a city-wide department', 'coordHaidian', '/users', user('c-dep-city', 'department_staff', () => ({ departmentId: w.departments.city })), 403],
      ['coordinator: org admin of another district', 'coordHaidian', '/users', user('c-org-cy', 'org_admin', () => ({ organizationId: w.organizations.chaoyang })), 403],
      ['coordinator: org admin of an organisation serving its district and another', 'coordHaidian', '/users', user('c-org-hd2', 'org_admin', () => ({ organizationId: w.organizations.haidian2 })), 403],
      ['朝阳 coordinator: org admin of an organisation serving its district and another', 'coordChaoyang', '/users', user('cc-org-hd2', 'org_admin', () => ({ organizationId: w.organizations.haidian2 })), 403],
      ['coordinator: org admin of an organisation of its district', 'coordHaidian', '/users', user('c-org-hd', 'org_admin', () => ({ organizationId: w.organizations.haidian })), 201],
      ['coordinator: coordinator of its district', 'coordHaidian', '/users', user('c-coord-hd', 'district_coordinator', () => ({ districtCode: HAIDIAN })), 201],
      ['coordinator: coordinator of another district', 'coordHaidian', '/users', user('c-coord-cy', 'district_coordinator', () => ({ districtCode: CHAOYANG })), 403],
      ['coordinator: a city admin', 'coordHaidian', '/users', user('c-admin', 'city_admin', () => ({})), 403],
      ['朝阳 coordinator: resident of 海淀', 'coordChaoyang', '/users', user('cc-res-a1', 'resident', () => ({ communityCode: COMMUNITY_A1 })), 403],
      ['org admin creates a user', 'orgHaidian', '/users', user('o-res', 'resident', () => ({ communityCode: COMMUNITY_A1 })), 403],
      ['resident creates a user', 'residentA1', '/users', user('r-res', 'resident', () => ({ communityCode: COMMUNITY_A1 })), 403],
      ['department staff creates a user', 'deptHaidian', '/users', user('d-res', 'resident', () => ({ communityCode: COMMUNITY_A1 })), 403],
      ['community staff: resident of its own community (代注册)', 'staffA1', '/users', user('s-res', 'resident', () => ({ communityCode: COMMUNITY_A1 })), 201],
      ['community staff: resident of another community', 'staffA1', '/users', user('s-res-a2', 'resident', () => ({ communityCode: COMMUNITY_A2 })), 403],
      ['community staff: staff of its own community', 'staffA1', '/users', user('s-staff', 'community_staff', () => ({ communityCode: COMMUNITY_A1 })), 403],
      ['coordinator creates a department', 'coordHaidian', '/departments', () => ({ name: '海淀区教委', districtCode: HAIDIAN }), 403],
      ['org admin creates a department', 'orgHaidian', '/departments', () => ({ name: '海淀区教委', districtCode: HAIDIAN }), 403],
      ['community staff creates a department', 'staffA1', '/departments', () => ({ name: '海淀区教委', districtCode: HAIDIAN }), 403],
      ['coordinator: organisation of another district', 'coordHaidian', '/organizations', () => ({ name: '朝阳青年队', districtCodes: [CHAOYANG] }), 403],
      ['coordinator: organisation spanning another district', 'coordHaidian', '/organizations', () => ({ name: '跨区队', districtCodes: [HAIDIAN, CHAOYANG] }), 403],
      ['朝阳 coordinator: organisation of 海淀', 'coordChaoyang', '/organizations', () => ({ name: '海淀新队', districtCodes: [HAIDIAN] }), 403],
      ['coordinator: organisation of its district', 'coordHaidian', '/organizations', () => ({ name: '海淀银发科普队', districtCodes: [HAIDIAN] }), 201],
      ['org admin creates an organisation', 'orgHaidian', '/organizations', () => ({ name: '自建队', districtCodes: [HAIDIAN] }), 403],
      ['resident creates an organisation', 'residentA1', '/organizations', () => ({ name: '居民队', districtCodes: [HAIDIAN] }), 403],
    ];

    it('creating accounts, departments and organisations follows the roles, and refusals write nothing', async () => {
      const tables = ['users', 'departments', 'organizations', 'organization_districts'];
      const before = await Promise.all(tables.map((table) => count(t.db, table)));
      const answers = await Promise.all(ACCOUNTS.map(([, who, path, body]) => t.http().post(path).set(session(who).auth).send(body())));
      const got = answers.map((res, i) => {
        const [label, , , , status] = ACCOUNTS[i] as Row;
        return { label, status: res.status, code: status === 403 ? (res.body as { code?: string }).code : 'created' };
      });
      expect(got).toEqual(ACCOUNTS.map(([label, , , , status]) => ({ label, status, code: status === 403 ? 'FORBIDDEN' : 'created' })));
      const after = await Promise.all(tables.map((table) => count(t.db, table)));
      // five users (two residents, a department staff, an org admin and a coordinator) and one organisation serving one district
      expect(after).toEqual([(before[0] ?? 0) + 5, before[1], (before[2] ?? 0) + 1, (before[3] ?? 0) + 1]);
    });

    it('a resident created by the district coordinator can sign in and order for its community', async () => {
      const resident = await login(t, 'c-res-a2', 'c-res-a2-pass-1');
      expect((await t.http().get('/me').set(resident.auth).expect(200)).body).toMatchObject({ role: 'resident', communityCode: COMMUNITY_A2 });
      const order = (await t.http().post('/orders').set(resident.auth).send(orderBody(COMMUNITY_A2)).expect(201)).body as OrderJson;
      // ...and it is the coordinator's to read, not the other district's
      await t.http().get(`/orders/${order.id}`).set(w.coordHaidian.auth).expect(200);
      await t.http().get(`/orders/${order.id}`).set(w.coordChaoyang.auth).expect(404);
    });
  });

  describe('coordinators steering (API.md): escalations and series by role and scope', () => {
    // No worker here: the escalations of a breach are written as the SLA timer would.
    const escalations = {} as Record<'haidian' | 'chaoyang', string>;
    beforeAll(async () => {
      const open = async (order: OrderJson, districtCode: string, stage: string) =>
        (
          await t.db.query<{ id: string }>(
            `INSERT INTO escalations (order_id, district_code, stage, entered_seq, due_at, breached_at) VALUES ($1, $2, $3, $4, now() - interval '1 hour', now()) RETURNING id`,
            [order.id, districtCode, stage, order.version],
          )
        ).rows[0]?.id ?? '';
      escalations.haidian = await open(orders.submittedA1, HAIDIAN, 'dispatch');
      escalations.chaoyang = await open(orders.openB1, CHAOYANG, 'accept');
    });

    //                        who sees the 海淀 / 朝阳 escalation ('-': the role has no worklist, 403)
    const ESCALATIONS: Record<SessionName, string> = {
      admin: ' x x ',
      coordHaidian: ' x . ',
      coordChaoyang: ' . x ',
      residentA1: ' - - ',
      residentA1b: ' - - ',
      residentA2: ' - - ',
      residentB1: ' - - ',
      staffA1: ' - - ',
      staffA2: ' - - ',
      staffB1: ' - - ',
      deptHaidian: ' - - ',
      deptHaidianB: ' - - ',
      deptHaidian2: ' - - ',
      deptChaoyang: ' - - ',
      deptCity: ' - - ',
      orgHaidian: ' - - ',
      orgHaidian2: ' - - ',
      orgChaoyang: ' - - ',
    };

    it('GET /escalations lists exactly the escalations in scope; other roles 403 FORBIDDEN', async () => {
      const rows = await Promise.all(
        SESSIONS.map(async (name) => {
          const res = await t.http().get('/escalations').query({ limit: 100 }).set(session(name).auth);
          if (res.status !== 200) return [name, problemMismatches(res, 403, 'FORBIDDEN').length === 0 ? ' - - ' : `${res.status}`] as const;
          const ids = (res.body as { items: { id: string }[] }).items.map((e) => e.id);
          return [name, ` ${[escalations.haidian, escalations.chaoyang].map((id) => (ids.includes(id) ? 'x' : '.')).join(' ')} `] as const;
        }),
      );
      expect(Object.fromEntries(rows)).toEqual(ESCALATIONS);
    });

    it('POST /escalations/:id/acknowledge: 200 in scope, 404 NOT_FOUND outside it, 403 FORBIDDEN for other roles; refusals write nothing', async () => {
      const state = async () => (await t.db.query(`SELECT id, status, acknowledged_by, note FROM escalations ORDER BY id`)).rows;
      const refusals = SESSIONS.flatMap((name) =>
        (['haidian', 'chaoyang'] as const).flatMap((district, i) => {
          const cell = cells(ESCALATIONS[name])[i];
          return cell === 'x' ? [] : [{ name, id: escalations[district], status: cell === '.' ? 404 : 403, code: cell === '.' ? 'NOT_FOUND' : 'FORBIDDEN' }];
        }),
      );
      const before = await state();
      const answers = await Promise.all(refusals.map((r) => t.http().post(`/escalations/${r.id}/acknowledge`).set(session(r.name).auth).send({ note: '看看' })));
      expect(answers.flatMap((res, i) => problemMismatches(res, refusals[i]?.status ?? 0, refusals[i]?.code ?? '').map((m) => `${refusals[i]?.name}: ${m}`))).toEqual([]);
      expect(await state()).toEqual(before);
      for (const [name, district] of [['coordHaidian', 'haidian'], ['coordChaoyang', 'chaoyang'], ['admin', 'haidian']] as const) {
        const res = await t.http().post(`/escalations/${escalations[district]}/acknowledge`).set(session(name).auth).send({ note: `${name} 已督办` }).expect(200);
        expect(res.body).toMatchObject({ status: 'acknowledged', acknowledgedBy: session(name).id, note: `${name} 已督办` });
      }
    });

    it('POST /order-series: community staff for their own community only; every other role 403 FORBIDDEN, nothing written', async () => {
      const body = (communityCode: string) => ({ ...orderBody(communityCode), recurrence: { every: 'week', count: 2 } });
      const before = await count(t.db, 'orders');
      const refused: [SessionName, string][] = [
        ...SESSIONS.filter((name) => !name.startsWith('staff')).map((name) => [name, COMMUNITY_A1] as [SessionName, string]),
        ['staffA1', COMMUNITY_A2],
        ['staffB1', COMMUNITY_A1],
      ];
      const answers = await Promise.all(refused.map(([name, community]) => t.http().post('/order-series').set(session(name).auth).send(body(community))));
      expect(answers.flatMap((res, i) => problemMismatches(res, 403, 'FORBIDDEN').map((m) => `${refused[i]?.[0]}: ${m}`))).toEqual([]);
      expect(await count(t.db, 'orders')).toBe(before);
      const made = (await t.http().post('/order-series').set(w.staffB1.auth).send(body(COMMUNITY_B1)).expect(201)).body as { orders: OrderJson[] };
      expect(made.orders.map((o) => o.communityCode)).toEqual([COMMUNITY_B1, COMMUNITY_B1]);
      // the series' orders are scoped like any order
      await t.http().get(`/orders/${made.orders[0]?.id}`).set(w.staffA1.auth).expect(404);
      await t.http().get(`/orders/${made.orders[0]?.id}`).set(w.coordChaoyang.auth).expect(200);
    });
  });
});
