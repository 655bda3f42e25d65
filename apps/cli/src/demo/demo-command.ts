import { Presets, SingleBar } from 'cli-progress';
import type { AppConfig } from '@kepu/config';
import { rebuildCoverage, rebuildScorecards, scorecardSla } from '@kepu/coverage';
import { DataSource } from 'typeorm';
import type { SetupLog } from '../setup/database-setup';
import { createDemoSeedContext } from './demo.module';
import { type DemoSeedProgress, type DemoSeedResult, seedDemo } from './demo-seed';

/** The flag that lets `demo:seed` write its known passwords into a production database anyway. */
export const ALLOW_PRODUCTION_FLAG = '--allow-production';

const LABELS: Record<DemoSeedProgress['phase'], string> = {
  accounts: 'Accounts, volunteers, venues',
  residents: 'Residents, applications     ',
  orders: 'Orders, events, escalations ',
  broadcasts: 'Broadcasts                  ',
};

/** A bar on a terminal; plain lines every 2 s (and at each phase's end) in CI, docker logs and tests. */
function createProgress(log: SetupLog, stream: NodeJS.WriteStream = process.stderr): { onProgress: (p: DemoSeedProgress) => void; stop(): void } {
  let phase: DemoSeedProgress['phase'] | undefined;
  let bar: SingleBar | undefined;
  let lastLoggedAt = 0;
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    onProgress: (p) => {
      if (stream.isTTY) {
        if (p.phase !== phase) {
          stop();
          bar = new SingleBar({ stream, format: `${LABELS[p.phase]} [{bar}] {value}/{total}`, hideCursor: true }, Presets.shades_classic);
          bar.start(p.total, p.done);
        } else bar?.update(p.done);
      } else if (p.phase !== phase || p.done >= p.total || Date.now() - lastLoggedAt >= 2000) {
        lastLoggedAt = Date.now();
        log.info(`${LABELS[p.phase].trim()}: ${p.done}/${p.total}`);
      }
      phase = p.phase;
    },
    stop,
  };
}

const describe = (name: string, count: { created: number; existing: number }) =>
  count.created === 0 && count.existing > 0 ? `${name}: already seeded (${count.existing})` : `${name}: ${count.created} created${count.existing > 0 ? `, ${count.existing} already there` : ''}`;

export function seedReport(result: DemoSeedResult): string {
  const orders = `${describe('orders', result.orders)}${result.orders.skipped > 0 ? `, ${result.orders.skipped} skipped (they would overlap what an earlier run booked)` : ''}`;
  return [
    '',
    `Demo data: the month up to ${result.plannedAround.toISOString()}${result.isReplay ? ' (planned by the first run, played again)' : ''}`,
    ...[
      describe('accounts', result.users),
      describe('departments', result.departments),
      describe('organisations', result.organizations),
      describe('volunteers', result.volunteers),
      describe('venues', result.venues),
      orders,
      describe('self-registered residents', result.neighbours),
      describe('volunteer applications', result.applications),
      `published events: ${result.events}, sign-ups: ${result.signups}, escalations: ${result.escalations} (written with their orders)`,
      describe('order series', result.series),
      describe('broadcasts', result.broadcasts),
      ...(result.refused > 0 ? [`${result.refused} steps of events, escalations or applications refused (printed above)`] : []),
    ].map((line) => `  ${line}`),
    '',
    `Demo logins (password for all: ${result.password}; more in README.md, "Demo"):`,
    ...result.accounts.map((a) => `  ${a.username.padEnd(22)} ${a.role.padEnd(21)} ${a.districtName}  ${a.displayName}`),
    '',
  ].join('\n');
}

/**
 * `demo:seed`: the database setup of db:setup, then the demo. Refuses a
 * production database (the demo's passwords are public) unless told otherwise.
 */
export async function runDemoSeed(config: AppConfig, args: readonly string[], log: SetupLog, setup: (config: AppConfig) => Promise<unknown>): Promise<number> {
  if (config.nodeEnv === 'production' && !args.includes(ALLOW_PRODUCTION_FLAG)) {
    console.error(`demo:seed refuses to run with NODE_ENV=production: its accounts have published passwords. Pass ${ALLOW_PRODUCTION_FLAG} if you really mean it.`);
    return 2;
  }
  await setup(config);
  const { app, clock } = await createDemoSeedContext();
  const dataSource = app.get(DataSource);
  const progress = createProgress(log);
  try {
    const result = await seedDemo(app, clock, { onProgress: progress.onProgress });
    progress.stop();
    // The seeded month's coverage at once, rather than when a worker relays the outbox (its jobs then find nothing to change).
    const coverage = await dataSource.transaction((manager) => rebuildCoverage(manager));
    await dataSource.transaction((manager) => rebuildScorecards(manager, scorecardSla(config)));
    console.log(seedReport(result));
    console.log(`Coverage rollups rebuilt from ${coverage.facts} orders.\n`);
    return 0;
  } finally {
    progress.stop();
    await app.close();
  }
}
