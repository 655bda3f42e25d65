import { EventsService } from '@kepu/events';
import type { PoolClient } from 'pg';
import type { Response, Test } from 'supertest';
import { manyResidents, publishedEvent } from './support/event-world';
import { createVenue } from './support/fulfilment-world';
import { expectProblem, outcome } from './support/problem';
import { count, startTestApp, type TestApp } from './support/test-app';
import { waitFor } from './support/wait';
import { createWorld, type Session, type World } from './support/world';

/**
 * A rush of sign-ups for one event on an API with a small pool (issue #11): the sign-ups of
 * one event wait in the process's lane for that event, not each on a pool connection that
 * waits for the event's row lock, so one connection waits for it and the rest of the API
 * keeps the pool. The batches decided together keep every sign-up's own outcome.
 *
 * The row lock is held by the test where a test needs the sign-ups to pile up (as a slow
 * batch of another API process, or a starved machine, would hold it): then what waits where
 * is seen, not guessed from timing.
 */

const POOL_SIZE = 3;
/** SIGNUP_QUEUE_PER_EVENT of this suite's API: the rush of 150 fits, the test of a full lane fills it. */
const LANE_QUEUE = 200;

interface SignupJson {
  id: string;
  status: 'confirmed' | 'waitlisted';
  attendees: number;
  ticketCode: string;
  position?: number;
}

describe(`sign-up rushes on a pool of ${POOL_SIZE}: one connection per event, every sign-up its own answer`, () => {
  let t: TestApp;
  let w: World;
  let venueId: string;
  let events: EventsService;
  let days = 30;

  beforeAll(async () => {
    t = await startTestApp('signup-rush', { DATABASE_POOL_SIZE: String(POOL_SIZE), SIGNUP_QUEUE_PER_EVENT: String(LANE_QUEUE) });
    w = await createWorld(t);
    venueId = await createVenue(t, { capacity: 2000 });
    events = t.app.get(EventsService);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  /** An event of its own day (one venue, so no two overlap). */
  const newEvent = async (seats: number): Promise<string> => (await publishedEvent(t, w, venueId, (days += 2), seats)).id;
  const signUp = (who: Session, orderId: string, attendees = 1): Test => t.http().post(`/events/${orderId}/signups`).set(who.auth).send({ attendees });
  /** Sends the request now (supertest sends on `then`), for answers awaited later. */
  const send = (request: Test): Promise<Response> => request.then((res) => res);
  const lane = (orderId: string) => events.signupLoad(orderId);

  /** The event's row lock, held by another session until released (what a slow batch of another API process does). */
  const holdEventLock = async (orderId: string): Promise<{ client: PoolClient; release: () => Promise<void> }> => {
    const client = await t.db.connect();
    await client.query('BEGIN');
    await client.query('SELECT 1 FROM events WHERE order_id = $1 FOR UPDATE', [orderId]);
    return {
      client,
      release: async () => {
        await client.query('COMMIT');
        client.release();
      },
    };
  };

  /** The API's connections now waiting for a lock (the test's own sessions have another application_name). */
  const apiLockWaits = async (): Promise<number> =>
    Number(
      (
        await t.db.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'kepu-dispatch' AND wait_event_type = 'Lock'`,
        )
      ).rows[0]?.n,
    );

  /** Sign-ups that reached their handler: the write limit counts each before it runs. */
  const signupsCounted = async (who: Session[]): Promise<number> =>
    Number(
      (
        await t.db.query<{ n: string }>(`SELECT coalesce(sum(hits), 0) AS n FROM rate_limit_counters WHERE key = ANY($1::text[])`, [
          who.map((s) => `write.signups.create:${s.id}`),
        ])
      ).rows[0]?.n,
    );

  /** Sends the requests one after another, each once the one before waits in the event's lane: their order in it is known. */
  const queueInOrder = async (orderId: string, requests: (() => Test)[]): Promise<Promise<Response>[]> => {
    const sent: Promise<Response>[] = [];
    for (const request of requests) {
      const before = lane(orderId).waiting;
      sent.push(send(request()));
      await waitFor(() => lane(orderId).waiting === before + 1, 10_000, `request ${sent.length} waiting in the lane`);
    }
    return sent;
  };

  const rows = async (orderId: string) =>
    (
      await t.db.query<{ id: string; user_id: string; status: string; attendees: number; queue_seq: number }>(
        `SELECT id, user_id, status, attendees, queue_seq FROM event_signups WHERE order_id = $1 ORDER BY queue_seq`,
        [orderId],
      )
    ).rows;
  const counters = async (orderId: string) =>
    (await t.db.query<{ seats: number; confirmed: number; waitlisted: number }>(`SELECT seats, confirmed, waitlisted FROM events WHERE order_id = $1`, [orderId])).rows[0];
  const confirmations = async (orderId: string) =>
    (await t.db.query<{ payload: Record<string, unknown> }>(`SELECT payload FROM outbox WHERE type = 'signup.confirmed' AND order_id = $1`, [orderId])).rows.map(
      (r) => r.payload,
    );

  it('150 at once while the event\'s lock is held elsewhere: one API connection waits for it and GET /me answers meanwhile; then all 201, exactly the seats confirmed, the line 1…n in arrival order', async () => {
    const seats = 20;
    const orderId = await newEvent(seats);
    const rush = await manyResidents(t, 150);
    const lock = await holdEventLock(orderId);
    let answers: Promise<Response[]>;
    try {
      answers = Promise.all(rush.map((r) => send(signUp(r, orderId))));
      // Every sign-up at its handler — or, as before lanes, every pooled connection waiting for the lock and the rest for a connection.
      await waitFor(async () => (await signupsCounted(rush)) === rush.length || (await apiLockWaits()) === POOL_SIZE, 30_000, 'all 150 sign-ups at their handler');
      await waitFor(async () => (await apiLockWaits()) >= 1, 10_000, 'an API connection waiting for the event\'s lock');
      // The pool is not all waiting for the lock: another request gets a connection (before, every one waited, and this one failed after 5 s with 503).
      const me = await t.http().get('/me').set(w.residentA1.auth);
      expect(outcome(me)).toEqual({ status: 200, code: undefined });
      await waitFor(() => lane(orderId).deciding + lane(orderId).waiting === rush.length, 10_000, 'all 150 in the event\'s lane');
      // The first is decided alone and waits for the lock on the one connection; the others wait in memory.
      expect(lane(orderId)).toEqual({ deciding: 1, waiting: 149 });
      expect(await apiLockWaits()).toBe(1);
    } finally {
      await lock.release();
    }
    const made = await answers;
    expect(made.map(outcome).filter((o) => o.status !== 201)).toEqual([]);
    const answered = new Map(made.map((res) => [(res.body as SignupJson).id, res.body as SignupJson]));
    const written = await rows(orderId);
    expect(written).toHaveLength(150);
    // First come, first served: the first `seats` in the line are confirmed, each answered as written.
    expect(written.map((r) => r.status)).toEqual([...Array<string>(seats).fill('confirmed'), ...Array<string>(130).fill('waitlisted')]);
    expect(written.map((r) => answered.get(r.id)?.status)).toEqual(written.map((r) => r.status));
    expect(written.slice(seats).map((r) => answered.get(r.id)?.position)).toEqual(Array.from({ length: 130 }, (_, i) => i + 1));
    expect(await counters(orderId)).toEqual({ seats, confirmed: seats, waitlisted: 130 });
    // One signup.confirmed per confirmed sign-up, as one sign-up alone writes it.
    const told = await confirmations(orderId);
    expect(told.map((p) => p.signupId).sort()).toEqual(written.slice(0, seats).map((r) => r.id).sort());
    for (const p of told) {
      const row = written.find((r) => r.id === p.signupId);
      expect(p).toEqual({ orderId, userIds: [row?.user_id], signupId: row?.id, ticketCode: answered.get(row?.id ?? '')?.ticketCode, when: expect.any(String) as string });
    }
  }, 90_000);

  it('the same resident twice in one batch: one 201, one 409 ALREADY_SIGNED_UP; the others of the batch are seated as if alone', async () => {
    const orderId = await newEvent(3);
    const [opener, twice, other, last] = await manyResidents(t, 4);
    const lock = await holdEventLock(orderId);
    let first: Promise<Response>;
    let batch: Promise<Response>[];
    try {
      first = send(signUp(opener!, orderId));
      await waitFor(() => lane(orderId).deciding === 1, 10_000, 'the opener being decided');
      batch = await queueInOrder(orderId, [() => signUp(twice!, orderId, 1), () => signUp(other!, orderId, 1), () => signUp(twice!, orderId, 2), () => signUp(last!, orderId, 1)]);
    } finally {
      await lock.release();
    }
    expect((await first).body).toMatchObject({ status: 'confirmed' });
    const [a, b, again, d] = await Promise.all(batch);
    expect(a?.body).toMatchObject({ status: 'confirmed', attendees: 1 });
    expect(b?.body).toMatchObject({ status: 'confirmed', attendees: 1 });
    expectProblem(again!, 409, 'ALREADY_SIGNED_UP');
    expect(d?.body).toMatchObject({ status: 'waitlisted', position: 1 });
    expect(await count(t.db, 'event_signups', 'order_id = $1 AND user_id = $2', [orderId, twice!.id])).toBe(1);
    expect(await counters(orderId)).toEqual({ seats: 3, confirmed: 3, waitlisted: 1 });
    expect(await confirmations(orderId)).toHaveLength(3);
  });

  it('an event that closes while a batch waits refuses the whole batch (422 SIGNUP_CLOSED), writing nothing', async () => {
    const orderId = await newEvent(10);
    const people = await manyResidents(t, 6);
    const lock = await holdEventLock(orderId);
    let answers: Promise<Response>[];
    try {
      const first = send(signUp(people[0]!, orderId));
      await waitFor(() => lane(orderId).deciding === 1, 10_000, 'the first being decided');
      answers = [first, ...(await queueInOrder(orderId, people.slice(1).map((p) => () => signUp(p, orderId, 2))))];
      // The deadline passes (moved back, under the lock) before any of them is decided.
      await lock.client.query(`UPDATE events SET signup_deadline = now() - interval '1 hour' WHERE order_id = $1`, [orderId]);
    } finally {
      await lock.release();
    }
    for (const res of await Promise.all(answers)) expectProblem(res, 422, 'SIGNUP_CLOSED');
    expect(await rows(orderId)).toEqual([]);
    expect(await counters(orderId)).toEqual({ seats: 10, confirmed: 0, waitlisted: 0 });
    expect(await confirmations(orderId)).toEqual([]);
  });

  it('one sign-up of a batch that cannot be written (its account removed while it waited) fails alone; the others are seated after those before them', async () => {
    const orderId = await newEvent(2);
    const [opener, a, removed, c, d] = await manyResidents(t, 5);
    const lock = await holdEventLock(orderId);
    let first: Promise<Response>;
    let batch: Promise<Response>[];
    try {
      first = send(signUp(opener!, orderId));
      await waitFor(() => lane(orderId).deciding === 1, 10_000, 'the opener being decided');
      batch = await queueInOrder(orderId, [a!, removed!, c!, d!].map((who) => () => signUp(who, orderId)));
      await t.db.query(`DELETE FROM users WHERE id = $1`, [removed!.id]);
    } finally {
      await lock.release();
    }
    expect((await first).body).toMatchObject({ status: 'confirmed' });
    const [ra, rRemoved, rc, rd] = await Promise.all(batch);
    expect(ra?.body).toMatchObject({ status: 'confirmed' });
    expectProblem(rRemoved!, 422, 'UNKNOWN_REFERENCE');
    expect(rc?.body).toMatchObject({ status: 'waitlisted', position: 1 });
    expect(rd?.body).toMatchObject({ status: 'waitlisted', position: 2 });
    expect((await rows(orderId)).map((r) => r.user_id)).toEqual([opener!.id, a!.id, c!.id, d!.id]);
    expect(await counters(orderId)).toEqual({ seats: 2, confirmed: 2, waitlisted: 2 });
    expect((await confirmations(orderId)).map((p) => (p.userIds as string[])[0]).sort()).toEqual([opener!.id, a!.id].sort());
  });

  it(`past ${LANE_QUEUE} waiting sign-ups for one event the next is 503 DEPENDENCY_UNAVAILABLE with Retry-After: 1, writing nothing; retried, it is taken`, async () => {
    const orderId = await newEvent(50);
    const [opener, ...crowd] = await manyResidents(t, LANE_QUEUE + 2);
    const late = crowd.pop()!;
    const lock = await holdEventLock(orderId);
    let answers: Promise<Response[]>;
    try {
      const first = send(signUp(opener!, orderId));
      await waitFor(() => lane(orderId).deciding === 1, 10_000, 'the opener being decided');
      answers = Promise.all([first, ...crowd.map((p) => send(signUp(p, orderId)))]);
      await waitFor(() => lane(orderId).waiting === LANE_QUEUE, 30_000, 'a full lane');
      const refused = await signUp(late, orderId);
      expectProblem(refused, 503, 'DEPENDENCY_UNAVAILABLE');
      expect(refused.headers['retry-after']).toBe('1');
      expect(await signupsCounted([late])).toBe(0);
    } finally {
      await lock.release();
    }
    expect((await answers).map(outcome).filter((o) => o.status !== 201)).toEqual([]);
    expect(await count(t.db, 'event_signups', 'order_id = $1 AND user_id = $2', [orderId, late.id])).toBe(0);
    // The opener and the full lane were taken: 50 confirmed, the rest waiting; the retry joins the line behind them.
    const taken = 1 + LANE_QUEUE;
    expect((await signUp(late, orderId)).body).toMatchObject({ status: 'waitlisted', position: taken - 50 + 1 });
    expect(await counters(orderId)).toEqual({ seats: 50, confirmed: 50, waitlisted: taken + 1 - 50 });
  }, 90_000);

  it('a cancellation waits in the lane in its place: the sign-up before it is answered waiting, then promoted; the one after it waits behind the promoted', async () => {
    const orderId = await newEvent(2);
    const [a, b, c, d] = await manyResidents(t, 4);
    const sa = (await signUp(a!, orderId).expect(201)).body as SignupJson;
    await signUp(b!, orderId).expect(201);
    const lock = await holdEventLock(orderId);
    let before: Promise<Response>;
    let rest: Promise<Response>[];
    try {
      before = send(signUp(c!, orderId));
      await waitFor(() => lane(orderId).deciding === 1, 10_000, 'c being decided');
      rest = await queueInOrder(orderId, [() => t.http().post(`/signups/${sa.id}/cancel`).set(a!.auth), () => signUp(d!, orderId)]);
    } finally {
      await lock.release();
    }
    expect((await before).body).toMatchObject({ status: 'waitlisted', position: 1 });
    const [cancelled, after] = await Promise.all(rest);
    expect(cancelled?.body).toMatchObject({ id: sa.id, status: 'cancelled' });
    expect(after?.body).toMatchObject({ status: 'waitlisted', position: 1 });
    const byUser = new Map((await rows(orderId)).map((r) => [r.user_id, r.status]));
    expect([a, b, c, d].map((p) => byUser.get(p!.id))).toEqual(['cancelled', 'confirmed', 'confirmed', 'waitlisted']);
    expect(await counters(orderId)).toEqual({ seats: 2, confirmed: 2, waitlisted: 1 });
    expect(await count(t.db, 'outbox', `type = 'signup.promoted' AND order_id = $1`, [orderId])).toBe(1);
  });
});
