// Plain BullMQ on its PostgreSQL backend (bench/RESULTS.md, "Bugs found on the way" 3):
// 16 parallel adders and one Worker (concurrency 10, no-op processor), jobs with the
// notifications queue's options; counts Worker 'failed' and 'error' events. Intermittent:
// run it a few times.
//
//   node -r ./test/support/register-ts.js bench/support/bullmq-pg-deadlock-repro.ts                 # removeOnComplete: { count: 1000 }
//   KEEP=all node -r ./test/support/register-ts.js bench/support/bullmq-pg-deadlock-repro.ts        # removeOnComplete: false
//   N=5000 CONCURRENCY=10 node -r ./test/support/register-ts.js bench/support/bullmq-pg-deadlock-repro.ts
//
// Drops and creates the database kepu_bench_pgq on 127.0.0.1. Exit status 1 when an attempt failed.
import { createPostgresBackend, Queue, setDefaultBackendFactory, Worker } from 'bullmq';
import { migrateQueueSchema } from '../../test/support/queue-schema';
import { sleep } from '../../test/support/wait';
import { withPg } from './harness';

const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/kepu_bench_pgq';
const N = Number(process.env.N || 5000);
const CONCURRENCY = Number(process.env.CONCURRENCY || 10);

async function main(): Promise<void> {
  await withPg(ADMIN_URL, async (admin) => {
    await admin.query('DROP DATABASE IF EXISTS kepu_bench_pgq WITH (FORCE)');
    await admin.query('CREATE DATABASE kepu_bench_pgq');
  });
  await migrateQueueSchema(DATABASE_URL);

  setDefaultBackendFactory(createPostgresBackend);
  const connection = { connectionString: DATABASE_URL, max: 10 };
  const queue = new Queue('repro', { connection });
  const reasons: Record<string, number> = {};
  let failed = 0;
  let done = 0;
  const worker = new Worker('repro', async () => undefined, { connection, concurrency: CONCURRENCY });
  worker.on('failed', (_job, err) => {
    failed++;
    reasons[err.message] = (reasons[err.message] || 0) + 1;
  });
  worker.on('error', (err) => {
    reasons[`worker error: ${err.message}`] = (reasons[`worker error: ${err.message}`] || 0) + 1;
  });
  worker.on('completed', () => done++);
  await worker.waitUntilReady();

  const opts: { attempts: number; backoff: { type: string; delay: number }; removeOnComplete: false | { count: number } } = {
    attempts: 8,
    backoff: { type: 'exponential', delay: 500 },
    removeOnComplete: process.env.KEEP === 'all' ? false : { count: 1000 },
  };
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < N) {
        const i = next++;
        await queue.add('fan-out', { i }, { ...opts, jobId: `job-${i}` });
      }
    }),
  );
  while (done < N && Date.now() - started < 180_000) await sleep(50);
  console.log(`${N} jobs, removeOnComplete ${JSON.stringify(opts.removeOnComplete)}: ${done} completed, ${failed} failed attempts in ${Date.now() - started} ms`);
  if (Object.keys(reasons).length > 0) console.log(reasons);
  await worker.close();
  await queue.close();
  process.exit(failed > 0 ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error && err.stack ? err.stack : err);
  process.exit(2);
});
