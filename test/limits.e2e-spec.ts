import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request, { type Response } from 'supertest';
import { createApiApp } from '../apps/api/src/app.factory';
import { acceptedOrder, ALWAYS, createVenue, createVolunteerWithLogin, scheduleBody, type VolunteerWithLogin, wideWindows } from './support/fulfilment-world';
import { expectProblem, outcome } from './support/problem';
import { count, startTestApp, type TestApp } from './support/test-app';
import { openTestQueues, startTestWorker, suitePrefix, type TestQueues, type TestWorker } from './support/test-worker';
import { clearOfWindowEnd, waitFor } from './support/wait';
import { COMMUNITY_A1, COMMUNITY_A2, createWorld, login, orderBody, orderIn, type OrderJson, type Session, type World } from './support/world';

const ORDERS_PER_HOUR = 4;
const CLAIMS_PER_ORDER_PER_DAY = 2;
const SIGNUPS_PER_HOUR = 2;

/** `limit=4, remaining=1, reset=1200` → its numbers. */
function rateLimitOf(res: Response): { limit: number; remaining: number; reset: number } {
  const header = String(res.headers['ratelimit'] ?? '');
  const match = /^limit=(\d+), remaining=(\d+), reset=(\d+)$/.exec(header);
  if (!match) throw new Error(`RateLimit header "${header}" (status ${res.status})`);
  return { limit: Number(match[1]), remaining: Number(match[2]), reset: Number(match[3]) };
}

const tally = (answers: Response[]): Record<string, number> => {
  const byOutcome: Record<string, number> = {};
  for (const { status, code } of answers.map(outcome)) {
    const key = status < 300 ? String(status) : `${status} ${String(code)}`;
    byOutcome[key] = (byOutcome[key] ?? 0) + 1;
  }
  return byOutcome;
};

/** Issue #14 item 8: per-user write limits shared by the API processes, paged order histories, SMS-safe texts. */
describe('write limits', () => {
  let t: TestApp;
  let w: World;
  let second: NestFastifyApplication;
  let secondUrl: string;

  beforeAll(async () => {
    t = await startTestApp('limits', {
      WRITE_RATE_LIMIT_PER_HOUR: '1000',
      WRITE_RATE_LIMITS: `orders.create=${ORDERS_PER_HOUR},signups.create=${SIGNUPS_PER_HOUR}`,
      BROADCASTS_PER_HOUR: '3',
      SLOT_CLAIMS_PER_ORDER_PER_DAY: String(CLAIMS_PER_ORDER_PER_DAY),
      QUEUE_PREFIX: suitePrefix('limits'),
      OUTBOX_POLL_MS: '200',
    });
    // A second API process on the same database: the limits are shared, not per process.
    second = await createApiApp({ logger: false });
    await second.listen({ port: 0, host: '127.0.0.1' });
    const address = second.getHttpServer().address();
    secondUrl = typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : '';
    w = await createWorld(t);
  });
  afterAll(async () => {
    await second?.close();
    await t?.close();
  });

  describe('order creation', () => {
    it(`a user creates at most ${ORDERS_PER_HOUR} orders an hour across both API processes, racing; refused writes do not count; others are not slowed`, async () => {
      await clearOfWindowEnd(3600);
      const me = w.residentA2;
      const create = (url: string, body: object = orderBody(COMMUNITY_A2)) => request(url).post('/orders').set(me.auth).send(body);

      // a refused write (400) spends nothing
      expectProblem(await create(t.url, { ...orderBody(COMMUNITY_A2), expectedAttendance: 0 }), 400, 'VALIDATION_FAILED', 'expectedAttendance');
      const first = await create(t.url).expect(201);
      expect(first.headers['ratelimit-policy']).toBe(`${ORDERS_PER_HOUR};w=3600`);
      expect(rateLimitOf(first)).toMatchObject({ limit: ORDERS_PER_HOUR, remaining: ORDERS_PER_HOUR - 1 });
      expect(rateLimitOf(first).reset).toBeGreaterThan(0);
      expect(rateLimitOf(first).reset).toBeLessThanOrEqual(3600);

      // 8 at once, alternating between the two processes: exactly the 3 left pass
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => create(i % 2 === 0 ? t.url : secondUrl)));
      expect(tally(answers)).toEqual({ '201': ORDERS_PER_HOUR - 1, '429 RATE_LIMITED': 8 - (ORDERS_PER_HOUR - 1) });
      expect(await count(t.db, 'orders', 'requester_id = $1', [me.id])).toBe(ORDERS_PER_HOUR);
      expect(answers.filter((r) => r.status === 201).map((r) => rateLimitOf(r).remaining).sort()).toEqual([0, 1, 2]);

      const refused = answers.find((r) => r.status === 429) as Response;
      expectProblem(refused, 429, 'RATE_LIMITED');
      const retryAfter = Number(refused.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(3600);
      expect(refused.headers['ratelimit-policy']).toBe(`${ORDERS_PER_HOUR};w=3600`);
      expect(rateLimitOf(refused)).toEqual({ limit: ORDERS_PER_HOUR, remaining: 0, reset: retryAfter });
      // with an Idempotency-Key too: the limit comes before the idempotency record
      expectProblem(await create(secondUrl).set('Idempotency-Key', 'after-the-limit'), 429, 'RATE_LIMITED');

      // another user of the same community is not slowed
      const other = await request(t.url).post('/orders').set(w.staffA2.auth).send(orderBody(COMMUNITY_A2)).expect(201);
      expect(rateLimitOf(other).remaining).toBe(ORDERS_PER_HOUR - 1);

      // a replayed Idempotency-Key answer wrote nothing, and spends nothing
      const body = orderBody(COMMUNITY_A2);
      const keyed = await request(t.url).post('/orders').set(w.staffA2.auth).set('Idempotency-Key', 'limits-once').send(body).expect(201);
      expect(rateLimitOf(keyed).remaining).toBe(ORDERS_PER_HOUR - 2);
      const replayed = await request(secondUrl).post('/orders').set(w.staffA2.auth).set('Idempotency-Key', 'limits-once').send(body).expect(201);
      expect(replayed.headers['idempotent-replayed']).toBe('true');
      expect((replayed.body as { id: string }).id).toBe((keyed.body as { id: string }).id);
      expect(rateLimitOf(replayed).remaining).toBe(ORDERS_PER_HOUR - 2);
      expect(rateLimitOf(await request(t.url).post('/orders').set(w.staffA2.auth).send(orderBody(COMMUNITY_A2)).expect(201)).remaining).toBe(ORDERS_PER_HOUR - 3);

      // past the limit, the repeat of an answered key still replays (it writes nothing); a new key is refused
      await request(t.url).post('/orders').set(w.staffA2.auth).send(orderBody(COMMUNITY_A2)).expect(201);
      const late = await request(secondUrl).post('/orders').set(w.staffA2.auth).set('Idempotency-Key', 'limits-once').send(body).expect(201);
      expect(late.headers['idempotent-replayed']).toBe('true');
      expect((late.body as { id: string }).id).toBe((keyed.body as { id: string }).id);
      expect(rateLimitOf(late).remaining).toBe(0);
      expectProblem(await request(t.url).post('/orders').set(w.staffA2.auth).set('Idempotency-Key', 'limits-new').send(body), 429, 'RATE_LIMITED');
      expect(await count(t.db, 'orders', 'requester_id = $1', [w.staffA2.id])).toBe(ORDERS_PER_HOUR);
    });

    it('unlimited routes carry no RateLimit headers', async () => {
      const list = await t.http().get('/orders').set(w.residentA2.auth).expect(200);
      expect(list.headers['ratelimit']).toBeUndefined();
      expect(list.headers['ratelimit-policy']).toBeUndefined();
    });
  });

  describe('slot claims and withdrawals', () => {
    let order: OrderJson;
    let v: VolunteerWithLogin;
    let other: VolunteerWithLogin;

    beforeAll(async () => {
      const accepted = await orderIn(t, w, 'accepted');
      order = (await t.http().post(`/orders/${accepted.id}/schedule`).set(w.orgHaidian.auth).send(scheduleBody(accepted, await createVenue(t), { openSlots: 2 })).expect(200)).body as OrderJson;
      v = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
      other = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
    });

    const claim = (who: Session, url = t.url) => request(url).post(`/orders/${order.id}/slots/claim`).set(who.auth).send({});
    const withdraw = (who: Session, id: string) => request(t.url).post(`/assignments/${id}/withdraw`).set(who.auth).send({});

    it(`claim/withdraw cycles: at most ${CLAIMS_PER_ORDER_PER_DAY} claims of one order a day for one volunteer, though a slot is free; others still claim`, async () => {
      await clearOfWindowEnd(86400, 30_000);
      const first = await claim(v.session).expect(201);
      expect(first.headers['ratelimit-policy']).toBe(`1000;w=3600, ${CLAIMS_PER_ORDER_PER_DAY};w=86400`);
      expect(rateLimitOf(first)).toMatchObject({ limit: CLAIMS_PER_ORDER_PER_DAY, remaining: CLAIMS_PER_ORDER_PER_DAY - 1 });
      const firstWithdrawal = await withdraw(v.session, (first.body as { id: string }).id).expect(200);
      expect(firstWithdrawal.headers['ratelimit-policy']).toBe('1000;w=3600');
      expect(rateLimitOf(firstWithdrawal)).toMatchObject({ limit: 1000, remaining: 999 });

      // the second claim races itself on both processes: one takes the last claim of the day, the other is refused
      const racing = await Promise.all([claim(v.session), claim(v.session, secondUrl)]);
      expect(tally(racing)).toEqual({ '201': 1, '429 RATE_LIMITED': 1 });
      const second = racing.find((r) => r.status === 201) as Response;
      expect(rateLimitOf(second)).toMatchObject({ limit: CLAIMS_PER_ORDER_PER_DAY, remaining: 0 });
      await withdraw(v.session, (second.body as { id: string }).id).expect(200);

      // refused until the day's window (epoch-aligned, like every window) ends, not the hour's
      const untilDayEnds = () => 86_400 - (Math.floor(Date.now() / 1000) % 86_400);
      const latest = untilDayEnds();
      const third = await claim(v.session);
      const earliest = untilDayEnds();
      expectProblem(third, 429, 'RATE_LIMITED');
      const retryAfter = Number(third.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(earliest);
      expect(retryAfter).toBeLessThanOrEqual(latest);
      expect(rateLimitOf(third)).toMatchObject({ limit: CLAIMS_PER_ORDER_PER_DAY, remaining: 0, reset: retryAfter });
      expect(await count(t.db, 'assignments', `order_id = $1 AND status = 'confirmed'`, [order.id])).toBe(0);

      // the slots are free for the others
      expect(rateLimitOf(await claim(other.session).expect(201)).remaining).toBe(CLAIMS_PER_ORDER_PER_DAY - 1);
    });
  });

  describe('paged histories: GET /orders/:id/events and /orders/:id/assignments stay bare arrays, paged by limit/cursor and X-Next-Cursor', () => {
    /** Every item, following X-Next-Cursor `limit` at a time. */
    const walk = async (path: string, who: Session, limit: number): Promise<{ items: unknown[]; pages: number }> => {
      const items: unknown[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const res = await t.http().get(path).query({ limit, ...(cursor ? { cursor } : {}) }).set(who.auth).expect(200);
        expect(Array.isArray(res.body)).toBe(true);
        expect((res.body as unknown[]).length).toBeLessThanOrEqual(limit);
        items.push(...(res.body as unknown[]));
        cursor = res.headers['x-next-cursor'] as string | undefined;
        pages++;
      } while (cursor);
      return { items, pages };
    };

    it('events: the whole history in one answer by default, the same history page by page', async () => {
      const order = await orderIn(t, w, 'accepted');
      const whole = await t.http().get(`/orders/${order.id}/events`).set(w.staffA1.auth).expect(200);
      expect(whole.headers['x-next-cursor']).toBeUndefined();
      const events = whole.body as { seq: number }[];
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: order.version }, (_, i) => i + 1));
      const paged = await walk(`/orders/${order.id}/events`, w.staffA1, 2);
      expect(paged.items).toEqual(events);
      expect(paged.pages).toBe(Math.ceil(order.version / 2));
      expectProblem(await t.http().get(`/orders/${order.id}/events`).query({ limit: 101 }).set(w.staffA1.auth), 400, 'VALIDATION_FAILED', 'limit');
      expectProblem(await t.http().get(`/orders/${order.id}/events`).query({ cursor: 'bm90LWEtY3Vyc29y' }).set(w.staffA1.auth), 400, 'VALIDATION_FAILED', 'cursor');
      // still scoped: outside it, 404
      expectProblem(await t.http().get(`/orders/${order.id}/events`).query({ limit: 1 }).set(w.staffB1.auth), 404, 'NOT_FOUND');
    });

    it('assignments: the team in the order it was made, one at a time', async () => {
      const accepted = await orderIn(t, w, 'accepted');
      const team = await Promise.all([1, 2, 3].map(() => createVolunteerWithLogin(t, { organizationId: w.organizations.haidian })));
      const order = (
        await t.http().post(`/orders/${accepted.id}/schedule`).set(w.orgHaidian.auth).send(scheduleBody(accepted, await createVenue(t), { volunteerIds: team.map((v) => v.id) })).expect(200)
      ).body as OrderJson;
      const whole = await t.http().get(`/orders/${order.id}/assignments`).set(w.orgHaidian.auth).expect(200);
      expect(whole.headers['x-next-cursor']).toBeUndefined();
      expect((whole.body as { volunteerId: string }[]).map((a) => a.volunteerId).sort()).toEqual(team.map((v) => v.id).sort());
      const paged = await walk(`/orders/${order.id}/assignments`, w.orgHaidian, 1);
      expect(paged.items).toEqual(whole.body);
      expect(paged.pages).toBe(3);
      // a volunteer on the team reads it too, page by page
      expect((await walk(`/orders/${order.id}/assignments`, (team[2] as VolunteerWithLogin).session, 2)).items).toEqual(whole.body);
      expectProblem(await t.http().get(`/orders/${order.id}/assignments`).query({ cursor: '!!' }).set(w.orgHaidian.auth), 400, 'VALIDATION_FAILED', 'cursor');
    });
  });

  describe('volunteer applications', () => {
    it('are limited writes: the answers carry the policy, a refused second application gives its hit back', async () => {
      const body = {
        organizationId: w.organizations.haidian,
        displayName: '王老师',
        phone: '13800001234',
        homeCommunityCode: COMMUNITY_A1,
        skills: [{ topic: 'anti_fraud', level: 3 }],
        audiences: ['elderly'],
        formats: ['lecture'],
        languages: ['zh'],
        availability: ALWAYS,
        maxHoursPerWeek: 10,
      };
      const applied = await t.http().post('/volunteer-applications').set(w.residentA1b.auth).send(body).expect(201);
      expect(applied.headers['ratelimit-policy']).toBe('1000;w=3600');
      expect(rateLimitOf(applied)).toMatchObject({ limit: 1000, remaining: 999 });
      const again = await t.http().post('/volunteer-applications').set(w.residentA1b.auth).send(body);
      expectProblem(again, 409, 'APPLICATION_PENDING');
      expect(rateLimitOf(again)).toMatchObject({ remaining: 999 });
    });
  });

  describe('sign-ups and broadcasts', () => {
    it(`a resident signs up at most ${SIGNUPS_PER_HOUR} times an hour, cancel-and-sign-up cycles included; a refused sign-up gives its hit back; others still sign up`, async () => {
      await clearOfWindowEnd(3600);
      const order = await acceptedOrder(t, w, wideWindows(12));
      const venueId = await createVenue(t, { capacity: 500 });
      await t.http().post(`/orders/${order.id}/schedule`).set(w.orgHaidian.auth).send(scheduleBody(order, venueId, { openSlots: 1 })).expect(200);
      await t.http().post(`/orders/${order.id}/publish`).set(w.orgHaidian.auth).send({ seats: 20 }).expect(201);
      const signUp = (who: Session) => t.http().post(`/events/${order.id}/signups`).set(who.auth).send({});
      const cancel = (id: string) => t.http().post(`/signups/${id}/cancel`).set(w.residentA1.auth).expect(200);

      const first = await signUp(w.residentA1).expect(201);
      expect(first.headers['ratelimit-policy']).toBe(`${SIGNUPS_PER_HOUR};w=3600`);
      expect(rateLimitOf(first)).toMatchObject({ limit: SIGNUPS_PER_HOUR, remaining: SIGNUPS_PER_HOUR - 1 });
      const twice = await signUp(w.residentA1);
      expectProblem(twice, 409, 'ALREADY_SIGNED_UP');
      expect(rateLimitOf(twice)).toMatchObject({ remaining: SIGNUPS_PER_HOUR - 1 });
      await cancel((first.body as { id: string }).id);
      const second = await signUp(w.residentA1).expect(201);
      expect(rateLimitOf(second)).toMatchObject({ remaining: 0 });
      await cancel((second.body as { id: string }).id);
      const refused = await signUp(w.residentA1);
      expectProblem(refused, 429, 'RATE_LIMITED');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(await count(t.db, 'event_signups', 'order_id = $1 AND user_id = $2', [order.id, w.residentA1.id])).toBe(2);
      await signUp(w.residentA1b).expect(201);
    });

    it('broadcasts are limited writes at BROADCASTS_PER_HOUR, with the RateLimit headers; a refused one gives its hit back', async () => {
      await clearOfWindowEnd(3600);
      const body = { title: '防诈骗提醒', body: '近期冒充客服诈骗多发，请提醒家中老人。', roles: ['resident'], channels: ['in_app'] };
      const send = (extra: object = {}) => t.http().post('/broadcasts').set(w.coordHaidian.auth).send({ ...body, ...extra });
      const first = await send().expect(202);
      expect(first.headers['ratelimit-policy']).toBe('3;w=3600');
      expect(rateLimitOf(first)).toMatchObject({ limit: 3, remaining: 2 });
      const elsewhere = await send({ districtCodes: ['110105'] });
      expectProblem(elsewhere, 403, 'FORBIDDEN');
      expect(rateLimitOf(elsewhere)).toMatchObject({ remaining: 2 });
      await send().expect(202);
      await send().expect(202);
      const refused = await send();
      expectProblem(refused, 429, 'RATE_LIMITED');
      expect(rateLimitOf(refused)).toMatchObject({ limit: 3, remaining: 0 });
      expect(await count(t.db, 'broadcasts', 'sender_id = $1', [w.coordHaidian.id])).toBe(3);
    });
  });

  describe('SMS texts carrying user input', () => {
    let worker: TestWorker;
    let queues: TestQueues;

    beforeAll(async () => {
      worker = await startTestWorker();
      queues = openTestQueues();
    });
    afterAll(async () => {
      await worker?.close();
      await queues?.obliterate();
      await queues?.close();
    });

    it('carry no link and stay short; the in-app notice keeps what was written', async () => {
      await t
        .http()
        .post('/users')
        .set(w.admin.auth)
        .send({ username: 'staff-a1-sms', password: 'staff-a1-sms-pass-1', displayName: '短信', role: 'community_staff', communityCode: COMMUNITY_A1, phone: '13900000009' })
        .expect(201);
      const staff = await login(t, 'staff-a1-sms', 'staff-a1-sms-pass-1');
      await t.http().put('/me/notification-preferences').set(staff.auth).send({ sms: true, email: false, wechat: false, quietHours: false }).expect(200);
      const title = `领奖请点 https://phish.example/login?u=1 或 ｗｗｗ．ｅｖｉｌ．ｃｎ ${'长'.repeat(60)}`;
      const order = (await t.http().post('/orders').set(w.residentA1b.auth).send(orderBody(COMMUNITY_A1, { title })).expect(201)).body as OrderJson;

      const sms = await waitFor(
        async () => (await t.db.query<{ title: string; body: string }>(`SELECT title, body FROM deliveries WHERE order_id = $1 AND user_id = $2 AND channel = 'sms'`, [order.id, staff.id])).rows[0],
        20_000,
        'the SMS delivery of order.submitted',
      );
      expect(sms.body).not.toMatch(/phish|example|evil|https?:|ｗｗｗ/i);
      expect(sms.body).toContain('领奖请点 [链接] 或 [链接]');
      expect(Array.from(sms.body).length).toBeLessThanOrEqual(200);
      expect(sms.body).toContain(String(order.code));
      expect(sms.title).toBe('新的科普服务需求');
      const inApp = (await t.db.query<{ body: string }>(`SELECT body FROM notifications WHERE order_id = $1 AND user_id = $2`, [order.id, staff.id])).rows[0];
      expect(inApp?.body).toContain(title);
    });
  });

  describe('the API document (#14 item 9)', () => {
    interface Schema {
      type?: string;
      maxLength?: number;
      enum?: unknown[];
      pattern?: string;
      properties?: Record<string, Schema>;
      additionalProperties?: unknown;
    }
    interface DocResponse {
      headers?: Record<string, unknown>;
      content?: unknown;
    }
    interface DocOperation {
      security?: Record<string, unknown>[];
      responses: Record<string, DocResponse>;
      'x-kepu-rate-limit'?: unknown;
      'x-kepu-public'?: boolean;
    }
    let doc: { paths: Record<string, Record<string, DocOperation>>; components: { schemas: Record<string, Schema> } };

    beforeAll(async () => {
      doc = (await t.http().get('/docs-json').expect(200)).body as typeof doc;
    });

    const operations = () => Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ at: `${method.toUpperCase()} ${path}`, op })));

    it('every operation documents 400, 429 (with Retry-After) and 500 problems; every one but the public ones the bearer token and 401', () => {
      const missing: string[] = [];
      for (const { at, op } of operations()) {
        for (const status of ['400', '429', '500']) if (!op.responses[status]?.content) missing.push(`${at} ${status}`);
        if (!op.responses['429']?.headers?.['Retry-After']) missing.push(`${at} 429 Retry-After`);
        if (op['x-kepu-public']) continue;
        if (!op.responses['401']?.content) missing.push(`${at} 401`);
        if (JSON.stringify(op.security) !== JSON.stringify([{ bearer: [] }])) missing.push(`${at} security`);
      }
      expect(missing).toEqual([]);
      expect(operations().filter(({ op }) => op['x-kepu-public']).map(({ at }) => at).sort()).toEqual(
        expect.arrayContaining(['POST /auth/login', 'GET /health', 'GET /metrics']),
      );
    });

    it('the limited writes, and only they, document RateLimit and RateLimit-Policy on their answers', () => {
      const limited = operations().filter(({ op }) => op['x-kepu-rate-limit'] !== undefined);
      expect(limited.map(({ at }) => at).sort()).toEqual([
        'POST /assignments/{id}/withdraw',
        'POST /broadcasts',
        'POST /events/{orderId}/signups',
        'POST /orders',
        'POST /orders/{id}/slots/claim',
        'POST /volunteer-applications',
      ]);
      for (const { op } of limited)
        for (const [status, response] of Object.entries(op.responses))
          if (/^2|429/.test(status)) expect(Object.keys(response.headers ?? {})).toEqual(expect.arrayContaining(['RateLimit', 'RateLimit-Policy']));
      const unlimited = operations().find(({ at }) => at === 'GET /orders')?.op;
      expect(unlimited?.responses['200']?.headers?.['RateLimit']).toBeUndefined();
    });

    it('declares the limits the validators enforce: one character past a declared maxLength is refused, naming the field', async () => {
      const order = doc.components.schemas.CreateOrderDto as Schema;
      expect(order.additionalProperties).toBe(false);
      const bounded = Object.entries(order.properties ?? {}).filter(([, p]) => p.type === 'string' && p.maxLength !== undefined && !p.enum);
      expect(bounded.map(([name]) => name)).toEqual(expect.arrayContaining(['title', 'description', 'contactName', 'contactPhone', 'communityCode']));
      const me = await createVolunteerWithLogin(t, { organizationId: w.organizations.haidian });
      for (const [name, property] of bounded) {
        const tooLong = (property.pattern?.includes('\\d') ? '1' : '讲').repeat((property.maxLength as number) + 1);
        expectProblem(await t.http().post('/orders').set(w.staffA1.auth).send(orderBody(COMMUNITY_A1, { [name]: tooLong })), 400, 'VALIDATION_FAILED', name);
      }
      // path ids: declared as UUIDs, refused otherwise
      const claim = operations().find(({ at }) => at === 'POST /orders/{id}/slots/claim')?.op as unknown as { parameters: { name: string; schema: Schema }[] };
      expect(claim.parameters.find((p) => p.name === 'id')?.schema).toMatchObject({ format: 'uuid', maxLength: 36 });
      expectProblem(await t.http().post('/orders/not-a-uuid/slots/claim').set(me.session.auth).send({}), 400, 'VALIDATION_FAILED', 'id');
      expectProblem(await t.http().get('/coverage/districts/1101080/gaps').set(w.admin.auth), 400, 'VALIDATION_FAILED', 'code');
    });
  });
});
