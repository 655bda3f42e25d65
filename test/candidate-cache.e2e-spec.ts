import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createApiApp } from '../apps/api/src/app.factory';
import { acceptedOrder, createVolunteer, type TestVolunteer } from './support/fulfilment-world';
import { startTestApp, type TestApp } from './support/test-app';
import { waitFor } from './support/wait';
import { createWorld, type OrderJson, type World } from './support/world';

/**
 * GET /orders/:id/candidates serves each organisation's volunteer facts from a cache in
 * the API process, checked on every request against a version that triggers bump in the
 * writer's own transaction (migration 1764375000000-candidate-cache). Whatever fact
 * changes, and whoever writes it (here plain SQL, as an import or a repair would), the
 * very next call shows it, from this API process and from a second one sharing the
 * database; the week's assignments are read fresh on every call.
 */

interface Candidate {
  volunteerId: string;
  displayName: string;
  score: number;
  breakdown: Record<string, number>;
}

const HOUR_MS = 3600 * 1000;
const DAY_MS = 24 * HOUR_MS;

describe('GET /orders/:id/candidates: cached facts are never stale', () => {
  let t: TestApp;
  let second: NestFastifyApplication;
  let secondUrl: string;
  let w: World;
  let order: OrderJson;
  let past: OrderJson;
  let other: OrderJson;
  let start: Date;
  let end: Date;
  let v: TestVolunteer;

  /** The volunteer's entry as each API process answers it (both must agree). */
  const entry = async (): Promise<Candidate | undefined> => {
    const query = { start: start.toISOString(), end: end.toISOString() };
    const answers: Candidate[][] = [];
    for (const url of [t.url, secondUrl]) {
      const res = await request(url).get(`/orders/${order.id}/candidates`).query(query).set(w.orgHaidian.auth).expect(200);
      answers.push((res.body as { volunteers: Candidate[] }).volunteers);
    }
    expect(answers[1]).toEqual(answers[0]);
    return answers[0]?.find((c) => c.volunteerId === v.id);
  };

  beforeAll(async () => {
    t = await startTestApp('candidate_cache');
    // A second API process on the same database (the environment startTestApp set), with its own cache.
    second = await createApiApp({ logger: false });
    await second.listen({ port: 0, host: '127.0.0.1' });
    const address = second.getHttpServer().address();
    secondUrl = typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : '';
    w = await createWorld(t);
    order = await acceptedOrder(t, w);
    past = await acceptedOrder(t, w);
    other = await acceptedOrder(t, w);
    const window = (order.preferredWindows as { start: string; end: string }[])[0];
    if (!window) throw new Error('the order has no preferred window');
    start = new Date(window.start);
    end = new Date(window.end);
    v = await createVolunteer(t, { organizationId: w.organizations.haidian, skills: [{ topic: 'anti_fraud', level: 1 }] });
  });
  afterAll(async () => {
    await second.close();
    await t.close();
  });

  it('starts with the volunteer ranked from the facts as registered (both caches warm)', async () => {
    expect(await entry()).toMatchObject({ displayName: v.name, breakdown: { topicLevel: 10, fairness: 15, rating: 5, reliability: 10 } });
  });

  it('shows a new skill level', async () => {
    await t.db.query(`UPDATE volunteer_skills SET level = 3 WHERE volunteer_id = $1`, [v.id]);
    expect((await entry())?.breakdown.topicLevel).toBe(30);
  });

  it('shows a new name and audiences', async () => {
    await t.db.query(`UPDATE volunteers SET display_name = 'renamed', audiences = '{}' WHERE id = $1`, [v.id]);
    expect(await entry()).toMatchObject({ displayName: 'renamed', breakdown: { audience: 0 } });
  });

  it('drops the volunteer whose weekly windows no longer cover the slot, and takes them back', async () => {
    const { rows } = await t.db.query<{ availability: unknown }>(`SELECT availability FROM volunteers WHERE id = $1`, [v.id]);
    await t.db.query(`UPDATE volunteers SET availability = '[]' WHERE id = $1`, [v.id]);
    expect(await entry()).toBeUndefined();
    await t.db.query(`UPDATE volunteers SET availability = $2 WHERE id = $1`, [v.id, JSON.stringify(rows[0]?.availability)]);
    expect(await entry()).toBeDefined();
  });

  it('drops the volunteer with a dated exception over the slot, and takes them back', async () => {
    await t.db.query(`UPDATE volunteers SET unavailable = $2 WHERE id = $1`, [v.id, JSON.stringify([{ start: new Date(start.getTime() - HOUR_MS), end: end }])]);
    expect(await entry()).toBeUndefined();
    await t.db.query(`UPDATE volunteers SET unavailable = '[]' WHERE id = $1`, [v.id]);
    expect(await entry()).toBeDefined();
  });

  it('drops a deactivated volunteer, and takes them back', async () => {
    await t.db.query(`UPDATE volunteers SET is_active = false WHERE id = $1`, [v.id]);
    expect(await entry()).toBeUndefined();
    await t.db.query(`UPDATE volunteers SET is_active = true WHERE id = $1`, [v.id]);
    expect(await entry()).toBeDefined();
  });

  it('drops the volunteer whose skill is removed', async () => {
    await t.db.query(`DELETE FROM volunteer_skills WHERE volunteer_id = $1`, [v.id]);
    expect(await entry()).toBeUndefined();
    await t.db.query(`INSERT INTO volunteer_skills (volunteer_id, topic, level) VALUES ($1, 'anti_fraud', 3)`, [v.id]);
    expect(await entry()).toBeDefined();
  });

  it('counts a completed service record (recent hours, record) and then its rating', async () => {
    const served = new Date(Date.now() - 10 * DAY_MS);
    await t.db.query(`INSERT INTO service_records (order_id, volunteer_id, event_start, event_end, hours) VALUES ($1, $2, $3, $4, 20)`, [
      past.id,
      v.id,
      served,
      new Date(served.getTime() + 20 * HOUR_MS),
    ]);
    // 20 recent hours: 15 / (1 + 20/20); one event served, none missed.
    expect(await entry()).toMatchObject({ breakdown: { fairness: 7.5, reliability: 10, rating: 5 } });
    await t.db.query(`UPDATE orders SET rating = jsonb_build_object('volunteers', 1) WHERE id = $1`, [past.id]);
    expect((await entry())?.breakdown.rating).toBe(0);
    await t.db.query(`UPDATE service_records SET hours = 0 WHERE volunteer_id = $1`, [v.id]);
    expect((await entry())?.breakdown.fairness).toBe(15);
  });

  it('counts a no-show', async () => {
    await t.db.query(`UPDATE service_records SET is_no_show = true WHERE volunteer_id = $1`, [v.id]);
    // No event served (no rating counts), one missed: 10 * 1 / 2.
    expect(await entry()).toMatchObject({ breakdown: { reliability: 5, rating: 5 } });
  });

  it('takes the version row before volunteer_stats rows: a rating waiting behind a check-out does not deadlock with it', async () => {
    // B (a check-out: hours only) holds the organisation's version row; A rates an order the
    // volunteer served and must wait there, before locking the volunteer's stats row, so
    // that B can then record a no-show for the same volunteer (a stats row) and commit.
    await t.db.query(`UPDATE service_records SET is_no_show = false WHERE volunteer_id = $1`, [v.id]);
    const a = await t.db.connect();
    const b = await t.db.connect();
    try {
      await b.query('BEGIN');
      await b.query(`UPDATE service_records SET hours = hours WHERE volunteer_id = $1`, [v.id]);
      await a.query('BEGIN');
      const [{ pid }] = (await a.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }];
      const rating = a.query(`UPDATE orders SET rating = jsonb_build_object('volunteers', 4) WHERE id = $1`, [past.id]);
      await waitFor(async () => (await t.db.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`, [pid])).rowCount, 5000, 'the rating to wait');
      await b.query(`UPDATE service_records SET is_no_show = true WHERE volunteer_id = $1`, [v.id]);
      await b.query('COMMIT');
      await rating;
      await a.query('COMMIT');
    } finally {
      a.release();
      b.release();
    }
    // B's no-show committed first, so the rating counts for nobody: unrated, one event missed.
    expect(await entry()).toMatchObject({ breakdown: { rating: 5, reliability: 5 } });
    const { rows } = await t.db.query<{ rated_count: number }>(`SELECT rated_count FROM volunteer_stats WHERE volunteer_id = $1`, [v.id]);
    expect(rows[0]?.rated_count).toBe(0);
  });

  it('drops the volunteer as soon as another order assigns them over the slot (assignments are never cached)', async () => {
    const { rows } = await t.db.query<{ id: string }>(
      `INSERT INTO assignments (order_id, volunteer_id, organization_id, during, status) VALUES ($1, $2, $3, tstzrange($4, $5), 'invited') RETURNING id`,
      [other.id, v.id, w.organizations.haidian, start, end],
    );
    expect(await entry()).toBeUndefined();
    await t.db.query(`UPDATE assignments SET status = 'declined' WHERE id = $1`, [rows[0]?.id]);
    expect(await entry()).toBeDefined();
  });

  it('keeps the versions of other organisations apart, and creates the version row of a new organisation on its first write', async () => {
    const before = await t.db.query<{ version: string }>(`SELECT version FROM organization_volunteer_versions WHERE organization_id = $1`, [w.organizations.haidian]);
    await t.db.query(`UPDATE volunteers SET max_hours_per_week = 30 WHERE organization_id = $1`, [w.organizations.haidian2]);
    const after = await t.db.query<{ version: string }>(`SELECT version FROM organization_volunteer_versions WHERE organization_id = $1`, [w.organizations.haidian]);
    expect(after.rows).toEqual(before.rows);
    const { rows } = await t.db.query<{ id: string }>(`INSERT INTO organizations (name) VALUES ('新成立的志愿服务队') RETURNING id`);
    const id = rows[0]?.id ?? '';
    await createVolunteer(t, { organizationId: id });
    const created = await t.db.query<{ version: string }>(`SELECT version FROM organization_volunteer_versions WHERE organization_id = $1`, [id]);
    expect(created.rows).toHaveLength(1);
  });
});
