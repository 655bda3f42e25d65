import { Sql } from '@kepu/db';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { communityGapsSql, contributionsSql, COUNTERS_OBJECT_SQL, COVERED_SQL, FACT_COLUMNS, factsFromOrdersSql, PENDING_SQL, servedDaysSql } from './coverage-sql';

export interface GapRow {
  communityCode: string;
  communityName: string;
  subdistrictCode: string;
  subdistrictName: string;
  lastServedAt: Date | null;
  pendingOrders: number;
}

/** Where a gap page starts: after this (lastServedAt, code), never-served (null) first. */
export interface GapPosition {
  lastServedAt: Date | null;
  code: string;
}

const ROLLUP_KEY_COLUMNS = 'region_code, grain, period_start';

/**
 * The coverage rollups: the worker's per-order maintenance, the set-based
 * rebuild, and the reads of the API (each bounded by regions × periods, never by orders).
 */
@Injectable()
export class CoverageRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Brings the rollups up to date with the orders' current state: recomputes
   * each order's facts from the source tables, and applies (new − stored) to
   * the rollups while storing the new facts, in one statement of one
   * transaction under a per-order lock. A duplicate or late job finds nothing
   * to change; the result depends only on the orders' state, not on job order.
   */
  async refreshOrders(orderIds: string[]): Promise<void> {
    const ids = [...new Set(orderIds)].sort();
    if (ids.length === 0) return;
    await this.dataSource.transaction(async (manager) => {
      // Two jobs of one order must not both see "no facts yet" and both add the order.
      await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended(id::text, 5)) FROM unnest($1::uuid[]) AS id ORDER BY id`, [ids]);
      await manager.query(this.refreshSql(), [ids]);
    });
  }

  private refreshSql(): string {
    const updates = FACT_COLUMNS.filter((c) => c !== 'order_id')
      .map((c) => `${c} = excluded.${c}`)
      .join(', ');
    return `
      WITH old AS (SELECT f.* FROM coverage_order_facts f WHERE f.order_id = ANY($1::uuid[]) FOR UPDATE),
      new AS (${factsFromOrdersSql((column) => `${column} = ANY($1::uuid[])`)}),
      changed AS (
        SELECT -1 AS sign, o.* FROM old o WHERE NOT EXISTS (SELECT 1 FROM new n WHERE (n.*) IS NOT DISTINCT FROM (o.*))
        UNION ALL
        SELECT 1 AS sign, n.* FROM new n WHERE NOT EXISTS (SELECT 1 FROM old o WHERE (o.*) IS NOT DISTINCT FROM (n.*))
      ),
      stored AS (
        INSERT INTO coverage_order_facts (${FACT_COLUMNS.join(', ')}) SELECT ${FACT_COLUMNS.join(', ')} FROM changed WHERE sign = 1
        ON CONFLICT (order_id) DO UPDATE SET ${updates}
        RETURNING order_id
      ),
      rollups AS (
        INSERT INTO coverage_rollups (${ROLLUP_KEY_COLUMNS}, counters)
        SELECT ${ROLLUP_KEY_COLUMNS}, ${COUNTERS_OBJECT_SQL}
        FROM (SELECT ${ROLLUP_KEY_COLUMNS}, key, sum(value) AS value
              FROM (${contributionsSql('SELECT * FROM changed', ['m', 'f'])}) c
              GROUP BY ${ROLLUP_KEY_COLUMNS}, key HAVING sum(value) <> 0) sums
        GROUP BY ${ROLLUP_KEY_COLUMNS}
        ORDER BY ${ROLLUP_KEY_COLUMNS}
        ON CONFLICT (${ROLLUP_KEY_COLUMNS}) DO UPDATE SET counters = coverage_counters_add(coverage_rollups.counters, excluded.counters)
        RETURNING 1
      ),
      -- Delivered is final (completed → rated → closed) and the event day of a delivered order
      -- does not move: served days and last service only grow, so concurrent jobs merge with OR / greatest.
      served AS (
        INSERT INTO coverage_served_days (community_code, year, district_code, subdistrict_code, days)
        SELECT community_code, extract(year FROM event_day)::int, min(district_code), min(subdistrict_code),
          bit_or(set_bit(repeat('0', 366)::bit(366), extract(doy FROM event_day)::int - 1, 1))
        FROM changed WHERE sign = 1 AND status IN (${COVERED_SQL}) AND event_day IS NOT NULL
        GROUP BY community_code, extract(year FROM event_day)::int
        ORDER BY 1, 2
        ON CONFLICT (community_code, year) DO UPDATE SET days = coverage_served_days.days | excluded.days
        RETURNING 1
      ),
      gaps AS (
        INSERT INTO coverage_communities (community_code, district_code, subdistrict_code, last_served_at, pending_orders)
        SELECT community_code, min(district_code), min(subdistrict_code),
          max(event_start) FILTER (WHERE sign = 1 AND status IN (${COVERED_SQL})),
          sum(CASE WHEN status IN (${PENDING_SQL}) THEN sign ELSE 0 END)::int
        FROM changed
        GROUP BY community_code
        ORDER BY 1
        ON CONFLICT (community_code) DO UPDATE
          SET last_served_at = greatest(coverage_communities.last_served_at, excluded.last_served_at),
              pending_orders = coverage_communities.pending_orders + excluded.pending_orders
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM stored)::int AS facts, (SELECT count(*) FROM rollups)::int AS rollups,
             (SELECT count(*) FROM served)::int AS served, (SELECT count(*) FROM gaps)::int AS gaps`;
  }

  /**
   * Rebuilds facts and rollups from the orders, set-based, in one transaction
   * (workers' refreshes wait on the truncated tables and then apply their
   * differences to the rebuilt state). Day rollups from the facts, months from the days.
   */
  async rebuild(): Promise<{ facts: number; rollups: number }> {
    return this.dataSource.transaction((manager) => rebuildCoverage(manager));
  }

  /**
   * Rebuilds when there are orders but no coverage facts yet (a database that
   * had orders before the coverage migration, or orders written around the
   * outbox); under a lock, so of several workers starting at once one rebuilds.
   * Null when nothing was to be done.
   */
  async rebuildIfEmpty(): Promise<{ facts: number; rollups: number } | null> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('coverage-rebuild', 5))`);
      const rows = await manager.query<{ is_needed: boolean }[]>(
        `SELECT NOT EXISTS (SELECT 1 FROM coverage_order_facts) AND EXISTS (SELECT 1 FROM orders) AS is_needed`,
      );
      return rows[0]?.is_needed ? rebuildCoverage(manager) : null;
    });
  }

  /**
   * Counters per region over whole months (first days) and signed Fenwick
   * nodes (last days), as libs/core rollupPlan gives them: the rows are read
   * as they are and added up here (cheaper than expanding them in SQL).
   */
  async counters(regionCodes: string[], months: string[], nodes: { day: string; sign: number }[]): Promise<Map<string, Map<string, number>>> {
    const rows = await this.dataSource.query<{ region_code: string; grain: string; day: string; counters: Record<string, number> & { h?: number[] } }[]>(
      `SELECT region_code, grain, period_start::text AS day, counters FROM coverage_rollups
       WHERE region_code = ANY($1::varchar[]) AND grain = 'm' AND period_start = ANY($2::date[])
       UNION ALL
       SELECT region_code, grain, period_start::text, counters FROM coverage_rollups
       WHERE region_code = ANY($1::varchar[]) AND grain = 'f' AND period_start = ANY($3::date[])`,
      [regionCodes, months, nodes.map((n) => n.day)],
    );
    const signs = new Map(nodes.map((n) => [n.day, n.sign]));
    // Plain objects and arrays while adding (a few hundred rows), Maps for the answer.
    const sums = new Map<string, { counters: Record<string, number>; hours: number[] }>();
    for (const row of rows) {
      const sign = row.grain === 'm' ? 1 : (signs.get(row.day) ?? 0);
      let acc = sums.get(row.region_code);
      if (!acc) sums.set(row.region_code, (acc = { counters: Object.create(null) as Record<string, number>, hours: [] }));
      const { h, ...values } = row.counters;
      for (const key in values) acc.counters[key] = (acc.counters[key] ?? 0) + sign * (values[key] as number);
      if (h) for (let i = 0; i < h.length; i++) acc.hours[i] = (acc.hours[i] ?? 0) + sign * (h[i] as number);
    }
    const byRegion = new Map<string, Map<string, number>>();
    for (const [region, acc] of sums) {
      const counters = new Map(Object.entries(acc.counters));
      acc.hours.forEach((n, hours) => n !== 0 && counters.set(`h:${hours}`, n));
      byRegion.set(region, counters);
    }
    return byRegion;
  }

  /** Communities with a served day inside the masks, per district (or per subdistrict of one district). */
  async coveredCommunities(masks: { year: number; mask: string }[], districtCode: string | null, by: 'district' | 'subdistrict'): Promise<Map<string, number>> {
    if (masks.length === 0) return new Map();
    const column = by === 'district' ? 's.district_code' : 's.subdistrict_code';
    const sql = new Sql();
    // Each mask a constant of the statement (not a cast per row): one index-only pass over the years' rows.
    const inPeriod = masks
      .map((m) => `(s.year = ${sql.param(m.year)} AND (s.days & ${sql.param(m.mask)}::bit(366)) <> B'0'::bit(366))`)
      .join(' OR ');
    const years = sql.param(masks.map((m) => m.year));
    const district = districtCode === null ? '' : `AND s.district_code = ${sql.param(districtCode)}`;
    // One row per (community, year): over one year a plain count is the number of communities.
    const counted = masks.length === 1 ? 'count(*)' : 'count(DISTINCT s.community_code)';
    const rows = await this.dataSource.query<{ code: string; n: number }[]>(
      `SELECT ${column} AS code, ${counted}::int AS n
       FROM coverage_served_days s
       WHERE s.year = ANY(${years}::int[]) ${district} AND (${inPeriod})
       GROUP BY ${column}`,
      sql.params,
    );
    return new Map(rows.map((r) => [r.code, r.n]));
  }

  /** Per window (by index), the communities of the district with a served day inside the window's masks. */
  async coveredPerWindow(districtCode: string, windows: { year: number; mask: string }[][]): Promise<Map<number, number>> {
    const flat = windows.flatMap((masks, i) => masks.map((m) => ({ i, ...m })));
    if (flat.length === 0) return new Map();
    const rows = await this.dataSource.query<{ i: number; n: number }[]>(
      `SELECT w.i, count(DISTINCT s.community_code)::int AS n
       FROM unnest($2::int[], $3::int[], $4::text[]) AS w(i, year, mask)
       JOIN coverage_served_days s ON s.district_code = $1 AND s.year = w.year AND (s.days & w.mask::bit(366)) <> B'0'::bit(366)
       GROUP BY w.i`,
      [districtCode, flat.map((w) => w.i), flat.map((w) => w.year), flat.map((w) => w.mask)],
    );
    return new Map(rows.map((r) => [r.i, r.n]));
  }

  /**
   * Communities of a district not served since `cutoffDay` (Shanghai), never
   * served first, then longest unserved; `limit` rows after `after`. Bounded
   * by the district's communities, whatever the number of orders.
   */
  async gaps(districtCode: string, cutoffDay: string, limit: number, after: GapPosition | null, audience: string | null = null): Promise<GapRow[]> {
    const sql = new Sql();
    // One audience: its last delivered event and pending orders per community, from that audience's facts
    // of the district (index coverage_order_facts_audience_idx: ~1/7 of the district's orders, index-only).
    const source =
      audience === null
        ? 'coverage_communities'
        : `(SELECT f.community_code, max(f.event_start) FILTER (WHERE f.status IN (${COVERED_SQL})) AS last_served_at,
                   count(*) FILTER (WHERE f.status IN (${PENDING_SQL}))::int AS pending_orders
            FROM coverage_order_facts f
            WHERE f.district_code = ${sql.param(districtCode)} AND f.audience = ${sql.param(audience)}
            GROUP BY f.community_code)`;
    let afterSql = '';
    if (after) {
      const code = sql.param(after.code);
      afterSql =
        after.lastServedAt === null
          ? `AND (g.last_served_at IS NOT NULL OR c.code > ${code})`
          : `AND g.last_served_at IS NOT NULL AND (g.last_served_at, c.code) > (${sql.param(after.lastServedAt)}::timestamptz, ${code})`;
    }
    return this.dataSource.query<GapRow[]>(
      `SELECT c.code AS "communityCode", c.name AS "communityName", s.code AS "subdistrictCode", s.name AS "subdistrictName",
              g.last_served_at AS "lastServedAt", coalesce(g.pending_orders, 0) AS "pendingOrders"
       FROM communities c
       JOIN subdistricts s ON s.code = c.subdistrict_code
       LEFT JOIN ${source} g ON g.community_code = c.code
       WHERE c.district_code = ${sql.param(districtCode)}
         AND (g.last_served_at IS NULL OR (g.last_served_at AT TIME ZONE 'Asia/Shanghai')::date < ${sql.param(cutoffDay)}::date)
         ${afterSql}
       ORDER BY g.last_served_at ASC NULLS FIRST, c.code ASC
       LIMIT ${sql.param(limit)}`,
      sql.params,
    );
  }
}

/** The rebuild as a function of a transaction's manager, so the CLI and the benchmark run the same statements. */
export async function rebuildCoverage(manager: Pick<EntityManager, 'query'>): Promise<{ facts: number; rollups: number }> {
  // Set-based over every order: longer than a request's statement_timeout on a large database.
  await manager.query(`SET LOCAL statement_timeout = 0`);
  await manager.query(`TRUNCATE coverage_order_facts, coverage_rollups, coverage_served_days, coverage_communities`);
  await manager.query(`INSERT INTO coverage_order_facts (${FACT_COLUMNS.join(', ')}) ${factsFromOrdersSql(() => 'TRUE')}`);
  // Per region and day, the sums of every key; months and Fenwick nodes are sums of those.
  await manager.query(
    `CREATE TEMP TABLE coverage_day_totals ON COMMIT DROP AS
     SELECT region_code, period_start AS day, key, sum(value) AS value
     FROM (${contributionsSql('SELECT 1 AS sign, * FROM coverage_order_facts', ['d'])}) c
     GROUP BY region_code, period_start, key HAVING sum(value) <> 0`,
  );
  await manager.query(
    `INSERT INTO coverage_rollups (${ROLLUP_KEY_COLUMNS}, counters)
     SELECT region_code, grain, period_start, ${COUNTERS_OBJECT_SQL}
     FROM (SELECT region_code, 'm' AS grain, date_trunc('month', day)::date AS period_start, key, sum(value) AS value
           FROM coverage_day_totals GROUP BY 1, 2, 3, 4
           UNION ALL
           SELECT region_code, 'f', node, key, sum(value)
           FROM coverage_day_totals CROSS JOIN LATERAL unnest(coverage_fenwick_nodes(day)) AS node GROUP BY 1, 2, 3, 4) sums
     WHERE value <> 0
     GROUP BY region_code, grain, period_start`,
  );
  await manager.query(servedDaysSql('TRUE'));
  await manager.query(communityGapsSql('TRUE'));
  const counts = await manager.query<{ facts: number; rollups: number }[]>(
    `SELECT (SELECT count(*) FROM coverage_order_facts)::int AS facts, (SELECT count(*) FROM coverage_rollups)::int AS rollups`,
  );
  return counts[0] ?? { facts: 0, rollups: 0 };
}
