import type { Role } from '@kepu/core';
import { orderBody } from './order-body';
import { ADMIN, type TestApp } from './test-app';

export { orderBody };

/** Real Beijing codes: two communities in 海淀 (two subdistricts), one in 朝阳. */
export const HAIDIAN = '110108';
export const CHAOYANG = '110105';
export const COMMUNITY_A1 = '110108001001';
export const COMMUNITY_A2 = '110108002001';
export const COMMUNITY_B1 = '110105001024';

export interface Session {
  id: string;
  username: string;
  role: Role;
  token: string;
  auth: { Authorization: string };
}

/** One account of every role on both sides of every scope boundary. */
export interface World {
  admin: Session;
  departments: { haidian: string; haidian2: string; chaoyang: string; city: string };
  organizations: { haidian: string; haidian2: string; chaoyang: string };
  residentA1: Session;
  residentA1b: Session;
  residentA2: Session;
  residentB1: Session;
  staffA1: Session;
  staffA2: Session;
  staffB1: Session;
  deptHaidian: Session;
  deptHaidianB: Session;
  deptHaidian2: Session;
  deptChaoyang: Session;
  deptCity: Session;
  orgHaidian: Session;
  orgHaidian2: Session;
  orgChaoyang: Session;
  coordHaidian: Session;
  coordChaoyang: Session;
}

export async function login(t: TestApp, username: string, password: string): Promise<Session> {
  const res = await t.http().post('/auth/login').send({ username, password }).expect(200);
  const body = res.body as { accessToken: string; user: { id: string; role: Role } };
  return { id: body.user.id, username, role: body.user.role, token: body.accessToken, auth: { Authorization: `Bearer ${body.accessToken}` } };
}

export async function createWorld(t: TestApp): Promise<World> {
  const admin = await login(t, ADMIN.username, ADMIN.password);
  const post = async (path: string, body: object): Promise<{ id: string }> =>
    (await t.http().post(path).set(admin.auth).send(body).expect(201)).body as { id: string };

  const departments = {
    haidian: (await post('/departments', { name: '海淀区科协', districtCode: HAIDIAN, topics: ['anti_fraud'] })).id,
    haidian2: (await post('/departments', { name: '海淀区卫健委', districtCode: HAIDIAN, topics: ['health'] })).id,
    chaoyang: (await post('/departments', { name: '朝阳区科协', districtCode: CHAOYANG })).id,
    city: (await post('/departments', { name: '北京科学中心', districtCode: null })).id,
  };
  const organizations = {
    haidian: (await post('/organizations', { name: '海淀科普志愿服务队', districtCodes: [HAIDIAN] })).id,
    haidian2: (await post('/organizations', { name: '海淀青年科普队', districtCodes: [HAIDIAN, CHAOYANG] })).id,
    chaoyang: (await post('/organizations', { name: '朝阳科普志愿服务队', districtCodes: [CHAOYANG] })).id,
  };

  const user = async (username: string, role: Role, scope: Record<string, string>): Promise<Session> => {
    const password = `${username}-pass-1`;
    await post('/users', { username, password, displayName: username, role, ...scope });
    return login(t, username, password);
  };
  return {
    admin,
    departments,
    organizations,
    residentA1: await user('resident-a1', 'resident', { communityCode: COMMUNITY_A1 }),
    residentA1b: await user('resident-a1b', 'resident', { communityCode: COMMUNITY_A1 }),
    residentA2: await user('resident-a2', 'resident', { communityCode: COMMUNITY_A2 }),
    residentB1: await user('resident-b1', 'resident', { communityCode: COMMUNITY_B1 }),
    staffA1: await user('staff-a1', 'community_staff', { communityCode: COMMUNITY_A1 }),
    staffA2: await user('staff-a2', 'community_staff', { communityCode: COMMUNITY_A2 }),
    staffB1: await user('staff-b1', 'community_staff', { communityCode: COMMUNITY_B1 }),
    deptHaidian: await user('dept-haidian', 'department_staff', { departmentId: departments.haidian }),
    deptHaidianB: await user('dept-haidian-b', 'department_staff', { departmentId: departments.haidian }),
    deptHaidian2: await user('dept-haidian2', 'department_staff', { departmentId: departments.haidian2 }),
    deptChaoyang: await user('dept-chaoyang', 'department_staff', { departmentId: departments.chaoyang }),
    deptCity: await user('dept-city', 'department_staff', { departmentId: departments.city }),
    orgHaidian: await user('org-haidian', 'org_admin', { organizationId: organizations.haidian }),
    orgHaidian2: await user('org-haidian2', 'org_admin', { organizationId: organizations.haidian2 }),
    orgChaoyang: await user('org-chaoyang', 'org_admin', { organizationId: organizations.chaoyang }),
    coordHaidian: await user('coord-haidian', 'district_coordinator', { districtCode: HAIDIAN }),
    coordChaoyang: await user('coord-chaoyang', 'district_coordinator', { districtCode: CHAOYANG }),
  };
}

export interface OrderJson {
  id: string;
  status: string;
  version: number;
  [field: string]: unknown;
}

/** Walks an order to a status along the happy path, returning it. */
export async function orderIn(
  t: TestApp,
  w: World,
  status: 'submitted' | 'dispatched' | 'claimed' | 'accepted',
  options: { open?: boolean } = {},
): Promise<OrderJson> {
  let order = (await t.http().post('/orders').set(w.residentA1.auth).send(orderBody(COMMUNITY_A1)).expect(201)).body as OrderJson;
  if (status === 'submitted') return order;
  order = (await t.http().post(`/orders/${order.id}/dispatch`).set(w.staffA1.auth).send({ departmentId: w.departments.haidian }).expect(200)).body;
  if (status === 'dispatched') return order;
  order = (await t.http().post(`/orders/${order.id}/claim`).set(w.deptHaidian.auth).send({}).expect(200)).body;
  if (options.open) order = (await t.http().post(`/orders/${order.id}/open`).set(w.deptHaidian.auth).send({}).expect(200)).body;
  else order = (await t.http().post(`/orders/${order.id}/offer`).set(w.deptHaidian.auth).send({ organizationId: w.organizations.haidian }).expect(200)).body;
  if (status === 'claimed') return order;
  return (await t.http().post(`/orders/${order.id}/accept`).set(w.orgHaidian.auth).send({}).expect(200)).body;
}
