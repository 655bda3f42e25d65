import { JOB_IDS, StageTimersService } from '@kepu/notifications';
import { acceptedOrder, at, createVenue, createVolunteerWithLogin, type VolunteerWithLogin, wideWindows } from './support/fulfilment-world';
import { count, startTestApp, type TestApp } from './support/test-app';
import { drain, openTestQueues, startTestWorker, suitePrefix, type TestQueues, type TestWorker } from './support/test-worker';
import { createWorld, type OrderJson, type World } from './support/world';

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

describe('fulfilment timers: event reminders, rating reminder, closing unrated orders', () => {
  let t: TestApp;
  let w: World;
  let worker: TestWorker;
  let queues: TestQueues;
  let timers: StageTimersService;

  beforeAll(async () => {
    t = await startTestApp('fulfilment_timers', { QUEUE_PREFIX: suitePrefix('fulfilment-timers'), OUTBOX_POLL_MS: '100' });
    w = await createWorld(t);
    worker = await startTestWorker();
    timers = worker.app.get(StageTimersService);
    queues = openTestQueues();
  });
  afterAll(async () => {
    await worker.close();
    await queues.obliterate();
    await queues.close();
    await t.close();
  });

  const confirmedVolunteer = async (orderId: string, v: VolunteerWithLogin) => {
    const mine = (await t.http().get('/me/assignments').set(v.session.auth).expect(200)).body as { id: string; orderId: string }[];
    const assignment = mine.find((x) => x.orderId === orderId)!;
    await t.http().post(`/assignments/${assignment.id}/confirm`).set(v.session.auth).send({}).expect(200);
  };
  /** When a delayed timer job is due (its add time plus delay: within a few ms of the intended instant). */
  const delayedUntil = async (jobId: string): Promise<number | null> => {
    const job = await queues.timers.getJob(jobId);
    return job && (await job.isDelayed()) ? job.timestamp + (job.opts.delay ?? 0) : null;
  };

  it('schedules reminders 24 h and 2 h before the start, moves them with a reschedule and drops them on cancel', async () => {
    const order = await acceptedOrder(t, w, wideWindows(30));
    const v = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
    const venueId = await createVenue(t);
    const start = at(30, 9);
    await t.http().post(`/orders/${order.id}/schedule`).set(w.orgHaidian.auth).send({ start, end: at(30, 11), venueId, volunteerIds: [v.id] }).expect(200);
    await drain(t.db, queues);
    expect(Math.abs((await delayedUntil(JOB_IDS.reminderDue(order.id, '24h')))! - (Date.parse(start) - 24 * HOUR))).toBeLessThan(1000);
    expect(Math.abs((await delayedUntil(JOB_IDS.reminderDue(order.id, '2h')))! - (Date.parse(start) - 2 * HOUR))).toBeLessThan(1000);

    const moved = at(31, 14);
    await t.http().post(`/orders/${order.id}/reschedule`).set(w.orgHaidian.auth).send({ start: moved, end: at(31, 16), venueId, volunteerIds: [v.id] }).expect(200);
    await drain(t.db, queues);
    expect(Math.abs((await delayedUntil(JOB_IDS.reminderDue(order.id, '2h')))! - (Date.parse(moved) - 2 * HOUR))).toBeLessThan(1000);

    await t.http().post(`/orders/${order.id}/cancel`).set(w.staffA1.auth).send({ reason: '场地维修' }).expect(200);
    await drain(t.db, queues);
    expect(await queues.timers.getJob(JOB_IDS.reminderDue(order.id, '24h'))).toBeUndefined();
    expect(await queues.timers.getJob(JOB_IDS.reminderDue(order.id, '2h'))).toBeUndefined();
    // The invited volunteer hears of the cancellation.
    const inbox = (await t.http().get('/me/notifications').set(v.session.auth).expect(200)).body as { items: { type: string; orderId: string }[] };
    expect(inbox.items.filter((n) => n.orderId === order.id).map((n) => n.type)).toContain('order.cancelled');
  });

  it('a due reminder tells the confirmed volunteers and the requester once; a stale one (rescheduled since) nobody', async () => {
    const order = await acceptedOrder(t, w, wideWindows(40));
    const confirmed = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
    const invitedOnly = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
    const start = at(40, 9);
    await t
      .http()
      .post(`/orders/${order.id}/schedule`)
      .set(w.orgHaidian.auth)
      .send({ start, end: at(40, 11), venueId: await createVenue(t), volunteerIds: [confirmed.id, invitedOnly.id] })
      .expect(200);
    await confirmedVolunteer(order.id, confirmed);
    const startIso = new Date(start).toISOString();
    await timers.onReminderDue(order.id, '2h', startIso);
    await timers.onReminderDue(order.id, '2h', startIso);
    await timers.onReminderDue(order.id, '2h', new Date(Date.parse(start) + HOUR).toISOString());
    await drain(t.db, queues);
    const { rows } = await t.db.query<{ user_id: string }>(`SELECT user_id FROM notifications WHERE order_id = $1 AND type = 'event.reminder'`, [order.id]);
    expect(rows.map((r) => r.user_id).sort()).toEqual([confirmed.session.id, w.residentA1.id].sort());
    const body = (await t.db.query<{ body: string }>(`SELECT body FROM notifications WHERE order_id = $1 AND type = 'event.reminder' LIMIT 1`, [order.id])).rows[0]?.body;
    expect(body).toContain('09:00–11:00');
  });

  it('a reschedule that drops volunteers tells each of them once (assignment.cancelled), not the kept ones; their reminders stop', async () => {
    const order = await acceptedOrder(t, w, wideWindows(50));
    const kept = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
    const droppedConfirmed = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
    const droppedInvited = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
    const venueId = await createVenue(t);
    await t
      .http()
      .post(`/orders/${order.id}/schedule`)
      .set(w.orgHaidian.auth)
      .send({ start: at(50, 9), end: at(50, 11), venueId, volunteerIds: [kept.id, droppedConfirmed.id, droppedInvited.id] })
      .expect(200);
    await confirmedVolunteer(order.id, kept);
    await confirmedVolunteer(order.id, droppedConfirmed);
    const moved = at(51, 14);
    const rescheduled = await t.http().post(`/orders/${order.id}/reschedule`).set(w.orgHaidian.auth).send({ start: moved, end: at(51, 16), venueId, volunteerIds: [kept.id] }).expect(200);
    expect(rescheduled.body.status).toBe('scheduled');
    // A second reschedule with the same list removes nobody and tells nobody again.
    await t.http().post(`/orders/${order.id}/reschedule`).set(w.orgHaidian.auth).send({ start: moved, end: at(51, 17), venueId, volunteerIds: [kept.id] }).expect(200);
    // The reminder of the new time, due now: only the kept volunteer (and the requester) hear it.
    await timers.onReminderDue(order.id, '2h', new Date(moved).toISOString());
    await drain(t.db, queues);

    const typesOf = async (v: VolunteerWithLogin) =>
      ((await t.http().get('/me/notifications').set(v.session.auth).expect(200)).body as { items: { type: string; orderId: string; body: string }[] }).items.filter(
        (n) => n.orderId === order.id,
      );
    for (const dropped of [droppedConfirmed, droppedInvited]) {
      const notices = await typesOf(dropped);
      expect(notices.filter((n) => n.type === 'assignment.cancelled')).toHaveLength(1);
      expect(notices.find((n) => n.type === 'assignment.cancelled')?.body).toContain('09:00–11:00');
      expect(notices.map((n) => n.type)).not.toContain('event.reminder');
    }
    const keptTypes = (await typesOf(kept)).map((n) => n.type);
    expect(keptTypes).not.toContain('assignment.cancelled');
    expect(keptTypes).toContain('event.reminder');
    expect(await count(t.db, 'outbox', `order_id = $1 AND type = 'assignment.cancelled'`, [order.id])).toBe(1);
    const { rows: statuses } = await t.db.query<{ volunteer_id: string; status: string }>(`SELECT volunteer_id, status FROM assignments WHERE order_id = $1`, [order.id]);
    expect(Object.fromEntries(statuses.map((r) => [r.volunteer_id, r.status]))).toEqual({
      [kept.id]: 'confirmed',
      [droppedConfirmed.id]: 'cancelled',
      [droppedInvited.id]: 'cancelled',
    });
    // The team as GET /orders/:id/assignments shows it: the kept volunteer still sees it, the removed no longer do.
    const team = (await t.http().get(`/orders/${order.id}/assignments`).set(kept.session.auth).expect(200)).body as { volunteerId: string; status: string }[];
    expect(team.find((a) => a.volunteerId === droppedConfirmed.id)?.status).toBe('cancelled');
    // A volunteer taken off the team no longer sees the order at all (#14 item 4): 404, as outside any scope.
    await t.http().get(`/orders/${order.id}/assignments`).set(droppedConfirmed.session.auth).expect(404);
    await t.http().get(`/orders/${order.id}`).set(droppedConfirmed.session.auth).expect(404);
  });

  it('after completion: a rating reminder in 3 days, closing in 7 unless rated; closing only when due', async () => {
    const order = await completedOrder();
    await drain(t.db, queues);
    const completedAt = Date.parse((await t.http().get(`/orders/${order.id}`).set(w.staffA1.auth).expect(200)).body.updatedAt as string);
    expect(Math.abs((await delayedUntil(JOB_IDS.ratingReminderDue(order.id)))! - (completedAt + 3 * DAY))).toBeLessThan(5000);
    expect(Math.abs((await delayedUntil(JOB_IDS.closeDue(order.id)))! - (completedAt + 7 * DAY))).toBeLessThan(5000);

    // Fired early (not yet 7 days): nothing happens.
    await timers.onCloseDue(order.id);
    expect((await t.http().get(`/orders/${order.id}`).set(w.staffA1.auth).expect(200)).body.status).toBe('completed');

    await timers.onRatingReminderDue(order.id);
    await timers.onRatingReminderDue(order.id);
    await drain(t.db, queues);
    expect(await count(t.db, 'notifications', `order_id = $1 AND type = 'rating.reminder'`, [order.id])).toBe(1);

    await t.db.query(`UPDATE orders SET completed_at = completed_at - interval '8 days' WHERE id = $1`, [order.id]);
    await timers.onCloseDue(order.id);
    const closed = (await t.http().get(`/orders/${order.id}`).set(w.staffA1.auth).expect(200)).body;
    expect(closed.status).toBe('closed');
    const events = (await t.http().get(`/orders/${order.id}/events`).set(w.staffA1.auth).expect(200)).body as { type: string; actorRole: string }[];
    expect(events.at(-1)).toMatchObject({ type: 'order.closed', actorRole: 'system' });
    // Too late to rate now.
    await t.http().post(`/orders/${order.id}/rating`).set(w.residentA1.auth).send({ content: 5, volunteers: 5, punctuality: 5 }).expect(409);
  });

  it('a rated order is never closed and its timers are gone', async () => {
    const order = await completedOrder();
    await t.http().post(`/orders/${order.id}/rating`).set(w.residentA1.auth).send({ content: 5, volunteers: 4, punctuality: 5 }).expect(200);
    await drain(t.db, queues);
    expect(await queues.timers.getJob(JOB_IDS.closeDue(order.id))).toBeUndefined();
    await t.db.query(`UPDATE orders SET completed_at = completed_at - interval '8 days' WHERE id = $1`, [order.id]);
    await timers.onCloseDue(order.id);
    expect((await t.http().get(`/orders/${order.id}`).set(w.staffA1.auth).expect(200)).body.status).toBe('rated');
  });

  /** An event starting in a minute, one volunteer checked in, completed. */
  async function completedOrder(): Promise<OrderJson> {
    const start = new Date(Date.now() + 120_000);
    start.setUTCSeconds(0, 0);
    const end = new Date(start.getTime() + HOUR);
    const order = await acceptedOrder(t, w, { preferredWindows: [{ start: start.toISOString(), end: new Date(start.getTime() + 3 * HOUR).toISOString() }] });
    const v = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
    await t
      .http()
      .post(`/orders/${order.id}/schedule`)
      .set(w.orgHaidian.auth)
      .send({ start: start.toISOString(), end: end.toISOString(), venueId: await createVenue(t), volunteerIds: [v.id] })
      .expect(200);
    await confirmedVolunteer(order.id, v);
    await t.http().post(`/orders/${order.id}/check-in`).set(v.session.auth).send({}).expect(200);
    return (await t.http().post(`/orders/${order.id}/complete`).set(w.orgHaidian.auth).send({ attendance: 30, summary: '完成' }).expect(200)).body as OrderJson;
  }
});
