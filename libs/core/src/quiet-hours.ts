/**
 * Non-urgent SMS are not sent between 22:00 and 07:00 Asia/Shanghai (UTC+8, no
 * daylight saving): they wait until 07:00.
 */
const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000;
const QUIET_START_HOUR = 22;
const QUIET_END_HOUR = 7;

export function endOfQuietHours(at: Date): Date | null {
  const local = new Date(at.getTime() + SHANGHAI_OFFSET_MS);
  const hour = local.getUTCHours();
  if (hour >= QUIET_START_HOUR || hour < QUIET_END_HOUR) {
    const end = new Date(local);
    if (hour >= QUIET_START_HOUR) end.setUTCDate(end.getUTCDate() + 1);
    end.setUTCHours(QUIET_END_HOUR, 0, 0, 0);
    return new Date(end.getTime() - SHANGHAI_OFFSET_MS);
  }
  return null;
}
