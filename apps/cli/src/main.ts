import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DEV_ADMIN } from '@kepu/auth';
import { type AppConfig, ConfigError, listeningUrl, loadConfig } from '@kepu/config';
import { coverageRebuild } from './coverage-rebuild';
import { ALLOW_PRODUCTION_FLAG, runDemoSeed } from './demo/demo-command';
import { type DatabaseSetupResult, DatabaseUnreachableError, setupDatabase, type SetupLog } from './setup/database-setup';
import { UnknownProvinceError } from './setup/region-import';
import { spawnSupervised } from './supervisor';

/**
 * `db:setup` and `start` without Nest: the setup must run, and fail clearly,
 * before any app that expects the schema boots.
 */

const USAGE = `Usage: node dist/apps/cli/src/main.js <command>

Commands:
  db:setup   create the database if missing, run migrations, import the regions
             of REGION_PROVINCE when absent, create the first city_admin
  start      db:setup, then run the API and the worker until stopped
  coverage:rebuild
             recompute the coverage facts and rollups from the orders
  demo:seed  db:setup, then a month of demo data in four districts (safe to run
             again; refused with NODE_ENV=production unless ${ALLOW_PRODUCTION_FLAG})`;

const HEALTH_WAIT_MS = 30_000;
const STOP_GRACE_MS = 15_000;

const log: SetupLog = {
  info: (message) => console.log(`[setup] ${message}`),
  warn: (message) => console.warn(`[setup] warning: ${message}`),
};

// dist/apps/cli/src → dist/apps/<app>/src/main.js, whatever the working directory.
const appEntry = (app: 'api' | 'worker') => join(__dirname, '..', '..', app, 'src', 'main.js');

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function runSetup(config: AppConfig): Promise<DatabaseSetupResult> {
  const result = await setupDatabase(config, log);
  log.info(`Database "${result.databaseName}" is ready.`);
  return result;
}

function adminLine(result: DatabaseSetupResult, isDevAdmin: boolean): string {
  switch (result.admin.status) {
    case 'created':
      return `Admin login:   ${result.admin.username} / ${isDevAdmin ? DEV_ADMIN.password : 'the password in BOOTSTRAP_ADMIN_PASSWORD'}`;
    case 'exists':
      return `Admin login:   ${result.admin.username} (existing city_admin)`;
    case 'missing':
      return 'Admin login:   none yet — restart with BOOTSTRAP_ADMIN_USERNAME and BOOTSTRAP_ADMIN_PASSWORD set';
  }
}

async function isHealthAnswering(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return true; // any status: the server is listening
  } catch {
    return false;
  }
}

async function start(config: AppConfig): Promise<number> {
  const isDevAdmin = config.nodeEnv !== 'production' && !config.bootstrapAdminUsername && !config.bootstrapAdminPassword;
  if (isDevAdmin) {
    config.bootstrapAdminUsername = DEV_ADMIN.username;
    config.bootstrapAdminPassword = DEV_ADMIN.password;
    log.warn(`BOOTSTRAP_ADMIN_* are not set: a first city_admin "${DEV_ADMIN.username}" / "${DEV_ADMIN.password}" is created for development. Change it, or set the variables.`);
  }
  const setup = await runSetup(config);

  for (const app of ['api', 'worker'] as const) {
    if (!existsSync(appEntry(app))) {
      console.error(`${relative(process.cwd(), appEntry(app))} is missing: run \`npm run build\` first (npm start does).`);
      return 1;
    }
  }

  const children = new Map<string, ChildProcess>();
  let isStopping = false;
  let exitCode = 0;

  const stopAll = (signal: NodeJS.Signals) => {
    if (isStopping) return;
    isStopping = true;
    for (const child of children.values()) child.kill(signal);
    // a child that ignores the signal must not keep `npm start` alive forever
    setTimeout(() => {
      for (const child of children.values()) child.kill('SIGKILL');
    }, STOP_GRACE_MS).unref();
  };

  const allExited = new Promise<void>((resolve) => {
    for (const app of ['api', 'worker'] as const) {
      const child = spawnSupervised([appEntry(app)]);
      children.set(app, child);
      child.on('exit', (code, signal) => {
        children.delete(app);
        if (!isStopping) {
          console.error(`${app} exited (${signal ?? `code ${code}`}); stopping the others.`);
          exitCode = code && code !== 0 ? code : 1;
          stopAll('SIGTERM');
        }
        if (children.size === 0) resolve();
      });
    }
  });

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stopAll(signal));
  // Last resort (e.g. an unexpected throw here): never leave detached children behind.
  process.on('exit', () => {
    for (const child of children.values()) child.kill('SIGTERM');
  });

  const base = listeningUrl(config.host, config.port);
  const deadline = Date.now() + HEALTH_WAIT_MS;
  let isUp = false;
  while (!isStopping && Date.now() < deadline) {
    isUp = await isHealthAnswering(`${base}/health`);
    if (isUp) break;
    await sleep(500);
  }

  if (!isStopping) {
    console.log(
      [
        '',
        isUp ? 'Kepu Dispatch is running.' : `The API did not answer ${base}/health within ${HEALTH_WAIT_MS / 1000} s; it may still be starting.`,
        `API:           ${base}`,
        `API docs:      ${base}/docs`,
        `Health:        ${base}/health`,
        `Metrics:       ${base}/metrics`,
        `Queues:        ${base}/admin/queues (city_admin; open ?token=<accessToken> once in a browser)`,
        `Dashboard:     ${base}/dashboard (coverage for coordinators; sign in with the admin login)`,
        adminLine(setup, isDevAdmin),
        'Stop with Ctrl-C.',
        '',
      ].join('\n'),
    );
  }

  await allExited;
  return exitCode;
}

async function main(argv: string[]): Promise<number> {
  const command = argv[0];
  if (command !== 'db:setup' && command !== 'start' && command !== 'demo:seed' && command !== 'coverage:rebuild') {
    console.error(command && command !== 'help' && command !== '--help' ? `Unknown command "${command}".\n\n${USAGE}` : USAGE);
    return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }

  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }

  try {
    if (command === 'coverage:rebuild') return await coverageRebuild(config);
    if (command === 'db:setup') {
      await runSetup(config);
      return 0;
    }
    if (command === 'demo:seed') return await runDemoSeed(config, argv.slice(1), log, runSetup);
    return await start(config);
  } catch (err) {
    if (err instanceof DatabaseUnreachableError) {
      console.error(err.message);
      return 1;
    }
    if (err instanceof UnknownProvinceError) {
      console.error(`REGION_PROVINCE: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : err);
    process.exit(1);
  },
);
