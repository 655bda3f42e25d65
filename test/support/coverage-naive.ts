import { coverageFigures, type CoverageFigures, type Period } from '@kepu/core';
import { COVERED_SQL, PENDING_SQL } from '@kepu/coverage';

/**
 * The coverage figures recomputed straight from the orders with plain GROUP BYs,
 * without the rollups: the reference the rollups are tested against, and the
 * "naive" side of `npm run bench:coverage`. Scans every order of the scope.
 */

export type Query = <T>(sql: string, params: unknown[]) => Promise<T[]>;

export interface NaiveScope {
  /** Group by district or by subdistrict. */
  by: 'district' | 'subdistrict';
  /** Only this district (the drill-down, or a coordinator); null for the city. */
  districtCode: string | null;
}

export async function naiveCoverage(query: Query, period: Period, scope: NaiveScope): Promise<Map<string, CoverageFigures>> {
  const region = scope.by === 'district' ? 'district_code' : 'subdistrict_code';
  const params = [period.from, period.to, scope.districtCode];
  const inScope = `($3::varchar IS NULL OR o.district_code = $3)`;
  const submitted = `(o.created_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN $1::date AND $2::date AND ${inScope}`;
  const delivered = `o.status IN (${COVERED_SQL}) AND (o.scheduled_start AT TIME ZONE 'Asia/Shanghai')::date BETWEEN $1::date AND $2::date AND ${inScope}`;
  const [regions, byGroup, breaches, schedule, hours, ratings, covered] = await Promise.all([
    query<{ code: string; n: number }>(
      `SELECT ${region} AS code, count(*)::int AS n FROM communities WHERE ($3::varchar IS NULL OR district_code = $3) AND $1::date <= $2::date GROUP BY ${region}`,
      params,
    ),
    query<{ code: string; status: string; audience: string; topic: string; n: number; done: number }>(
      `SELECT o.${region} AS code, o.status, o.audience, o.topic, count(*)::int AS n, count(*) FILTER (WHERE o.status IN (${COVERED_SQL}))::int AS done
       FROM orders o WHERE ${submitted} GROUP BY 1, 2, 3, 4`,
      params,
    ),
    query<{ code: string; n: number }>(`SELECT o.${region} AS code, count(*)::int AS n FROM sla_breaches b JOIN orders o ON o.id = b.order_id WHERE ${submitted} GROUP BY 1`, params),
    query<{ code: string; h: number; n: number }>(
      `SELECT o.${region} AS code, floor(extract(epoch FROM e.first_at - o.created_at) / 3600)::int AS h, count(*)::int AS n
       FROM orders o JOIN (SELECT order_id, min(at) AS first_at FROM order_events WHERE to_status = 'scheduled' GROUP BY order_id) e ON e.order_id = o.id
       WHERE ${submitted} GROUP BY 1, 2`,
      params,
    ),
    query<{ code: string; hours: string }>(
      `SELECT o.${region} AS code, sum(sr.hours) AS hours FROM service_records sr JOIN orders o ON o.id = sr.order_id WHERE ${delivered} GROUP BY 1`,
      params,
    ),
    query<{ code: string; total: number; n: number }>(
      `SELECT o.${region} AS code,
              sum((o.rating->>'content')::int + (o.rating->>'volunteers')::int + (o.rating->>'punctuality')::int)::int AS total, count(*)::int AS n
       FROM orders o WHERE ${delivered} AND o.rating IS NOT NULL GROUP BY 1`,
      params,
    ),
    query<{ code: string; n: number }>(`SELECT o.${region} AS code, count(DISTINCT o.community_code)::int AS n FROM orders o WHERE ${delivered} GROUP BY 1`, params),
  ]);
  const counters = new Map<string, Map<string, number>>();
  const add = (code: string, key: string, value: number) => {
    let c = counters.get(code);
    if (!c) counters.set(code, (c = new Map()));
    c.set(key, (c.get(key) ?? 0) + value);
  };
  for (const r of byGroup) {
    add(r.code, 'orders', r.n);
    add(r.code, `s:${r.status}`, r.n);
    add(r.code, `a:${r.audience}`, r.n);
    add(r.code, `t:${r.topic}`, r.n);
    add(r.code, `ac:${r.audience}`, r.done);
    add(r.code, `tc:${r.topic}`, r.done);
  }
  for (const r of breaches) add(r.code, 'sla', r.n);
  for (const r of schedule) add(r.code, `h:${r.h}`, r.n);
  for (const r of hours) add(r.code, 'vh', Number(r.hours));
  for (const r of ratings) {
    add(r.code, 'rs', r.total);
    add(r.code, 'rn', r.n);
  }
  const coveredBy = new Map(covered.map((r) => [r.code, r.n]));
  return new Map(regions.map((r) => [r.code, coverageFigures(counters.get(r.code) ?? new Map(), coveredBy.get(r.code) ?? 0, r.n)]));
}

export interface NaiveGap {
  communityCode: string;
  lastServedAt: Date | null;
  pendingOrders: number;
}

/** Every community of the district with its last delivered event and pending orders, from the orders. */
export function naiveCommunities(query: Query, districtCode: string): Promise<NaiveGap[]> {
  return query<NaiveGap>(
    `SELECT c.code AS "communityCode", max(o.scheduled_start) FILTER (WHERE o.status IN (${COVERED_SQL})) AS "lastServedAt",
            count(o.id) FILTER (WHERE o.status IN (${PENDING_SQL}))::int AS "pendingOrders"
     FROM communities c LEFT JOIN orders o ON o.community_code = c.code
     WHERE c.district_code = $1 GROUP BY c.code`,
    [districtCode],
  );
}
