import { RegionsModule } from '@kepu/regions';
import { Module } from '@nestjs/common';
import { CoverageMaintenanceService } from './coverage-maintenance.service';
import { CoverageRepository } from './coverage.repository';
import { CoverageService } from './coverage.service';

/** The coverage reads (API) and the rollup maintenance (worker); needs DbModule and ConfigModule from the app. */
@Module({
  imports: [RegionsModule],
  providers: [CoverageRepository, CoverageService, CoverageMaintenanceService],
  exports: [CoverageRepository, CoverageService, CoverageMaintenanceService],
})
export class CoverageModule {}
