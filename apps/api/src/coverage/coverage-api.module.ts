import { CoverageModule } from '@kepu/coverage';
import { Module } from '@nestjs/common';
import { CoverageController } from './coverage.controller';
import { ScorecardsController } from './scorecards.controller';

@Module({
  imports: [CoverageModule],
  controllers: [CoverageController, ScorecardsController],
})
export class CoverageApiModule {}
