import { CoverageMaintenanceService } from '@kepu/coverage';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';

/**
 * A worker that finds orders but no coverage facts (a database upgraded to the
 * coverage migration) rebuilds them once, in the background: the processors
 * start at once, and refreshes wait for the rebuild's tables and then apply on top.
 */
@Injectable()
export class CoverageBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('Coverage');

  constructor(private readonly coverage: CoverageMaintenanceService) {}

  onApplicationBootstrap(): void {
    void this.coverage.rebuildIfEmpty().then(
      (result) => {
        if (result) this.logger.log(`coverage rollups were empty: rebuilt ${result.facts} orders into ${result.rollups} rollup rows`);
      },
      (error: unknown) => this.logger.warn({ err: error }, 'could not check or rebuild the coverage rollups at start; run `npm run coverage:rebuild`'),
    );
  }
}
