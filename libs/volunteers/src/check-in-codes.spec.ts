import type { AppConfig } from '@kepu/config';
import { FixedClock } from '@kepu/core';
import { CHECK_IN_CODE_STEP_SECONDS, checkInCodeAt, CheckInCodes } from './check-in-codes';

const SECRET = 'a-secret-of-at-least-16-characters';
const ORDER = '6f1c1d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f';
const STEP_MS = CHECK_IN_CODE_STEP_SECONDS * 1000;
const NOW = new Date(Math.floor(Date.parse('2027-03-17T01:02:03Z') / STEP_MS) * STEP_MS + 60_000);

describe('check-in codes', () => {
  const clock = new FixedClock(NOW);
  const codes = new CheckInCodes({ checkInCodeSecret: SECRET } as AppConfig, clock);

  it('are 6 digits, the same through a 5-minute step, and differ by order, step and secret', () => {
    const code = checkInCodeAt(SECRET, ORDER, NOW);
    expect(code).toMatch(/^\d{6}$/);
    expect(checkInCodeAt(SECRET, ORDER, new Date(NOW.getTime() + 60_000))).toBe(code);
    expect(checkInCodeAt(SECRET, ORDER.toUpperCase(), NOW)).toBe(code);
    const others = [
      checkInCodeAt(SECRET, ORDER, new Date(NOW.getTime() + STEP_MS)),
      checkInCodeAt(SECRET, '00000000-0000-4000-8000-000000000000', NOW),
      checkInCodeAt(`${SECRET}!`, ORDER, NOW),
    ];
    expect(others).not.toContain(code);
  });

  it('show the current code and when it changes; accept it and the previous step\'s, not older ones', () => {
    const shown = codes.current(ORDER);
    expect(shown.code).toBe(checkInCodeAt(SECRET, ORDER, NOW));
    expect(shown.expiresAt.getTime()).toBe(NOW.getTime() - 60_000 + STEP_MS);
    expect(shown.validUntil.getTime()).toBe(shown.expiresAt.getTime() + STEP_MS);
    expect(codes.isValid(ORDER, shown.code, NOW)).toBe(true);
    expect(codes.isValid(ORDER, checkInCodeAt(SECRET, ORDER, new Date(NOW.getTime() - STEP_MS)), NOW)).toBe(true);
    expect(codes.isValid(ORDER, checkInCodeAt(SECRET, ORDER, new Date(NOW.getTime() - 2 * STEP_MS)), NOW)).toBe(false);
    expect(codes.isValid(ORDER, checkInCodeAt(SECRET, ORDER, new Date(NOW.getTime() + STEP_MS)), NOW)).toBe(false);
    expect(codes.isValid(ORDER, '12345', NOW)).toBe(false);
    expect(codes.isValid(ORDER, '', NOW)).toBe(false);
  });
});
