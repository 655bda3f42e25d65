import { AppConfig } from '@kepu/config';
import { preparedQuery } from '@kepu/db';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { EdgeGrain, ScorecardSums } from '@kepu/core';
import {
  CITY_ROWS,
  monthEndSql,
  SCORECARD_FACT_COLUMNS,
  SCORECARD_ROLLUP_ADD_SQL,
  SCORECARD_ROLLUP_VALUE_COLUMNS,
  SCORECARD_ROLLUP_VALUES_SQL,
  scorecardContributionsSql,
  scorecardFactsSql,
  type ScorecardSla,
} from './scorecard-sql';

/** Summed rollup values of one subject over a period, and its histogram of whole hours to respond (index = hours). */
export interface SubjectSums {
  sums: ScorecardSums;
  hours: number[];
}

/** One rollup row as read: the int columns, the histogram as its text ('{3,0,5}'), i the plan entry it answers (1-based). */
interface RollupRow {
  subject_id: string;
  i: string;
  received: number;
  responded: number;
  resolved: number;
  rated: number;
  rating_sum: number;
  satisfied: number;
  hours: string;
}

const ROLLUP_KEY_COLUMNS = 'kind, grain, period_start, district_code, subject_id';
const ROLLUP_COLUMNS = `${ROLLUP_KEY_COLUMNS}, ${SCORECARD_ROLLUP_VALUE_COLUMNS.join(', ')}`;

/** '{3,0,5}' (an int[] as PostgreSQL prints it, lower bound 1) → [3, 0, 5]: one JSON.parse, far cheaper than the driver's array parser. */
const histogramOf = (text: string): number[] => (text.length <= 2 ? [] : (JSON.parse(`[${text.slice(1, -1)}]`) as number[]));

export const scorecardSla = (config: Pick<AppConfig, 'slaClaimHours' | 'slaAcceptHours' | 'slaUrgentFactor'>): ScorecardSla => ({
  claimHours: config.slaClaimHours,
  acceptHours: config.slaAcceptHours,
  urgentFactor: config.slaUrgentFactor,
});

/**
 * The scorecard facts and rollups: per-order maintenance beside coverage's,
 * the set-based rebuild, and the reads (bounded by subjects × periods, never by orders).
 */
@Injectable()
export class ScorecardRepository {
  private readonly sla: ScorecardSla;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    config: AppConfig,
  ) {
    this.sla = scorecardSla(config);
  }

  /** As coverage's refresh: recompute the orders' facts, apply (new − stored) to the rollups, under a per-order lock. */
  async refreshOrders(orderIds: string[]): Promise<void> {
    const ids = [...new Set(orderIds)].sort();
    if (ids.length === 0) return;
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended(id::text, 6)) FROM unnest($1::uuid[]) AS id ORDER BY id`, [ids]);
      await manager.query(this.refreshSql(), [ids]);
    });
  }

  private refreshSql(): string {
    const key = 'order_id, kind, subject_id';
    const updates = SCORECARD_FACT_COLUMNS.filter((c) => !key.includes(c))
      .map((c) => `${c} = excluded.${c}`)
      .join(', ');
    return `
      WITH old AS (SELECT f.* FROM scorecard_facts f WHERE f.order_id = ANY($1::uuid[]) FOR UPDATE),
      new AS (${scorecardFactsSql((column) => `${column} = ANY($1::uuid[])`, this.sla)}),
      changed AS (
        SELECT -1 AS sign, o.* FROM old o WHERE NOT EXISTS (SELECT 1 FROM new n WHERE (n.*) IS NOT DISTINCT FROM (o.*))
        UNION ALL
        SELECT 1 AS sign, n.* FROM new n WHERE NOT EXISTS (SELECT 1 FROM old o WHERE (o.*) IS NOT DISTINCT FROM (n.*))
      ),
      removed AS (
        DELETE FROM scorecard_facts f USING changed c
        WHERE c.sign = -1 AND (f.order_id, f.kind, f.subject_id) = (c.order_id, c.kind, c.subject_id)
          AND NOT EXISTS (SELECT 1 FROM new n WHERE (n.order_id, n.kind, n.subject_id) = (c.order_id, c.kind, c.subject_id))
        RETURNING 1
      ),
      stored AS (
        INSERT INTO scorecard_facts (${SCORECARD_FACT_COLUMNS.join(', ')}) SELECT ${SCORECARD_FACT_COLUMNS.join(', ')} FROM changed WHERE sign = 1
        ON CONFLICT (${key}) DO UPDATE SET ${updates}
        RETURNING 1
      ),
      rollups AS (
        INSERT INTO scorecard_rollups (${ROLLUP_COLUMNS})
        SELECT ${ROLLUP_KEY_COLUMNS}, ${SCORECARD_ROLLUP_VALUES_SQL}
        FROM (SELECT ${ROLLUP_KEY_COLUMNS}, key, sum(value) AS value
              FROM (${scorecardContributionsSql('SELECT * FROM changed', 'rollups')}) c
              GROUP BY ${ROLLUP_KEY_COLUMNS}, key HAVING sum(value) <> 0) sums
        GROUP BY ${ROLLUP_KEY_COLUMNS}
        -- One order for every writer: two refreshes that share rows (a subject's city rows) lock them in the same order, never in a cycle.
        ORDER BY ${ROLLUP_KEY_COLUMNS}
        ON CONFLICT (${ROLLUP_KEY_COLUMNS}) DO UPDATE SET ${SCORECARD_ROLLUP_ADD_SQL}
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM removed)::int AS removed, (SELECT count(*) FROM stored)::int AS stored, (SELECT count(*) FROM rollups)::int AS rollups`;
  }

  rebuild(): Promise<{ facts: number; rollups: number }> {
    return this.dataSource.transaction((manager) => rebuildScorecards(manager, this.sla));
  }

  /** Rebuilds when orders were dispatched but no scorecard facts exist (a database upgraded to the scorecards migration). */
  async rebuildIfEmpty(): Promise<{ facts: number; rollups: number } | null> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('scorecards-rebuild', 6))`);
      const rows = await manager.query<{ is_needed: boolean }[]>(
        `SELECT NOT EXISTS (SELECT 1 FROM scorecard_facts) AND EXISTS (SELECT 1 FROM order_events WHERE to_status = 'dispatched') AS is_needed`,
      );
      return rows[0]?.is_needed ? rebuildScorecards(manager, this.sla) : null;
    });
  }

  /**
   * Summed values per subject of one kind over a period's rollup rows (libs/core edgePlan: a suffix,
   * whole months, a prefix, each signed), of one district or of the city (its CITY_ROWS): months + 2
   * rows per subject. Rows without orders (received 0, hence all 0) are skipped.
   */
  async sums(kind: 'd' | 'o', districtCode: string | null, plan: { grain: EdgeGrain; day: string; sign: number }[]): Promise<Map<string, SubjectSums>> {
    // Prepared: a request's own work is small enough that planning the text each time would show.
    const rows = await preparedQuery<RollupRow>(
      this.dataSource,
      'scorecard-rollup-sums',
      `SELECT r.subject_id, p.i, r.received, r.responded, r.resolved, r.rated, r.rating_sum, r.satisfied, r.hours::text AS hours
       FROM unnest($2::char(1)[], $3::date[]) WITH ORDINALITY AS p(grain, day, i)
       JOIN scorecard_rollups r ON r.kind = $1 AND r.grain = p.grain AND r.period_start = p.day AND r.district_code = $4 AND r.received <> 0`,
      [kind, plan.map((p) => p.grain), plan.map((p) => p.day), districtCode ?? CITY_ROWS],
    );
    const result = new Map<string, SubjectSums>();
    for (const row of rows) {
      const sign = plan[Number(row.i) - 1]?.sign ?? 0;
      let acc = result.get(row.subject_id);
      if (!acc) {
        acc = { sums: { received: 0, responded: 0, resolved: 0, rated: 0, ratingSum: 0, satisfied: 0 }, hours: [] };
        result.set(row.subject_id, acc);
      }
      const { sums, hours } = acc;
      sums.received += sign * row.received;
      sums.responded += sign * row.responded;
      sums.resolved += sign * row.resolved;
      sums.rated += sign * row.rated;
      sums.ratingSum += sign * row.rating_sum;
      sums.satisfied += sign * row.satisfied;
      const h = histogramOf(row.hours);
      for (let i = 0; i < h.length; i++) hours[i] = (hours[i] ?? 0) + sign * (h[i] as number);
    }
    return result;
  }

  /**
   * Every subject of a kind, with whether a scorecard lists it whatever its figures: in a district, its
   * own and the city-wide departments, or the organisations serving it; in the city, all. (Others are
   * listed when they have figures in scope.) Independent of the figures, so it runs beside their read.
   */
  subjects(kind: 'd' | 'o', districtCode: string | null): Promise<{ id: string; name: string; in_scope: boolean }[]> {
    const inScope =
      kind === 'd'
        ? `$1::varchar IS NULL OR t.district_code = $1 OR t.district_code IS NULL`
        : `$1::varchar IS NULL OR EXISTS (SELECT 1 FROM organization_districts od WHERE od.organization_id = t.id AND od.district_code = $1)`;
    return preparedQuery<{ id: string; name: string; in_scope: boolean }>(
      this.dataSource,
      `scorecard-subjects-${kind}`,
      `SELECT t.id, t.name, (${inScope}) AS in_scope FROM ${kind === 'd' ? 'departments' : 'organizations'} t ORDER BY t.name, t.id`,
      [districtCode],
    );
  }
}

/**
 * The rebuild on a caller's transaction: facts from the events, day totals (of each district and of
 * the city, CITY_ROWS), then per (subject, district, month, key) the month's total, and running sums
 * forwards (prefixes, each held until the next day with figures or the month's end) and backwards
 * (suffixes, back to the previous such day or the month's first day).
 */
export async function rebuildScorecards(manager: Pick<EntityManager, 'query'>, sla: ScorecardSla): Promise<{ facts: number; rollups: number }> {
  await manager.query(`SET LOCAL statement_timeout = 0`);
  await manager.query(`TRUNCATE scorecard_facts, scorecard_rollups`);
  await manager.query(`INSERT INTO scorecard_facts (${SCORECARD_FACT_COLUMNS.join(', ')}) ${scorecardFactsSql(() => 'TRUE', sla)}`);
  await manager.query(
    `CREATE TEMP TABLE scorecard_day_totals ON COMMIT DROP AS
     SELECT kind, district_code, subject_id, period_start AS day, date_trunc('month', period_start::timestamp)::date AS month, key, sum(value) AS value
     FROM (${scorecardContributionsSql('SELECT 1 AS sign, * FROM scorecard_facts', 'days')}) c
     GROUP BY kind, district_code, subject_id, period_start, key HAVING sum(value) <> 0`,
  );
  // The city's days: the districts' summed (far fewer rows than the facts).
  await manager.query(
    `INSERT INTO scorecard_day_totals (kind, district_code, subject_id, day, month, key, value)
     SELECT kind, '${CITY_ROWS}', subject_id, day, month, key, sum(value) FROM scorecard_day_totals GROUP BY kind, subject_id, day, month, key HAVING sum(value) <> 0`,
  );
  const series = `PARTITION BY kind, district_code, subject_id, month, key`;
  await manager.query(
    `INSERT INTO scorecard_rollups (${ROLLUP_COLUMNS})
     SELECT ${ROLLUP_KEY_COLUMNS}, ${SCORECARD_ROLLUP_VALUES_SQL}
     FROM (SELECT kind, 'm' AS grain, month AS period_start, district_code, subject_id, key, sum(value) AS value
           FROM scorecard_day_totals GROUP BY 1, 2, 3, 4, 5, 6
           UNION ALL
           SELECT kind, 'p', held::date, district_code, subject_id, key, value
           FROM (SELECT kind, district_code, subject_id, month, key, day,
                   sum(value) OVER (${series} ORDER BY day) AS value, lead(day) OVER (${series} ORDER BY day) AS next_day
                 FROM scorecard_day_totals) t
           CROSS JOIN LATERAL generate_series(day::timestamp, coalesce(next_day - 1, ${monthEndSql('month')})::timestamp, interval '1 day') AS held
           UNION ALL
           SELECT kind, 's', held::date, district_code, subject_id, key, value
           FROM (SELECT kind, district_code, subject_id, month, key, day,
                   sum(value) OVER (${series} ORDER BY day DESC) AS value, lag(day) OVER (${series} ORDER BY day) AS previous_day
                 FROM scorecard_day_totals) t
           CROSS JOIN LATERAL generate_series(coalesce(previous_day + 1, month)::timestamp, day::timestamp, interval '1 day') AS held) sums
     WHERE value <> 0
     GROUP BY ${ROLLUP_KEY_COLUMNS}
     -- In key order, so the rows a request reads together (one kind, grain, day and district) share a few pages.
     ORDER BY ${ROLLUP_KEY_COLUMNS}`,
  );
  const counts = await manager.query<{ facts: number; rollups: number }[]>(
    `SELECT (SELECT count(*) FROM scorecard_facts)::int AS facts, (SELECT count(*) FROM scorecard_rollups)::int AS rollups`,
  );
  return counts[0] ?? { facts: 0, rollups: 0 };
}
