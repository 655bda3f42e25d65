import { type AppConfig, loadConfig } from '@kepu/config';
import { QUEUES, queueConnection } from '@kepu/notifications';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createPostgresBackend, createRedisBackend, Queue } from 'bullmq';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { Pool, PoolClient } from 'pg';
import { WorkerModule } from '../../apps/worker/src/worker.module';
import type { FakeProvider } from './fake-provider';
import { waitFor } from './wait';

const ROOT = path.resolve(__dirname, '..', '..');

/** A queue prefix of one suite in one run, so suites sharing a Redis never see each other's jobs. */
export const suitePrefix = (suite: string): string => `{kepu-test-${suite.replace(/[^\w.-]/g, '-')}-${process.pid}}`;

export interface TestWorker {
  app: INestApplicationContext;
  close: () => Promise<void>;
}

/**
 * Boots the worker (relay, processors, timers) in this process. `env` is applied
 * over the suite's environment while the worker reads its configuration, then
 * restored, so one worker's overrides (tiny SLA hours) do not leak into the next.
 */
export async function startTestWorker(env: Record<string, string> = {}): Promise<TestWorker> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  let app: INestApplicationContext;
  try {
    app = await NestFactory.createApplicationContext(WorkerModule, { logger: false });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  return { app, close: () => app.close() };
}

export interface ChildWorker {
  pid: number;
  /** stdout and stderr so far, for failure messages. */
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill: (signal: NodeJS.Signals) => Promise<void>;
}

/**
 * The worker as a separate Node process running the TypeScript sources (no build),
 * through test/support/register-ts.js; resolves once it logged that it started.
 */
export async function spawnWorker(env: Record<string, string> = {}): Promise<ChildWorker> {
  const child: ChildProcess = spawn(process.execPath, ['-r', path.join(ROOT, 'test/support/register-ts.js'), 'apps/worker/src/main.ts'], {
    cwd: ROOT,
    // at info at least: readiness is read from its 'worker started' line
    env: { ...process.env, LOG_LEVEL: 'info', ...env, FORCE_COLOR: '0', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  await waitFor(
    () => {
      if (hasExited) throw new Error(`worker exited during start-up:\n${output.slice(-2000)}`);
      return output.includes('worker started');
    },
    30_000,
    'the worker child to start',
    50,
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    pid: child.pid ?? 0,
    output: () => output,
    exited,
    kill: async (signal) => {
      if (!hasExited) child.kill(signal);
      await exited;
    },
  };
}

export interface TestQueues {
  notifications: Queue;
  deliveries: Queue;
  timers: Queue;
  coverage: Queue;
  broadcasts: Queue;
  all: Queue[];
  /** Removes every job and key of the suite's queues. */
  obliterate: () => Promise<void>;
  close: () => Promise<void>;
}

/** The suite's queues, seen from the test (same backend, connection and prefix as its API and worker). */
export function openTestQueues(config: AppConfig = loadConfig()): TestQueues {
  const options = { connection: queueConnection(config), prefix: config.queuePrefix };
  // Named explicitly: the process-wide default backend is whatever the last app booted here chose.
  const backend = config.queueBackend === 'postgres' ? createPostgresBackend : createRedisBackend;
  const notifications = new Queue(QUEUES.notifications, options, backend as never);
  const deliveries = new Queue(QUEUES.deliveries, options, backend as never);
  const timers = new Queue(QUEUES.timers, options, backend as never);
  const coverage = new Queue(QUEUES.coverage, options, backend as never);
  const broadcasts = new Queue(QUEUES.broadcasts, options, backend as never);
  const all = [notifications, deliveries, timers, coverage, broadcasts];
  for (const q of all) q.on('error', () => undefined);
  return {
    notifications,
    deliveries,
    timers,
    coverage,
    broadcasts,
    all,
    obliterate: async () => {
      for (const q of all) await q.obliterate({ force: true });
    },
    close: async () => {
      await Promise.all(all.map((q) => q.close()));
    },
  };
}

export interface DrainOptions {
  timeoutMs?: number;
  /**
   * Deliveries held for quiet hours (delayed to 07:00 Shanghai) are expected to
   * stay delayed; without this, a delayed delivery (a retry's backoff) is waited for.
   */
  isDeliveryDelayExpected?: boolean;
}

/**
 * Waits until the work the tests caused is done: no unpublished outbox row,
 * no waiting/active/delayed fan-out or delivery job, no waiting/active timer job.
 * Delayed timer jobs are SLA deadlines and expiries, hours away: not work.
 * Quiet must hold on two looks in a row, so a job between two queues is not missed.
 */
export async function drain(db: Pool, queues: TestQueues, options: DrainOptions = {}): Promise<void> {
  const busy = async (): Promise<string | null> => {
    const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM outbox WHERE published_at IS NULL`);
    if (Number(rows[0]?.n) > 0) return `outbox ${rows[0]?.n}`;
    const fanOut = await queues.notifications.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    const delivery = await queues.deliveries.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    const timers = await queues.timers.getJobCounts('waiting', 'active', 'prioritized');
    const coverage = await queues.coverage.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    const broadcasts = await queues.broadcasts.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    const { rows: unqueued } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM broadcasts WHERE enqueued_at IS NULL`);
    if (Number(unqueued[0]?.n) > 0) return `broadcasts not enqueued ${unqueued[0]?.n}`;
    if (options.isDeliveryDelayExpected) delivery.delayed = 0;
    for (const [name, counts] of [
      ['notifications', fanOut],
      ['deliveries', delivery],
      ['timers', timers],
      ['coverage', coverage],
      ['broadcasts', broadcasts],
    ] as const)
      for (const [state, n] of Object.entries(counts)) if (n > 0) return `${name} ${state} ${n}`;
    return null;
  };
  let last: string | null = 'not looked yet';
  let quietLooks = 0;
  await waitFor(
    async () => {
      last = await busy();
      quietLooks = last === null ? quietLooks + 1 : 0;
      return quietLooks >= 2;
    },
    options.timeoutMs ?? 20_000,
    'the outbox and queues to drain',
    40,
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message} (still busy: ${last})`);
  });
}

/**
 * The crash the fault tests stage: while `hold` keeps some notification inserts waiting
 * on a row it writes uncommitted (so the kill is sure to land with work in flight) and
 * the provider answers slowly, a spawned worker runs until `isUnderWay`, then gets
 * SIGKILL. The held row is rolled back; the worker joins `children` (for afterAll).
 * Returns when it died.
 */
export async function killWorkerMidway(
  db: Pool,
  provider: FakeProvider,
  children: ChildWorker[],
  stage: { hold: (client: PoolClient) => Promise<unknown>; isUnderWay: () => Promise<boolean>; timeoutMs: number; intervalMs: number },
): Promise<number> {
  const blocker = await db.connect();
  try {
    await blocker.query('BEGIN');
    await stage.hold(blocker);
    provider.setLatency(100);
    const doomed = await spawnWorker();
    children.push(doomed);
    await waitFor(stage.isUnderWay, stage.timeoutMs, 'the first worker to be well under way', stage.intervalMs);
    await doomed.kill('SIGKILL');
    const killedAt = Date.now();
    const exit = await doomed.exited;
    if (exit.signal !== 'SIGKILL') throw new Error(`the worker ended with ${JSON.stringify(exit)}, not SIGKILL`);
    return killedAt;
  } finally {
    await blocker.query('ROLLBACK');
    blocker.release();
  }
}
