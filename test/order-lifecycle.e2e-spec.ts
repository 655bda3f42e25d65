import { COMMUNITY_A1, createWorld, orderBody, type OrderJson, orderIn, type World } from './support/world';
import { count, startTestApp, type TestApp } from './support/test-app';

interface EventJson {
  seq: number;
  type: string;
  fromStatus: string | null;
  toStatus: string;
  actorId: string | null;
  actorRole: string;
  payload: Record<string, unknown>;
}

describe('order lifecycle: intake → dispatch → claim → accept', () => {
  let t: TestApp;
  let w: World;

  beforeAll(async () => {
    t = await startTestApp('lifecycle');
    w = await createWorld(t);
  });
  afterAll(() => t.close());

  const events = async (orderId: string): Promise<EventJson[]> =>
    (await t.http().get(`/orders/${orderId}/events`).set(w.staffA1.auth).expect(200)).body as EventJson[];
  const outboxTypes = async (orderId: string): Promise<string[]> =>
    (await t.db.query<{ type: string }>(`SELECT type FROM outbox WHERE order_id = $1 ORDER BY created_at, type`, [orderId])).rows.map((r) => r.type);

  it('walks submitted → dispatched → claimed → offered → accepted with one event and one outbox message per step', async () => {
    const created = (await t.http().post('/orders').set(w.residentA1.auth).send(orderBody(COMMUNITY_A1)).expect(201)).body as OrderJson;
    expect(created).toMatchObject({ status: 'submitted', version: 1, districtCode: '110108', subdistrictCode: '110108001', contactPhone: '13812341234' });
    expect(created.code).toMatch(/^KP\d{8}\d{6}$/);

    const dispatched = (
      await t.http().post(`/orders/${created.id}/dispatch`).set(w.staffA1.auth).send({ departmentId: w.departments.haidian, note: '请尽快' }).expect(200)
    ).body as OrderJson;
    expect(dispatched).toMatchObject({ status: 'dispatched', version: 2, departmentId: w.departments.haidian });

    const claimed = (await t.http().post(`/orders/${created.id}/claim`).set(w.deptHaidian.auth).send({ expectedVersion: 2 }).expect(200)).body;
    expect(claimed).toMatchObject({ status: 'claimed', version: 3 });

    const offered = (
      await t.http().post(`/orders/${created.id}/offer`).set(w.deptHaidian.auth).send({ organizationId: w.organizations.haidian }).expect(200)
    ).body;
    expect(offered).toMatchObject({ status: 'claimed', version: 4, offeredOrganizationId: w.organizations.haidian });
    // Not yet accepting: the organisation sees the number masked.
    const seenByOrg = (await t.http().get(`/orders/${created.id}`).set(w.orgHaidian.auth).expect(200)).body;
    expect(seenByOrg.contactPhone).toBe('138****1234');

    const accepted = (await t.http().post(`/orders/${created.id}/accept`).set(w.orgHaidian.auth).send({}).expect(200)).body;
    expect(accepted).toMatchObject({ status: 'accepted', version: 5, organizationId: w.organizations.haidian, contactPhone: '13812341234' });

    const log = await events(created.id);
    expect(log.map((e) => [e.seq, e.type, e.fromStatus, e.toStatus, e.actorRole])).toEqual([
      [1, 'order.submitted', null, 'submitted', 'resident'],
      [2, 'order.dispatched', 'submitted', 'dispatched', 'community_staff'],
      [3, 'order.claimed', 'dispatched', 'claimed', 'department_staff'],
      [4, 'order.offered', 'claimed', 'claimed', 'department_staff'],
      [5, 'order.accepted', 'claimed', 'accepted', 'org_admin'],
    ]);
    expect(log[1]?.payload).toMatchObject({ departmentId: w.departments.haidian, note: '请尽快' });
    expect(log[4]?.actorId).toBe(w.orgHaidian.id);
    expect((await outboxTypes(created.id)).sort()).toEqual(
      ['order.accepted', 'order.claimed', 'order.dispatched', 'order.offered', 'order.submitted'].sort(),
    );
  });

  it('decline returns the order to the community and counts the return', async () => {
    const order = await orderIn(t, w, 'dispatched');
    const declined = (await t.http().post(`/orders/${order.id}/decline`).set(w.deptHaidian.auth).send({ reason: '本月排期已满' }).expect(200)).body;
    expect(declined).toMatchObject({ status: 'submitted', returnedCount: 1, departmentId: null });
    // The declining department no longer sees it; the community can dispatch again, to a city-wide department.
    await t.http().get(`/orders/${order.id}`).set(w.deptHaidian.auth).expect(404);
    await t.http().post(`/orders/${order.id}/dispatch`).set(w.staffA1.auth).send({ departmentId: w.departments.city }).expect(200);
    const log = await events(order.id);
    expect(log.map((e) => e.type)).toEqual(['order.submitted', 'order.dispatched', 'order.declined', 'order.dispatched']);
    expect(log[2]).toMatchObject({ fromStatus: 'dispatched', toStatus: 'submitted', payload: expect.objectContaining({ reason: '本月排期已满' }) });
  });

  it('refuses a department that does not serve the district', async () => {
    const order = await orderIn(t, w, 'submitted');
    const res = await t.http().post(`/orders/${order.id}/dispatch`).set(w.staffA1.auth).send({ departmentId: w.departments.chaoyang }).expect(422);
    expect(res.body.code).toBe('DEPARTMENT_NOT_SERVING_DISTRICT');
    expect(await count(t.db, 'order_events', 'order_id = $1', [order.id])).toBe(1);
  });

  it('reject needs a reason and ends the order', async () => {
    const order = await orderIn(t, w, 'submitted');
    expect((await t.http().post(`/orders/${order.id}/reject`).set(w.staffA1.auth).send({}).expect(400)).body.code).toBe('VALIDATION_FAILED');
    await t.http().post(`/orders/${order.id}/reject`).set(w.staffA1.auth).send({ reason: '不属于科普服务' }).expect(200);
    const again = await t.http().post(`/orders/${order.id}/dispatch`).set(w.staffA1.auth).send({ departmentId: w.departments.haidian }).expect(409);
    expect(again.body.code).toBe('ORDER_STATE_CONFLICT');
    expect((await events(order.id)).map((e) => e.type)).toEqual(['order.submitted', 'order.rejected']);
  });

  it('flags a likely duplicate on creation and merges it into the primary', async () => {
    const primary = (await t.http().post('/orders').set(w.residentA1.auth).send(orderBody(COMMUNITY_A1)).expect(201)).body as OrderJson;
    const duplicate = (await t.http().post('/orders').set(w.residentA1b.auth).send(orderBody(COMMUNITY_A1)).expect(201)).body as OrderJson;
    expect(duplicate.possibleDuplicateIds).toContain(primary.id);
    const other = (await t.http().post('/orders').set(w.residentA1b.auth).send(orderBody(COMMUNITY_A1, { topic: 'astronomy' })).expect(201)).body;
    expect(other.possibleDuplicateIds).not.toContain(primary.id);

    const merged = (await t.http().post(`/orders/${duplicate.id}/merge`).set(w.staffA1.auth).send({ primaryOrderId: primary.id }).expect(200)).body;
    expect(merged).toMatchObject({ status: 'merged', mergedIntoId: primary.id });
    // merging into itself or into a closed order is refused
    const self = await t.http().post(`/orders/${primary.id}/merge`).set(w.staffA1.auth).send({ primaryOrderId: primary.id }).expect(422);
    expect(self.body.code).toBe('INVALID_MERGE_TARGET');
    const intoMerged = await t.http().post(`/orders/${other.id}/merge`).set(w.staffA1.auth).send({ primaryOrderId: duplicate.id }).expect(422);
    expect(intoMerged.body.code).toBe('INVALID_MERGE_TARGET');
    expect((await events(duplicate.id)).map((e) => e.type)).toEqual(['order.submitted', 'order.merged']);
  });

  it('cancel: the requester before scheduling, with the event logged; not twice', async () => {
    const order = await orderIn(t, w, 'claimed');
    const cancelled = (await t.http().post(`/orders/${order.id}/cancel`).set(w.residentA1.auth).send({ reason: '活动取消' }).expect(200)).body;
    expect(cancelled.status).toBe('cancelled');
    expect((await t.http().post(`/orders/${order.id}/cancel`).set(w.residentA1.auth).send({ reason: '再次' }).expect(409)).body.code).toBe(
      'ORDER_STATE_CONFLICT',
    );
    const log = await events(order.id);
    expect(log.at(-1)).toMatchObject({ type: 'order.cancelled', fromStatus: 'claimed', toStatus: 'cancelled', actorRole: 'resident' });
    // another resident of the same community cannot cancel someone else's order: not visible to them
    const other = await orderIn(t, w, 'submitted');
    await t.http().post(`/orders/${other.id}/cancel`).set(w.residentA1b.auth).send({ reason: 'x' }).expect(404);
  });

  it('release gives the order back to the department, which may offer it again', async () => {
    const order = await orderIn(t, w, 'accepted');
    const released = (await t.http().post(`/orders/${order.id}/release`).set(w.orgHaidian.auth).send({ reason: '志愿者不足' }).expect(200)).body;
    expect(released).toMatchObject({ status: 'claimed', organizationId: null, offeredOrganizationId: null, openToOrganizations: false });
    await t.http().post(`/orders/${order.id}/offer`).set(w.deptHaidian.auth).send({ organizationId: w.organizations.haidian2 }).expect(200);
    await t.http().post(`/orders/${order.id}/accept`).set(w.orgHaidian2.auth).send({}).expect(200);
    const log = await events(order.id);
    expect(log.map((e) => e.type).slice(-3)).toEqual(['order.released', 'order.offered', 'order.accepted']);
    expect(log.at(-3)).toMatchObject({ fromStatus: 'accepted', toStatus: 'claimed', payload: expect.objectContaining({ reason: '志愿者不足' }) });
  });

  it('expectedVersion that does not match is a 409 and changes nothing', async () => {
    const order = await orderIn(t, w, 'dispatched');
    const res = await t.http().post(`/orders/${order.id}/claim`).set(w.deptHaidian.auth).send({ expectedVersion: 1 }).expect(409);
    expect(res.body.code).toBe('ORDER_STATE_CONFLICT');
    expect((await t.http().get(`/orders/${order.id}`).set(w.deptHaidian.auth).expect(200)).body.status).toBe('dispatched');
  });

  it('open lets any organisation serving the district accept, and not one from elsewhere', async () => {
    const order = await orderIn(t, w, 'claimed', { open: true });
    expect(order.openToOrganizations).toBe(true);
    await t.http().post(`/orders/${order.id}/accept`).set(w.orgChaoyang.auth).send({}).expect(404);
    await t.http().post(`/orders/${order.id}/accept`).set(w.orgHaidian2.auth).send({}).expect(200);
  });

  describe('reassign: a coordinator moves a stuck order to another department (DESIGN.md §10)', () => {
    const outbox = async (orderId: string, type: string) =>
      (await t.db.query<{ payload: Record<string, unknown> }>(`SELECT payload FROM outbox WHERE order_id = $1 AND type = $2 ORDER BY payload->>'side'`, [orderId, type])).rows.map(
        (r) => r.payload,
      );

    it('from dispatched: dispatched at the new department, one reassigned event, both departments told; the new one claims', async () => {
      const order = await orderIn(t, w, 'dispatched');
      const moved = (
        await t.http().post(`/orders/${order.id}/reassign`).set(w.coordHaidian.auth).send({ departmentId: w.departments.haidian2, reason: '区科协超时未领单' }).expect(200)
      ).body as OrderJson;
      expect(moved).toMatchObject({ status: 'dispatched', version: 3, departmentId: w.departments.haidian2 });
      const log = await events(order.id);
      expect(log.at(-1)).toMatchObject({
        seq: 3,
        type: 'order.reassigned',
        fromStatus: 'dispatched',
        toStatus: 'dispatched',
        actorId: w.coordHaidian.id,
        actorRole: 'district_coordinator',
        payload: expect.objectContaining({ departmentId: w.departments.haidian2, fromDepartmentId: w.departments.haidian, reason: '区科协超时未领单' }),
      });
      // one message naming each department: the recipients follow payload.departmentId
      expect((await outbox(order.id, 'order.reassigned')).map((p) => [p.side, p.departmentId])).toEqual([
        ['from', w.departments.haidian],
        ['to', w.departments.haidian2],
      ]);
      await t.http().get(`/orders/${order.id}`).set(w.deptHaidian.auth).expect(404);
      await t.http().post(`/orders/${order.id}/claim`).set(w.deptHaidian2.auth).send({ expectedVersion: 3 }).expect(200);
    });

    it('from claimed: the offer is withdrawn, the offered organisation no longer sees it', async () => {
      const order = await orderIn(t, w, 'claimed');
      expect(order.offeredOrganizationId).toBe(w.organizations.haidian);
      const moved = (await t.http().post(`/orders/${order.id}/reassign`).set(w.admin.auth).send({ departmentId: w.departments.city, reason: '转市级部门' }).expect(200)).body;
      expect(moved).toMatchObject({ status: 'dispatched', departmentId: w.departments.city, offeredOrganizationId: null, openToOrganizations: false });
      await t.http().get(`/orders/${order.id}`).set(w.orgHaidian.auth).expect(404);
      await t.http().post(`/orders/${order.id}/accept`).set(w.orgHaidian.auth).send({}).expect(404);
      expect((await events(order.id)).at(-1)).toMatchObject({ type: 'order.reassigned', fromStatus: 'claimed', toStatus: 'dispatched', actorRole: 'city_admin' });
    });

    it('from claimed and open: the open call is withdrawn', async () => {
      const order = await orderIn(t, w, 'claimed', { open: true });
      const moved = (await t.http().post(`/orders/${order.id}/reassign`).set(w.coordHaidian.auth).send({ departmentId: w.departments.haidian2, reason: '改派' }).expect(200)).body;
      expect(moved).toMatchObject({ status: 'dispatched', openToOrganizations: false });
      await t.http().get(`/orders/${order.id}`).set(w.orgHaidian2.auth).expect(404);
    });

    it('from submitted: dispatched for the community; only the new department is told', async () => {
      const order = await orderIn(t, w, 'submitted');
      await t.http().post(`/orders/${order.id}/reassign`).set(w.coordHaidian.auth).send({ departmentId: w.departments.haidian, reason: '社区未及时派单' }).expect(200);
      expect((await outbox(order.id, 'order.reassigned')).map((p) => [p.side, p.departmentId])).toEqual([['to', w.departments.haidian]]);
      expect((await events(order.id)).map((e) => [e.type, e.fromStatus, e.toStatus])).toEqual([
        ['order.submitted', null, 'submitted'],
        ['order.reassigned', 'submitted', 'dispatched'],
      ]);
    });

    it('refusals write nothing: another district\'s department, the same department, an unknown one, no reason, a later status', async () => {
      const order = await orderIn(t, w, 'dispatched');
      const reassign = (body: object) => t.http().post(`/orders/${order.id}/reassign`).set(w.coordHaidian.auth).send(body);
      const before = { events: await count(t.db, 'order_events', 'order_id = $1', [order.id]), outbox: await count(t.db, 'outbox', 'order_id = $1', [order.id]) };
      expect((await reassign({ departmentId: w.departments.chaoyang, reason: '改派' }).expect(422)).body.code).toBe('DEPARTMENT_NOT_SERVING_DISTRICT');
      expect((await reassign({ departmentId: w.departments.haidian, reason: '改派' }).expect(422)).body.code).toBe('SAME_DEPARTMENT');
      expect((await reassign({ departmentId: '00000000-0000-4000-8000-000000000000', reason: '改派' }).expect(422)).body.code).toBe('UNKNOWN_DEPARTMENT');
      expect((await reassign({ departmentId: w.departments.haidian2 }).expect(400)).body.code).toBe('VALIDATION_FAILED');
      expect((await reassign({ departmentId: w.departments.haidian2, reason: '   ' }).expect(400)).body.code).toBe('VALIDATION_FAILED');
      expect((await reassign({ departmentId: w.departments.haidian2, reason: 'x'.repeat(1001) }).expect(400)).body.code).toBe('VALIDATION_FAILED');
      expect({ events: await count(t.db, 'order_events', 'order_id = $1', [order.id]), outbox: await count(t.db, 'outbox', 'order_id = $1', [order.id]) }).toEqual(before);

      const accepted = await orderIn(t, w, 'accepted');
      const late = await t.http().post(`/orders/${accepted.id}/reassign`).set(w.coordHaidian.auth).send({ departmentId: w.departments.haidian2, reason: '改派' }).expect(409);
      expect(late.body.code).toBe('ORDER_STATE_CONFLICT');
      // another district's coordinator does not see it; staff of the community see it but may not
      await t.http().post(`/orders/${order.id}/reassign`).set(w.coordChaoyang.auth).send({ departmentId: w.departments.haidian2, reason: '改派' }).expect(404);
      expect((await t.http().post(`/orders/${order.id}/reassign`).set(w.staffA1.auth).send({ departmentId: w.departments.haidian2, reason: '改派' }).expect(403)).body.code).toBe(
        'FORBIDDEN',
      );
    });
  });
});
