import { RegionsModule } from '@kepu/regions';
import { Module } from '@nestjs/common';
import { CoverageMaintenanceService } from './coverage-maintenance.service';
import { CoverageRepository } from './coverage.repository';
import { CoverageService } from './coverage.service';
import { ScorecardRepository } from './scorecard.repository';
import { ScorecardsService } from './scorecards.service';

/** The coverage reads (API) and the rollup maintenance (worker); needs DbModule and ConfigModule from the app. */
@Module({
  imports: [RegionsModule],
  providers: [CoverageRepository, CoverageService, CoverageMaintenanceService, ScorecardRepository, ScorecardsService],
  exports: [CoverageService, CoverageMaintenanceService, ScorecardsService],
})
export class CoverageModule {}
