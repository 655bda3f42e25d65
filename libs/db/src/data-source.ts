import type { AppConfig } from '@kepu/config';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from './migrations';

/** The one set of options the app, the worker, the CLI and the tests use. */
export function dataSourceOptions(config: Pick<AppConfig, 'databaseUrl' | 'databasePoolSize'>): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.databaseUrl,
    // No entities: the migrations describe the tables, repositories query them through Sql (README, "One way to query").
    entities: [],
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    extra: {
      max: config.databasePoolSize,
      connectionTimeoutMillis: 5000,
      // a hung statement must not hold a request forever
      statement_timeout: 30000,
      application_name: 'kepu-dispatch',
      // No JIT: the planner over-estimates the scorecard and coverage refreshes (generate_series
      // counts as 1,000 rows) and compiled them on every call: 1.2 s of JIT for a 10 ms statement,
      // which took the PostgreSQL CPU that POST /orders needed (bench/RESULTS.md, 2026-12-05 13:50).
      // OLTP statements of a few milliseconds never gain from it.
      options: '-c jit=off',
    },
  };
}

export function createDataSource(config: Pick<AppConfig, 'databaseUrl' | 'databasePoolSize'>): DataSource {
  return new DataSource(dataSourceOptions(config));
}
