import { RegionsModule } from '@kepu/regions';
import { Module } from '@nestjs/common';
import { CatalogController } from './catalog.controller';
import { RegionsController } from './regions.controller';

@Module({
  imports: [RegionsModule],
  controllers: [RegionsController, CatalogController],
})
export class RegionsApiModule {}
