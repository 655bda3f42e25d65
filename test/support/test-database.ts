// Relative paths, not @kepu/db: Jest's globalSetup loads this file without the moduleNameMapper that resolves @kepu/*.
import { createDataSource } from '../../libs/db/src/data-source';
import { importRegions } from '../../apps/cli/src/setup/region-import';
import type { Client } from 'pg';
import { withPgClient } from './pg-client';

/** The server the tests use; override with TEST_DATABASE_URL (its database name is ignored). */
export const TEST_SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/kepu_test';
/**
 * The migrated template every suite copies. KEPU_TEST_TEMPLATE names another one, so
 * two runs on one machine (two work trees, a benchmark beside the tests) never drop
 * each other's template mid-run.
 */
export const TEMPLATE_DATABASE = process.env.KEPU_TEST_TEMPLATE ?? 'kepu_test_template';

export function databaseUrl(name: string): string {
  const url = new URL(TEST_SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A test must never touch a database that is not obviously a test database. */
export function assertTestDatabase(name: string): void {
  if (!name.includes('test')) throw new Error(`Refusing to use database "${name}": test database names contain "test".`);
}

function withMaintenance<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  return withPgClient(databaseUrl('postgres'), fn);
}

/** Migrated, with Beijing's regions: each suite copies it instead of importing 7,535 communities again. */
export async function createTemplateDatabase(): Promise<void> {
  assertTestDatabase(TEMPLATE_DATABASE);
  await withMaintenance(async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  });
  const dataSource = createDataSource({ databaseUrl: databaseUrl(TEMPLATE_DATABASE), databasePoolSize: 2 });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations();
    await importRegions(dataSource, '11');
  } finally {
    await dataSource.destroy();
  }
}

/** A fresh database for one suite, copied from the template. */
export async function createSuiteDatabase(suite: string): Promise<string> {
  const name = `kepu_test_${suite.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${process.pid}`;
  assertTestDatabase(name);
  await withMaintenance(async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE}`);
  });
  return databaseUrl(name);
}

export async function dropDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  assertTestDatabase(name);
  await withMaintenance((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}
