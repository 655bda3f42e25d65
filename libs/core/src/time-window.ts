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

/** "2027年3月14日 09:00–11:00" in Asia/Shanghai, for notifications people read. */
export function formatEventTime(start: Date, end: Date): string {
  const local = (at: Date) => new Date(at.getTime() + SHANGHAI_OFFSET_MS);
  const s = local(start);
  const e = local(end);
  const hhmm = (d: Date) => `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  const day = (d: Date) => `${d.getUTCFullYear()}年${d.getUTCMonth() + 1}月${d.getUTCDate()}日`;
  return day(s) === day(e) ? `${day(s)} ${hhmm(s)}–${hhmm(e)}` : `${day(s)} ${hhmm(s)} – ${day(e)} ${hhmm(e)}`;
}
