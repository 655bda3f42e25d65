import { CoverageModule } from '@kepu/coverage';
import { Module } from '@nestjs/common';
import { CoverageController } from './coverage.controller';

@Module({
  imports: [CoverageModule],
  controllers: [CoverageController],
})
export class CoverageApiModule {}
