import { acceptedOrder, createVenue, createVolunteerWithLogin, type VolunteerWithLogin } from './support/fulfilment-world';
import { count, startTestApp, type TestApp } from './support/test-app';
import { createWorld, type OrderJson, type World } from './support/world';

/** An event that starts in one to two minutes and lasts an hour: check-in is open at once (it opens 2 h before). */
function soonWindows(): { preferredWindows: { start: string; end: string }[] } {
  const start = new Date(Date.now() + 120_000);
  start.setUTCSeconds(0, 0);
  const end = new Date(start.getTime() + 3 * 3600 * 1000);
  return { preferredWindows: [{ start: start.toISOString(), end: end.toISOString() }] };
}

describe('fulfilment: schedule → check-in/out → complete → rate', () => {
  let t: TestApp;
  let w: World;
  let outsider: VolunteerWithLogin;

  beforeAll(async () => {
    t = await startTestApp('fulfilment');
    w = await createWorld(t);
    outsider = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian2 });
  });
  afterAll(() => t.close());

  /**
   * Accepted, scheduled on a window starting in a minute with three new volunteers
   * invited and confirmed (new ones each time: every event overlaps the others).
   */
  async function scheduledOrder(): Promise<{ order: OrderJson; start: Date; end: Date; a: VolunteerWithLogin; b: VolunteerWithLogin; c: VolunteerWithLogin }> {
    const spec = { organizationId: w.organizations.haidian };
    const [a, b, c] = [await createVolunteerWithLogin(t, spec), await createVolunteerWithLogin(t, spec), await createVolunteerWithLogin(t, spec)];
    const order = await acceptedOrder(t, w, soonWindows());
    const window = (order.preferredWindows as { start: string }[])[0]!;
    const start = new Date(window.start);
    const end = new Date(start.getTime() + 3600 * 1000);
    const venueId = await createVenue(t);
    await t
      .http()
      .post(`/orders/${order.id}/schedule`)
      .set(w.orgHaidian.auth)
      .send({ start: start.toISOString(), end: end.toISOString(), venueId, volunteerIds: [a.id, b.id, c.id] })
      .expect(200);
    for (const v of [a, b, c]) {
      const mine = (await t.http().get('/me/assignments').set(v.session.auth).expect(200)).body as { id: string; orderId: string }[];
      const assignment = mine.find((x) => x.orderId === order.id)!;
      await t.http().post(`/assignments/${assignment.id}/confirm`).set(v.session.auth).send({}).expect(200);
    }
    return { order, start, end, a, b, c };
  }

  it('walks the whole path and records hours, no-shows and the rating', async () => {
    const { order, start, end, a, b, c } = await scheduledOrder();

    // The first check-in starts the event; the org_admin checks b in on their behalf.
    const started = (await t.http().post(`/orders/${order.id}/check-in`).set(a.session.auth).send({}).expect(200)).body;
    expect(started.status).toBe('in_progress');
    const again = await t.http().post(`/orders/${order.id}/check-in`).set(a.session.auth).send({}).expect(409);
    expect(again.body.code).toBe('ALREADY_CHECKED_IN');
    await t.http().post(`/orders/${order.id}/check-in`).set(w.orgHaidian.auth).send({ volunteerId: b.id }).expect(200);

    // b leaves before the event even starts: no hours, never more than the event.
    const out = (await t.http().post(`/orders/${order.id}/check-out`).set(b.session.auth).send({}).expect(200)).body;
    expect(out).toMatchObject({ volunteerId: b.id, hours: 0 });
    expect((await t.http().post(`/orders/${order.id}/check-out`).set(b.session.auth).send({}).expect(409)).body.code).toBe('NOT_CHECKED_IN');

    // Nobody else may: another org's volunteer cannot see it, the resident may not.
    await t.http().post(`/orders/${order.id}/check-in`).set(outsider.session.auth).send({}).expect(404);
    expect((await t.http().post(`/orders/${order.id}/check-in`).set(w.residentA1.auth).send({}).expect(403)).body.code).toBe('FORBIDDEN');

    const completed = (await t.http().post(`/orders/${order.id}/complete`).set(w.orgHaidian.auth).send({ attendance: 58, summary: '讲座顺利完成' }).expect(200)).body;
    expect(completed).toMatchObject({ status: 'completed', attendance: 58, summary: '讲座顺利完成' });

    // a's open check-in closed at the event end: the whole hour. c never came: a no-show.
    const records = await t.db.query<{ volunteer_id: string; hours: string; is_no_show: boolean; check_out_at: Date | null }>(
      `SELECT volunteer_id, hours, is_no_show, check_out_at FROM service_records WHERE order_id = $1`,
      [order.id],
    );
    const byVolunteer = new Map(records.rows.map((r) => [r.volunteer_id, r]));
    expect(Number(byVolunteer.get(a.id)?.hours)).toBe(1);
    expect(byVolunteer.get(a.id)?.check_out_at?.toISOString()).toBe(end.toISOString());
    expect(Number(byVolunteer.get(b.id)?.hours)).toBe(0);
    expect(byVolunteer.get(c.id)).toMatchObject({ is_no_show: true, hours: '0.00' });
    expect(start.getTime()).toBeLessThan(end.getTime());

    // The service records as proof: JSON with total and star level, and CSV.
    const mine = (await t.http().get(`/volunteers/${a.id}/service-records`).set(a.session.auth).expect(200)).body;
    expect(mine).toMatchObject({ volunteerId: a.id, totalHours: 1, starLevel: 0 });
    expect(mine.items[0]).toMatchObject({ orderId: order.id, hours: 1, isNoShow: false });
    const csv = await t.http().get(`/volunteers/${a.id}/service-records`).set(a.session.auth).set('Accept', 'text/csv').expect(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.text.replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(lines[0]).toBe('orderCode,title,topic,eventStart,eventEnd,checkInAt,checkOutAt,hours,isNoShow,verified');
    expect(lines).toHaveLength(2);
    // Scope: the org's admin and the district coordinator see them; another volunteer and another district do not.
    await t.http().get(`/volunteers/${a.id}/service-records`).set(w.orgHaidian.auth).expect(200);
    await t.http().get(`/volunteers/${a.id}/service-records`).set(w.coordHaidian.auth).expect(200);
    await t.http().get(`/volunteers/${a.id}/service-records`).set(b.session.auth).expect(404);
    await t.http().get(`/volunteers/${a.id}/service-records`).set(w.orgChaoyang.auth).expect(404);
    await t.http().get(`/volunteers/${a.id}/service-records`).set(w.coordChaoyang.auth).expect(404);

    // 评单: once, by the requester; a low score is recorded.
    const bad = await t.http().post(`/orders/${order.id}/rating`).set(w.residentA1.auth).send({ content: 6, volunteers: 3, punctuality: 3 }).expect(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    const rated = (await t.http().post(`/orders/${order.id}/rating`).set(w.residentA1.auth).send({ content: 2, volunteers: 4, punctuality: 5, comment: '内容偏难' }).expect(200)).body;
    expect(rated.status).toBe('rated');
    expect(rated.rating).toMatchObject({ content: 2, volunteers: 4, punctuality: 5, comment: '内容偏难' });
    expect((await t.http().post(`/orders/${order.id}/rating`).set(w.staffA1.auth).send({ content: 5, volunteers: 5, punctuality: 5 }).expect(409)).body.code).toBe(
      'ORDER_STATE_CONFLICT',
    );
    expect(await count(t.db, 'outbox', `order_id = $1 AND type = 'rating.low'`, [order.id])).toBe(1);

    const events = (await t.http().get(`/orders/${order.id}/events`).set(w.staffA1.auth).expect(200)).body as { type: string }[];
    expect(events.map((e) => e.type).slice(-4)).toEqual(['order.scheduled', 'order.started', 'order.completed', 'order.rated']);
  });

  it('GET /orders/:id/assignments: the team with attendance, for those who run or oversee the event and its volunteers', async () => {
    const { order, end, a, b, c } = await scheduledOrder();
    const list = (who: { auth: { Authorization: string } }, status: number) => t.http().get(`/orders/${order.id}/assignments`).set(who.auth).expect(status);
    await t.http().post(`/orders/${order.id}/check-in`).set(a.session.auth).send({}).expect(200);
    type Row = { volunteerId: string; displayName: string; status: string; checkInAt: string | null; checkOutAt: string | null; hours: number | null; isNoShow: boolean };
    const during = (await list(w.orgHaidian, 200)).body as Row[];
    expect(during.map((r) => r.volunteerId).sort()).toEqual([a.id, b.id, c.id].sort());
    expect(during.find((r) => r.volunteerId === a.id)).toMatchObject({ displayName: a.name, status: 'confirmed', checkOutAt: null, hours: null, isNoShow: false });
    expect(during.find((r) => r.volunteerId === a.id)?.checkInAt).not.toBeNull();
    expect(during.find((r) => r.volunteerId === b.id)).toMatchObject({ checkInAt: null, hours: null, isNoShow: false });

    await t.http().post(`/orders/${order.id}/complete`).set(w.orgHaidian.auth).send({ attendance: 20, summary: '完成' }).expect(200);
    const after = (await list(w.coordHaidian, 200)).body as Row[];
    expect(after).toHaveLength(3);
    expect(after.find((r) => r.volunteerId === a.id)).toMatchObject({ checkOutAt: end.toISOString(), hours: 1, isNoShow: false });
    expect(after.find((r) => r.volunteerId === c.id)).toMatchObject({ checkInAt: null, hours: 0, isNoShow: true });

    // Those who run or oversee the event, and its volunteers.
    for (const who of [w.orgHaidian, w.deptHaidian, w.staffA1, w.coordHaidian, w.admin, b.session]) expect((await list(who, 200)).body).toHaveLength(3);
    // Outside the order's scope: another organisation, district, community, or a volunteer not on it.
    const stranger = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
    for (const who of [w.orgChaoyang, w.orgHaidian2, w.coordChaoyang, w.staffB1, w.deptChaoyang, outsider.session, stranger.session]) await list(who, 404);
    // The requester sees the order, not who served it.
    expect((await list(w.residentA1, 403)).body.code).toBe('FORBIDDEN');
    await t.http().get('/orders/00000000-0000-4000-8000-000000000000/assignments').set(w.admin.auth).expect(404);

    // Described in the OpenAPI document with its answer's fields.
    const doc = (await t.http().get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    expect(Object.keys(doc.paths['/orders/{id}/assignments']?.get?.responses ?? {})).toEqual(expect.arrayContaining(['200', '404', '403']));
    expect(Object.keys(doc.components.schemas.OrderAssignmentView?.properties ?? {})).toEqual(
      expect.arrayContaining(['volunteerId', 'displayName', 'status', 'checkInAt', 'checkOutAt', 'hours', 'isNoShow']),
    );
  });

  it('a good rating tells nobody; community staff may rate; others may not', async () => {
    const { order, a } = await scheduledOrder();
    await t.http().post(`/orders/${order.id}/check-in`).set(a.session.auth).send({}).expect(200);
    await t.http().post(`/orders/${order.id}/complete`).set(w.orgHaidian.auth).send({ attendance: 10, summary: 'ok' }).expect(200);
    expect((await t.http().post(`/orders/${order.id}/rating`).set(w.orgHaidian.auth).send({ content: 5, volunteers: 5, punctuality: 5 }).expect(403)).body.code).toBe('FORBIDDEN');
    await t.http().post(`/orders/${order.id}/rating`).set(w.staffA1.auth).send({ content: 4, volunteers: 5, punctuality: 4 }).expect(200);
    expect(await count(t.db, 'outbox', `order_id = $1 AND type = 'rating.low'`, [order.id])).toBe(0);
  });

  it('only a confirmed volunteer of the event checks in, and only the accepting organisation completes', async () => {
    const { order } = await scheduledOrder();
    const stranger = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
    // Same organisation, but not assigned: the order is not visible to them.
    await t.http().post(`/orders/${order.id}/check-in`).set(stranger.session.auth).send({}).expect(404);
    const notAssigned = await t.http().post(`/orders/${order.id}/check-in`).set(w.orgHaidian.auth).send({ volunteerId: stranger.id }).expect(422);
    expect(notAssigned.body.code).toBe('NOT_ASSIGNED');
    expect((await t.http().post(`/orders/${order.id}/check-in`).set(w.orgHaidian.auth).send({}).expect(400)).body.code).toBe('VALIDATION_FAILED');
    // Not started: nothing to complete yet.
    expect((await t.http().post(`/orders/${order.id}/complete`).set(w.orgHaidian.auth).send({ attendance: 1, summary: 'x' }).expect(409)).body.code).toBe(
      'ORDER_STATE_CONFLICT',
    );
    await t.http().post(`/orders/${order.id}/complete`).set(w.orgChaoyang.auth).send({ attendance: 1, summary: 'x' }).expect(404);
    expect(await count(t.db, 'service_records', 'order_id = $1', [order.id])).toBe(0);
  });

  it('parallel first check-ins start the event once and record everyone', async () => {
    const { order, a, b, c } = await scheduledOrder();
    const answers = await Promise.all([a, b, c].map((v) => t.http().post(`/orders/${order.id}/check-in`).set(v.session.auth).send({})));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(await count(t.db, 'order_events', `order_id = $1 AND type = 'order.started'`, [order.id])).toBe(1);
    expect(await count(t.db, 'service_records', 'order_id = $1 AND check_in_at IS NOT NULL', [order.id])).toBe(3);
  });
});
