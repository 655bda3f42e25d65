import { FixedClock, systemClock } from './clock';

describe('Clock', () => {
  it('the system clock tells the wall time', () => {
    const before = Date.now();
    const now = systemClock.now().getTime();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it('a fixed clock tells what it was set to, and hands out copies', () => {
    const clock = new FixedClock(new Date('2026-11-03T02:00:00Z'));
    const told = clock.now();
    told.setTime(0);
    expect(clock.now()).toEqual(new Date('2026-11-03T02:00:00Z'));
    clock.set(new Date('2026-11-04T02:00:00Z'));
    expect(clock.now()).toEqual(new Date('2026-11-04T02:00:00Z'));
  });
});
