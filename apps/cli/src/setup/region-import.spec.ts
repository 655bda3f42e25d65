import { loadConfig } from '@kepu/config';
import { createDataSource } from '@kepu/db';
import { DataSource } from 'typeorm';
import { DatabaseUnreachableError, setupDatabase, type SetupLog } from './database-setup';
import { importRegions, parseCsvLine, UnknownProvinceError, type RegionImportProgress } from './region-import';

// These specs use the real PostgreSQL of DATABASE_URL, in databases of their own.
jest.setTimeout(120_000);

const baseUrl = new URL(loadConfig().databaseUrl);

function urlFor(database: string): string {
  if (!database.includes('test')) throw new Error(`Refusing to use database "${database}": its name must contain "test".`);
  const url = new URL(baseUrl.toString());
  url.pathname = `/${database}`;
  return url.toString();
}

async function onMaintenance<T>(work: (ds: DataSource) => Promise<T>): Promise<T> {
  const url = new URL(baseUrl.toString());
  url.pathname = '/postgres';
  const ds = new DataSource({ type: 'postgres', url: url.toString(), entities: [] });
  await ds.initialize();
  try {
    return await work(ds);
  } finally {
    await ds.destroy();
  }
}

const dropDatabase = (name: string) => onMaintenance((ds) => ds.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));

async function counts(ds: DataSource): Promise<{ districts: number; subdistricts: number; communities: number }> {
  const [row] = (await ds.query(
    `SELECT (SELECT count(*) FROM districts)::int AS districts,
            (SELECT count(*) FROM subdistricts)::int AS subdistricts,
            (SELECT count(*) FROM communities)::int AS communities`,
  )) as Array<{ districts: number; subdistricts: number; communities: number }>;
  return row;
}

function recordingLog(): SetupLog & { lines: string[]; warnings: string[] } {
  const lines: string[] = [];
  const warnings: string[] = [];
  return { lines, warnings, info: (m) => lines.push(m), warn: (m) => warnings.push(m) };
}

describe('parseCsvLine', () => {
  it('splits plain and quoted fields, keeping commas and doubled quotes inside quotes', () => {
    expect(parseCsvLine('110101001001,"多福巷社区居委会",110101001,11')).toEqual(['110101001001', '多福巷社区居委会', '110101001', '11']);
    expect(parseCsvLine('1,"a, ""b""",')).toEqual(['1', 'a, "b"', '']);
  });
});

describe('importRegions', () => {
  const database = 'kepu_test_region_import';
  let ds: DataSource;

  beforeAll(async () => {
    await dropDatabase(database);
    await onMaintenance((m) => m.query(`CREATE DATABASE "${database}"`));
    ds = createDataSource({ databaseUrl: urlFor(database), databasePoolSize: 4 });
    await ds.initialize();
    await ds.runMigrations();
  });

  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await dropDatabase(database);
  });

  it('imports Beijing: 16 districts, 349 subdistricts, 7,535 communities with their real names', async () => {
    const progress: RegionImportProgress[] = [];
    const result = await importRegions(ds, '11', (p) => progress.push(p));

    expect(result).toEqual({ provinceCode: '11', provinceName: '北京市', districts: 16, subdistricts: 349, communities: 7535 });
    expect(await counts(ds)).toEqual({ districts: 16, subdistricts: 349, communities: 7535 });
    const names = (await ds.query(`SELECT code, name, province_code FROM districts WHERE code IN ('110101', '110108') ORDER BY code`)) as unknown[];
    expect(names).toEqual([
      { code: '110101', name: '东城区', province_code: '11' },
      { code: '110108', name: '海淀区', province_code: '11' },
    ]);
    expect(await ds.query(`SELECT name, subdistrict_code, district_code FROM communities WHERE code = '110101001001'`)).toEqual([
      { name: '多福巷社区居委会', subdistrict_code: '110101001', district_code: '110101' },
    ]);
    expect(progress.at(-1)).toEqual({ phase: 'write', done: 16 + 349 + 7535, total: 16 + 349 + 7535 });
  });

  it('is idempotent: a second import leaves the same rows and restores a changed name', async () => {
    await ds.query(`UPDATE communities SET name = 'renamed' WHERE code = '110101001001'`);

    await importRegions(ds, '11');

    expect(await counts(ds)).toEqual({ districts: 16, subdistricts: 349, communities: 7535 });
    expect(await ds.query(`SELECT name FROM communities WHERE code = '110101001001'`)).toEqual([{ name: '多福巷社区居委会' }]);
  });

  it('rejects an unknown province with an error naming it and writes nothing', async () => {
    await expect(importRegions(ds, '99')).rejects.toThrow(UnknownProvinceError);
    await expect(importRegions(ds, '99')).rejects.toThrow(/Unknown province code "99"/);
    await expect(importRegions(ds, 'beijing')).rejects.toThrow(UnknownProvinceError);
    expect(await counts(ds)).toEqual({ districts: 16, subdistricts: 349, communities: 7535 });
  });

  it('warns how to create the first administrator when none exists and none is configured', async () => {
    const log = recordingLog();

    const result = await setupDatabase({ databaseUrl: urlFor(database), regionProvince: '11' }, log);

    expect(result.regions).toBeNull();
    expect(result.admin).toEqual({ status: 'missing' });
    expect(log.warnings.join('\n')).toMatch(/BOOTSTRAP_ADMIN_USERNAME=admin BOOTSTRAP_ADMIN_PASSWORD=/);
  });

  it('creates no administrator whose password breaks the password policy, and says why', async () => {
    const log = recordingLog();

    const result = await setupDatabase({ databaseUrl: urlFor(database), regionProvince: '11', bootstrapAdminUsername: 'admin', bootstrapAdminPassword: 'change-me-please' }, log);

    expect(result.admin).toEqual({ status: 'missing' });
    expect(log.warnings.join('\n')).toMatch(/BOOTSTRAP_ADMIN_PASSWORD breaks the password policy \(password must contain a letter and a digit\)/);
  });
});

describe('setupDatabase', () => {
  const database = `kepu_test_db_setup_${process.pid}`;
  const config = {
    databaseUrl: urlFor(database),
    regionProvince: '11',
    bootstrapAdminUsername: 'admin',
    bootstrapAdminPassword: 'correct horse battery 7',
  };

  beforeAll(() => dropDatabase(database));
  afterAll(() => dropDatabase(database));

  it('creates, migrates, imports and bootstraps once when two processes run it at the same time', async () => {
    const [first, second] = await Promise.all([setupDatabase(config, recordingLog()), setupDatabase(config, recordingLog())]);

    expect([first.isDatabaseCreated, second.isDatabaseCreated].filter(Boolean)).toHaveLength(1);
    expect([first.regions, second.regions].filter((r) => r !== null)).toHaveLength(1);
    expect([first.admin.status, second.admin.status].sort()).toEqual(['created', 'exists']);

    const ds = createDataSource({ databaseUrl: config.databaseUrl, databasePoolSize: 1 });
    await ds.initialize();
    try {
      expect(await counts(ds)).toEqual({ districts: 16, subdistricts: 349, communities: 7535 });
      expect(await ds.query(`SELECT username, display_name FROM users WHERE role = 'city_admin'`)).toEqual([
        { username: 'admin', display_name: 'City administrator' },
      ]);
    } finally {
      await ds.destroy();
    }
  });

  it('does nothing on a database that is already set up', async () => {
    const result = await setupDatabase(config, recordingLog());

    expect(result).toMatchObject({ isDatabaseCreated: false, migrationsRun: [], regions: null, admin: { status: 'exists', username: 'admin' } });
  });

  it('refuses an unknown REGION_PROVINCE before creating anything', async () => {
    const neverCreated = `kepu_test_never_created_${process.pid}`;

    await expect(setupDatabase({ ...config, databaseUrl: urlFor(neverCreated), regionProvince: '99' }, recordingLog())).rejects.toThrow(
      UnknownProvinceError,
    );
    expect(await onMaintenance((m) => m.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [neverCreated]))).toEqual([]);
  });

  it('explains an unreachable server', async () => {
    const url = new URL(config.databaseUrl);
    url.port = '1';

    await expect(setupDatabase({ ...config, databaseUrl: url.toString() }, recordingLog())).rejects.toThrow(DatabaseUnreachableError);
    await expect(setupDatabase({ ...config, databaseUrl: url.toString() }, recordingLog())).rejects.toThrow(/Cannot connect to PostgreSQL at .*:1\//);
  });
});
