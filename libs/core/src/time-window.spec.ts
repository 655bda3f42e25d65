import fc from 'fast-check';
import { findLikelyDuplicates } from './duplicates';
import { formatEventTime, isBeyondHorizon, occurrenceWindows, preferredWindowProblems, shiftInstant, windowsOverlap } from './time-window';

const hour = 3600_000;
const day = 24 * hour;
const now = new Date('2026-11-28T00:00:00Z');
const at = (ms: number) => new Date(now.getTime() + ms);

describe('preferred windows', () => {
  it('accepts future windows within 180 days', () => {
    expect(preferredWindowProblems([{ start: at(day), end: at(day + 2 * hour) }], now)).toEqual([]);
  });

  it('refuses past, reversed and too-distant windows, naming the index', () => {
    expect(preferredWindowProblems([{ start: at(-hour), end: at(hour) }], now)).toEqual([{ index: 0, message: 'start must be in the future' }]);
    expect(preferredWindowProblems([{ start: at(day), end: at(day) }], now)).toEqual([{ index: 0, message: 'end must be after start' }]);
    expect(preferredWindowProblems([{ start: at(day), end: at(day + hour) }, { start: at(179 * day), end: at(181 * day) }], now)).toEqual([
      { index: 1, message: 'must end within 180 days' },
    ]);
  });

  it('overlap is symmetric and touching windows do not overlap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 100 }), (s1, l1, s2, l2) => {
        const a = { start: at(s1 * hour), end: at((s1 + l1) * hour) };
        const b = { start: at(s2 * hour), end: at((s2 + l2) * hour) };
        expect(windowsOverlap(a, b)).toBe(windowsOverlap(b, a));
        expect(windowsOverlap(a, b)).toBe(s1 < s2 + l2 && s2 < s1 + l1);
      }),
    );
    expect(windowsOverlap({ start: at(0), end: at(hour) }, { start: at(hour), end: at(2 * hour) })).toBe(false);
  });
});

describe('duplicate hints', () => {
  const windows = [{ start: at(day), end: at(day + 2 * hour) }];
  it('lists open orders with the same topic and audience and an overlapping window', () => {
    const found = findLikelyDuplicates({ topic: 'anti_fraud', audience: 'elderly', preferredWindows: windows }, [
      { id: 'same', topic: 'anti_fraud', audience: 'elderly', preferredWindows: [{ start: at(day + hour), end: at(day + 3 * hour) }] },
      { id: 'other-topic', topic: 'health', audience: 'elderly', preferredWindows: windows },
      { id: 'other-audience', topic: 'anti_fraud', audience: 'youth', preferredWindows: windows },
      { id: 'other-time', topic: 'anti_fraud', audience: 'elderly', preferredWindows: [{ start: at(2 * day), end: at(2 * day + hour) }] },
    ]);
    expect(found).toEqual(['same']);
  });
});

describe('event time for people', () => {
  it('is written in Shanghai time', () => {
    expect(formatEventTime(new Date('2027-03-14T01:00:00Z'), new Date('2027-03-14T03:00:00Z'))).toBe('2027年3月14日 09:00–11:00');
    expect(formatEventTime(new Date('2027-03-14T15:00:00Z'), new Date('2027-03-14T17:00:00Z'))).toBe('2027年3月14日 23:00 – 2027年3月15日 01:00');
  });
});

describe('series occurrences (常态化)', () => {
  it('shifts by weeks, keeping the length of each window', () => {
    const w = { start: new Date('2027-01-05T01:00:00Z'), end: new Date('2027-01-05T03:00:00Z') };
    expect(occurrenceWindows([w], 'week', 2)).toEqual([{ start: new Date('2027-01-19T01:00:00Z'), end: new Date('2027-01-19T03:00:00Z') }]);
  });

  it('shifts by Shanghai calendar months, clamping to the last day of a shorter month', () => {
    // 09:00 on 31 January in Shanghai is 01:00 UTC the same day.
    expect(shiftInstant(new Date('2027-01-31T01:00:00Z'), 'month', 1)).toEqual(new Date('2027-02-28T01:00:00Z'));
    expect(shiftInstant(new Date('2028-01-31T01:00:00Z'), 'month', 1)).toEqual(new Date('2028-02-29T01:00:00Z'));
    expect(shiftInstant(new Date('2027-01-31T01:00:00Z'), 'month', 3)).toEqual(new Date('2027-04-30T01:00:00Z'));
    // 07:00 on the 1st in Shanghai is still the previous day in UTC: the local day counts.
    expect(shiftInstant(new Date('2027-02-28T23:00:00Z'), 'month', 1)).toEqual(new Date('2027-03-31T23:00:00Z'));
    expect(shiftInstant(new Date('2027-11-15T02:00:00Z'), 'month', 2)).toEqual(new Date('2028-01-15T02:00:00Z'));
  });

  it('knows the booking horizon', () => {
    expect(isBeyondHorizon({ start: at(day), end: at(180 * day) }, now)).toBe(false);
    expect(isBeyondHorizon({ start: at(day), end: at(180 * day + 1) }, now)).toBe(true);
  });
});
