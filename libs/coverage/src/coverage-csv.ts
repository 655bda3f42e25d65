import { toCsv } from '@kepu/http';
import type { CoverageFigures } from '@kepu/core';
import type { CoverageGapView, CoverageTrendView } from './coverage.dto';

export interface CoverageCsvRow {
  level: 'district' | 'subdistrict';
  code: string;
  name: string;
  figures: CoverageFigures;
}

/** One row per region; the keyed figures become one column each (`orders_<status>`, `audience_<code>_orders`…). */
export function coverageCsv(rows: CoverageCsvRow[]): string {
  const first = rows[0]?.figures;
  const statuses = Object.keys(first?.ordersByStatus ?? {});
  const audiences = Object.keys(first?.byAudience ?? {});
  const topics = Object.keys(first?.byTopic ?? {});
  const header = [
    'level',
    'code',
    'name',
    'communities',
    'coveredCommunities',
    'coverage',
    'orders',
    ...statuses.map((s) => `orders_${s}`),
    'slaBreaches',
    'medianHoursToSchedule',
    'volunteerHours',
    'averageRating',
    ...audiences.flatMap((a) => [`audience_${a}_orders`, `audience_${a}_completed`]),
    ...topics.flatMap((t) => [`topic_${t}_orders`, `topic_${t}_completed`]),
  ];
  return toCsv(
    header,
    rows.map(({ level, code, name, figures: f }) => [
      level,
      code,
      name,
      f.communities,
      f.coveredCommunities,
      f.coverage,
      f.orders,
      ...statuses.map((s) => f.ordersByStatus[s] ?? 0),
      f.slaBreaches,
      f.medianHoursToSchedule,
      f.volunteerHours,
      f.averageRating,
      ...audiences.flatMap((a) => [f.byAudience[a]?.orders ?? 0, f.byAudience[a]?.completed ?? 0]),
      ...topics.flatMap((t) => [f.byTopic[t]?.orders ?? 0, f.byTopic[t]?.completed ?? 0]),
    ]),
  );
}

const GAP_COLUMNS = ['communityCode', 'communityName', 'subdistrictCode', 'subdistrictName', 'lastServedAt', 'daysSinceService', 'pendingOrders'] as const;

export const gapsCsv = (items: CoverageGapView[]): string => toCsv(GAP_COLUMNS, items.map((item) => GAP_COLUMNS.map((column) => item[column])));

const TREND_COLUMNS = ['from', 'to', 'coveredCommunities', 'coverage'] as const;
export const trendCsv = (trend: CoverageTrendView): string => toCsv(TREND_COLUMNS, trend.weeks.map((week) => TREND_COLUMNS.map((column) => week[column])));
