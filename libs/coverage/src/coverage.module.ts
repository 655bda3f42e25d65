import { RegionsModule } from '@kepu/regions';
import { Module } from '@nestjs/common';
import { CoverageRepository } from './coverage.repository';
import { CoverageService } from './coverage.service';

/** The coverage reads (API) and the rollup maintenance (worker); needs DbModule and ConfigModule from the app. */
@Module({
  imports: [RegionsModule],
  providers: [CoverageRepository, CoverageService],
  exports: [CoverageRepository, CoverageService],
})
export class CoverageModule {}
