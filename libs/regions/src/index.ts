export * from './catalog.service';
export * from './regions.dto';
export * from './regions.module';
export * from './regions.service';
