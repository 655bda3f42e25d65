import fc from 'fast-check';
import { isCheckInOpen, serviceHours, starLevel } from './hours';

const t = (hhmm: string) => new Date(`2027-03-14T${hhmm}:00+08:00`);

describe('service hours', () => {
  it('counts the overlap with the event, rounded down to the quarter hour', () => {
    expect(serviceHours(t('08:50'), t('11:20'), t('09:00'), t('11:00'))).toBe(2);
    expect(serviceHours(t('09:10'), t('10:00'), t('09:00'), t('11:00'))).toBe(0.75);
    expect(serviceHours(t('09:00'), t('09:14'), t('09:00'), t('11:00'))).toBe(0);
    expect(serviceHours(t('11:30'), t('12:00'), t('09:00'), t('11:00'))).toBe(0);
  });

  it('never exceeds the event, is a multiple of 0.25, and grows with a longer stay', () => {
    const minute = 60_000;
    fc.assert(
      fc.property(fc.integer({ min: -300, max: 600 }), fc.integer({ min: 0, max: 900 }), fc.integer({ min: 1, max: 480 }), fc.integer({ min: 0, max: 120 }), (inMin, stayMin, eventMin, extraMin) => {
        const start = t('09:00');
        const end = new Date(start.getTime() + eventMin * minute);
        const checkIn = new Date(start.getTime() + inMin * minute);
        const checkOut = new Date(checkIn.getTime() + stayMin * minute);
        const hours = serviceHours(checkIn, checkOut, start, end);
        expect(hours).toBeGreaterThanOrEqual(0);
        expect(hours * 60).toBeLessThanOrEqual(eventMin);
        expect((hours * 4) % 1).toBe(0);
        const longer = serviceHours(checkIn, new Date(checkOut.getTime() + extraMin * minute), start, end);
        expect(longer).toBeGreaterThanOrEqual(hours);
      }),
    );
  });
});

describe('star level', () => {
  it('follows 100 / 300 / 600 / 1000 / 1500 hours', () => {
    expect([0, 99.75, 100, 299, 300, 600, 999, 1000, 1499, 1500, 5000].map(starLevel)).toEqual([0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 5]);
  });
});

describe('check-in window', () => {
  it('opens 2 h before the start and closes at the end', () => {
    expect(isCheckInOpen(t('06:59'), t('09:00'), t('11:00'))).toBe(false);
    expect(isCheckInOpen(t('07:00'), t('09:00'), t('11:00'))).toBe(true);
    expect(isCheckInOpen(t('11:00'), t('09:00'), t('11:00'))).toBe(true);
    expect(isCheckInOpen(t('11:01'), t('09:00'), t('11:00'))).toBe(false);
  });
});
