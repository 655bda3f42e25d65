import { COVERED_STATUSES, PENDING_STATUSES } from '@kepu/core';

/**
 * The SQL both the worker's per-order maintenance and the set-based rebuild
 * run, so the two cannot disagree. Definitions: README "Coverage".
 */

const list = (values: readonly string[]): string => values.map((v) => `'${v}'`).join(',');
export const COVERED_SQL = list(COVERED_STATUSES);
export const PENDING_SQL = list(PENDING_STATUSES);

/** Columns of coverage_order_facts, in table order. */
export const FACT_COLUMNS = [
  'order_id',
  'community_code',
  'subdistrict_code',
  'district_code',
  'status',
  'audience',
  'topic',
  'submitted_day',
  'event_start',
  'event_day',
  'hours_to_schedule',
  'volunteer_hours',
  'rating_sum',
  'sla_breaches',
] as const;

/**
 * An order's facts recomputed from the source tables. `orderFilter(column)`
 * restricts each source to some orders (e.g. `${column} = ANY($1)`), or `TRUE` for all.
 */
export function factsFromOrdersSql(orderFilter: (column: string) => string): string {
  return `
    SELECT o.id AS order_id, o.community_code, o.subdistrict_code, o.district_code, o.status, o.audience, o.topic,
      (o.created_at AT TIME ZONE 'Asia/Shanghai')::date AS submitted_day,
      o.scheduled_start AS event_start,
      (o.scheduled_start AT TIME ZONE 'Asia/Shanghai')::date AS event_day,
      floor(extract(epoch FROM e.first_scheduled_at - o.created_at) / 3600)::int AS hours_to_schedule,
      coalesce(sr.hours, 0)::numeric(10,2) AS volunteer_hours,
      CASE WHEN o.rating IS NULL THEN NULL
           ELSE (o.rating->>'content')::int + (o.rating->>'volunteers')::int + (o.rating->>'punctuality')::int END AS rating_sum,
      coalesce(b.n, 0) AS sla_breaches
    FROM orders o
    LEFT JOIN (SELECT order_id, min(at) AS first_scheduled_at FROM order_events
               WHERE to_status = 'scheduled' AND ${orderFilter('order_id')} GROUP BY order_id) e ON e.order_id = o.id
    LEFT JOIN (SELECT order_id, sum(hours) AS hours FROM service_records WHERE ${orderFilter('order_id')} GROUP BY order_id) sr ON sr.order_id = o.id
    LEFT JOIN (SELECT order_id, count(*)::int AS n FROM sla_breaches WHERE ${orderFilter('order_id')} GROUP BY order_id) b ON b.order_id = o.id
    WHERE ${orderFilter('o.id')}`;
}

/**
 * The counters object of a group of (key, value) rows: every key but the
 * histogram's `h:<hours>`, which become one dense array `h` (index = hours).
 */
export const COUNTERS_OBJECT_SQL = `coalesce(jsonb_object_agg(key, value) FILTER (WHERE key NOT LIKE 'h:%'), '{}'::jsonb)
  || jsonb_strip_nulls(jsonb_build_object('h', coverage_histogram(array_agg(substr(key, 3)::int) FILTER (WHERE key LIKE 'h:%'), array_agg(value) FILTER (WHERE key LIKE 'h:%'))))`;

/** Rollup grains: a calendar month, a Fenwick node of days inside a month (libs/core coverage.ts), or a plain day (only inside the rebuild). */
export type Grain = 'm' | 'f' | 'd';

/**
 * (region_code, grain, period_start, key, value) rows: what the facts in
 * `source` (columns of coverage_order_facts plus \`sign\`) add to the rollups,
 * for the district and the subdistrict, in the given grains.
 */
export function contributionsSql(source: string, grains: readonly Grain[]): string {
  const periods = grains
    .map((g) =>
      g === 'm'
        ? `SELECT 'm'::char(1) AS grain, date_trunc('month', kv.day)::date AS period_start`
        : g === 'd'
          ? `SELECT 'd'::char(1) AS grain, kv.day AS period_start`
          : `SELECT 'f'::char(1) AS grain, node AS period_start FROM unnest(coverage_fenwick_nodes(kv.day)) AS node`,
    )
    .join(' UNION ALL ');
  return `
    SELECT r.region_code, p.grain, p.period_start, kv.key, kv.value * f.sign AS value
    FROM (${source}) f
    CROSS JOIN LATERAL (VALUES (f.district_code::varchar(9)), (f.subdistrict_code::varchar(9))) r(region_code)
    CROSS JOIN LATERAL (
      SELECT f.submitted_day AS day, k.key, k.value
      FROM (VALUES ('orders', 1::numeric), ('s:' || f.status, 1), ('a:' || f.audience, 1), ('t:' || f.topic, 1),
                   ('ac:' || f.audience, CASE WHEN f.status IN (${COVERED_SQL}) THEN 1 ELSE 0 END),
                   ('tc:' || f.topic, CASE WHEN f.status IN (${COVERED_SQL}) THEN 1 ELSE 0 END),
                   ('sla', f.sla_breaches),
                   ('h:' || f.hours_to_schedule, CASE WHEN f.hours_to_schedule IS NULL THEN 0 ELSE 1 END)) k(key, value)
      UNION ALL
      SELECT f.event_day, k.key, k.value
      FROM (VALUES ('vh', f.volunteer_hours::numeric), ('rs', coalesce(f.rating_sum, 0)), ('rn', CASE WHEN f.rating_sum IS NULL THEN 0 ELSE 1 END)) k(key, value)
      WHERE f.status IN (${COVERED_SQL}) AND f.event_day IS NOT NULL
    ) kv
    CROSS JOIN LATERAL (${periods}) p
    WHERE kv.value <> 0 AND kv.key IS NOT NULL`;
}

/**
 * Served days and the gap row of the communities matching `communityFilter`
 * (over \`f.community_code\` / \`c.code\`), recomputed from their facts.
 */
export function servedDaysSql(communityFilter: string): string {
  return `
    INSERT INTO coverage_served_days (community_code, year, district_code, subdistrict_code, days)
    SELECT f.community_code, extract(year FROM f.event_day)::int, min(f.district_code), min(f.subdistrict_code),
      bit_or(set_bit(repeat('0', 366)::bit(366), extract(doy FROM f.event_day)::int - 1, 1))
    FROM coverage_order_facts f
    WHERE f.status IN (${COVERED_SQL}) AND f.event_day IS NOT NULL AND ${communityFilter}
    GROUP BY f.community_code, extract(year FROM f.event_day)::int
    ORDER BY 1, 2`;
}

export function communityGapsSql(communityFilter: string): string {
  return `
    INSERT INTO coverage_communities (community_code, district_code, subdistrict_code, last_served_at, pending_orders)
    SELECT f.community_code, min(f.district_code), min(f.subdistrict_code),
      max(f.event_start) FILTER (WHERE f.status IN (${COVERED_SQL})),
      count(*) FILTER (WHERE f.status IN (${PENDING_SQL}))::int
    FROM coverage_order_facts f
    WHERE ${communityFilter}
    GROUP BY f.community_code
    ORDER BY 1`;
}
