import { NOTIFICATION_RULES } from '@kepu/core';
import { startFakeProvider, type FakeProvider } from './fake-provider';
import { actualNotifications, expectedNotifications, told } from './notification-model';
import { expectProblem } from './problem';
import { startTestApp, type TestApp } from './test-app';
import { drain, openTestQueues, startTestWorker, suitePrefix, type TestQueues, type TestWorker } from './test-worker';
import { COMMUNITY_A1, COMMUNITY_A2, COMMUNITY_B1, createWorld, login, orderBody, type OrderJson, orderIn, type Session, type World } from './world';

export type QueueBackend = 'redis' | 'postgres';

const HOUR_MS = 3600 * 1000;

/** The next 07:00 in Asia/Shanghai (UTC+8) after `at`, when `at` is in the quiet hours (22:00–07:00 there); else null. */
export function quietHoursEnd(at: Date): Date | null {
  const shanghai = new Date(at.getTime() + 8 * HOUR_MS);
  const hour = shanghai.getUTCHours();
  if (hour >= 7 && hour < 22) return null;
  const day = Date.UTC(shanghai.getUTCFullYear(), shanghai.getUTCMonth(), shanghai.getUTCDate()) + (hour >= 22 ? 24 * HOUR_MS : 0);
  return new Date(day + 7 * HOUR_MS - 8 * HOUR_MS);
}

interface DeliveryRecord {
  id: string;
  user_id: string;
  channel: string;
  address: string;
  type: string;
  title: string;
  status: string;
  attempts: number;
  not_before: Date;
  created_at: Date;
}

/**
 * Every transition of the lifecycle tells exactly the users the rules name, once,
 * and nobody else (the actor never); the inbox API; the external channels through
 * the webhook provider — run on one queue backend.
 */
export function describeNotifications(backend: QueueBackend): void {
  describe(`notifications on the ${backend} queue backend`, () => {
    let t: TestApp;
    let w: World;
    let worker: TestWorker;
    let queues: TestQueues;
    let provider: FakeProvider;

    beforeAll(async () => {
      provider = await startFakeProvider();
      t = await startTestApp(`notifications-${backend}`, {
        QUEUE_BACKEND: backend,
        QUEUE_PREFIX: suitePrefix(`notifications-${backend}`),
        NOTIFY_WEBHOOK_URL: provider.url,
        OUTBOX_POLL_MS: '200',
      });
      worker = await startTestWorker();
      queues = openTestQueues();
      w = await createWorld(t);
    }, 60_000);

    afterAll(async () => {
      await worker?.close();
      if (backend === 'redis') await queues?.obliterate();
      await queues?.close();
      await t?.close();
      await provider?.close();
    });

    const settle = () => drain(t.db, queues, { isDeliveryDelayExpected: true });
    const create = async (who: Session, community = COMMUNITY_A1, overrides: Record<string, unknown> = {}): Promise<OrderJson> =>
      (await t.http().post('/orders').set(who.auth).send(orderBody(community, overrides)).expect(201)).body as OrderJson;
    const act = async (who: Session, order: { id: string }, action: string, body: Record<string, unknown> = {}): Promise<OrderJson> =>
      (await t.http().post(`/orders/${order.id}/${action}`).set(who.auth).send(body).expect(200)).body as OrderJson;
    const inbox = async (orderId: string) => {
      await settle();
      return actualNotifications(t.db, orderId);
    };
    const dispatchedTold = (): [Session, string][] => [
      [w.staffA1, 'order.submitted'],
      [w.deptHaidian, 'order.dispatched'],
      [w.deptHaidianB, 'order.dispatched'],
    ];

    describe('every transition tells exactly the users the rules name', () => {
      it('submitted: the staff of the order’s community only; staff creating an order are not told of it', async () => {
        const byResident = await create(w.residentA1);
        const inB1 = await create(w.residentB1, COMMUNITY_B1);
        const byStaff = await create(w.staffA1);
        expect(await inbox(byResident.id)).toEqual(told(byResident.id, [[w.staffA1, 'order.submitted']]));
        expect(await inbox(inB1.id)).toEqual(told(inB1.id, [[w.staffB1, 'order.submitted']]));
        expect(await inbox(byStaff.id)).toEqual([]);
      });

      it('dispatched: the staff of the department it went to, not of the other departments', async () => {
        const order = await orderIn(t, w, 'dispatched');
        expect(await inbox(order.id)).toEqual(told(order.id, dispatchedTold()));
        const toCity = await create(w.residentA1);
        await act(w.staffA1, toCity, 'dispatch', { departmentId: w.departments.city });
        expect(await inbox(toCity.id)).toEqual(
          told(toCity.id, [
            [w.staffA1, 'order.submitted'],
            [w.deptCity, 'order.dispatched'],
          ]),
        );
      });

      it('declined: the requester and the community staff; dispatched again: the new department', async () => {
        const order = await orderIn(t, w, 'dispatched');
        await act(w.deptHaidian, order, 'decline', { reason: '本月排期已满' });
        await act(w.staffA1, order, 'dispatch', { departmentId: w.departments.city });
        expect(await inbox(order.id)).toEqual(
          told(order.id, [
            ...dispatchedTold(),
            [w.residentA1, 'order.declined'],
            [w.staffA1, 'order.declined'],
            [w.deptCity, 'order.dispatched'],
          ]),
        );
        const declined = (await t.db.query<{ body: string }>(`SELECT body FROM notifications WHERE order_id = $1 AND type = 'order.declined'`, [order.id])).rows;
        expect(declined.every((n) => n.body.includes('本月排期已满'))).toBe(true);
      });

      it('claimed: the requester; offered: the admins of the offered organisation only', async () => {
        const order = await orderIn(t, w, 'claimed');
        expect(await inbox(order.id)).toEqual(
          told(order.id, [...dispatchedTold(), [w.residentA1, 'order.claimed'], [w.orgHaidian, 'order.offered']]),
        );
      });

      it('opened: the admins of every organisation serving the district, not of one elsewhere', async () => {
        const order = await orderIn(t, w, 'claimed', { open: true });
        expect(await inbox(order.id)).toEqual(
          told(order.id, [
            ...dispatchedTold(),
            [w.residentA1, 'order.claimed'],
            [w.orgHaidian, 'order.opened'],
            [w.orgHaidian2, 'order.opened'],
          ]),
        );
      });

      it('accepted: the requester and the department; after an open, the accepting admin is not told of its own accept', async () => {
        const offered = await orderIn(t, w, 'accepted');
        expect(await inbox(offered.id)).toEqual(
          told(offered.id, [
            ...dispatchedTold(),
            [w.residentA1, 'order.claimed'],
            [w.orgHaidian, 'order.offered'],
            [w.residentA1, 'order.accepted'],
            [w.deptHaidian, 'order.accepted'],
            [w.deptHaidianB, 'order.accepted'],
          ]),
        );
        const open = await orderIn(t, w, 'claimed', { open: true });
        await act(w.orgHaidian2, open, 'accept');
        expect(await inbox(open.id)).toEqual(
          told(open.id, [
            ...dispatchedTold(),
            [w.residentA1, 'order.claimed'],
            [w.orgHaidian, 'order.opened'],
            [w.orgHaidian2, 'order.opened'],
            [w.residentA1, 'order.accepted'],
            [w.deptHaidian, 'order.accepted'],
            [w.deptHaidianB, 'order.accepted'],
          ]),
        );
      });

      it('released: the department’s staff; the releasing organisation is not told', async () => {
        const order = await orderIn(t, w, 'accepted');
        await act(w.orgHaidian, order, 'release', { reason: '志愿者不足' });
        const all = await inbox(order.id);
        expect(all.filter((k) => k.includes('order.released'))).toEqual(
          told(order.id, [
            [w.deptHaidian, 'order.released'],
            [w.deptHaidianB, 'order.released'],
          ]),
        );
        expect(all).toEqual(await expectedNotifications(t.db, order.id));
      });

      it('rejected: the requester only', async () => {
        const order = await create(w.residentA1);
        await act(w.staffA1, order, 'reject', { reason: '不属于科普服务' });
        expect(await inbox(order.id)).toEqual(
          told(order.id, [
            [w.staffA1, 'order.submitted'],
            [w.residentA1, 'order.rejected'],
          ]),
        );
      });

      it('merged: the requester of the merged order; the primary order’s people hear nothing new', async () => {
        const primary = await create(w.residentA1);
        const duplicate = await create(w.residentA1b);
        await act(w.staffA1, duplicate, 'merge', { primaryOrderId: primary.id });
        expect(await inbox(duplicate.id)).toEqual(
          told(duplicate.id, [
            [w.staffA1, 'order.submitted'],
            [w.residentA1b, 'order.merged'],
          ]),
        );
        expect(await inbox(primary.id)).toEqual(told(primary.id, [[w.staffA1, 'order.submitted']]));
      });

      it('cancelled from submitted, dispatched, claimed (offered and open) and accepted: everyone involved, never the canceller', async () => {
        const submitted = await create(w.residentA1);
        await act(w.residentA1, submitted, 'cancel', { reason: '不需要了' });
        const dispatched = await orderIn(t, w, 'dispatched');
        await act(w.staffA1, dispatched, 'cancel', { reason: '场地装修' });
        const offered = await orderIn(t, w, 'claimed');
        await act(w.residentA1, offered, 'cancel', { reason: '时间冲突' });
        const open = await orderIn(t, w, 'claimed', { open: true });
        await act(w.staffA1, open, 'cancel', { reason: '时间冲突' });
        const accepted = await orderIn(t, w, 'accepted');
        await act(w.staffA1, accepted, 'cancel', { reason: '活动取消' });

        expect(await inbox(submitted.id)).toEqual(
          told(submitted.id, [
            [w.staffA1, 'order.submitted'],
            [w.staffA1, 'order.cancelled'],
          ]),
        );
        expect(await inbox(dispatched.id)).toEqual(
          told(dispatched.id, [
            ...dispatchedTold(),
            [w.residentA1, 'order.cancelled'],
            [w.deptHaidian, 'order.cancelled'],
            [w.deptHaidianB, 'order.cancelled'],
          ]),
        );
        const claimedBefore: [Session, string][] = [...dispatchedTold(), [w.residentA1, 'order.claimed']];
        expect(await inbox(offered.id)).toEqual(
          told(offered.id, [
            ...claimedBefore,
            [w.orgHaidian, 'order.offered'],
            [w.staffA1, 'order.cancelled'],
            [w.deptHaidian, 'order.cancelled'],
            [w.deptHaidianB, 'order.cancelled'],
            [w.orgHaidian, 'order.cancelled'],
          ]),
        );
        // Open to all, accepted by none: no organisation is involved yet.
        expect(await inbox(open.id)).toEqual(
          told(open.id, [
            ...claimedBefore,
            [w.orgHaidian, 'order.opened'],
            [w.orgHaidian2, 'order.opened'],
            [w.residentA1, 'order.cancelled'],
            [w.deptHaidian, 'order.cancelled'],
            [w.deptHaidianB, 'order.cancelled'],
          ]),
        );
        expect(await inbox(accepted.id)).toEqual(
          told(accepted.id, [
            ...claimedBefore,
            [w.orgHaidian, 'order.offered'],
            [w.residentA1, 'order.accepted'],
            [w.deptHaidian, 'order.accepted'],
            [w.deptHaidianB, 'order.accepted'],
            [w.residentA1, 'order.cancelled'],
            [w.deptHaidian, 'order.cancelled'],
            [w.deptHaidianB, 'order.cancelled'],
            [w.orgHaidian, 'order.cancelled'],
          ]),
        );
      });

      it('the actor is never told: staff who requested an order hear of others’ steps only, not of their own', async () => {
        const order = await create(w.staffA1);
        await act(w.staffA1, order, 'dispatch', { departmentId: w.departments.haidian });
        await act(w.deptHaidianB, order, 'claim');
        await act(w.staffA1, order, 'cancel', { reason: '重复' });
        expect(await inbox(order.id)).toEqual(
          told(order.id, [
            [w.deptHaidian, 'order.dispatched'],
            [w.deptHaidianB, 'order.dispatched'],
            [w.staffA1, 'order.claimed'],
            [w.deptHaidian, 'order.cancelled'],
            [w.deptHaidianB, 'order.cancelled'],
          ]),
        );
      });

      it('two workers at once share the outbox and the queues: still one notification per (message, user)', async () => {
        const second = await startTestWorker();
        try {
          const orders = await Promise.all(Array.from({ length: 12 }, () => orderIn(t, w, 'accepted')));
          await Promise.all(orders.slice(0, 6).map((o) => act(w.staffA1, o, 'cancel', { reason: '并发' })));
          for (const order of orders) expect(await inbox(order.id)).toEqual(await expectedNotifications(t.db, order.id));
          // accepted: 1 + 2 + 1 + 1 + 3 = 8 each; cancelled by staff: requester, two department staff, the organisation.
          const all = (await Promise.all(orders.map((o) => actualNotifications(t.db, o.id)))).flat();
          expect(all).toHaveLength(12 * 8 + 6 * 4);
        } finally {
          await second.close();
        }
      });

      it('across every order so far: the notifications table is exactly what the rules call for, one per (message, user)', async () => {
        await settle();
        expect(await actualNotifications(t.db)).toEqual(await expectedNotifications(t.db));
        const duplicates = await t.db.query(`SELECT source_id, user_id FROM notifications GROUP BY 1, 2 HAVING count(*) > 1`);
        expect(duplicates.rows).toEqual([]);
        // Titles come from the rules.
        const titles = await t.db.query<{ type: string; title: string }>(`SELECT DISTINCT type, title FROM notifications`);
        for (const r of titles.rows) expect(r.title).toBe(NOTIFICATION_RULES[r.type]?.title);
      });
    });

    describe('inbox API', () => {
      interface Item {
        id: string;
        type: string;
        title: string;
        body: string;
        orderId: string | null;
        channel: string;
        createdAt: string;
        readAt: string | null;
      }
      interface PageJson {
        items: Item[];
        nextCursor: string | null;
      }
      const page = async (who: Session, query: string): Promise<PageJson> =>
        (await t.http().get(`/me/notifications${query}`).set(who.auth).expect(200)).body as PageJson;
      const allPages = async (who: Session, query: string): Promise<Item[]> => {
        const items: Item[] = [];
        let cursor: string | null = null;
        for (let i = 0; i < 100; i += 1) {
          const p = await page(who, `${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
          items.push(...p.items);
          if (!p.nextCursor) return items;
          expect(p.items).toHaveLength(Number(new URLSearchParams(query.slice(1)).get('limit')));
          cursor = p.nextCursor;
        }
        throw new Error('the cursor never ended');
      };

      it('lists one’s own notifications newest first, paged by cursor without gaps or repeats', async () => {
        await settle();
        const { rows } = await t.db.query<{ id: string }>(
          `SELECT id FROM notifications WHERE user_id = $1 ORDER BY created_at DESC, id DESC`,
          [w.staffA1.id],
        );
        expect(rows.length).toBeGreaterThan(7);
        const paged = await allPages(w.staffA1, '?limit=3');
        expect(paged.map((n) => n.id)).toEqual(rows.map((r) => r.id));
        for (const n of paged) {
          expect(n).toMatchObject({ channel: 'in_app', readAt: null });
          expect(typeof n.title).toBe('string');
          expect(n.orderId).toMatch(/^[0-9a-f-]{36}$/);
          expect(Number.isNaN(Date.parse(n.createdAt))).toBe(false);
        }
        // Nobody sees another user's notifications.
        const mine = new Set(paged.map((n) => n.id));
        expect((await allPages(w.deptHaidian, '?limit=100')).some((n) => mine.has(n.id))).toBe(false);
        expect((await page(w.admin, '?limit=100')).items).toEqual([]);
      });

      it('cursor paging keeps notifications created within the same millisecond (PostgreSQL keeps microseconds)', async () => {
        // Fan-outs commit concurrently, so one user's notifications can be microseconds apart.
        const inserted = await t.db.query<{ id: string }>(
          `INSERT INTO notifications (user_id, source_id, type, title, body, created_at)
           SELECT $1, gen_random_uuid(), 'sla.breached', '订单超时未处理', 'test', at
           FROM unnest($2::timestamptz[]) AS at RETURNING id`,
          [w.coordChaoyang.id, ['2026-01-01T00:00:00.123456Z', '2026-01-01T00:00:00.123455Z', '2026-01-01T00:00:00.123454Z', '2026-01-01T00:00:00.122999Z']],
        );
        try {
          // Every row exactly once, newest first, however close their times (stored to the millisecond).
          const paged = await allPages(w.coordChaoyang, '?limit=1');
          expect(paged.map((n) => n.id).sort()).toEqual(inserted.rows.map((r) => r.id).sort());
          const times = paged.map((n) => Date.parse(n.createdAt));
          expect(times).toEqual([...times].sort((a, b) => b - a));
        } finally {
          await t.db.query(`DELETE FROM notifications WHERE id = ANY($1::uuid[])`, [inserted.rows.map((r) => r.id)]);
        }
      });

      it('marks one’s own notification read (idempotent); someone else’s or an absent one is 404; unread filter', async () => {
        const before = await allPages(w.staffA1, '?unread=true&limit=50');
        const target = before[1] as Item;
        await t.http().post(`/me/notifications/${target.id}/read`).set(w.staffA1.auth).expect(200);
        await t.http().post(`/me/notifications/${target.id}/read`).set(w.staffA1.auth).expect(200);
        const read = (await allPages(w.staffA1, '?limit=50')).find((n) => n.id === target.id);
        expect(read?.readAt).not.toBeNull();

        const after = await allPages(w.staffA1, '?unread=true&limit=50');
        expect(after.map((n) => n.id)).toEqual(before.filter((n) => n.id !== target.id).map((n) => n.id));
        expect((await allPages(w.staffA1, '?unread=false&limit=50')).length).toBe(before.length);

        const othersId = (await allPages(w.residentA1, '?limit=1'))[0]?.id as string;
        expectProblem(await t.http().post(`/me/notifications/${othersId}/read`).set(w.staffA1.auth), 404, 'NOT_FOUND');
        expect((await allPages(w.residentA1, '?limit=50')).find((n) => n.id === othersId)?.readAt).toBeNull();
        expectProblem(await t.http().post(`/me/notifications/00000000-0000-4000-8000-000000000000/read`).set(w.staffA1.auth), 404, 'NOT_FOUND');
        expectProblem(await t.http().get('/me/notifications?unread=maybe').set(w.staffA1.auth), 400, 'VALIDATION_FAILED');
        expect((await t.http().get('/me/notifications')).status).toBe(401);
      });

      it('preferences: defaults, a round trip, and 400 on a bad body', async () => {
        const get = async (who: Session) => (await t.http().get('/me/notification-preferences').set(who.auth).expect(200)).body;
        expect(await get(w.residentA2)).toEqual({ sms: false, email: false, wechat: false, quietHours: true, events: true });
        const chosen = { sms: true, email: false, wechat: true, quietHours: false };
        expect((await t.http().put('/me/notification-preferences').set(w.residentA2.auth).send(chosen).expect(200)).body).toEqual({ ...chosen, events: true });
        expect(await get(w.residentA2)).toEqual({ ...chosen, events: true });
        expect(await get(w.residentB1)).toEqual({ sms: false, email: false, wechat: false, quietHours: true, events: true });

        for (const bad of [
          { ...chosen, sms: 'yes' },
          { email: true, wechat: true, quietHours: true },
          { ...chosen, fax: true },
          { ...chosen, quietHours: null },
          { ...chosen, events: 'no' },
        ])
          expectProblem(await t.http().put('/me/notification-preferences').set(w.residentA2.auth).send(bad), 400, 'VALIDATION_FAILED');
        expect(await get(w.residentA2)).toEqual({ ...chosen, events: true });
      });
    });

    describe('external channels through the webhook provider', () => {
      let reach: Session;
      let night: Session;

      beforeAll(async () => {
        const user = async (username: string, n: number): Promise<Session> => {
          const password = `${username}-pass-1`;
          await t
            .http()
            .post('/users')
            .set(w.admin.auth)
            .send({
              username,
              password,
              displayName: username,
              role: 'community_staff',
              communityCode: COMMUNITY_A2,
              phone: `1390000000${n}`,
              email: `${username}@example.cn`,
              wechatOpenId: `wx_${username.replace(/-/g, '_')}`,
            })
            .expect(201);
          return login(t, username, password);
        };
        reach = await user('staff-a2-reach', 1);
        night = await user('staff-a2-night', 2);
        await t.http().put('/me/notification-preferences').set(reach.auth).send({ sms: true, email: true, wechat: true, quietHours: false }).expect(200);
        await t.http().put('/me/notification-preferences').set(night.auth).send({ sms: true, email: true, wechat: true, quietHours: true }).expect(200);
      });

      const deliveriesOf = async (orderId: string, type: string): Promise<DeliveryRecord[]> =>
        (
          await t.db.query<DeliveryRecord>(
            `SELECT id, user_id, channel, address, type, title, status, attempts, not_before, created_at FROM deliveries WHERE order_id = $1 AND type = $2`,
            [orderId, type],
          )
        ).rows;

      /** Each delivered row was POSTed once, with the webhook's fields and its id as the idempotency key. */
      const expectPostedOnce = (rows: DeliveryRecord[], orderId: string) => {
        for (const d of rows.filter((r) => r.status === 'delivered')) {
          const posts = provider.requests.filter((r) => r.body.deliveryId === d.id);
          expect(posts).toHaveLength(1);
          expect(posts[0]?.idempotencyKey).toBe(d.id);
          expect(posts[0]?.body).toEqual({
            deliveryId: d.id,
            channel: d.channel,
            to: d.address,
            userId: d.user_id,
            type: d.type,
            title: NOTIFICATION_RULES[d.type]?.title,
            body: expect.any(String),
            orderId,
          });
          expect(d.attempts).toBe(1);
        }
      };

      it('one POST per enabled channel with an address, a stable deliveryId as Idempotency-Key; quiet hours hold non-urgent SMS to 07:00 Shanghai', async () => {
        provider.reset();
        const order = await create(w.residentA2, COMMUNITY_A2);
        await settle();
        expect(await actualNotifications(t.db, order.id)).toEqual(
          told(order.id, [
            [w.staffA2, 'order.submitted'],
            [reach, 'order.submitted'],
            [night, 'order.submitted'],
          ]),
        );
        const rows = await deliveriesOf(order.id, 'order.submitted');
        // staffA2 enabled nothing: in-app only.
        expect(rows.map((d) => `${d.user_id === reach.id ? 'reach' : d.user_id === night.id ? 'night' : d.user_id} ${d.channel}`).sort()).toEqual(
          ['night email', 'night sms', 'night wechat', 'reach email', 'reach sms', 'reach wechat'].sort(),
        );
        expect(rows.find((d) => d.user_id === reach.id && d.channel === 'sms')?.address).toBe('13900000001');
        expect(rows.find((d) => d.user_id === reach.id && d.channel === 'email')?.address).toBe('staff-a2-reach@example.cn');
        expect(rows.find((d) => d.user_id === reach.id && d.channel === 'wechat')?.address).toBe('wx_staff_a2_reach');

        const nightSms = rows.find((d) => d.user_id === night.id && d.channel === 'sms') as DeliveryRecord;
        // The worker decides by its own clock, just before the row's created_at: within seconds of
        // 22:00 or 07:00 either answer is right, and how long the row waits says which one it took.
        const heldNow = quietHoursEnd(nightSms.created_at);
        const heldBefore = quietHoursEnd(new Date(nightSms.created_at.getTime() - 5000));
        const isWaiting = nightSms.not_before.getTime() - nightSms.created_at.getTime() > 60_000;
        const heldUntil = heldNow?.getTime() === heldBefore?.getTime() ? heldNow : isWaiting ? (heldNow ?? heldBefore) : null;
        const immediate = rows.filter((d) => d !== nightSms);
        for (const d of immediate) expect(Math.abs(d.not_before.getTime() - d.created_at.getTime())).toBeLessThan(2000);
        if (heldUntil) {
          // Night in Shanghai now: the SMS waits for 07:00 and nothing was sent.
          expect(nightSms.not_before.toISOString()).toBe(heldUntil.toISOString());
          expect(nightSms.status).toBe('pending');
          expect(provider.requests.some((r) => r.body.deliveryId === nightSms.id)).toBe(false);
          expect(await queues.deliveries.getJobCounts('delayed')).toMatchObject({ delayed: 1 });
        } else {
          expect(Math.abs(nightSms.not_before.getTime() - nightSms.created_at.getTime())).toBeLessThan(2000);
          expect(nightSms.status).toBe('delivered');
        }
        for (const d of immediate) expect(d.status).toBe('delivered');
        expectPostedOnce(rows, order.id);
        expect(provider.requests).toHaveLength(heldUntil ? 5 : 6);
        expect(new Set(provider.requests.map((r) => r.body.deliveryId)).size).toBe(provider.requests.length);

        // Cancelling is urgent: even the quiet-hours user's SMS goes out now.
        provider.reset();
        await act(w.residentA2, order, 'cancel', { reason: '天气原因' });
        await settle();
        const cancelled = await deliveriesOf(order.id, 'order.cancelled');
        expect(cancelled).toHaveLength(6);
        for (const d of cancelled) {
          expect(d.status).toBe('delivered');
          expect(Math.abs(d.not_before.getTime() - d.created_at.getTime())).toBeLessThan(2000);
        }
        expectPostedOnce(cancelled, order.id);
        expect(provider.requests).toHaveLength(6);
      });

      it('a user with no preferences, or with channels but no address, gets in-app only', async () => {
        provider.reset();
        // residentA2 chose sms and wechat but has neither a phone nor an open id.
        const order = await create(w.residentA2, COMMUNITY_A2);
        await act(w.staffA2, order, 'reject', { reason: '不属于科普服务' });
        await settle();
        expect((await actualNotifications(t.db, order.id)).filter((k) => k.includes('order.rejected'))).toEqual(
          told(order.id, [[w.residentA2, 'order.rejected']]),
        );
        expect(await deliveriesOf(order.id, 'order.rejected')).toEqual([]);
        expect(provider.requests.filter((r) => r.body.type === 'order.rejected')).toEqual([]);
      });
    });

    it('the whole run: every notification the rules call for, and no other', async () => {
      await settle();
      expect(await actualNotifications(t.db)).toEqual(await expectedNotifications(t.db));
    });
  });
}
