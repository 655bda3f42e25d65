export interface TimeWindow {
  start: Date;
  end: Date;
}

export const MAX_DAYS_AHEAD = 180;
export const MAX_PREFERRED_WINDOWS = 5;

export function windowsOverlap(a: TimeWindow, b: TimeWindow): boolean {
  return a.start < b.end && b.start < a.end;
}

export function anyWindowsOverlap(a: readonly TimeWindow[], b: readonly TimeWindow[]): boolean {
  return a.some((x) => b.some((y) => windowsOverlap(x, y)));
}

/** Problems with the preferred windows of a new order, as field messages; empty when valid. */
export function preferredWindowProblems(windows: readonly TimeWindow[], now: Date): { index: number; message: string }[] {
  const problems: { index: number; message: string }[] = [];
  const latest = new Date(now.getTime() + MAX_DAYS_AHEAD * 24 * 3600 * 1000);
  windows.forEach((w, index) => {
    if (!(w.end > w.start)) problems.push({ index, message: 'end must be after start' });
    if (!(w.start > now)) problems.push({ index, message: 'start must be in the future' });
    if (w.end > latest) problems.push({ index, message: `must end within ${MAX_DAYS_AHEAD} days` });
  });
  return problems;
}

const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000;

export type RecurrenceUnit = 'week' | 'month';

/**
 * An instant moved by `steps` weeks or calendar months (常态化 series). Months count in
 * Shanghai's calendar (no daylight saving there, so the local time of day is kept), and a
 * day the target month lacks becomes its last day: Jan 31 + 1 month = Feb 28 (or 29).
 */
export function shiftInstant(at: Date, every: RecurrenceUnit, steps: number): Date {
  if (every === 'week') return new Date(at.getTime() + steps * 7 * 24 * 3600 * 1000);
  const local = new Date(at.getTime() + SHANGHAI_OFFSET_MS);
  const day = local.getUTCDate();
  const target = new Date(local);
  target.setUTCDate(1);
  target.setUTCMonth(target.getUTCMonth() + steps);
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return new Date(target.getTime() - SHANGHAI_OFFSET_MS);
}

/** The windows of the n-th occurrence (0 = the first) of a series: each window shifted, its length kept. */
export function occurrenceWindows(windows: readonly TimeWindow[], every: RecurrenceUnit, n: number): TimeWindow[] {
  return windows.map((w) => {
    const start = shiftInstant(w.start, every, n);
    return { start, end: new Date(start.getTime() + (w.end.getTime() - w.start.getTime())) };
  });
}

/** Whether a window ends beyond the booking horizon (MAX_DAYS_AHEAD days from now). */
export const isBeyondHorizon = (window: TimeWindow, now: Date): boolean => window.end.getTime() > now.getTime() + MAX_DAYS_AHEAD * 24 * 3600 * 1000;

/** "2027年3月14日 09:00–11:00" in Asia/Shanghai, for notifications people read. */
export function formatEventTime(start: Date, end: Date): string {
  const local = (at: Date) => new Date(at.getTime() + SHANGHAI_OFFSET_MS);
  const s = local(start);
  const e = local(end);
  const hhmm = (d: Date) => `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  const day = (d: Date) => `${d.getUTCFullYear()}年${d.getUTCMonth() + 1}月${d.getUTCDate()}日`;
  return day(s) === day(e) ? `${day(s)} ${hhmm(s)}–${hhmm(e)}` : `${day(s)} ${hhmm(s)} – ${day(e)} ${hhmm(e)}`;
}
