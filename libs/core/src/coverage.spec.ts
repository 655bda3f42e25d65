import fc from 'fast-check';
import {
  coverageFigures,
  coverageRatio,
  coverageScope,
  dayBit,
  dayFromNumber,
  dayNumber,
  daysSince,
  edgePlan,
  fenwickNodeFirstDay,
  fenwickPrefixNodes,
  fenwickUpdateNodes,
  gapCutoffDay,
  medianFromHistogram,
  resolvePeriod,
  rollupPlan,
  shanghaiDay,
  splitPeriod,
  YEAR_BITS,
  yearMasks,
} from './coverage';
import { ValidationError } from './errors';

/** Days from 2020-01-01 to 2030-12-31, as day numbers. */
const dayArb = fc.integer({ min: dayNumber('2020-01-01') ?? 0, max: dayNumber('2030-12-31') ?? 0 });
const periodArb = fc.tuple(dayArb, fc.integer({ min: 0, max: 800 })).map(([from, length]) => ({ from: dayFromNumber(from), to: dayFromNumber(from + length) }));

const daysOf = (from: string, to: string): string[] => {
  const out: string[] = [];
  for (let d = dayNumber(from) ?? 0; d <= (dayNumber(to) ?? 0); d++) out.push(dayFromNumber(d));
  return out;
};

describe('coverage periods', () => {
  it('reads calendar days and refuses days that do not exist', () => {
    expect(dayNumber('1970-01-02')).toBe(1);
    expect(dayNumber('2024-02-29')).not.toBeNull();
    expect(dayNumber('2026-02-29')).toBeNull();
    expect(dayNumber('2026-13-01')).toBeNull();
    expect(dayNumber('26-01-01')).toBeNull();
  });

  it('takes the Shanghai calendar day of an instant', () => {
    expect(shanghaiDay(new Date('2026-11-28T15:59:59Z'))).toBe('2026-11-28');
    expect(shanghaiDay(new Date('2026-11-28T16:00:00Z'))).toBe('2026-11-29');
  });

  it('defaults to the last 90 days up to today (Shanghai) and validates from/to', () => {
    const now = new Date('2026-11-28T17:00:00Z'); // 01:00 on the 29th in Beijing
    expect(resolvePeriod({}, now)).toEqual({ from: '2026-09-01', to: '2026-11-29' });
    expect(resolvePeriod({ to: '2026-03-31' }, now)).toEqual({ from: '2026-01-01', to: '2026-03-31' });
    expect(resolvePeriod({ from: '2026-03-01', to: '2026-03-01' }, now)).toEqual({ from: '2026-03-01', to: '2026-03-01' });
    for (const bad of [{ from: '2026-02-30' }, { from: '2026-05-02', to: '2026-05-01' }, { to: 'today' }, { from: '2000-01-01', to: '2026-01-01' }])
      expect(() => resolvePeriod(bad, now)).toThrow(ValidationError);
  });

  it('splits a period into whole months and edge days', () => {
    expect(splitPeriod({ from: '2026-08-31', to: '2026-11-29' })).toEqual({
      months: ['2026-09-01', '2026-10-01'],
      days: ['2026-08-31', ...daysOf('2026-11-01', '2026-11-29')],
    });
    expect(splitPeriod({ from: '2026-02-01', to: '2026-02-28' })).toEqual({ months: ['2026-02-01'], days: [] });
    expect(splitPeriod({ from: '2026-02-02', to: '2026-02-28' }).months).toEqual([]);
  });

  it('covers every day of the period exactly once, and nothing else', () => {
    fc.assert(
      fc.property(periodArb, (period) => {
        const { months, days } = splitPeriod(period);
        const covered = [...days];
        for (const month of months) {
          const first = dayNumber(month) ?? 0;
          expect(month.endsWith('-01')).toBe(true);
          const next = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 1)).getTime() / 86_400_000;
          for (let d = first; d < next; d++) covered.push(dayFromNumber(d));
        }
        expect(covered.sort()).toEqual(daysOf(period.from, period.to));
        // edge days never fill a whole month: at most 30 at each end
        expect(days.length).toBeLessThanOrEqual(60);
      }),
    );
  });
});

describe('rollup plan: whole months plus Fenwick nodes inside the edge months', () => {
  it('a node covers the days a prefix sum expects, and an update reaches every node covering the day', () => {
    for (const length of [28, 29, 30, 31])
      for (let day = 1; day <= length; day++) {
        const updated = fenwickUpdateNodes(day, length);
        for (let node = 1; node <= length; node++) expect(updated.includes(node)).toBe(fenwickNodeFirstDay(node) <= day && day <= node);
        for (let e = 1; e <= length; e++) {
          const covering = fenwickPrefixNodes(e).filter((node) => fenwickNodeFirstDay(node) <= day && day <= node);
          expect(covering).toHaveLength(day <= e ? 1 : 0);
        }
      }
  });

  it('the default 90 days are two months and a handful of nodes', () => {
    expect(rollupPlan({ from: '2026-09-01', to: '2026-11-29' })).toEqual({
      months: ['2026-09-01', '2026-10-01'],
      nodes: [
        { day: '2026-11-16', sign: 1 },
        { day: '2026-11-24', sign: 1 },
        { day: '2026-11-28', sign: 1 },
        { day: '2026-11-29', sign: 1 },
      ],
    });
  });

  it('counts every day of the period exactly once, and no other day', () => {
    fc.assert(
      fc.property(periodArb, (period) => {
        const { months, nodes } = rollupPlan(period);
        const weight = new Map<string, number>();
        const bump = (day: string, by: number) => weight.set(day, (weight.get(day) ?? 0) + by);
        for (const month of months) for (const d of daysOf(month, dayFromNumber(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 1) / 86_400_000 - 1))) bump(d, 1);
        for (const { day, sign } of nodes) {
          const node = Number(day.slice(8, 10));
          const first = `${day.slice(0, 8)}${String(fenwickNodeFirstDay(node)).padStart(2, '0')}`;
          for (const d of daysOf(first, day)) bump(d, sign);
        }
        const counted = [...weight].filter(([, w]) => w !== 0);
        expect(counted.every(([, w]) => w === 1)).toBe(true);
        expect(counted.map(([d]) => d).sort()).toEqual(daysOf(period.from, period.to));
        expect(nodes.length).toBeLessThanOrEqual(20);
      }),
    );
  });
});

describe('scorecard edge plan', () => {
  const monthEnd = (day: string): string => dayFromNumber(Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)), 1) / 86_400_000 - 1);

  it('the default 90 days are a suffix, whole months and a prefix', () => {
    expect(edgePlan({ from: '2026-08-23', to: '2026-11-20' })).toEqual([
      { grain: 's', day: '2026-08-23', sign: 1 },
      { grain: 'm', day: '2026-09-01', sign: 1 },
      { grain: 'm', day: '2026-10-01', sign: 1 },
      { grain: 'p', day: '2026-11-20', sign: 1 },
    ]);
  });

  it('days inside one month are a difference of two prefixes', () => {
    expect(edgePlan({ from: '2026-11-05', to: '2026-11-20' })).toEqual([
      { grain: 'p', day: '2026-11-20', sign: 1 },
      { grain: 'p', day: '2026-11-04', sign: -1 },
    ]);
    expect(edgePlan({ from: '2026-02-01', to: '2026-02-28' })).toEqual([{ grain: 'm', day: '2026-02-01', sign: 1 }]);
  });

  it('counts every day of the period exactly once, and no other day, in at most months + 2 rows', () => {
    fc.assert(
      fc.property(periodArb, (period) => {
        const plan = edgePlan(period);
        const weight = new Map<string, number>();
        const bump = (day: string, by: number) => weight.set(day, (weight.get(day) ?? 0) + by);
        for (const { grain, day, sign } of plan) {
          const first = grain === 's' ? day : `${day.slice(0, 8)}01`;
          const last = grain === 'p' ? day : monthEnd(day);
          for (const d of daysOf(first, last)) bump(d, sign);
        }
        const counted = [...weight].filter(([, w]) => w !== 0);
        expect(counted.every(([, w]) => w === 1)).toBe(true);
        expect(counted.map(([d]) => d).sort()).toEqual(daysOf(period.from, period.to));
        expect(plan.length).toBeLessThanOrEqual(splitPeriod(period).months.length + 2);
      }),
    );
  });
});

describe('served-day masks', () => {
  it('puts a day at its day of the year − 1', () => {
    expect(dayBit('2026-01-01')).toEqual({ year: 2026, bit: 0 });
    expect(dayBit('2024-12-31')).toEqual({ year: 2024, bit: 365 });
    expect(dayBit('2026-12-31')).toEqual({ year: 2026, bit: 364 });
  });

  it('sets exactly the bits of the period, per year it touches', () => {
    fc.assert(
      fc.property(periodArb, (period) => {
        const masks = yearMasks(period);
        const set = new Set<string>();
        for (const { year, mask } of masks) {
          expect(mask).toHaveLength(YEAR_BITS);
          [...mask].forEach((bit, i) => {
            if (bit === '1') set.add(`${year}:${i}`);
          });
        }
        const expected = daysOf(period.from, period.to).map((d) => {
          const { year, bit } = dayBit(d);
          return `${year}:${bit}`;
        });
        expect([...set].sort()).toEqual(expected.sort());
      }),
    );
  });
});

describe('figures', () => {
  it('the median is the lower median of the histogram, as percentile_disc(0.5)', () => {
    expect(medianFromHistogram(new Map())).toBeNull();
    expect(medianFromHistogram(new Map([[7, 1]]))).toBe(7);
    expect(medianFromHistogram(new Map([[3, 1], [9, 1]]))).toBe(3);
    expect(medianFromHistogram(new Map([[3, 1], [9, 2]]))).toBe(9);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 200 }), (values) => {
        const histogram = new Map<number, number>();
        for (const v of values) histogram.set(v, (histogram.get(v) ?? 0) + 1);
        const sorted = [...values].sort((a, b) => a - b);
        expect(medianFromHistogram(histogram)).toBe(sorted[Math.ceil(sorted.length / 2) - 1]);
      }),
    );
  });

  it('coverage is a ratio in 0–1 with four decimals', () => {
    expect(coverageRatio(0, 0)).toBe(0);
    expect(coverageRatio(1, 3)).toBe(0.3333);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.nat(), (all, k) => {
        const ratio = coverageRatio(k % (all + 1), all);
        expect(ratio).toBeGreaterThanOrEqual(0);
        expect(ratio).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('builds every status, audience and topic, the median, hours and the rating from counters', () => {
    const figures = coverageFigures(
      new Map([
        ['orders', 4],
        ['s:submitted', 1],
        ['s:rated', 3],
        ['a:elderly', 4],
        ['ac:elderly', 3],
        ['t:anti_fraud', 3],
        ['tc:anti_fraud', 2],
        ['t:space_weather', 1],
        ['sla', 2],
        ['h:10', 1],
        ['h:30', 2],
        ['vh', 7.25],
        ['rs', 24],
        ['rn', 2],
      ]),
      5,
      20,
    );
    expect(figures).toMatchObject({ communities: 20, coveredCommunities: 5, coverage: 0.25, orders: 4, slaBreaches: 2, medianHoursToSchedule: 30, volunteerHours: 7.25, averageRating: 4 });
    expect(Object.keys(figures.ordersByStatus)).toHaveLength(13);
    expect(figures.ordersByStatus).toMatchObject({ submitted: 1, rated: 3, completed: 0 });
    expect(figures.byAudience.elderly).toEqual({ orders: 4, completed: 3 });
    expect(figures.byAudience.youth).toEqual({ orders: 0, completed: 0 });
    expect(figures.byTopic.anti_fraud).toEqual({ orders: 3, completed: 2 });
    // a topic added to the catalogue later still shows
    expect(figures.byTopic.space_weather).toEqual({ orders: 1, completed: 0 });
    expect(coverageFigures(new Map(), 0, 0)).toMatchObject({ averageRating: null, medianHoursToSchedule: null, coverage: 0 });
  });

  it('gaps: days since the last service and the cutoff, in Shanghai days', () => {
    const now = new Date('2026-11-28T17:00:00Z'); // 2026-11-29 in Beijing
    expect(daysSince(null, now)).toBeNull();
    expect(daysSince(new Date('2026-11-28T15:00:00Z'), now)).toBe(1);
    expect(daysSince(new Date('2026-11-28T16:30:00Z'), now)).toBe(0);
    expect(gapCutoffDay(1, now)).toBe('2026-11-29');
    expect(gapCutoffDay(90, now)).toBe('2026-09-01');
  });

  it('scope: a district_coordinator sees its own district, city_admin the whole city', () => {
    expect(coverageScope({ role: 'district_coordinator', districtCode: '110108' })).toBe('110108');
    expect(coverageScope({ role: 'city_admin', districtCode: null })).toBeNull();
  });
});
