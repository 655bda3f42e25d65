import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Scorecard rollups by month, month prefix and month suffix (libs/core edgePlan) instead of month
 * and Fenwick nodes: any period reads at most months + 2 rows per subject and district (a 90-day
 * period 4, where the Fenwick nodes took up to ~15), so arbitrary periods stay as fast as a repeated
 * one. The rows are a different shape, so the facts and rollups are emptied and the worker rebuilds
 * them once at start (CoverageBootstrap → rebuildIfEmpty), as after 1764399500000-urgent-scorecards;
 * `npm run coverage:rebuild` does the same at once.
 */
export class ScorecardEdges1764399700000 implements MigrationInterface {
  name = 'ScorecardEdges1764399700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`TRUNCATE scorecard_facts, scorecard_rollups`);
    await q.query(`ALTER TABLE scorecard_rollups DROP CONSTRAINT IF EXISTS scorecard_rollups_grain_check`);
    await q.query(`ALTER TABLE scorecard_rollups ADD CONSTRAINT scorecard_rollups_grain_check CHECK (grain IN ('m','p','s'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Emptied again: the older worker rebuilds its month and Fenwick rows.
    await q.query(`TRUNCATE scorecard_facts, scorecard_rollups`);
    await q.query(`ALTER TABLE scorecard_rollups DROP CONSTRAINT IF EXISTS scorecard_rollups_grain_check`);
    await q.query(`ALTER TABLE scorecard_rollups ADD CONSTRAINT scorecard_rollups_grain_check CHECK (grain IN ('f','m'))`);
  }
}
