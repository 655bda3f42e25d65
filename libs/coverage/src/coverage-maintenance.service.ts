import { AppConfig } from '@kepu/config';
import { type Decision, Lanes } from '@kepu/core';
import { Injectable } from '@nestjs/common';
import { CoverageRepository } from './coverage.repository';
import { ScorecardRepository } from './scorecard.repository';

/** The one lane of a process's rollup refreshes (Lanes keys lanes; this service needs one). */
const REFRESH_LANE = 'rollups';
/** Refresh calls (coverage jobs, each up to COVERAGE_BATCH orders) taken into one refresh at most. */
export const REFRESHES_GROUPED = 50;

/** The worker's side of coverage: keeps the rollups in step with the orders. */
@Injectable()
export class CoverageMaintenanceService {
  /**
   * Group commit of the refreshes: one at a time in this process, and under load at most
   * one every COVERAGE_REFRESH_INTERVAL_MS; calls that arrive meanwhile wait in memory and
   * go together in the next. Under load this turns many small refreshes — each paying the
   * statement's planning and the rollup rows' upserts, queueing on the same rows as its
   * neighbours — into few large ones; a call after a quiet spell still goes at once.
   */
  private readonly lanes = new Lanes<string[], void>({
    queue: Number.MAX_SAFE_INTEGER,
    batch: REFRESHES_GROUPED,
    decide: (_lane, calls) => this.refreshTogether(calls),
    busyDetail: 'The coverage refresh queue is full.',
  });

  /** When the last refresh started (ms since the epoch). */
  private lastStartedAt = 0;

  constructor(
    private readonly repository: CoverageRepository,
    private readonly scorecards: ScorecardRepository,
    private readonly config: AppConfig,
  ) {}

  /**
   * Orders' facts recomputed and the difference applied (a relay batch's orders, together
   * with the calls waiting beside it: one transaction and one statement for all); a
   * duplicate or late call changes nothing. Settles when its orders are refreshed.
   */
  refreshOrders(orderIds: string[]): Promise<void> {
    return this.lanes.submit(REFRESH_LANE, orderIds);
  }

  private async refreshTogether(calls: string[][]): Promise<Decision<void>[]> {
    const wait = this.lastStartedAt + this.config.coverageRefreshIntervalMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    this.lastStartedAt = Date.now();
    try {
      await this.refreshNow(calls.flat());
      return calls.map(() => ({ status: 'fulfilled', value: undefined }));
    } catch (error) {
      if (calls.length === 1) throw error;
      // One call's failure is not the others': each alone, settled on its own.
      return Promise.allSettled(calls.map((ids) => this.refreshNow(ids)));
    }
  }

  private async refreshNow(orderIds: string[]): Promise<void> {
    await this.repository.refreshOrders(orderIds);
    // The orders' scorecard facts too (README "Scorecards"): the same job, its own transaction and lock.
    await this.scorecards.refreshOrders(orderIds);
  }

  /** Every order's facts and all rollups recomputed from the orders (what `coverage:rebuild` does). */
  async rebuild(): Promise<{ facts: number; rollups: number }> {
    const result = await this.repository.rebuild();
    await this.scorecards.rebuild();
    return result;
  }

  /** Rebuilds when orders exist but no coverage facts do (a database upgraded to the coverage migration). */
  async rebuildIfEmpty(): Promise<{ facts: number; rollups: number } | null> {
    const result = await this.repository.rebuildIfEmpty();
    // Scorecards came later than coverage: a database upgraded to them has coverage facts but no scorecard facts.
    await this.scorecards.rebuildIfEmpty();
    return result;
  }
}
