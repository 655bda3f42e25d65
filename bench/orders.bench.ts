// POST /orders throughput: the built API against bench/reference-orders-server.ts,
// alternated in one run on one fresh database. See bench/README.md.
//
//   npm run bench:orders                                          (builds first)
//   node -r ./test/support/register-ts.js bench/orders.bench.ts   (uses the dist/ already built)
//
// Only 127.0.0.1 is targeted; every child process is ended at the end; the run
// is bounded by BENCH_TIMEOUT_S.

import autocannon from 'autocannon';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { orderBody, preferredWindow } from '../test/support/order-body';
import {
  createBenchDatabase,
  createChildren,
  envInt,
  expectStatus,
  httpRequest,
  log,
  requireBuilt,
  ROOT,
  runMain,
  TS_NODE_ARGS,
  withPg,
  benchPlatform,
} from './support/harness';

const env = process.env;
const int = envInt;

const CONFIG = {
  ...benchPlatform({ database: 'kepu_bench', apiPort: 3100, redisDb: 7, queuePrefix: '{kepu-bench}' }),
  referencePort: int('BENCH_REFERENCE_PORT', 3101),
  durationS: int('BENCH_DURATION_S', 10),
  warmupS: int('BENCH_WARMUP_S', 2),
  rounds: int('BENCH_ROUNDS', 2),
  connections: int('BENCH_CONNECTIONS', 32),
  timeoutS: int('BENCH_TIMEOUT_S', 600),
  // Set to a directory to write a CPU profile of the API taken during the measured rounds.
  cpuProfDir: env.BENCH_CPU_PROF_DIR || '',
  // SQL run on the bench database after db:setup, for what-if experiments (an extra index...).
  setupSql: env.BENCH_SETUP_SQL || '',
  logDir: path.join(ROOT, 'test-output', 'bench'),
};
const DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${CONFIG.database}`;
const ADMIN = { username: 'admin', password: 'bench-admin-pass-1' };
const RESIDENT = { username: 'bench-resident', password: 'bench-resident-pass-1' };
const PREFERRED_COMMUNITY = '110101001001';

const { startChild, stopChild, killAllNow, waitForHttp } = createChildren({ root: ROOT, logDir: CONFIG.logDir, env });
const request = httpRequest;

function appEnv(): NodeJS.ProcessEnv {
  return {
    NODE_ENV: 'production',
    DATABASE_URL,
    REDIS_URL: CONFIG.redisUrl,
    JWT_SECRET: CONFIG.jwtSecret,
    BOOTSTRAP_ADMIN_USERNAME: ADMIN.username,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    // one login serves the whole run, which may outlast the 15-minute default
    ACCESS_TOKEN_TTL_SECONDS: '3600',
    LOG_LEVEL: 'warn',
    // the benchmark's one user writes far more than a person would (per-user write limits)
    WRITE_RATE_LIMIT_PER_HOUR: '1000000',
  };
}

async function pickCommunity(): Promise<string> {
  return withPg(DATABASE_URL, async (pg) => {
    const { rows } = await pg.query<{ code: string }>(
      `SELECT code FROM communities ORDER BY (code = $1) DESC, code LIMIT 1`,
      [PREFERRED_COMMUNITY],
    );
    const [row] = rows;
    if (!row) throw new Error('db:setup imported no communities');
    return row.code;
  });
}

/** Two weeks ahead, a spoken description and no accessibility needs: the body the results were measured with. */
function benchOrderBody(communityCode: string): Record<string, unknown> {
  return orderBody(communityCode, {
    description: 'A talk on phone scams for the elderly of our community, about 60 people, Saturday morning.',
    preferredWindows: [preferredWindow(14)],
    accessibilityNeeds: undefined,
    contactName: '王老师',
  });
}

function fire(port: number, token: string, body: Record<string, unknown>, durationS: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}/orders`,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
        connections: CONFIG.connections,
        duration: durationS,
        timeout: 10,
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    instance.on('error', () => {});
  });
}

interface Row {
  name: string;
  rps: number;
  p50: number | string;
  p99: number | string;
  non2xx: number;
  errors: number;
  ok: number;
}

interface Measured extends Row {
  p50: number;
  p99: number;
  statusCodes: autocannon.Result['statusCodeStats'];
}

function summarise(name: string, r: autocannon.Result): Measured {
  return {
    name,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    ok: r['2xx'],
    statusCodes: r.statusCodeStats,
  };
}

const pad = (s: string | number, n: number): string => String(s).padStart(n);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function table(rows: Row[]): string {
  const head = `| run | req/s | p50 ms | p99 ms | 2xx | non-2xx | errors |`;
  const sep = `| --- | ---: | ---: | ---: | ---: | ---: | ---: |`;
  const lines = rows.map((r) => `| ${r.name} | ${pad(r.rps.toFixed(0), 6)} | ${pad(r.p50, 4)} | ${pad(r.p99, 5)} | ${pad(r.ok, 6)} | ${pad(r.non2xx, 5)} | ${pad(r.errors, 4)} |`);
  return [head, sep, ...lines].join('\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  requireBuilt(['dist/apps/api/src/main.js', 'dist/apps/cli/src/main.js'], 'npm run bench:orders');
  await createBenchDatabase(CONFIG.pgAdminUrl, CONFIG.database, appEnv());
  if (CONFIG.setupSql) {
    log(`BENCH_SETUP_SQL: ${CONFIG.setupSql}`);
    await withPg(DATABASE_URL, (pg) => pg.query(CONFIG.setupSql));
  }
  const communityCode = await pickCommunity();

  const apiArgs: string[] = [];
  if (CONFIG.cpuProfDir) {
    fs.mkdirSync(CONFIG.cpuProfDir, { recursive: true });
    apiArgs.push(...TS_NODE_ARGS, '--require', path.join(__dirname, 'support', 'cpu-profile.ts'));
  }
  apiArgs.push('dist/apps/api/src/main.js');
  const api = startChild('api', apiArgs, { ...appEnv(), PORT: String(CONFIG.apiPort), BENCH_CPU_PROF_DIR: CONFIG.cpuProfDir }, { ipc: Boolean(CONFIG.cpuProfDir) });
  await waitForHttp('api', api, CONFIG.apiPort, 60_000);

  const adminLogin = await expectStatus('admin login', request(CONFIG.apiPort, 'POST', '/auth/login', { body: ADMIN }), [200, 201]);
  await expectStatus(
    'create resident',
    request(CONFIG.apiPort, 'POST', '/users', {
      token: adminLogin.accessToken,
      body: { ...RESIDENT, displayName: '压测居民', role: 'resident', communityCode },
    }),
    [201],
  );
  const residentLogin = await expectStatus('resident login', request(CONFIG.apiPort, 'POST', '/auth/login', { body: RESIDENT }), [200, 201]);
  const token: string = residentLogin.accessToken;
  const body = benchOrderBody(communityCode);

  const reference = startChild('reference', [...TS_NODE_ARGS, path.join(__dirname, 'reference-orders-server.ts')], {
    DATABASE_URL,
    JWT_SECRET: CONFIG.jwtSecret,
    PORT: String(CONFIG.referencePort),
    DATABASE_POOL_SIZE: '20',
  });
  await waitForHttp('reference', reference, CONFIG.referencePort, 15_000);

  // One order through each, checked before the load.
  const targets = [
    { name: 'reference', port: CONFIG.referencePort },
    { name: 'api', port: CONFIG.apiPort },
  ];
  for (const t of targets) {
    const order = await expectStatus(`${t.name} POST /orders`, request(t.port, 'POST', '/orders', { token, body }), [201]);
    if (order.status !== 'submitted' || order.communityCode !== communityCode) throw new Error(`${t.name}: unexpected order ${JSON.stringify(order).slice(0, 300)}`);
  }
  log(`community ${communityCode}; ${CONFIG.connections} connections; warm-up ${CONFIG.warmupS}s, ${CONFIG.rounds} x ${CONFIG.durationS}s each`);

  let created = 2;
  for (const t of targets) {
    log(`warm-up ${t.name}`);
    created += (await fire(t.port, token, body, CONFIG.warmupS))['2xx'];
  }
  // A live database has planner statistics (autovacuum analyzes within a minute);
  // a fresh one minutes old has none and plans every orders query for an empty table.
  await withPg(DATABASE_URL, (pg) => pg.query('ANALYZE'));
  if (CONFIG.cpuProfDir) api.send('cpu-profile:start'); // measured rounds only

  const rows: Measured[] = [];
  for (let round = 1; round <= CONFIG.rounds; round++) {
    for (const t of targets) {
      log(`round ${round}: ${t.name}`);
      const result = await fire(t.port, token, body, CONFIG.durationS);
      created += result['2xx'];
      rows.push(summarise(`${t.name} #${round}`, result));
    }
  }
  if (CONFIG.cpuProfDir) {
    const written = new Promise<void>((resolve) => api.on('message', (m) => m === 'cpu-profile:written' && resolve()));
    api.send('cpu-profile:stop');
    await Promise.race([written, new Promise((r) => setTimeout(r, 15_000))]);
  }

  const counts = await withPg(DATABASE_URL, async (pg) => {
    const { rows: [c] } = await pg.query<{ orders: number; events: number; outbox: number }>(
      `SELECT (SELECT count(*) FROM orders)::int AS orders,
              (SELECT count(*) FROM order_events)::int AS events,
              (SELECT count(*) FROM outbox)::int AS outbox`,
    );
    if (!c) throw new Error('no counts');
    return c;
  });

  await stopChild(reference);
  await stopChild(api);

  const avg = (name: string): Row => {
    const rs = rows.filter((r) => r.name.startsWith(`${name} `));
    return { name: `${name} (mean)`, rps: mean(rs.map((r) => r.rps)), p50: mean(rs.map((r) => r.p50)).toFixed(1), p99: mean(rs.map((r) => r.p99)).toFixed(1), ok: rs.reduce((a, r) => a + r.ok, 0), non2xx: rs.reduce((a, r) => a + r.non2xx, 0), errors: rs.reduce((a, r) => a + r.errors, 0) };
  };
  const ref = avg('reference');
  const apiAvg = avg('api');
  const ratio = apiAvg.rps / ref.rps;

  const report = [
    `POST /orders, ${CONFIG.connections} connections, ${CONFIG.rounds} x ${CONFIG.durationS}s per server after ${CONFIG.warmupS}s warm-up each, alternated`,
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; date ${new Date().toISOString()}`,
    '',
    table([...rows, ref, apiAvg]),
    '',
    `ratio api/reference (req/s): ${ratio.toFixed(2)}`,
    `rows: orders ${counts.orders}, order_events ${counts.events}, outbox ${counts.outbox}; 2xx answers counted ${created} (answers still in flight when a run ends are written but not counted)`,
    `status codes: ${rows.map((r) => `${r.name} ${JSON.stringify(Object.fromEntries(Object.entries(r.statusCodes).map(([k, v]) => [k, v.count])))}`).join('; ')}`,
    ...(CONFIG.setupSql ? [`BENCH_SETUP_SQL: ${CONFIG.setupSql}`] : []),
    `elapsed ${((Date.now() - started) / 1000).toFixed(0)}s`,
  ].join('\n');
  process.stdout.write(`${report}\n`);
  if (CONFIG.cpuProfDir) log(`CPU profile in ${CONFIG.cpuProfDir}; summarise with: node -r ./test/support/register-ts.js bench/support/summarise-profile.ts ${CONFIG.cpuProfDir}/*.cpuprofile`);
}

runMain(main, { timeoutS: CONFIG.timeoutS, killAllNow });
