import type { AppConfig } from '@kepu/config';
import { CoverageMaintenanceService, REFRESHES_GROUPED } from './coverage-maintenance.service';
import type { CoverageRepository } from './coverage.repository';
import type { ScorecardRepository } from './scorecard.repository';

/** A promise the test resolves when it chooses: a refresh held open like a transaction waiting for a row lock. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = () => resolve();
  });
  return { opened, open: () => open() };
}

/** The two repositories' refreshes, recorded; `hold` keeps the next coverage refresh open until released. */
function fakeRepositories(failWhen: (ids: string[]) => boolean = () => false, coverageRefreshIntervalMs = 0) {
  const coverage: string[][] = [];
  const startedAt: number[] = [];
  const scorecards: string[][] = [];
  let held: Promise<void> | null = null;
  let running = 0;
  let most = 0;
  const repository = {
    refreshOrders: async (ids: string[]) => {
      running++;
      most = Math.max(most, running);
      try {
        if (held) {
          const wait = held;
          held = null;
          await wait;
        }
        if (failWhen(ids)) throw new Error(`refresh of ${ids.join(',')} failed`);
        coverage.push(ids);
        startedAt.push(Date.now());
      } finally {
        running--;
      }
    },
  };
  const scorecardRepository = { refreshOrders: async (ids: string[]) => void scorecards.push(ids) };
  const config = { coverageRefreshIntervalMs } as AppConfig;
  const service = new CoverageMaintenanceService(repository as unknown as CoverageRepository, scorecardRepository as unknown as ScorecardRepository, config);
  return {
    service,
    coverage,
    startedAt,
    scorecards,
    hold: (until: Promise<void>): void => {
      held = until;
    },
    most: () => most,
  };
}

describe('CoverageMaintenanceService.refreshOrders: one refresh at a time, calls that arrive meanwhile go together', () => {
  it('a lone call goes at once, alone, to coverage and scorecards', async () => {
    const f = fakeRepositories();
    await f.service.refreshOrders(['a', 'b']);
    expect(f.coverage).toEqual([['a', 'b']]);
    expect(f.scorecards).toEqual([['a', 'b']]);
  });

  it('calls arriving during a refresh wait and are refreshed in one call, each settling once its orders are refreshed', async () => {
    const f = fakeRepositories();
    const first = gate();
    f.hold(first.opened);
    const settled: string[] = [];
    const calls = [['a'], ['b', 'c'], ['d'], ['c', 'e']].map((ids) => f.service.refreshOrders(ids).then(() => settled.push(ids.join(''))));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toEqual([]);
    first.open();
    await Promise.all(calls);
    expect(f.coverage).toEqual([['a'], ['b', 'c', 'd', 'c', 'e']]);
    expect(f.scorecards).toEqual(f.coverage);
    expect(settled).toEqual(['a', 'bc', 'd', 'ce']);
    expect(f.most()).toBe(1);
  });

  it(`takes at most ${REFRESHES_GROUPED} calls into one refresh`, async () => {
    const f = fakeRepositories();
    const first = gate();
    f.hold(first.opened);
    const calls = Array.from({ length: REFRESHES_GROUPED + 6 }, (_, i) => f.service.refreshOrders([`o${i}`]));
    first.open();
    await Promise.all(calls);
    expect(f.coverage.map((ids) => ids.length)).toEqual([1, REFRESHES_GROUPED, 5]);
  });

  it('a group that fails is retried call by call: only the failing call rejects, the others are refreshed', async () => {
    const f = fakeRepositories((ids) => ids.includes('bad'));
    const first = gate();
    f.hold(first.opened);
    const lone = f.service.refreshOrders(['x']);
    const outcomes = Promise.allSettled([['a'], ['bad'], ['b']].map((ids) => f.service.refreshOrders(ids)));
    first.open();
    await lone;
    const [a, bad, b] = await outcomes;
    expect(a?.status).toBe('fulfilled');
    expect(b?.status).toBe('fulfilled');
    expect(bad).toMatchObject({ status: 'rejected', reason: new Error('refresh of bad failed') });
    expect(f.coverage).toEqual([['x'], ['a'], ['b']]);
    // The scorecards of the failed call's orders are not refreshed (its job is retried by the queue).
    expect(f.scorecards).toEqual([['x'], ['a'], ['b']]);
  });

  describe('under load, at most one refresh every COVERAGE_REFRESH_INTERVAL_MS', () => {
    beforeEach(() => jest.useFakeTimers({ now: Date.parse('2026-12-06T05:00:00Z') }));
    afterEach(() => jest.useRealTimers());

    it('a call right after a refresh waits for the interval, with those that arrive meanwhile; a call after a quiet spell goes at once', async () => {
      const f = fakeRepositories(undefined, 1000);
      const t0 = Date.now();
      await f.service.refreshOrders(['a']);
      expect(f.startedAt).toEqual([t0]);

      const next = [f.service.refreshOrders(['b']), f.service.refreshOrders(['c'])];
      await jest.advanceTimersByTimeAsync(999);
      expect(f.coverage).toEqual([['a']]);
      await jest.advanceTimersByTimeAsync(1);
      await Promise.all(next);
      expect(f.coverage).toEqual([['a'], ['b', 'c']]);
      expect(f.startedAt[1]).toBe(t0 + 1000);

      await jest.advanceTimersByTimeAsync(5000);
      const quiet = Date.now();
      const last = f.service.refreshOrders(['d']);
      await jest.advanceTimersByTimeAsync(0);
      await last;
      expect(f.coverage.at(-1)).toEqual(['d']);
      expect(f.startedAt.at(-1)).toBe(quiet);
    });
  });
});
