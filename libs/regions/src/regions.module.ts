import { Module } from '@nestjs/common';
import { CatalogService } from './catalog.service';
import { RegionsRepository } from './regions.repository';
import { RegionsService } from './regions.service';

/** Needs the global ConfigModule and the TypeORM root of DbModule from the composing app. */
@Module({
  providers: [RegionsRepository, RegionsService, CatalogService],
  exports: [RegionsService, CatalogService],
})
export class RegionsModule {}
