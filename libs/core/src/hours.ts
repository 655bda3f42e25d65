/**
 * Service hours (志愿服务时长): the overlap of [check-in, check-out] with the
 * scheduled event, rounded down to the quarter hour, so they never exceed the
 * event (志愿汇 credits no more than the event's own length).
 */
const QUARTER_HOUR_MS = 15 * 60 * 1000;

export function serviceHours(checkInAt: Date, checkOutAt: Date, eventStart: Date, eventEnd: Date): number {
  const from = Math.max(checkInAt.getTime(), eventStart.getTime());
  const to = Math.min(checkOutAt.getTime(), eventEnd.getTime());
  if (to <= from) return 0;
  return Math.floor((to - from) / QUARTER_HOUR_MS) / 4;
}

/** Beijing volunteer star levels (星级志愿者) by total recorded hours. */
export const STAR_THRESHOLDS_HOURS = [100, 300, 600, 1000, 1500] as const;

export function starLevel(totalHours: number): number {
  return STAR_THRESHOLDS_HOURS.filter((threshold) => totalHours >= threshold).length;
}

/** Check-in opens 2 h before the start and closes at the end (DESIGN.md §3). */
export const CHECK_IN_OPENS_BEFORE_MS = 2 * 3600 * 1000;

export function isCheckInOpen(at: Date, eventStart: Date, eventEnd: Date): boolean {
  return at.getTime() >= eventStart.getTime() - CHECK_IN_OPENS_BEFORE_MS && at.getTime() <= eventEnd.getTime();
}
