import { type PgQueryable, runMigrations as runQueueMigrations } from 'bullmq';
import { createFirstCityAdmin } from '@kepu/auth';
import type { AppConfig } from '@kepu/config';
import { passwordPolicyViolations } from '@kepu/core';
import { createDataSource } from '@kepu/db';
import { DataSource } from 'typeorm';
import { findProvince, importRegions, type RegionImportResult } from './region-import';
import { createRegionImportProgress } from './region-import-progress';

export interface SetupLog {
  info(message: string): void;
  warn(message: string): void;
}

export type SetupConfig = Pick<
  AppConfig,
  'databaseUrl' | 'regionProvince' | 'bootstrapAdminUsername' | 'bootstrapAdminPassword'
> &
  Partial<Pick<AppConfig, 'queueBackend'>>;

export interface DatabaseSetupResult {
  databaseName: string;
  isDatabaseCreated: boolean;
  /** Names of the migrations this run applied (empty when up to date). */
  migrationsRun: string[];
  /** The import this run did, or null when the province was already there. */
  regions: RegionImportResult | null;
  admin:
    | { status: 'created' | 'exists'; username: string }
    /** No city_admin, and none could be created from the configuration. */
    | { status: 'missing' };
}

/** PostgreSQL is down, unreachable, or refuses the credentials in DATABASE_URL. */
export class DatabaseUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseUnreachableError';
  }
}

// Arbitrary, fixed: every db:setup / npm start against the same database takes this lock.
const SETUP_LOCK_KEY = '7415017011';
const LOCK_POLL_MS = 250;
const LOCK_WAIT_LIMIT_MS = 10 * 60 * 1000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function pgErrorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return errorText(err.errors[0]);
  if (err instanceof Error) return err.message || pgErrorCode(err) || err.name;
  return String(err);
}

/** host:port/database as user, never the password. */
function describeUrl(url: URL): string {
  const user = url.username ? `${decodeURIComponent(url.username)}@` : '';
  return `${user}${url.hostname}:${url.port || '5432'}/${databaseNameOf(url)}`;
}

function databaseNameOf(url: URL): string {
  return decodeURIComponent(url.pathname.replace(/^\//, ''));
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function probeDataSource(url: string): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: [],
    logging: false,
    extra: { max: 1, connectionTimeoutMillis: 5000, application_name: 'kepu-dispatch-setup' },
  });
}

function unreachable(err: unknown, url: URL, purpose?: string): DatabaseUnreachableError {
  const code = pgErrorCode(err);
  const hint =
    code === '28P01' || code === '28000'
      ? 'Check the user and password in DATABASE_URL.'
      : 'Is PostgreSQL running, and is DATABASE_URL right?';
  return new DatabaseUnreachableError(
    `Cannot connect to PostgreSQL at ${describeUrl(url)}${purpose ? ` ${purpose}` : ''}: ${errorText(err)}. ${hint}`,
  );
}

/**
 * Creates the database of DATABASE_URL when it does not exist, through the
 * `postgres` maintenance database of the same server. Returns whether it did.
 */
export async function createDatabaseIfMissing(databaseUrl: string, log: SetupLog): Promise<boolean> {
  const target = new URL(databaseUrl);
  const name = databaseNameOf(target);
  if (!name) throw new DatabaseUnreachableError(`DATABASE_URL names no database: ${describeUrl(target)}`);

  const probe = probeDataSource(databaseUrl);
  try {
    await probe.initialize();
    return false;
  } catch (err) {
    // 3D000 invalid_catalog_name: the server is up and the database is missing.
    if (pgErrorCode(err) !== '3D000') throw unreachable(err, target);
  } finally {
    if (probe.isInitialized) await probe.destroy();
  }

  const maintenanceUrl = new URL(databaseUrl);
  maintenanceUrl.pathname = '/postgres';
  const admin = probeDataSource(maintenanceUrl.toString());
  try {
    await admin.initialize();
  } catch (err) {
    throw unreachable(err, maintenanceUrl, `to create database "${name}"`);
  }
  try {
    await admin.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
    log.info(`Created database "${name}".`);
    return true;
  } catch (err) {
    // Another process created it first: 42P04 duplicate_database, or 23505 when
    // both inserts reach pg_database's unique index at the same moment.
    const code = pgErrorCode(err);
    if (code === '42P04' || code === '23505') return false;
    throw err;
  } finally {
    await admin.destroy();
  }
}

async function withSetupLock<T>(dataSource: DataSource, log: SetupLog, work: () => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    const deadline = Date.now() + LOCK_WAIT_LIMIT_MS;
    let isWaitLogged = false;
    for (;;) {
      const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [SETUP_LOCK_KEY])) as Array<{
        locked: boolean;
      }>;
      if (locked) break;
      if (Date.now() > deadline) throw new Error('Timed out waiting for another database setup to finish.');
      if (!isWaitLogged) log.info('Another setup of this database is running; waiting for it to finish.');
      isWaitLogged = true;
      await sleep(LOCK_POLL_MS);
    }
    try {
      return await work();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1::bigint)', [SETUP_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}

async function bootstrapAdmin(dataSource: DataSource, config: SetupConfig, log: SetupLog): Promise<DatabaseSetupResult['admin']> {
  const existing = (await dataSource.query(
    `SELECT username FROM users WHERE role = 'city_admin' ORDER BY created_at LIMIT 1`,
  )) as Array<{ username: string }>;
  if (existing.length > 0) return { status: 'exists', username: existing[0].username };

  const username = config.bootstrapAdminUsername;
  const password = config.bootstrapAdminPassword;
  if (!username || !password) {
    const missing = [!username && 'BOOTSTRAP_ADMIN_USERNAME', !password && 'BOOTSTRAP_ADMIN_PASSWORD'].filter(Boolean).join(' and ');
    log.warn(
      `No city_admin account exists and ${missing} ${missing.includes(' and ') ? 'are' : 'is'} not set. ` +
        `Create the first administrator by running again with both set, e.g. ` +
        `BOOTSTRAP_ADMIN_USERNAME=admin BOOTSTRAP_ADMIN_PASSWORD='<10+ characters with a letter and a digit>' npm run db:setup`,
    );
    return { status: 'missing' };
  }
  // The first admin's password obeys the same policy as every other account's.
  const violations = passwordPolicyViolations(password, username);
  if (violations.length > 0) {
    log.warn(`No city_admin was created: BOOTSTRAP_ADMIN_PASSWORD breaks the password policy (${violations.join('; ')}). Choose another and run again.`);
    return { status: 'missing' };
  }

  const created = await createFirstCityAdmin(dataSource, username, password);
  if (!created) {
    log.warn(
      `No city_admin was created: the username "${username}" belongs to an account with another role. ` +
        `Choose another BOOTSTRAP_ADMIN_USERNAME.`,
    );
    return { status: 'missing' };
  }
  log.info(`Created the city_admin account "${username}" (password from BOOTSTRAP_ADMIN_PASSWORD).`);
  return { status: 'created', username };
}

/** BullMQ's PostgreSQL backend keeps its own schema (`bullmq`), migrated by BullMQ itself. */
async function migrateQueueSchema(dataSource: DataSource, log: SetupLog): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    const client = (await runner.connect()) as PgQueryable;
    const version = await runQueueMigrations(client);
    log.info(`Queue schema (BullMQ on PostgreSQL) is at version ${version}.`);
  } finally {
    await runner.release();
  }
}

/**
 * Everything `npm start` needs from the database, safe to run again and from
 * several processes at once: create the database if missing, migrate, import
 * the province's regions when absent, create the first city_admin.
 */
export async function setupDatabase(
  config: SetupConfig,
  log: SetupLog,
  options: { isProgressShown?: boolean } = {},
): Promise<DatabaseSetupResult> {
  const url = new URL(config.databaseUrl);
  const databaseName = databaseNameOf(url);
  // A wrong REGION_PROVINCE is a configuration error: refuse before creating anything.
  await findProvince(config.regionProvince);
  const isDatabaseCreated = await createDatabaseIfMissing(config.databaseUrl, log);

  // Small pool: one connection holds the lock while migrations take another.
  const dataSource = createDataSource({ databaseUrl: config.databaseUrl, databasePoolSize: 4 });
  try {
    await dataSource.initialize();
  } catch (err) {
    throw unreachable(err, url);
  }
  try {
    return await withSetupLock(dataSource, log, async () => {
      const migrations = await dataSource.runMigrations({ transaction: 'each' });
      if (migrations.length > 0) log.info(`Applied migrations: ${migrations.map((m) => m.name).join(', ')}.`);
      else log.info(`Database "${databaseName}" schema is up to date.`);
      if (config.queueBackend === 'postgres') await migrateQueueSchema(dataSource, log);

      let regions: RegionImportResult | null = null;
      const [{ isImported }] = (await dataSource.query(
        'SELECT EXISTS (SELECT 1 FROM districts WHERE province_code = $1) AS "isImported"',
        [config.regionProvince],
      )) as Array<{ isImported: boolean }>;
      if (!isImported) {
        log.info(`Importing the regions of province ${config.regionProvince}.`);
        const progress = options.isProgressShown === false ? undefined : createRegionImportProgress(log);
        try {
          regions = await importRegions(dataSource, config.regionProvince, progress?.onProgress);
        } finally {
          progress?.stop();
        }
        log.info(
          `Imported ${regions.provinceName}: ${regions.districts} districts, ` +
            `${regions.subdistricts} subdistricts, ${regions.communities} communities.`,
        );
      }

      const admin = await bootstrapAdmin(dataSource, config, log);
      return { databaseName, isDatabaseCreated, migrationsRun: migrations.map((m) => m.name), regions, admin };
    });
  } finally {
    await dataSource.destroy();
  }
}
