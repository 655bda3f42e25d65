export * from './coverage-csv';
export * from './coverage-maintenance.service';
export * from './coverage-sql';
export * from './coverage.dto';
export * from './coverage.module';
export * from './coverage.repository';
export * from './coverage.service';
export * from './coverage-naive';
