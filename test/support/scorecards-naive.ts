import type { Period, ScorecardFigures, ScorecardKind } from '@kepu/core';
import type { Query } from './coverage-naive';

/**
 * The scorecards recomputed straight from the order events with plain lateral
 * look-ups and GROUP BYs, without facts or rollups: the reference the rollups are
 * tested against, and the "naive" side of `npm run bench:scorecards`. Scans every
 * event of the scope. Definitions: README "Scorecards".
 */

export interface NaiveScorecardOptions {
  /** Only orders of this district; null for the city. */
  districtCode: string | null;
  claimHours: number;
  acceptHours: number;
  /** An urgent order's deadline is this share of the normal one (SLA_URGENT_FACTOR). */
  urgentFactor: number;
}

const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000);

/** Figures per subject id, for the subjects that received anything in the period. */
export async function naiveScorecards(query: Query, kind: ScorecardKind, period: Period, options: NaiveScorecardOptions): Promise<Map<string, ScorecardFigures>> {
  const received =
    kind === 'departments'
      ? `SELECT e.order_id, (e.payload->>'departmentId')::uuid AS subject_id, min(e.at) AS received_at
         FROM order_events e WHERE e.to_status = 'dispatched' AND e.payload->>'departmentId' IS NOT NULL GROUP BY 1, 2`
      : `SELECT e.order_id, (e.payload->>'organizationId')::uuid AS subject_id, min(e.at) AS received_at
         FROM order_events e WHERE e.type IN ('order.offered', 'order.accepted') AND e.payload->>'organizationId' IS NOT NULL GROUP BY 1, 2`;
  const response =
    kind === 'departments'
      ? `SELECT c.seq, c.at FROM order_events c WHERE c.order_id = r.order_id AND c.type = 'order.claimed' AND (c.payload->>'departmentId')::uuid = r.subject_id ORDER BY c.seq LIMIT 1`
      : `SELECT c.seq, c.at FROM order_events c WHERE c.order_id = r.order_id AND c.type = 'order.accepted' AND (c.payload->>'organizationId')::uuid = r.subject_id ORDER BY c.seq LIMIT 1`;
  const asked =
    kind === 'departments'
      ? `SELECT d.at FROM order_events d WHERE d.order_id = r.order_id AND d.seq < resp.seq AND d.to_status = 'dispatched' AND (d.payload->>'departmentId')::uuid = r.subject_id ORDER BY d.seq DESC LIMIT 1`
      : `SELECT d.at FROM order_events d WHERE d.order_id = r.order_id AND d.seq < resp.seq
           AND ((d.type = 'order.offered' AND (d.payload->>'organizationId')::uuid = r.subject_id) OR d.type = 'order.opened') ORDER BY d.seq DESC LIMIT 1`;
  const holder = kind === 'departments' ? 'o.department_id' : 'o.organization_id';
  const slaSeconds = (kind === 'departments' ? options.claimHours : options.acceptHours) * 3600;
  const rows = await query<{
    subject_id: string;
    received: number;
    responded: number;
    resolved: number;
    rated: number;
    rating_sum: number | null;
    satisfied: number;
    median: number | null;
  }>(
    `WITH x AS (
       SELECT r.subject_id, extract(epoch FROM resp.at - asked.at) AS wait,
         $4::numeric * CASE WHEN o.urgent THEN $5::numeric ELSE 1 END AS deadline,
         (o.status IN ('completed', 'rated', 'closed') AND ${holder} IS NOT DISTINCT FROM r.subject_id) AS resolved,
         (o.rating->>'content')::int + (o.rating->>'volunteers')::int + (o.rating->>'punctuality')::int AS score
       FROM (${received}) r
       JOIN orders o ON o.id = r.order_id
       LEFT JOIN LATERAL (${response}) resp ON true
       LEFT JOIN LATERAL (${asked}) asked ON true
       WHERE (r.received_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN $1::date AND $2::date
         AND ($3::varchar IS NULL OR o.district_code = $3)
     )
     SELECT subject_id, count(*)::int AS received,
       count(*) FILTER (WHERE wait <= deadline)::int AS responded,
       count(*) FILTER (WHERE resolved)::int AS resolved,
       count(*) FILTER (WHERE resolved AND score IS NOT NULL)::int AS rated,
       sum(score) FILTER (WHERE resolved)::int AS rating_sum,
       count(*) FILTER (WHERE resolved AND score >= 12)::int AS satisfied,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY CASE WHEN wait IS NOT NULL THEN least(floor(wait / 3600), 999) END) AS median
     FROM x GROUP BY subject_id`,
    [period.from, period.to, options.districtCode, slaSeconds, options.urgentFactor],
  );
  return new Map(
    rows.map((r) => [
      r.subject_id,
      {
        received: r.received,
        responded: r.responded,
        responseRate: ratio(r.responded, r.received),
        resolved: r.resolved,
        resolutionRate: ratio(r.resolved, r.received),
        rated: r.rated,
        averageRating: r.rated === 0 ? null : Math.round(((r.rating_sum ?? 0) / (3 * r.rated)) * 100) / 100,
        satisfiedRate: ratio(r.satisfied, r.rated),
        medianHoursToRespond: r.median === null ? null : Number(r.median),
      },
    ]),
  );
}
