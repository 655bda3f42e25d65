import { Injectable } from '@nestjs/common';
import { CoverageRepository } from './coverage.repository';
import { ScorecardRepository } from './scorecard.repository';

/** The worker's side of coverage: keeps the rollups in step with the orders. */
@Injectable()
export class CoverageMaintenanceService {
  constructor(
    private readonly repository: CoverageRepository,
    private readonly scorecards: ScorecardRepository,
  ) {}

  /**
   * Orders' facts recomputed and the difference applied (a relay batch's orders: one
   * transaction and one statement for all); a duplicate or late call changes nothing.
   */
  async refreshOrders(orderIds: string[]): Promise<void> {
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
