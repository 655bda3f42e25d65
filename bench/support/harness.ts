// What every benchmark needs: child processes (API, worker, reference servers)
// that log to their own file, stop with SIGTERM then SIGKILL and never outlive
// the run; JSON over HTTP on 127.0.0.1; a PostgreSQL client for setup and checks.
import IORedis from 'ioredis';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { withPgClient } from '../../test/support/pg-client';
import { sleep } from '../../test/support/wait';

export const ROOT = path.resolve(__dirname, '..', '..');

/** Node arguments that run a TypeScript file from source: `node ...TS_NODE_ARGS file.ts`. */
export const TS_NODE_ARGS = ['--require', path.join(ROOT, 'test', 'support', 'register-ts.js')];

/** A number from the environment (a bench's knob), or the default. */
export function envInt(name: string, fallback: number): number {
  const value = process.env[name];
  return value ? Number(value) : fallback;
}

/** The JWT secret every bench platform signs with (32+ bytes, as JWT_SECRET must be). */
export const BENCH_JWT_SECRET = 'bench-jwt-secret-0123456789abcdef';

/**
 * What every bench's platform is set up with: its own database (dropped and recreated), API
 * port, Redis database index and queue prefix, away from the developers', the tests' and the
 * other benches'. BENCH_PG_ADMIN_URL, BENCH_DATABASE, BENCH_API_PORT, BENCH_REDIS_URL and
 * BENCH_QUEUE_PREFIX override them (another name when several people bench on one server).
 */
export function benchPlatform(defaults: { database: string; apiPort: number; redisDb: number; queuePrefix: string }): {
  pgAdminUrl: string;
  database: string;
  apiPort: number;
  jwtSecret: string;
  redisUrl: string;
  queuePrefix: string;
} {
  const env = process.env;
  return {
    pgAdminUrl: env.BENCH_PG_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    database: env.BENCH_DATABASE || defaults.database,
    apiPort: envInt('BENCH_API_PORT', defaults.apiPort),
    jwtSecret: BENCH_JWT_SECRET,
    redisUrl: env.BENCH_REDIS_URL || `redis://127.0.0.1:6379/${defaults.redisDb}`,
    queuePrefix: env.BENCH_QUEUE_PREFIX || defaults.queuePrefix,
  };
}

export function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

/** A child that knows its name and whether the harness is stopping it (then its exit is expected). */
export interface BenchChild extends ChildProcess {
  benchName: string;
  isStopping: boolean;
}

export interface ChildrenOptions {
  root: string;
  logDir: string;
  env: NodeJS.ProcessEnv;
  appendLogs?: boolean;
  stopGraceMs?: number;
}

export interface Children {
  startChild: (name: string, args: string[], extraEnv?: NodeJS.ProcessEnv, options?: { ipc?: boolean }) => BenchChild;
  stopChild: (child: BenchChild) => Promise<void>;
  killAllNow: () => void;
  /** Resolves once the child answers GET /health with one of `okStatuses`; fails if it exits first. */
  waitForHttp: (name: string, child: BenchChild, port: number, timeoutMs: number, okStatuses?: number[]) => Promise<void>;
  children: Set<BenchChild>;
}

export function createChildren({ root, logDir, env, appendLogs = false, stopGraceMs = 8000 }: ChildrenOptions): Children {
  const children = new Set<BenchChild>();

  function startChild(name: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}, { ipc = false } = {}): BenchChild {
    fs.mkdirSync(logDir, { recursive: true });
    const out = fs.openSync(path.join(logDir, `${name}.log`), appendLogs ? 'a' : 'w');
    const child = Object.assign(
      spawn(process.execPath, args, {
        cwd: root,
        env: { ...env, ...extraEnv },
        stdio: ipc ? ['ignore', out, out, 'ipc'] : ['ignore', out, out],
      }),
      { benchName: name, isStopping: false },
    );
    fs.closeSync(out);
    children.add(child);
    child.on('exit', (code, signal) => {
      children.delete(child);
      if (!child.isStopping) log(`${name} exited early (code ${code}, signal ${signal}); see ${path.relative(root, logDir)}/${name}.log`);
    });
    return child;
  }

  async function stopChild(child: BenchChild): Promise<void> {
    if (!children.has(child)) return;
    child.isStopping = true;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
    await exited;
    clearTimeout(timer);
  }

  function killAllNow(): void {
    for (const child of children) {
      child.isStopping = true;
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      log(`${signal}: stopping`);
      killAllNow();
      process.exit(130);
    });
  }

  async function waitForHttp(name: string, child: BenchChild, port: number, timeoutMs: number, okStatuses = [200]): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!children.has(child)) throw new Error(`${name} exited before it served HTTP`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (okStatuses.includes(res.status)) return;
      } catch {
        // not listening yet
      }
      await sleep(250);
    }
    throw new Error(`${name} did not answer on 127.0.0.1:${port} within ${timeoutMs / 1000}s`);
  }

  return { startChild, stopChild, killAllNow, waitForHttp, children };
}

/** A JSON answer; the benches read only the fields they check, so its shape is left open. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON of many shapes, checked by the caller
export type Json = any;

export interface HttpAnswer {
  status: number;
  body: Json;
}

export async function httpRequest(
  port: number,
  method: string,
  urlPath: string,
  { token, body, timeoutMs = 10_000 }: { token?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

export async function expectStatus(what: string, promise: Promise<HttpAnswer>, statuses: number[]): Promise<Json> {
  const res = await promise;
  if (!statuses.includes(res.status)) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
  return res.body;
}

export const withPg = withPgClient;

/**
 * Drops and recreates `database`, then sets it up as users do: the built CLI's
 * db:setup (migrations, Beijing's regions, the first admin) with the bench's env.
 */
export async function createBenchDatabase(adminUrl: string, database: string, appEnv: NodeJS.ProcessEnv): Promise<void> {
  if (!/bench|chaos/.test(database)) throw new Error(`Refusing to drop database "${database}": bench database names contain "bench" (or "chaos").`);
  await withPg(adminUrl, async (pg) => {
    await pg.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await pg.query(`CREATE DATABASE ${database}`);
  });
  log(`created database ${database}; running db:setup`);
  runDbSetup(appEnv);
}

/** `db:setup` (migrations, bootstrap admin) from the built CLI against appEnv's DATABASE_URL; throws when it fails. */
export function runDbSetup(appEnv: NodeJS.ProcessEnv): void {
  const setup = spawnSync(process.execPath, ['dist/apps/cli/src/main.js', 'db:setup'], {
    cwd: ROOT,
    env: { ...process.env, ...appEnv },
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (setup.status !== 0) {
    throw new Error(`db:setup failed (status ${setup.status}, ${setup.error?.message ?? ''}):\n${(setup.stdout || '').slice(-2000)}\n${(setup.stderr || '').slice(-2000)}`);
  }
}

/** Deletes the queue keys under `prefix` left by an earlier run (in the bench's own Redis database, on 127.0.0.1 only). */
export async function flushQueueKeys(redisUrl: string, prefix: string): Promise<void> {
  const url = new URL(redisUrl);
  if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') throw new Error(`BENCH_REDIS_URL must point at 127.0.0.1, not ${url.hostname}`);
  const redis = new IORedis({ host: url.hostname, port: Number(url.port || 6379), db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Fails early, with the command to run, when the built apps a bench starts are missing. */
export function requireBuilt(entries: string[], command: string): void {
  for (const entry of entries) {
    if (!fs.existsSync(path.join(ROOT, entry))) throw new Error(`${entry} is missing: run \`npm run build\` (or \`${command}\`)`);
  }
}

/** The p-th percentile of ascending `sorted` (nearest rank); undefined when empty. */
export function percentile(sorted: number[], p: number): number | undefined {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * Runs a benchmark's main(): every child it started is killed when main ends,
 * fails, or overruns `timeoutS` (exit 2), so no API or worker outlives the run.
 */
export function runMain(main: () => Promise<void>, { timeoutS, killAllNow }: { timeoutS: number; killAllNow: () => void }): void {
  const deadline = setTimeout(() => {
    log(`timed out after ${timeoutS}s`);
    killAllNow();
    process.exit(2);
  }, timeoutS * 1000);
  deadline.unref();
  main().then(
    () => {
      killAllNow();
      process.exit(process.exitCode || 0);
    },
    (err: unknown) => {
      log(`failed: ${err instanceof Error && err.stack ? err.stack : String(err)}`);
      killAllNow();
      process.exit(1);
    },
  );
}
