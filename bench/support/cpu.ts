// CPU a request costs, read from /proc (Linux): the API process's and this
// database's PostgreSQL backends', whatever else the machine runs.
import fs from 'node:fs';
import { withPg } from './harness';

export interface CpuSnapshot {
  api: number | null;
  backends: Map<number, number | null>;
}

/** CPU seconds (user + system) a process has used, from /proc (Linux); null elsewhere. */
export function cpuSeconds(pid: number | undefined): number | null {
  try {
    const fields = (fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** CPU used by the API process and by `database`'s PostgreSQL backends. */
export async function cpuSnapshot(databaseUrl: string, database: string, apiPid: number | undefined): Promise<CpuSnapshot> {
  const { rows } = await withPg(databaseUrl, (pg) =>
    pg.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [database]),
  );
  return { api: cpuSeconds(apiPid), backends: new Map(rows.map((r) => [r.pid, cpuSeconds(r.pid)])) };
}

export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): { api: number; db: number } | null {
  if (before.api === null || after.api === null) return null;
  let db = 0;
  for (const [pid, seconds] of after.backends) if (seconds !== null) db += seconds - (before.backends.get(pid) ?? 0);
  return { api: after.api - before.api, db };
}
