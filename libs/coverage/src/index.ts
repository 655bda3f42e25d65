export * from './coverage-csv';
export * from './coverage-maintenance.service';
export * from './coverage-sql';
export * from './coverage.dto';
export * from './coverage.module';
export * from './coverage.service';
// The rebuild on a caller's transaction, for the CLI (coverage:rebuild, the demo seed) that runs without Nest.
export { rebuildCoverage } from './coverage.repository';
export * from './scorecard-sql';
export * from './scorecards-csv';
export * from './scorecards.dto';
export * from './scorecards.service';
// The scorecards' rebuild on a caller's transaction (coverage:rebuild, the demo seed, the benchmark).
export { rebuildScorecards, scorecardSla } from './scorecard.repository';
