import type { AppConfig } from '@kepu/config';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/** The one set of options the app, the worker, the CLI and the tests use. */
export function dataSourceOptions(config: Pick<AppConfig, 'databaseUrl' | 'databasePoolSize'>): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.databaseUrl,
    entities: ENTITIES,
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
    },
  };
}

export function createDataSource(config: Pick<AppConfig, 'databaseUrl' | 'databasePoolSize'>): DataSource {
  return new DataSource(dataSourceOptions(config));
}
