import { dayFromNumber, dayNumber, type Period, type ScorecardKind, shanghaiDay } from '@kepu/core';
import { CoverageMaintenanceService } from '@kepu/coverage';
import type { Job } from 'bullmq';
import { CoverageProcessor } from '../apps/worker/src/processors/coverage.processor';
import type { Query } from './support/coverage-naive';
import { acceptedOrder } from './support/fulfilment-world';
import { naiveAudienceCommunities } from './support/gaps-naive';
import { naiveScorecards } from './support/scorecards-naive';
import { startTestApp, type TestApp } from './support/test-app';
import { waitFor } from './support/wait';
import { drain, openTestQueues, startTestWorker, suitePrefix, type TestQueues, type TestWorker } from './support/test-worker';
import { CHAOYANG, createWorld, HAIDIAN, type World } from './support/world';

const HOUR = 3600_000;
const KEY_AUDIENCES = ['youth', 'farmers', 'workers', 'elderly', 'officials'] as const;
/** The suite's deadlines (the defaults of SLA_CLAIM_HOURS, SLA_ACCEPT_HOURS, SLA_URGENT_FACTOR). */
const SLA = { claimHours: 48, acceptHours: 72, urgentFactor: 0.25 };
/** Every fifth seeded order is urgent (应急科普): its deadlines are a quarter of the normal ones. */
const isUrgentSeed = (i: number) => i % 5 === 0;
const today = () => dayNumber(shanghaiDay(new Date())) ?? 0;
/** A scorecard rollup row, every column, as text where the driver would parse it. */
const ROLLUP_CONTENT = `kind, grain, period_start::text AS p, district_code, subject_id, received, responded, resolved, rated, rating_sum, satisfied, hours::text AS hours`;
const csvLines = (text: string) => text.replace(/^\uFEFF/, '').trimEnd().split('\r\n');

/** A small deterministic PRNG, so a failure can be replayed with the same seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SeedEvent {
  seq: number;
  type: string;
  from: string | null;
  to: string;
  payload: Record<string, unknown>;
  at: string;
}

/**
 * `count` orders of 海淀 and 朝阳 straight into the tables, each with a random
 * event history as the lifecycle allows (dispatch, decline and redispatch to another
 * department, claims late or in time, offers, open calls, second offers, accepts,
 * releases and re-accepts, deliveries, ratings, cancellations) over the last 150 days,
 * and one outbox row each so the worker maintains the facts and rollups. Every fifth is urgent.
 */
async function seedRandomOrders(t: TestApp, w: World, count: number, seed: number): Promise<void> {
  const random = prng(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const { rows: communities } = await t.db.query<{ code: string; subdistrict_code: string; district_code: string }>(
    `SELECT code, subdistrict_code, district_code FROM communities WHERE district_code IN ($1, $2) ORDER BY code`,
    [HAIDIAN, CHAOYANG],
  );
  const departmentsOf = { [HAIDIAN]: [w.departments.haidian, w.departments.haidian2, w.departments.city], [CHAOYANG]: [w.departments.chaoyang, w.departments.city] };
  const organizationsOf = { [HAIDIAN]: [w.organizations.haidian, w.organizations.haidian2], [CHAOYANG]: [w.organizations.chaoyang, w.organizations.haidian2] };
  const orders: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const community = pick(communities);
    const audience = pick(KEY_AUDIENCES);
    const district = community.district_code as typeof HAIDIAN;
    const departments = departmentsOf[district] ?? [];
    const organizations = organizationsOf[district] ?? [];
    const created = Date.now() - random() * 150 * 24 * HOUR;
    let at = created;
    const events: SeedEvent[] = [];
    let status = 'submitted';
    let department: string | null = null;
    let organization: string | null = null;
    let offered: string | null = null;
    let open = false;
    let rating: Record<string, number> | null = null;
    let scheduled: number | null = null;
    const event = (type: string, to: string, payload: Record<string, unknown>, hours: number) => {
      at += hours * HOUR;
      events.push({ seq: events.length + 1, type, from: events.length === 0 ? null : status, to, payload, at: new Date(at).toISOString() });
      status = to;
    };
    event('order.submitted', 'submitted', {}, 0);
    const stop = (p: number) => random() < p;
    const run = () => {
      if (stop(0.08)) return event('order.rejected', 'rejected', { reason: '不符合' }, random() * 10);
      department = pick(departments);
      event('order.dispatched', 'dispatched', { departmentId: department, note: null }, random() * 30);
      if (stop(0.2)) {
        event('order.declined', 'submitted', { departmentId: department, reason: '不对口' }, random() * 60);
        department = pick(departments);
        event('order.dispatched', 'dispatched', { departmentId: department, note: null }, random() * 20);
      }
      if (stop(0.1)) return;
      if (stop(0.05)) return event('order.cancelled', 'cancelled', { reason: '取消' }, random() * 50);
      event('order.claimed', 'claimed', { departmentId: department }, random() * 100);
      if (stop(0.1)) return;
      const offer = (hours: number) => {
        if (stop(0.25)) {
          open = true;
          event('order.opened', 'claimed', {}, hours);
        } else {
          offered = pick(organizations);
          event('order.offered', 'claimed', { organizationId: offered }, hours);
        }
      };
      offer(random() * 20);
      if (stop(0.2)) offer(random() * 40);
      if (stop(0.12)) return;
      const accept = () => {
        organization = open && (offered === null || stop(0.5)) ? pick(organizations) : (offered ?? pick(organizations));
        event('order.accepted', 'accepted', { organizationId: organization }, random() * 150);
      };
      accept();
      if (stop(0.15)) {
        event('order.released', 'claimed', { organizationId: organization, reason: '人手不足' }, random() * 30);
        organization = null;
        open = false;
        offer(random() * 10);
        accept();
      }
      if (stop(0.1)) return;
      event('order.scheduled', 'scheduled', {}, random() * 48);
      scheduled = at + random() * 10 * 24 * HOUR;
      at = scheduled;
      event('order.started', 'in_progress', {}, 0);
      event('order.completed', 'completed', { attendance: 30 }, 2);
      if (stop(0.55)) {
        rating = { content: 1 + Math.floor(random() * 5), volunteers: 1 + Math.floor(random() * 5), punctuality: 1 + Math.floor(random() * 5) };
        event('order.rated', 'rated', rating, random() * 100);
      } else if (stop(0.5)) event('order.closed', 'closed', {}, 7 * 24);
    };
    run();
    orders.push({
      code: `SC${seed}-${i}`,
      urgent: isUrgentSeed(i),
      audience,
      status,
      community_code: community.code,
      subdistrict_code: community.subdistrict_code,
      district_code: community.district_code,
      department_id: department,
      organization_id: ['accepted', 'scheduled', 'in_progress', 'completed', 'rated', 'closed'].includes(status) ? organization : null,
      offered_organization_id: offered,
      is_open: open,
      scheduled_start: scheduled === null ? null : new Date(scheduled).toISOString(),
      scheduled_end: scheduled === null ? null : new Date(scheduled + 2 * HOUR).toISOString(),
      rating,
      created_at: new Date(created).toISOString(),
      events,
    });
  }
  await t.db.query(
    `WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(code text, urgent boolean, audience text, status text, community_code text, subdistrict_code text, district_code text,
                      department_id uuid, organization_id uuid, offered_organization_id uuid, is_open boolean, scheduled_start timestamptz,
                      scheduled_end timestamptz, rating jsonb, created_at timestamptz, events jsonb)),
          inserted AS (
            INSERT INTO orders (code, status, community_code, subdistrict_code, district_code, requester_id, topic, audience, format, title, description,
              expected_attendance, preferred_windows, last_window_end, contact_name, contact_phone, department_id, organization_id,
              offered_organization_id, is_open_to_organizations, scheduled_start, scheduled_end, rating, created_at, updated_at, version, urgent)
            SELECT code, status, community_code, subdistrict_code, district_code, $2, 'health', audience, 'lecture', '三率测试', '随机历史', 30, '[]',
              created_at + interval '200 days', '测试', '13800000000', department_id, organization_id, offered_organization_id, is_open,
              scheduled_start, scheduled_end, rating, created_at, created_at, jsonb_array_length(events), urgent
            FROM input RETURNING id, code)
     INSERT INTO order_events (order_id, seq, type, from_status, to_status, actor_role, payload, at)
     SELECT i.id, (e->>'seq')::int, e->>'type', e->>'from', e->>'to', 'system', e->'payload', (e->>'at')::timestamptz
     FROM inserted i JOIN input x ON x.code = i.code CROSS JOIN LATERAL jsonb_array_elements(x.events) e`,
    [JSON.stringify(orders), w.residentA1.id],
  );
  await t.db.query(`INSERT INTO outbox (type, order_id, payload) SELECT 'scorecards.seeded', id, '{}' FROM orders WHERE code LIKE $1`, [`SC${seed}-%`]);
}

describe('scorecards (三率): API figures from the rollups equal a direct query over the order events', () => {
  let t: TestApp;
  let w: World;
  let worker: TestWorker;
  let queues: TestQueues;
  let query: Query;
  let recent: Period;
  let long: Period;
  let lastMonth: Period;
  let insideMonth: Period;

  beforeAll(async () => {
    t = await startTestApp('scorecards', { QUEUE_PREFIX: suitePrefix('scorecards'), OUTBOX_POLL_MS: '100' });
    w = await createWorld(t);
    worker = await startTestWorker();
    queues = openTestQueues();
    query = async <T>(sql: string, params: unknown[]) => (await t.db.query(sql, params)).rows as T[];
    const now = today();
    recent = { from: dayFromNumber(now - 89), to: dayFromNumber(now) };
    long = { from: dayFromNumber(now - 160), to: dayFromNumber(now + 30) };
    const firstOfMonth = dayNumber(`${shanghaiDay(new Date()).slice(0, 7)}-01`) ?? now;
    lastMonth = { from: `${dayFromNumber(firstOfMonth - 1).slice(0, 7)}-01`, to: dayFromNumber(firstOfMonth - 1) };
    insideMonth = { from: `${lastMonth.from.slice(0, 8)}05`, to: `${lastMonth.from.slice(0, 8)}27` };
    // Real transitions through the API too: their events are what the facts read.
    await acceptedOrder(t, w);
    await acceptedOrder(t, w);
    await seedRandomOrders(t, w, 500, 20261205);
    await drain(t.db, queues, { timeoutMs: 90_000 });
  });
  afterAll(async () => {
    await worker.close();
    await queues.obliterate();
    await queues.close();
    await t.close();
  });

  type Row = { id: string; name: string } & Record<string, unknown>;
  const FIGURES = ['received', 'responded', 'responseRate', 'resolved', 'resolutionRate', 'rated', 'averageRating', 'satisfiedRate', 'medianHoursToRespond'] as const;
  const figuresOf = (row: Record<string, unknown>) => Object.fromEntries(FIGURES.map((k) => [k, row[k]]));
  const refreshJob = (orderId: string) => ({ name: 'refresh-order', data: { orderId, outboxId: 'test' } }) as Job<{ orderId: string; outboxId: string }, void, 'refresh-order'>;
  const EMPTY = { received: 0, responded: 0, responseRate: null, resolved: 0, resolutionRate: null, rated: 0, averageRating: null, satisfiedRate: null, medianHoursToRespond: null };

  async function expectMatches(kind: ScorecardKind, period: Period, session: { auth: Record<string, string> }, districtCode: string | null, query_: Record<string, string> = {}) {
    const rows = (await t.http().get(`/scorecards/${kind}`).query({ ...period, ...query_ }).set(session.auth).expect(200)).body as Row[];
    const expected = await naiveScorecards(query, kind, period, { districtCode, ...SLA });
    for (const row of rows) expect({ id: row.id, ...figuresOf(row) }).toEqual({ id: row.id, ...(expected.get(row.id) ?? EMPTY) });
    for (const id of expected.keys()) expect(rows.map((r) => r.id)).toContain(id);
    return rows;
  }

  it('the data set is not trivial: received, responded late and in time, resolved, rated, medians, for both kinds', async () => {
    for (const kind of ['departments', 'organizations'] as const) {
      const rows = (await t.http().get(`/scorecards/${kind}`).query(long).set(w.admin.auth).expect(200)).body as Row[];
      const busy = rows.filter((r) => (r.received as number) > 20);
      expect(busy.length).toBeGreaterThanOrEqual(3);
      for (const r of busy) {
        expect(r.responded).toBeGreaterThan(0);
        expect(r.responded).toBeLessThan(r.received as number);
        expect(r.resolved).toBeGreaterThan(0);
        expect(r.rated).toBeGreaterThan(0);
        expect(r.averageRating).not.toBeNull();
        expect(r.satisfiedRate).not.toBeNull();
        expect(r.medianHoursToRespond).not.toBeNull();
        // Waits in the data set are under 200 hours: an unanswered order must not count as a wait (the cap).
        expect(r.medianHoursToRespond).toBeLessThan(200);
      }
    }
  });

  it('"within SLA" is the order’s own deadline: an urgent order answered after a quarter of the SLA is late, in the facts, the API and the naive query', async () => {
    // Urgent orders of the data set that were answered between the shortened and the normal deadline.
    const { rows: between } = await t.db.query<{ kind: string; n: number; responded: number }>(
      `SELECT f.kind, count(*)::int AS n, count(*) FILTER (WHERE f.responded)::int AS responded
       FROM scorecard_facts f JOIN orders o ON o.id = f.order_id
       WHERE o.urgent AND f.hours_to_respond IS NOT NULL
         AND f.hours_to_respond >= CASE f.kind WHEN 'd' THEN $1::numeric ELSE $2::numeric END * $3::numeric
         AND f.hours_to_respond < CASE f.kind WHEN 'd' THEN $1::numeric ELSE $2::numeric END
       GROUP BY f.kind ORDER BY f.kind`,
      [SLA.claimHours, SLA.acceptHours, SLA.urgentFactor],
    );
    expect(between.map((r) => r.kind)).toEqual(['d', 'o']);
    for (const r of between) {
      expect(r.n).toBeGreaterThan(0);
      expect(r.responded).toBe(0);
    }
    // The same orders not urgent would have been in time: the naive query with the normal deadline for all disagrees.
    for (const kind of ['departments', 'organizations'] as const) {
      const rows = await expectMatches(kind, long, w.admin, null);
      const unshortened = await naiveScorecards(query, kind, long, { districtCode: null, ...SLA, urgentFactor: 1 });
      const responded = (map: Map<string, { responded: number }>) => [...map.values()].reduce((sum, f) => sum + f.responded, 0);
      const apiResponded = rows.reduce((sum, r) => sum + (r.responded as number), 0);
      expect(apiResponded).toBeLessThan(responded(unshortened));
    }
  });

  it.each([
    ['the last 90 days', () => recent],
    ['191 days (whole months plus edge days)', () => long],
    ['last calendar month', () => lastMonth],
    ['days 5–27 of last month (two prefixes of one month)', () => insideMonth],
  ])('city, one district and a coordinator equal the direct query over %s', async (_name, period) => {
    for (const kind of ['departments', 'organizations'] as const) {
      await expectMatches(kind, period(), w.admin, null);
      await expectMatches(kind, period(), w.admin, CHAOYANG, { districtCode: CHAOYANG });
      const own = await expectMatches(kind, period(), w.coordHaidian, HAIDIAN);
      await expectMatches(kind, period(), w.coordHaidian, HAIDIAN, { districtCode: HAIDIAN });
      // A coordinator's list: the district's own and the city-wide departments, or the organisations serving it.
      const ids = own.map((r) => r.id).sort();
      if (kind === 'departments') expect(ids).toEqual([w.departments.haidian, w.departments.haidian2, w.departments.city].sort());
      else expect(ids).toEqual([w.organizations.haidian, w.organizations.haidian2].sort());
    }
  });

  it('a subject without orders in the period is listed with zeros and null rates', async () => {
    const future = { from: dayFromNumber(today() + 400), to: dayFromNumber(today() + 410) };
    const rows = (await t.http().get('/scorecards/departments').query(future).set(w.admin.auth).expect(200)).body as Row[];
    expect(rows.length).toBeGreaterThanOrEqual(4);
    for (const r of rows) expect(figuresOf(r)).toEqual(EMPTY);
  });

  it('a duplicate or late job changes nothing; a missed change is picked up by the next job', async () => {
    const snapshot = async () => (await t.db.query(`SELECT ${ROLLUP_CONTENT} FROM scorecard_rollups ORDER BY 1, 2, 3, 4, 5`)).rows;
    const before = await snapshot();
    const processor = worker.app.get(CoverageProcessor);
    const { rows: ids } = await t.db.query<{ id: string }>(`SELECT id FROM orders ORDER BY code LIMIT 40`);
    const job = refreshJob;
    await Promise.all(ids.map(({ id }) => processor.process(job(id))));
    await Promise.all(ids.slice(0, 10).flatMap(({ id }) => [processor.process(job(id)), processor.process(job(id))]));
    expect(await snapshot()).toEqual(before);

    // A claimed order is rated-through without its job yet; then the job runs (twice, at once).
    const { rows } = await t.db.query<{ id: string; department_id: string }>(
      `SELECT id, department_id FROM orders WHERE code LIKE 'SC%' AND status = 'completed' AND organization_id IS NOT NULL ORDER BY code LIMIT 1`,
    );
    const order = rows[0] as { id: string };
    await t.db.query(
      `WITH o AS (UPDATE orders SET status = 'rated', rating = '{"content":5,"volunteers":4,"punctuality":4}', version = version + 1 WHERE id = $1 RETURNING id, version)
       INSERT INTO order_events (order_id, seq, type, from_status, to_status, actor_role, payload, at) SELECT id, version, 'order.rated', 'completed', 'rated', 'resident', '{}', now() FROM o`,
      [order.id],
    );
    await Promise.all([processor.process(job(order.id)), processor.process(job(order.id))]);
    for (const kind of ['departments', 'organizations'] as const) await expectMatches(kind, long, w.admin, null);
  });

  it('hours to respond exist exactly for the answered: never more than the data set\'s longest wait', async () => {
    const { rows } = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM scorecard_facts WHERE hours_to_respond IS NOT NULL AND hours_to_respond > 200`);
    expect(rows[0]?.n).toBe(0);
    const { rows: unanswered } = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM scorecard_facts WHERE hours_to_respond IS NULL`);
    expect(unanswered[0]?.n).toBeGreaterThan(0);
  });

  /** Rollup keys (kind, grain, day, subject) whose city row (district `*`) is not the sum of the subject's district rows. */
  async function cityRowsOff(): Promise<{ off: string[]; shared: number }> {
    type RollupRow = { kind: string; grain: string; p: string; district_code: string; subject_id: string; hours: string } & Record<
      'received' | 'responded' | 'resolved' | 'rated' | 'rating_sum' | 'satisfied',
      number
    >;
    const { rows } = await t.db.query<RollupRow>(`SELECT ${ROLLUP_CONTENT} FROM scorecard_rollups`);
    const add = (into: number[], values: number[]) => values.forEach((v, i) => (into[i] = (into[i] ?? 0) + v));
    const trimmed = (values: number[]) => values.slice(0, values.findLastIndex((v) => v !== 0) + 1);
    const districts = new Map<string, { sum: number[]; n: number }>();
    const city = new Map<string, number[]>();
    for (const r of rows) {
      const key = `${r.kind} ${r.grain} ${r.p} ${r.subject_id}`;
      const hours = r.hours === '{}' ? [] : r.hours.slice(1, -1).split(',').map(Number);
      const values = [r.received, r.responded, r.resolved, r.rated, r.rating_sum, r.satisfied, ...hours];
      if (r.district_code === '*') add(city.get(key) ?? (city.set(key, []).get(key) as number[]), values);
      else {
        const d = districts.get(key) ?? (districts.set(key, { sum: [], n: 0 }).get(key) as { sum: number[]; n: number });
        add(d.sum, values);
        if (r.received !== 0) d.n++;
      }
    }
    const keys = new Set([...districts.keys(), ...city.keys()]);
    const off = [...keys].filter((key) => JSON.stringify(trimmed(city.get(key) ?? [])) !== JSON.stringify(trimmed(districts.get(key)?.sum ?? [])));
    return { off, shared: [...districts.values()].filter((d) => d.n > 1).length };
  }

  it('city rows (district *) are the sum of every district’s rows, for every grain, day and subject', async () => {
    const { off, shared } = await cityRowsOff();
    expect(off).toEqual([]);
    // Not trivial: the city-wide department and the organisation serving both districts have rows in both.
    expect(shared).toBeGreaterThan(10);
  });

  it('two orders of different districts refreshed at the same moment both land in their department’s city rows (writers racing on the same rows)', async () => {
    // Two delivered orders of the city-wide department received in the same month, one in 海淀, one in 朝阳: both refreshes write that month's city rows.
    const { rows: pairs } = await t.db.query<{ a: string; b: string; month: string }>(
      `SELECT h.order_id AS a, c.order_id AS b, date_trunc('month', h.received_day)::date::text AS month
       FROM scorecard_facts h JOIN orders ho ON ho.id = h.order_id
       JOIN scorecard_facts c ON c.kind = 'd' AND c.subject_id = h.subject_id AND date_trunc('month', c.received_day) = date_trunc('month', h.received_day)
       JOIN orders co ON co.id = c.order_id
       WHERE h.kind = 'd' AND h.subject_id = $1 AND h.district_code = $2 AND c.district_code = $3
         AND ho.status = 'completed' AND co.status = 'completed' AND ho.department_id = $1 AND co.department_id = $1
       ORDER BY ho.code, co.code LIMIT 1`,
      [w.departments.city, HAIDIAN, CHAOYANG],
    );
    const pair = pairs[0];
    if (!pair) throw new Error('the data set has no two delivered orders of the city-wide department in one month in both districts');
    const monthRow = async () =>
      (
        await t.db.query<{ rated: number; rating_sum: number; satisfied: number }>(
          `SELECT rated, rating_sum, satisfied FROM scorecard_rollups WHERE kind = 'd' AND grain = 'm' AND period_start = $1 AND district_code = '*' AND subject_id = $2`,
          [pair.month, w.departments.city],
        )
      ).rows[0];
    const before = await monthRow();
    // Both rated (5, 5, 4: a sum of 14, satisfied) without their jobs yet.
    await t.db.query(
      `WITH o AS (UPDATE orders SET status = 'rated', rating = '{"content":5,"volunteers":5,"punctuality":4}', version = version + 1 WHERE id = ANY($1::uuid[]) RETURNING id, version)
       INSERT INTO order_events (order_id, seq, type, from_status, to_status, actor_role, payload, at) SELECT id, version, 'order.rated', 'completed', 'rated', 'resident', '{}', now() FROM o`,
      [[pair.a, pair.b]],
    );
    // A transaction the workers cannot see holds the city month row: both refreshes reach it and wait, then race when it lets go.
    // Two workers, as in a deployment of several: one worker refreshes one group at a time, so its own jobs never race.
    const second = await startTestWorker();
    const processors = [worker, second].map((x) => x.app.get(CoverageProcessor));
    const holder = await t.db.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM scorecard_rollups WHERE kind = 'd' AND grain = 'm' AND period_start = $1 AND district_code = '*' AND subject_id = $2 FOR UPDATE`, [
        pair.month,
        w.departments.city,
      ]);
      const { pid } = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0] as { pid: number };
      let settled = false;
      const racing = Promise.all([pair.a, pair.b].map((id, i) => (processors[i] as CoverageProcessor).process(refreshJob(id)))).finally(() => (settled = true));
      await waitFor(
        async () => {
          if (settled) throw new Error('a refresh finished without waiting for the held city row');
          const { rows } = await t.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> $1`,
            [pid],
          );
          return (rows[0]?.n ?? 0) >= 2;
        },
        10_000,
        'both refreshes to wait behind the holder',
      );
      await holder.query('COMMIT');
      await racing;
    } finally {
      holder.release();
      await second.close();
    }
    const after = await monthRow();
    expect(after).toEqual({ rated: (before?.rated ?? 0) + 2, rating_sum: (before?.rating_sum ?? 0) + 28, satisfied: (before?.satisfied ?? 0) + 2 });
    expect((await cityRowsOff()).off).toEqual([]);
    for (const kind of ['departments', 'organizations'] as const) await expectMatches(kind, long, w.admin, null);
  });

  it('coverage:rebuild gives the same scorecard rollups as the worker maintained', async () => {
    // Maintenance may leave rows whose orders all moved away (every value 0); the rebuild writes none.
    const content = `SELECT ${ROLLUP_CONTENT} FROM scorecard_rollups WHERE received <> 0 ORDER BY 1, 2, 3, 4, 5`;
    const maintained = (await t.db.query(content)).rows;
    await worker.app.get(CoverageMaintenanceService).rebuild();
    expect((await t.db.query(content)).rows).toEqual(maintained);
    await expectMatches('departments', recent, w.admin, null);
  });

  it('CSV: a header row and one row per department, empty cells for null', async () => {
    const json = (await t.http().get('/scorecards/departments').query(recent).set(w.admin.auth).expect(200)).body as Row[];
    const res = await t.http().get('/scorecards/departments').query(recent).set(w.admin.auth).set('Accept', 'text/csv').expect(200);
    expect(res.headers['content-type']).toContain('text/csv');
    expect(res.headers['content-disposition']).toContain('scorecards-departments.csv');
    const lines = csvLines(res.text);
    expect(lines[0]).toBe('id,name,received,responded,responseRate,resolved,resolutionRate,rated,averageRating,satisfiedRate,medianHoursToRespond');
    expect(lines).toHaveLength(1 + json.length);
    const first = json[0] as Row;
    expect(lines[1]).toBe(
      [first.id, first.name, ...FIGURES.map((k) => (first[k] === null ? '' : String(first[k])))].join(','),
    );
    const orgs = await t.http().get('/scorecards/organizations').set(w.coordHaidian.auth).set('Accept', 'text/csv').expect(200);
    expect(csvLines(orgs.text)).toHaveLength(3);
  });

  it('scope matrix: role × district for every new endpoint (200 in scope, 404 NOT_FOUND outside, 403 FORBIDDEN for other roles, 401 without a token)', async () => {
    const ENDPOINTS = {
      departments: '/scorecards/departments',
      organizations: '/scorecards/organizations',
      deptsHaidian: `/scorecards/departments?districtCode=${HAIDIAN}`,
      orgsChaoyang: `/scorecards/organizations?districtCode=${CHAOYANG}`,
      gapsHaidian: `/coverage/districts/${HAIDIAN}/gaps?audience=elderly`,
      gapsChaoyang: `/coverage/districts/${CHAOYANG}/gaps?audience=youth`,
      trendHaidian: `/coverage/districts/${HAIDIAN}/trend`,
      trendChaoyang: `/coverage/districts/${CHAOYANG}/trend`,
    };
    //                 depts  orgs  dH    oC    gH    gC    tH    tC
    const EXPECTED: Record<string, string> = {
      admin:         '200   200   200   200   200   200   200   200',
      coordHaidian:  '200   200   200   404   200   404   200   404',
      coordChaoyang: '200   200   404   200   404   200   404   200',
      residentA1:    '403   403   403   403   403   403   403   403',
      staffA1:       '403   403   403   403   403   403   403   403',
      deptHaidian:   '403   403   403   403   403   403   403   403',
      deptCity:      '403   403   403   403   403   403   403   403',
      orgHaidian:    '403   403   403   403   403   403   403   403',
      none:          '401   401   401   401   401   401   401   401',
    };
    const CODES: Record<number, string> = { 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 404: 'NOT_FOUND' };
    const sessions = w as unknown as Record<string, { auth: Record<string, string> }>;
    const actual = Object.fromEntries(
      await Promise.all(
        Object.keys(EXPECTED).map(async (name) => {
          const answers = await Promise.all(
            Object.values(ENDPOINTS).map(async (path) => {
              const req = t.http().get(path);
              const res = name === 'none' ? await req : await req.set(sessions[name]?.auth ?? {});
              // An error must be the problem with its code; a 200 a body.
              if (res.status !== 200 && res.body.code !== CODES[res.status]) return `${res.status}:${res.body.code}`;
              return String(res.status);
            }),
          );
          return [name, answers.join('   ')] as const;
        }),
      ),
    );
    expect(actual).toEqual(EXPECTED);
  });

  it('scope: a coordinator sees its own district only; other roles are refused', async () => {
    for (const kind of ['departments', 'organizations']) {
      const res = await t.http().get(`/scorecards/${kind}`).query({ districtCode: CHAOYANG }).set(w.coordHaidian.auth).expect(404);
      expect(res.body.code).toBe('NOT_FOUND');
      expect((await t.http().get(`/scorecards/${kind}`).query({ districtCode: '110199' }).set(w.admin.auth).expect(404)).body.code).toBe('NOT_FOUND');
      for (const session of [w.residentA1, w.staffA1, w.deptHaidian, w.orgHaidian])
        expect((await t.http().get(`/scorecards/${kind}`).set(session.auth).expect(403)).body.code).toBe('FORBIDDEN');
      await t.http().get(`/scorecards/${kind}`).expect(401);
    }
  });

  it('bad input is 400 VALIDATION_FAILED', async () => {
    for (const q of [{ from: '2026-02-30' }, { from: '2026-05-02', to: '2026-05-01' }, { districtCode: '1101080' }, { districtCode: 'abc' }, { extra: '1' }, { from: '2000-01-01', to: '2026-01-01' }]) {
      const res = await t.http().get('/scorecards/departments').query(q).set(w.admin.auth).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
  });

  it('key-population gaps: the communities where no order for the audience was delivered in the last N days, paged, equal the orders', async () => {
    for (const audience of ['elderly', 'youth'])
      for (const days of [30, 180]) {
        const cutoff = today() - (days - 1);
        const expected = (await naiveAudienceCommunities(query, HAIDIAN, audience))
          .filter((c) => c.lastServedAt === null || (dayNumber(shanghaiDay(c.lastServedAt)) ?? 0) < cutoff)
          .sort((a, b) => (a.lastServedAt?.getTime() ?? -Infinity) - (b.lastServedAt?.getTime() ?? -Infinity) || a.communityCode.localeCompare(b.communityCode))
          .map((c) => ({ communityCode: c.communityCode, lastServedAt: c.lastServedAt?.toISOString() ?? null, pendingOrders: c.pendingOrders }));
        const got: { communityCode: string; lastServedAt: string | null; pendingOrders: number }[] = [];
        let cursor: string | null = null;
        do {
          const res = await t
            .http()
            .get(`/coverage/districts/${HAIDIAN}/gaps`)
            .query({ audience, days, limit: 100, ...(cursor ? { cursor } : {}) })
            .set(w.coordHaidian.auth)
            .expect(200);
          const page = res.body as { items: typeof got; nextCursor: string | null };
          got.push(...page.items.map((g) => ({ communityCode: g.communityCode, lastServedAt: g.lastServedAt, pendingOrders: g.pendingOrders })));
          cursor = page.nextCursor;
        } while (cursor);
        expect(got).toEqual(expected);
        // Not trivial: some communities of the district were served for the audience, and some gaps have pending orders of it.
        expect(got.length).toBeLessThan((await naiveAudienceCommunities(query, HAIDIAN, audience)).length);
        expect(got.some((g) => g.pendingOrders > 0)).toBe(true);
      }
    // Served for one audience is not served for another.
    const elderly = (await naiveAudienceCommunities(query, HAIDIAN, 'elderly')).filter((c) => c.lastServedAt !== null).map((c) => c.communityCode);
    const youthGaps = ((await t.http().get(`/coverage/districts/${HAIDIAN}/gaps`).query({ audience: 'youth', days: 180, limit: 100 }).set(w.admin.auth).expect(200)).body as {
      items: { communityCode: string }[];
    }).items;
    expect(youthGaps.length).toBeGreaterThan(0);
    expect(elderly.length).toBeGreaterThan(0);
  });

  it('key-population gaps: CSV, scope and bad input', async () => {
    const res = await t.http().get(`/coverage/districts/${HAIDIAN}/gaps`).query({ audience: 'farmers', days: 180 }).set(w.admin.auth).set('Accept', 'text/csv').expect(200);
    expect(res.headers['content-disposition']).toContain(`coverage-gaps-${HAIDIAN}-farmers.csv`);
    const lines = csvLines(res.text);
    expect(lines[0]).toBe('communityCode,communityName,subdistrictCode,subdistrictName,lastServedAt,daysSinceService,pendingOrders');
    const cutoff = today() - 179;
    const expected = (await naiveAudienceCommunities(query, HAIDIAN, 'farmers')).filter((c) => c.lastServedAt === null || (dayNumber(shanghaiDay(c.lastServedAt)) ?? 0) < cutoff);
    expect(lines).toHaveLength(1 + expected.length);
    expect((await t.http().get(`/coverage/districts/${CHAOYANG}/gaps`).query({ audience: 'elderly' }).set(w.coordHaidian.auth).expect(404)).body.code).toBe('NOT_FOUND');
    expect((await t.http().get(`/coverage/districts/${HAIDIAN}/gaps`).query({ audience: 'elderly' }).set(w.deptHaidian.auth).expect(403)).body.code).toBe('FORBIDDEN');
    for (const audience of ['aliens', 'ELDERLY', 'x'.repeat(41), '']) {
      const bad = await t.http().get(`/coverage/districts/${HAIDIAN}/gaps`).query({ audience }).set(w.admin.auth).expect(400);
      expect(bad.body.code).toBe('VALIDATION_FAILED');
    }
  });

  it('coverage trend: covered communities per 7-day week, the last ending today, equal the orders; CSV; scope', async () => {
    const res = await t.http().get(`/coverage/districts/${HAIDIAN}/trend`).query({ weeks: 22 }).set(w.coordHaidian.auth).expect(200);
    const trend = res.body as { districtCode: string; communities: number; weeks: { from: string; to: string; coveredCommunities: number; coverage: number }[] };
    expect(trend.weeks).toHaveLength(22);
    expect(trend.weeks[21]?.to).toBe(dayFromNumber(today()));
    expect(trend.weeks[0]?.from).toBe(dayFromNumber(today() - 22 * 7 + 1));
    const { rows } = await t.db.query<{ from: string; n: number }>(
      `SELECT w.from_day::text AS from, count(DISTINCT o.community_code)::int AS n
       FROM unnest($2::date[]) AS w(from_day)
       LEFT JOIN orders o ON o.district_code = $1 AND o.status IN ('completed', 'rated', 'closed')
         AND (o.scheduled_start AT TIME ZONE 'Asia/Shanghai')::date BETWEEN w.from_day AND w.from_day + 6
       GROUP BY w.from_day ORDER BY w.from_day`,
      [HAIDIAN, trend.weeks.map((wk) => wk.from)],
    );
    expect(trend.weeks.map((wk) => ({ from: wk.from, n: wk.coveredCommunities }))).toEqual(rows);
    expect(trend.weeks.filter((wk) => wk.coveredCommunities > 0).length).toBeGreaterThan(5);
    for (const wk of trend.weeks) expect(wk.coverage).toBeCloseTo(wk.coveredCommunities / trend.communities, 4);
    expect((await t.http().get(`/coverage/districts/${HAIDIAN}/trend`).set(w.admin.auth).expect(200)).body.weeks).toHaveLength(12);
    const csv = await t.http().get(`/coverage/districts/${HAIDIAN}/trend`).set(w.admin.auth).set('Accept', 'text/csv').expect(200);
    expect(csvLines(csv.text)[0]).toBe('from,to,coveredCommunities,coverage');
    expect(csvLines(csv.text)).toHaveLength(13);
    expect((await t.http().get(`/coverage/districts/${CHAOYANG}/trend`).set(w.coordHaidian.auth).expect(404)).body.code).toBe('NOT_FOUND');
    expect((await t.http().get(`/coverage/districts/${HAIDIAN}/trend`).set(w.orgHaidian.auth).expect(403)).body.code).toBe('FORBIDDEN');
    for (const weeks of ['0', '105', 'x', '1.5'])
      expect((await t.http().get(`/coverage/districts/${HAIDIAN}/trend`).query({ weeks }).set(w.admin.auth).expect(400)).body.code).toBe('VALIDATION_FAILED');
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await t.http().get('/docs-json').expect(200)).body as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    for (const path of ['/scorecards/departments', '/scorecards/organizations', '/coverage/districts/{code}/trend']) expect(doc.paths[path]).toBeDefined();
    expect(doc.components.schemas.ScorecardView).toBeDefined();
  });
});
