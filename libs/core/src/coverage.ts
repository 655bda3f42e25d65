import { AUDIENCE_CODES, TOPIC_CODES } from './catalog';
import { ValidationError } from './errors';
import { ORDER_STATUSES, type OrderStatus } from './order-lifecycle';
import type { Actor } from './roles';

/**
 * Coverage math (DESIGN.md §6), shared by the API's rollup reads and the direct
 * recomputation from orders, so both produce the same figures by construction.
 *
 * Days are Asia/Shanghai calendar days written `YYYY-MM-DD`; a period is
 * `from`..`to`, both days included.
 */

/** An order in one of these statuses was delivered: its community is covered on its event day. */
export const COVERED_STATUSES: readonly OrderStatus[] = ['completed', 'rated', 'closed'];
/** Orders still on their way to an event: the "pending orders" of the gap list. */
export const PENDING_STATUSES: readonly OrderStatus[] = ['submitted', 'dispatched', 'claimed', 'accepted', 'scheduled', 'in_progress'];

/**
 * The district whose coverage an actor sees: a district_coordinator its own
 * (the users table requires one), city_admin the whole city (null).
 */
export const coverageScope = (actor: Pick<Actor, 'role' | 'districtCode'>): string | null => (actor.role === 'city_admin' ? null : actor.districtCode);

/** Default period length and the longest period a request may ask for. */
export const DEFAULT_PERIOD_DAYS = 90;
export const MAX_PERIOD_DAYS = 3660;
export const DEFAULT_GAP_DAYS = 90;

const DAY_MS = 24 * 3600 * 1000;
const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000;
const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

export interface Period {
  from: string;
  to: string;
}

/** Days since 1970-01-01 of a `YYYY-MM-DD` day; null when it is not a real calendar day. */
export function dayNumber(day: string): number | null {
  const m = DAY_PATTERN.exec(day);
  if (!m) return null;
  const [year, month, date] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(year, month - 1, date);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== date) return null;
  return ms / DAY_MS;
}

export const dayFromNumber = (n: number): string => new Date(n * DAY_MS).toISOString().slice(0, 10);

/** The Asia/Shanghai calendar day of an instant (China has no daylight saving time). */
export const shanghaiDay = (at: Date): string => new Date(at.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10);

/**
 * The period a request asks for: `to` defaults to today (Shanghai), `from` to
 * `to` − 89 days (90 days in all). 400 VALIDATION_FAILED for a day that does not
 * exist, `from` after `to`, or a period longer than MAX_PERIOD_DAYS.
 */
export function resolvePeriod(query: { from?: string; to?: string }, now: Date = new Date()): Period {
  const errors = [];
  const toDay = query.to ?? shanghaiDay(now);
  const to = dayNumber(toDay);
  if (to === null) errors.push({ field: 'to', message: 'to must be a calendar day YYYY-MM-DD' });
  const from = query.from !== undefined ? dayNumber(query.from) : to === null ? null : to - (DEFAULT_PERIOD_DAYS - 1);
  if (from === null) errors.push({ field: 'from', message: 'from must be a calendar day YYYY-MM-DD' });
  if (from !== null && to !== null) {
    if (from > to) errors.push({ field: 'from', message: 'from must not be after to' });
    else if (to - from + 1 > MAX_PERIOD_DAYS) errors.push({ field: 'from', message: `a period spans at most ${MAX_PERIOD_DAYS} days` });
  }
  if (errors.length > 0 || from === null || to === null) throw new ValidationError(errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
  return { from: dayFromNumber(from), to: dayFromNumber(to) };
}

/**
 * A period as whole calendar months plus the days at its edges that do not
 * fill a month: what the rollups are read by. Every day of the period is in
 * exactly one month or one day, and nothing else is. Months are given by their
 * first day.
 */
export function splitPeriod(period: Period): { months: string[]; days: string[] } {
  const from = dayNumber(period.from);
  const to = dayNumber(period.to);
  if (from === null || to === null) throw new Error(`not a period: ${period.from}..${period.to}`);
  const months: string[] = [];
  const days: string[] = [];
  let day = from;
  while (day <= to) {
    const date = new Date(day * DAY_MS);
    const monthEnd = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) / DAY_MS - 1;
    if (date.getUTCDate() === 1 && monthEnd <= to) {
      months.push(dayFromNumber(day));
      day = monthEnd + 1;
    } else {
      days.push(dayFromNumber(day));
      day += 1;
    }
  }
  return { months, days };
}

/**
 * Day rollups are stored as a Fenwick (binary indexed) tree inside each month:
 * the node of day i (1-based in its month) sums days (i − lowbit(i)) + 1 … i.
 * A day's change updates at most 5 nodes (i, i + lowbit(i), … ≤ month length);
 * the sum of days 1…e reads at most 5 (e, e − lowbit(e), … > 0).
 */
const lowbit = (i: number): number => i & -i;

/** The nodes (days of the month, 1-based) a change on day `day` updates, in a month of `length` days. */
export function fenwickUpdateNodes(day: number, length: number): number[] {
  const nodes: number[] = [];
  for (let i = day; i <= length; i += lowbit(i)) nodes.push(i);
  return nodes;
}

/** The nodes whose sum is days 1…`day` of a month. */
export function fenwickPrefixNodes(day: number): number[] {
  const nodes: number[] = [];
  for (let i = day; i > 0; i -= lowbit(i)) nodes.push(i);
  return nodes;
}

/** The first day of a node: node i covers days (i − lowbit(i)) + 1 … i. */
export const fenwickNodeFirstDay = (node: number): number => node - lowbit(node) + 1;

/**
 * What a period is read from: whole calendar months (their first days), and
 * Fenwick nodes (their days) with a sign, +1 or −1, for the partial months at
 * its edges: days a…b of a month = prefix(b) − prefix(a − 1). At most
 * months + 20 rows per region, typically months + ~5, whatever the period.
 */
export function rollupPlan(period: Period): { months: string[]; nodes: { day: string; sign: number }[] } {
  const { months } = splitPeriod(period);
  const from = dayNumber(period.from) ?? 0;
  const to = dayNumber(period.to) ?? 0;
  const signs = new Map<number, number>();
  const add = (monthStart: number, nodes: number[], sign: number) => {
    for (const node of nodes) signs.set(monthStart + node - 1, (signs.get(monthStart + node - 1) ?? 0) + sign);
  };
  let day = from;
  while (day <= to) {
    const date = new Date(day * DAY_MS);
    const monthStart = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1) / DAY_MS;
    const monthEnd = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) / DAY_MS - 1;
    const last = Math.min(to, monthEnd);
    if (!(day === monthStart && last === monthEnd)) {
      add(monthStart, fenwickPrefixNodes(last - monthStart + 1), 1);
      if (day > monthStart) add(monthStart, fenwickPrefixNodes(day - monthStart), -1);
    }
    day = last + 1;
  }
  const nodes = [...signs]
    .filter(([, sign]) => sign !== 0)
    .sort(([a], [b]) => a - b)
    .map(([n, sign]) => ({ day: dayFromNumber(n), sign }));
  return { months, nodes };
}

/**
 * The grains of the scorecard rollups: a calendar month ('m', by its first day), the days of a
 * month up to and including a day ('p', prefix, by that day), and the days of a month from a day
 * on ('s', suffix, by that day).
 */
export type EdgeGrain = 'm' | 'p' | 's';

/**
 * What a period is read from in the scorecard rollups: the suffix of its first month, the whole
 * months between, the prefix of its last month, each with +1; a period inside one month that
 * touches neither of its ends is prefix(to) − prefix(from − 1). So at most months + 2 rows per
 * subject, whatever days the period starts and ends on (rollupPlan's Fenwick nodes need up to ~20).
 */
export function edgePlan(period: Period): { grain: EdgeGrain; day: string; sign: number }[] {
  const from = dayNumber(period.from);
  const to = dayNumber(period.to);
  if (from === null || to === null) throw new Error(`not a period: ${period.from}..${period.to}`);
  const plan: { grain: EdgeGrain; day: string; sign: number }[] = [];
  let day = from;
  while (day <= to) {
    const date = new Date(day * DAY_MS);
    const monthStart = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1) / DAY_MS;
    const monthEnd = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1) / DAY_MS - 1;
    const last = Math.min(to, monthEnd);
    if (day === monthStart && last === monthEnd) plan.push({ grain: 'm', day: dayFromNumber(monthStart), sign: 1 });
    else if (last === monthEnd) plan.push({ grain: 's', day: dayFromNumber(day), sign: 1 });
    else {
      plan.push({ grain: 'p', day: dayFromNumber(last), sign: 1 });
      if (day > monthStart) plan.push({ grain: 'p', day: dayFromNumber(day - 1), sign: -1 });
    }
    day = last + 1;
  }
  return plan;
}

/** Bits per year in the served-days strings: day of the year − 1, 366 for leap years. */
export const YEAR_BITS = 366;

/** The served-days bit of a day: its year and its day of the year − 1 (0–365). */
export function dayBit(day: string): { year: number; bit: number } {
  const n = dayNumber(day);
  if (n === null) throw new Error(`not a day: ${day}`);
  const year = new Date(n * DAY_MS).getUTCFullYear();
  return { year, bit: n - Date.UTC(year, 0, 1) / DAY_MS };
}

/** Per year the period touches, a bit(366) literal with the period's days set. */
export function yearMasks(period: Period): { year: number; mask: string }[] {
  const from = dayBit(period.from);
  const to = dayBit(period.to);
  const masks: { year: number; mask: string }[] = [];
  for (let year = from.year; year <= to.year; year++) {
    const first = year === from.year ? from.bit : 0;
    const last = year === to.year ? to.bit : dayBit(`${year}-12-31`).bit;
    masks.push({ year, mask: '0'.repeat(first) + '1'.repeat(last - first + 1) + '0'.repeat(YEAR_BITS - 1 - last) });
  }
  return masks;
}

/**
 * The lower median of a histogram (value → count): the value at position
 * ceil(n / 2) of the sorted values, as PostgreSQL's percentile_disc(0.5). Null when empty.
 */
export function medianFromHistogram(histogram: ReadonlyMap<number, number>): number | null {
  const entries = [...histogram].filter(([, count]) => count > 0).sort(([a], [b]) => a - b);
  const total = entries.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return null;
  const position = Math.ceil(total / 2);
  let seen = 0;
  for (const [value, count] of entries) {
    seen += count;
    if (seen >= position) return value;
  }
  return null;
}

/** covered / all, rounded to 4 decimals; 0 for a region without communities. */
export const coverageRatio = (covered: number, communities: number): number => (communities === 0 ? 0 : Math.round((covered / communities) * 10_000) / 10_000);

const round2 = (value: number): number => Math.round(value * 100) / 100;

/**
 * Counters of a region and period, by key. Anchored on the day the order was
 * submitted: `orders`, `s:<status>` (its current status), `a:<audience>`,
 * `ac:<audience>` (of those, delivered), `t:<topic>`, `tc:<topic>`, `sla`
 * (breaches recorded), `h:<whole hours from submission to first scheduling>`.
 * Anchored on the event's day, delivered orders only: `vh` (volunteer hours),
 * `rs` (sum of the three rating scores), `rn` (rated orders).
 */
export type CoverageCounters = ReadonlyMap<string, number>;

export interface CoverageFigures {
  communities: number;
  coveredCommunities: number;
  coverage: number;
  orders: number;
  ordersByStatus: Record<string, number>;
  slaBreaches: number;
  medianHoursToSchedule: number | null;
  volunteerHours: number;
  averageRating: number | null;
  byAudience: Record<string, { orders: number; completed: number }>;
  byTopic: Record<string, { orders: number; completed: number }>;
}

/** The figures of one region from its counters, covered and total community counts. */
export function coverageFigures(counters: CoverageCounters, coveredCommunities: number, communities: number): CoverageFigures {
  const n = (key: string): number => counters.get(key) ?? 0;
  const ordersByStatus = Object.fromEntries(ORDER_STATUSES.map((s) => [s, n(`s:${s}`)]));
  const histogram = new Map<number, number>();
  const extraAudiences = new Set<string>();
  const extraTopics = new Set<string>();
  for (const [key, count] of counters) {
    if (key.startsWith('h:')) histogram.set(Number(key.slice(2)), count);
    else if (key.startsWith('a:') && !AUDIENCE_CODES.includes(key.slice(2))) extraAudiences.add(key.slice(2));
    else if (key.startsWith('t:') && !TOPIC_CODES.includes(key.slice(2))) extraTopics.add(key.slice(2));
  }
  const breakdown = (codes: Iterable<string>, prefix: string) =>
    Object.fromEntries([...codes].map((code) => [code, { orders: n(`${prefix}:${code}`), completed: n(`${prefix}c:${code}`) }]));
  const rated = n('rn');
  return {
    communities,
    coveredCommunities,
    coverage: coverageRatio(coveredCommunities, communities),
    orders: n('orders'),
    ordersByStatus,
    slaBreaches: n('sla'),
    medianHoursToSchedule: medianFromHistogram(histogram),
    volunteerHours: round2(n('vh')),
    averageRating: rated === 0 ? null : round2(n('rs') / (3 * rated)),
    byAudience: breakdown([...AUDIENCE_CODES, ...[...extraAudiences].sort()], 'a'),
    byTopic: breakdown([...TOPIC_CODES, ...[...extraTopics].sort()], 't'),
  };
}

/** Whole days from the Shanghai day of `lastServedAt` to today's; null when never served. */
export function daysSince(lastServedAt: Date | null, now: Date = new Date()): number | null {
  if (lastServedAt === null) return null;
  return (dayNumber(shanghaiDay(now)) ?? 0) - (dayNumber(shanghaiDay(lastServedAt)) ?? 0);
}

/** The first day that still counts as "served in the last `days` days" (today is the last). */
export function gapCutoffDay(days: number, now: Date = new Date()): string {
  return dayFromNumber((dayNumber(shanghaiDay(now)) ?? 0) - (days - 1));
}
