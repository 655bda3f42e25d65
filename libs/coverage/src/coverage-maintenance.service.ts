import { Injectable } from '@nestjs/common';
import { CoverageRepository } from './coverage.repository';

/** The worker's side of coverage: keeps the rollups in step with the orders. */
@Injectable()
export class CoverageMaintenanceService {
  constructor(private readonly repository: CoverageRepository) {}

  /** One order's facts recomputed and the difference applied; a duplicate or late call changes nothing. */
  refreshOrder(orderId: string): Promise<void> {
    return this.repository.refreshOrders([orderId]);
  }

  /** Rebuilds when orders exist but no coverage facts do (a database upgraded to the coverage migration). */
  rebuildIfEmpty(): Promise<{ facts: number; rollups: number } | null> {
    return this.repository.rebuildIfEmpty();
  }
}
