import fc from 'fast-check';
import { endOfQuietHours } from './quiet-hours';

const shanghai = (iso: string) => new Date(`${iso}+08:00`);

describe('quiet hours (22:00–07:00 Asia/Shanghai)', () => {
  it('delays a message at night to 07:00 Shanghai time', () => {
    expect(endOfQuietHours(shanghai('2026-11-28T23:30:00'))).toEqual(shanghai('2026-11-29T07:00:00'));
    expect(endOfQuietHours(shanghai('2026-11-29T02:00:00'))).toEqual(shanghai('2026-11-29T07:00:00'));
    expect(endOfQuietHours(shanghai('2026-11-28T22:00:00'))).toEqual(shanghai('2026-11-29T07:00:00'));
  });

  it('lets daytime messages go at once', () => {
    expect(endOfQuietHours(shanghai('2026-11-28T07:00:00'))).toBeNull();
    expect(endOfQuietHours(shanghai('2026-11-28T21:59:59'))).toBeNull();
  });

  it('never delays more than 9 hours, and always to a 07:00 in the future', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2020-01-01'), max: new Date('2040-01-01'), noInvalidDate: true }), (at) => {
        const end = endOfQuietHours(at);
        if (end === null) return;
        expect(end.getTime()).toBeGreaterThan(at.getTime());
        expect(end.getTime() - at.getTime()).toBeLessThanOrEqual(9 * 3600 * 1000);
        expect(new Date(end.getTime() + 8 * 3600 * 1000).getUTCHours()).toBe(7);
      }),
    );
  });
});
