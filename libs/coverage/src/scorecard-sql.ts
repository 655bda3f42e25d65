import { COVERED_SQL } from './coverage-sql';

/**
 * The stage deadlines the scorecards measure responses against (AppConfig SLA_CLAIM_HOURS, SLA_ACCEPT_HOURS),
 * and the share of them an urgent order has (SLA_URGENT_FACTOR): each order is measured against its own deadline.
 */
export interface ScorecardSla {
  claimHours: number;
  acceptHours: number;
  urgentFactor: number;
}

/** Hours to respond are kept in whole hours, at most this many (a longer wait counts as this). */
export const MAX_RESPONSE_HOURS = 999;

/** Columns of scorecard_facts, in table order. */
export const SCORECARD_FACT_COLUMNS = [
  'order_id',
  'kind',
  'subject_id',
  'district_code',
  'received_day',
  'responded',
  'hours_to_respond',
  'resolved',
  'rating_sum',
] as const;

const seconds = (hours: number): string => {
  if (!Number.isFinite(hours) || hours <= 0) throw new Error(`An SLA of ${hours} hours is not a deadline.`);
  return String(hours * 3600);
};

const factor = (share: number): string => {
  if (!Number.isFinite(share) || share <= 0 || share > 1) throw new Error(`An urgent SLA factor of ${share} is not a share of the deadline.`);
  return String(share);
};

/**
 * The scorecard facts of some orders, recomputed from their events
 * (`orderFilter(column)` restricts each source, or `TRUE` for all). Definitions (README "Scorecards"):
 * - department (kind 'd'): every department an order was dispatched to (an event into `dispatched` whose
 *   payload names a `departmentId`: dispatch, or a reassignment); received on the first such event;
 *   the response is its first `order.claimed`, timed from the last dispatch to it before the claim;
 * - organisation (kind 'o'): every organisation it was offered to or that accepted it; received at the
 *   first of those; the response is its first `order.accepted`, timed from the last offer to it or
 *   open call before the acceptance;
 * - responded: a response within the order's own deadline of the stage (claim, accept): the SLA, times
 *   SLA_URGENT_FACTOR for an urgent order, as the stage timers set it (libs/core slaHoursFor); resolved: the order is
 *   delivered (completed, rated, closed) and the subject is still the order's department/organisation;
 *   rating_sum: the three scores' sum of a resolved, rated order.
 */
export function scorecardFactsSql(orderFilter: (column: string) => string, sla: ScorecardSla): string {
  return `
    WITH dept_events AS (
      SELECT e.order_id, e.seq, e.at, e.type = 'order.claimed' AS is_response, (e.payload->>'departmentId')::uuid AS subject_id
      FROM order_events e
      WHERE ${orderFilter('e.order_id')} AND (e.to_status = 'dispatched' OR e.type = 'order.claimed') AND e.payload->>'departmentId' IS NOT NULL
    ),
    dept_asked AS (
      SELECT d.*, max(d.at) FILTER (WHERE NOT d.is_response) OVER (PARTITION BY d.order_id, d.subject_id ORDER BY d.seq) AS asked_at
      FROM dept_events d
    ),
    org_events AS (
      SELECT e.order_id, e.seq, e.at, e.type, (e.payload->>'organizationId')::uuid AS subject_id
      FROM order_events e
      WHERE ${orderFilter('e.order_id')} AND e.type IN ('order.offered', 'order.opened', 'order.accepted')
    ),
    org_asked AS (
      SELECT o.*, greatest(max(o.at) FILTER (WHERE o.type = 'order.offered') OVER (PARTITION BY o.order_id, o.subject_id ORDER BY o.seq),
                           max(o.at) FILTER (WHERE o.type = 'order.opened') OVER (PARTITION BY o.order_id ORDER BY o.seq)) AS asked_at
      FROM org_events o
    ),
    received AS (
      SELECT order_id, 'd'::char(1) AS kind, subject_id, min(at) FILTER (WHERE NOT is_response) AS received_at,
        (array_agg(at - asked_at ORDER BY seq) FILTER (WHERE is_response AND asked_at IS NOT NULL))[1] AS response
      FROM dept_asked GROUP BY order_id, subject_id
      HAVING count(*) FILTER (WHERE NOT is_response) > 0
      UNION ALL
      SELECT order_id, 'o'::char(1), subject_id, min(at),
        (array_agg(at - asked_at ORDER BY seq) FILTER (WHERE type = 'order.accepted' AND asked_at IS NOT NULL))[1]
      FROM org_asked WHERE type <> 'order.opened' AND subject_id IS NOT NULL
      GROUP BY order_id, subject_id
    ),
    facts AS (
      SELECT r.order_id, r.kind, r.subject_id, o.district_code,
        (r.received_at AT TIME ZONE 'Asia/Shanghai')::date AS received_day,
        coalesce(extract(epoch FROM r.response) <= CASE r.kind WHEN 'd' THEN ${seconds(sla.claimHours)} ELSE ${seconds(sla.acceptHours)} END
                                                  * CASE WHEN o.urgent THEN ${factor(sla.urgentFactor)} ELSE 1 END, false) AS responded,
        -- least() skips NULLs: an order never answered has no hours, not the cap.
        CASE WHEN r.response IS NOT NULL THEN least(floor(extract(epoch FROM r.response) / 3600), ${MAX_RESPONSE_HOURS})::int END AS hours_to_respond,
        coalesce(o.status IN (${COVERED_SQL}) AND CASE r.kind WHEN 'd' THEN o.department_id ELSE o.organization_id END = r.subject_id, false) AS resolved,
        o.rating
      FROM received r JOIN orders o ON o.id = r.order_id
    )
    SELECT order_id, kind, subject_id, district_code, received_day, responded, hours_to_respond, resolved,
      CASE WHEN resolved AND rating IS NOT NULL
           THEN (rating->>'content')::int + (rating->>'volunteers')::int + (rating->>'punctuality')::int END AS rating_sum
    FROM facts`;
}

/** A rating of 4 or more (the mean of the three scores): the sum of the three is at least 12. */
export const SATISFIED_RATING_SUM = 12;

/** The last day of the month of a date expression. */
export const monthEndSql = (day: string): string => `(date_trunc('month', ${day}::timestamp) + interval '1 month - 1 day')::date`;

/**
 * The rollup rows a day's figures count in (libs/core edgePlan): its month ('m'), the prefixes of
 * its month from that day to the month's end ('p'), and the suffixes from the month's first day to
 * that day ('s'): a month's length + 1 rows. `day` is a date expression.
 */
export function scorecardRollupPeriodsSql(day: string): string {
  return `
    SELECT 'm'::char(1) AS grain, date_trunc('month', ${day}::timestamp)::date AS period_start
    UNION ALL SELECT 'p'::char(1), p::date FROM generate_series(${day}::timestamp, ${monthEndSql(day)}::timestamp, interval '1 day') AS p
    UNION ALL SELECT 's'::char(1), s::date FROM generate_series(date_trunc('month', ${day}::timestamp), ${day}::timestamp, interval '1 day') AS s`;
}

/** The district code of a subject's city rows in scorecard_rollups: its figures over every district. */
export const CITY_ROWS = '*';

/** Columns of scorecard_rollups after its key, in table order (`hours`: element h + 1 counts h whole hours to respond). */
export const SCORECARD_ROLLUP_VALUE_COLUMNS = ['received', 'responded', 'resolved', 'rated', 'rating_sum', 'satisfied', 'hours'] as const;

/**
 * (kind, grain, period_start, district_code, subject_id, key, value) rows: what the facts in `source`
 * (scorecard_facts columns plus \`sign\`) add to the rollups of their district and of the city
 * (district_code CITY_ROWS) by month, prefix and suffix (scorecardRollupPeriodsSql); or, inside the
 * rebuild only, to their district by plain day ('d'; the rebuild sums the city's days from those).
 * Keys: the value columns (SCORECARD_ROLLUP_VALUE_COLUMNS), and h:<whole hours to respond> for the histogram.
 */
export function scorecardContributionsSql(source: string, grains: 'rollups' | 'days'): string {
  const periods = grains === 'days' ? `SELECT 'd'::char(1) AS grain, f.received_day AS period_start` : scorecardRollupPeriodsSql('f.received_day');
  const districts = grains === 'days' ? `(f.district_code)` : `(f.district_code), ('${CITY_ROWS}'::varchar(6))`;
  return `
    SELECT f.kind, p.grain, p.period_start, d.district_code, f.subject_id, k.key, k.value * f.sign AS value
    FROM (${source}) f
    CROSS JOIN LATERAL (VALUES ('received', 1), ('responded', f.responded::int), ('resolved', f.resolved::int),
                               ('rated', (f.rating_sum IS NOT NULL)::int), ('rating_sum', coalesce(f.rating_sum, 0)),
                               ('satisfied', coalesce((f.rating_sum >= ${SATISFIED_RATING_SUM})::int, 0)),
                               ('h:' || f.hours_to_respond, CASE WHEN f.hours_to_respond IS NULL THEN 0 ELSE 1 END)) k(key, value)
    CROSS JOIN LATERAL (VALUES ${districts}) d(district_code)
    CROSS JOIN LATERAL (${periods}) p
    WHERE k.value <> 0 AND k.key IS NOT NULL`;
}

/** The value columns (SCORECARD_ROLLUP_VALUE_COLUMNS order) of a group of (key, value) contribution rows. */
export const SCORECARD_ROLLUP_VALUES_SQL = [
  ...SCORECARD_ROLLUP_VALUE_COLUMNS.filter((c) => c !== 'hours').map((c) => `coalesce(sum(value) FILTER (WHERE key = '${c}'), 0)::int`),
  `scorecard_hours(array_agg(substr(key, 3)::int) FILTER (WHERE key LIKE 'h:%'), array_agg(value::int) FILTER (WHERE key LIKE 'h:%'))`,
].join(', ');

/** ON CONFLICT … DO UPDATE SET: a stored rollup row plus the excluded one. */
export const SCORECARD_ROLLUP_ADD_SQL = SCORECARD_ROLLUP_VALUE_COLUMNS.map((c) =>
  c === 'hours' ? `hours = scorecard_hours_add(scorecard_rollups.hours, excluded.hours)` : `${c} = scorecard_rollups.${c} + excluded.${c}`,
).join(', ');
