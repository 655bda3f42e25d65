// The reference side of bench/notifications.bench.ts: one plain BullMQ Worker
// whose processor does nothing, in its own process like apps/worker, on the same
// queue backend as the pipeline but its own prefix (Redis) or queue name.
// The bench adds the jobs from its own process and drives this one over IPC:
//   { cmd: 'start' }   start the Worker             → { event: 'started' }
//   { cmd: 'stop' }    close it (jobs stay queued)  → { event: 'stopped' }
//   { cmd: 'report' }  completions since the last report, then forget them
//                      → { event: 'report', done: [[timestamp, finishedOn], ...], failed, retried, errors }
//                      (failed: attempts that were the job's last; retried: failed attempts that will be
//                      retried; errors: the first few failure reasons and Worker 'error' events)
//
// Environment: BENCH_QUEUE_BACKEND (redis|postgres), BENCH_REDIS_URL,
// BENCH_DATABASE_URL, BENCH_QUEUE_NAME, BENCH_QUEUE_PREFIX, BENCH_CONCURRENCY.
import { createPostgresBackend, setDefaultBackendFactory, Worker } from 'bullmq';

const env = process.env;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Redis options or a pg pool config, by backend
function connection(): any {
  if (env.BENCH_QUEUE_BACKEND === 'postgres') {
    setDefaultBackendFactory(createPostgresBackend);
    // As libs/notifications/src/queue.module.ts does for QUEUE_BACKEND=postgres.
    return { connectionString: env.BENCH_DATABASE_URL, max: 10 };
  }
  const url = new URL(env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379');
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    maxRetriesPerRequest: null,
  };
}

const conn = connection();
let worker: Worker | undefined;
let done: [number, number][] = [];
let failed = 0;
let retried = 0;
let errors: string[] = [];
const noteError = (text: string): void => {
  if (errors.length < 5) errors.push(text);
};

async function start(): Promise<void> {
  if (worker) return;
  const started = new Worker(env.BENCH_QUEUE_NAME ?? '', async () => undefined, {
    connection: conn,
    prefix: env.BENCH_QUEUE_PREFIX,
    concurrency: Number(env.BENCH_CONCURRENCY),
  });
  worker = started;
  started.on('completed', (job) => done.push([job.timestamp, job.finishedOn || Date.now()]));
  started.on('failed', (job, err) => {
    const isFinal = !job || job.attemptsMade >= (job.opts.attempts || 1);
    if (isFinal) failed++;
    else retried++;
    noteError(`job ${job?.id} attempt ${job?.attemptsMade} failed${isFinal ? '' : ' (will retry)'}: ${err?.message}`);
    console.error(`job ${job?.id} failed (attempt ${job?.attemptsMade}): ${err?.message}`);
  });
  started.on('error', (err) => {
    noteError(`worker error: ${err?.message}`);
    console.error('worker error:', err?.message);
  });
  await started.waitUntilReady();
}

async function stop(): Promise<void> {
  if (!worker) return;
  const w = worker;
  worker = undefined;
  await w.close();
}

process.on('message', (message: { cmd: string }) => {
  const reply = (m: object): void => {
    process.send?.(m);
  };
  const fail = (err: unknown): void => reply({ event: 'error', message: String((err instanceof Error && err.stack) || err) });
  if (message.cmd === 'start') void start().then(() => reply({ event: 'started' }), fail);
  else if (message.cmd === 'stop') void stop().then(() => reply({ event: 'stopped' }), fail);
  else if (message.cmd === 'report') {
    reply({ event: 'report', done, failed, retried, errors });
    done = [];
    failed = 0;
    retried = 0;
    errors = [];
  }
});

process.on('SIGTERM', () => {
  void stop().finally(() => process.exit(0));
});
