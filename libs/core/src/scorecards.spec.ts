import fc from 'fast-check';
import { medianFromHistogram } from './coverage';
import { medianOfDenseHistogram, scorecardFigures } from './scorecards';

describe('scorecard figures', () => {
  it('the median of a dense histogram is the lower median, as percentile_disc(0.5) and medianFromHistogram', () => {
    expect(medianOfDenseHistogram([])).toBeNull();
    expect(medianOfDenseHistogram([0, 0, 0])).toBeNull();
    expect(medianOfDenseHistogram([0, 0, 0, 0, 0, 0, 0, 1])).toBe(7);
    expect(medianOfDenseHistogram([0, 0, 0, 1, 0, 0, 0, 0, 0, 1])).toBe(3);
    expect(medianOfDenseHistogram([0, 0, 0, 1, 0, 0, 0, 0, 0, 2])).toBe(9);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 200 }), (values) => {
        const dense: number[] = [];
        const sparse = new Map<number, number>();
        for (const v of values) {
          for (let i = dense.length; i <= v; i++) dense[i] = 0;
          dense[v] = (dense[v] ?? 0) + 1;
          sparse.set(v, (sparse.get(v) ?? 0) + 1);
        }
        const sorted = [...values].sort((a, b) => a - b);
        expect(medianOfDenseHistogram(dense)).toBe(sorted[Math.ceil(sorted.length / 2) - 1]);
        expect(medianOfDenseHistogram(dense)).toBe(medianFromHistogram(sparse));
      }),
    );
  });

  it('a histogram summed from signed rows (a prefix minus an earlier prefix) has the median of what is left', () => {
    // prefix(to) holds waits 1, 2, 2, 5, 8; prefix(from − 1) holds 2, 8: the period holds 1, 2, 5.
    const later = [0, 1, 2, 0, 0, 1, 0, 0, 1];
    const earlier = [0, 0, 1, 0, 0, 0, 0, 0, 1];
    expect(medianOfDenseHistogram(later.map((n, i) => n - (earlier[i] ?? 0)))).toBe(2);
  });

  it('rates with 4 decimals, the average rating with 2, null when a denominator is 0', () => {
    expect(scorecardFigures({ received: 3, responded: 2, resolved: 1, rated: 1, ratingSum: 13, satisfied: 1 }, [0, 2, 1])).toEqual({
      received: 3,
      responded: 2,
      responseRate: 0.6667,
      resolved: 1,
      resolutionRate: 0.3333,
      rated: 1,
      averageRating: 4.33,
      satisfiedRate: 1,
      medianHoursToRespond: 1,
    });
    expect(scorecardFigures({ received: 0, responded: 0, resolved: 0, rated: 0, ratingSum: 0, satisfied: 0 }, [])).toEqual({
      received: 0,
      responded: 0,
      responseRate: null,
      resolved: 0,
      resolutionRate: null,
      rated: 0,
      averageRating: null,
      satisfiedRate: null,
      medianHoursToRespond: null,
    });
  });
});
