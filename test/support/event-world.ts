import { sign } from 'jsonwebtoken';
import { acceptedOrder, scheduleBody, wideWindows } from './fulfilment-world';
import { TEST_JWT_SECRET, type TestApp } from './test-app';
import { COMMUNITY_A1, type OrderJson, type Session, type World } from './world';

let batch = 0;

/**
 * Many residents of community A1 at once, written straight to the table with tokens signed
 * as the API signs them: a rush needs hundreds, and logging each in is not what it tests.
 */
export async function manyResidents(t: TestApp, n: number): Promise<Session[]> {
  const base = ++batch * 1000;
  const { rows } = await t.db.query<{ id: string; username: string }>(
    `INSERT INTO users (username, password_hash, display_name, role, community_code, phone)
     SELECT 'rush-' || ($1::int + g), 'not-a-hash', '居民' || g, 'resident', $2, '136' || lpad(($1::int + g)::text, 8, '0') FROM generate_series(1, $3::int) g
     RETURNING id, username`,
    [base, COMMUNITY_A1, n],
  );
  return rows.map((r) => {
    const token = sign({ sub: r.id, role: 'resident', cc: COMMUNITY_A1, dep: null, org: null, dis: null, vol: null }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 3600 });
    return { id: r.id, username: r.username, role: 'resident' as const, token, auth: { Authorization: `Bearer ${token}` } };
  });
}

/** A scheduled order of community A1 (accepted by 海淀's organisation), `days` ahead at the venue, published with `seats`. */
export async function publishedEvent(t: TestApp, w: World, venueId: string, days: number, seats: number): Promise<OrderJson> {
  const order = await acceptedOrder(t, w, wideWindows(days));
  await t.http().post(`/orders/${order.id}/schedule`).set(w.orgHaidian.auth).send(scheduleBody(order, venueId, { openSlots: 1 })).expect(200);
  await t.http().post(`/orders/${order.id}/publish`).set(w.orgHaidian.auth).send({ seats }).expect(201);
  return order;
}
