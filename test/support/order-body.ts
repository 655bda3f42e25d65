const DAY_MS = 24 * 3600 * 1000;

/** A two-hour window `daysAhead` days from now, from 09:00 in Beijing (01:00 UTC). */
export function preferredWindow(daysAhead = 30): { start: string; end: string } {
  const start = new Date(Date.now() + daysAhead * DAY_MS);
  start.setUTCHours(1, 0, 0, 0);
  const end = new Date(start.getTime() + 2 * 3600 * 1000);
  return { start: start.toISOString(), end: end.toISOString() };
}

/** A valid order body for a community, with windows a few weeks ahead. */
export function orderBody(communityCode: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    communityCode,
    topic: 'anti_fraud',
    audience: 'elderly',
    format: 'lecture',
    title: '老年人防范电信诈骗讲座',
    description: '面向社区老年人的防诈骗知识讲座，约一小时，含互动问答。',
    expectedAttendance: 60,
    preferredWindows: [preferredWindow()],
    accessibilityNeeds: ['wheelchair'],
    contactName: '李阿姨',
    contactPhone: '13812341234',
    ...overrides,
  };
}
