/** Whom a scorecard is about: the departments orders are dispatched to, or the organisations they are offered to. */
export type ScorecardKind = 'departments' | 'organizations';

/**
 * The 三率 of one department or organisation over a period (README "Scorecards"):
 * counts of the orders it received in the period, and the rates between them,
 * each null when its denominator is 0.
 */
export interface ScorecardFigures {
  received: number;
  responded: number;
  responseRate: number | null;
  resolved: number;
  resolutionRate: number | null;
  rated: number;
  averageRating: number | null;
  satisfiedRate: number | null;
  medianHoursToRespond: number | null;
}

const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000);

/**
 * Summed rollup values of a subject over a period: `received`, `responded` within the SLA,
 * `resolved`, `rated`, `ratingSum` (the three scores of the rated), `satisfied` (rated ≥ 4, the mean of the three).
 */
export interface ScorecardSums {
  received: number;
  responded: number;
  resolved: number;
  rated: number;
  ratingSum: number;
  satisfied: number;
}

/**
 * The lower median of a dense histogram (index = value, element = count), as PostgreSQL's
 * percentile_disc(0.5): the value at position ceil(n / 2) of the sorted values. Null when empty.
 * (medianFromHistogram for a dense array, without a Map or a sort.)
 */
export function medianOfDenseHistogram(histogram: ArrayLike<number>): number | null {
  let total = 0;
  for (let i = 0; i < histogram.length; i++) total += histogram[i] ?? 0;
  if (total <= 0) return null;
  const position = Math.ceil(total / 2);
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] ?? 0;
    if (seen >= position) return i;
  }
  return null;
}

/** Figures from summed values and the histogram of whole hours to respond (index = hours). */
export function scorecardFigures(sums: Readonly<ScorecardSums>, hours: ArrayLike<number>): ScorecardFigures {
  const { received, rated } = sums;
  return {
    received,
    responded: sums.responded,
    responseRate: ratio(sums.responded, received),
    resolved: sums.resolved,
    resolutionRate: ratio(sums.resolved, received),
    rated,
    averageRating: rated === 0 ? null : Math.round((sums.ratingSum / (3 * rated)) * 100) / 100,
    satisfiedRate: ratio(sums.satisfied, rated),
    medianHoursToRespond: medianOfDenseHistogram(hours),
  };
}
