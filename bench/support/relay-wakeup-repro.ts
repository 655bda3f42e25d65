// Reproduces the outbox relay's lost wake-up (bench/RESULTS.md, "Bugs found on the way" 1):
// a NOTIFY that arrives while the relay is publishing is dropped, so a row committed then
// waits for the poll (OUTBOX_POLL_MS, 1 s by default).
//
//   node -r ./test/support/register-ts.js bench/notifications.bench.ts            (once: leaves the database kepu_bench_notifications)
//   node -r ./test/support/register-ts.js bench/support/relay-wakeup-repro.ts   (starts a built worker on it, then stops it)
//
// Commits pairs of outbox rows (type 'bench.noop': no job is queued for them) on two
// connections, GAP ms apart, 2.5 s between pairs, and prints how long each row waited for the
// relay (published_at − created_at). The rows are deleted afterwards. Exit status 1 when a
// row waited more than 500 ms. BENCH_WORKER_ENTRY runs another build of the worker.
import { spawn } from 'node:child_process';
import { Client } from 'pg';
import { sleep } from '../../test/support/wait';
import { BENCH_JWT_SECRET, ROOT } from './harness';

const DATABASE_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/kepu_bench_notifications';
const PAIRS = Number(process.env.PAIRS || 10);

async function main(): Promise<void> {
  const a = new Client({ connectionString: DATABASE_URL });
  const b = new Client({ connectionString: DATABASE_URL });
  await a.connect();
  await b.connect();
  const worker = spawn(process.execPath, [process.env.BENCH_WORKER_ENTRY || 'dist/apps/worker/src/main.js'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL,
      REDIS_URL: process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379/7',
      QUEUE_PREFIX: '{kepu-bench}',
      JWT_SECRET: BENCH_JWT_SECRET,
      LOG_LEVEL: 'warn',
    },
  });
  const ids: { gap: number; first: string; second: string }[] = [];
  try {
    // Ready when the relay LISTENs.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { rows } = await a.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'kepu-outbox-relay'`);
      if (rows.length > 0) break;
      if (Date.now() > deadline || worker.exitCode !== null) throw new Error('the worker did not start listening within 30 s');
      await sleep(200);
    }
    await sleep(1500);
    for (let i = 0; i < PAIRS; i++) {
      const gap = (i % 5) * 2; // 0, 2, 4, 6, 8 ms
      const first = await a.query<{ id: string }>(`INSERT INTO outbox (type, payload) VALUES ('bench.noop', '{}') RETURNING id`);
      if (gap > 0) await sleep(gap);
      const second = await b.query<{ id: string }>(`INSERT INTO outbox (type, payload) VALUES ('bench.noop', '{}') RETURNING id`);
      ids.push({ gap, first: first.rows[0]?.id ?? '', second: second.rows[0]?.id ?? '' });
      await sleep(2500); // the relay goes back to its poll sleep
    }
    let worst = 0;
    for (const { gap, first, second } of ids) {
      const { rows } = await a.query<{ id: string; ms: number }>(
        `SELECT id, round(extract(epoch FROM published_at - created_at) * 1000)::int AS ms FROM outbox WHERE id = ANY($1::uuid[])`,
        [[first, second]],
      );
      const ms: Record<string, number | undefined> = Object.fromEntries(rows.map((r) => [r.id, r.ms]));
      worst = Math.max(worst, ms[first] ?? Infinity, ms[second] ?? Infinity);
      console.log(`gap ${gap} ms: first row published after ${ms[first]} ms, second after ${ms[second]} ms`);
    }
    console.log(worst > 500 ? `LOST WAKE-UP: a row waited ${worst} ms for the relay` : `no lost wake-up (worst ${worst} ms)`);
    process.exitCode = worst > 500 ? 1 : 0;
  } finally {
    worker.kill('SIGTERM');
    const all = ids.flatMap((p) => [p.first, p.second]);
    if (all.length > 0) await a.query(`DELETE FROM outbox WHERE id = ANY($1::uuid[])`, [all]);
    await a.end();
    await b.end();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error && err.stack ? err.stack : err);
  process.exit(2);
});
