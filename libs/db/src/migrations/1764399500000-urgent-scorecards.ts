import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Scorecards measure "responded within SLA" against the order's own deadline:
 * an urgent order's is SLA_URGENT_FACTOR of the normal one (libs/coverage
 * scorecard-sql.ts). Facts stored before were computed with the normal
 * deadline for every order. The deadlines are configuration, which a migration
 * does not read, so the facts and rollups are emptied here and the worker
 * rebuilds them once at start (CoverageBootstrap → rebuildIfEmpty), as it did
 * when the scorecards came; `npm run coverage:rebuild` does the same at once.
 */
export class UrgentScorecards1764399500000 implements MigrationInterface {
  name = 'UrgentScorecards1764399500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`TRUNCATE scorecard_facts, scorecard_rollups`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The same emptying: the older worker rebuilds with its own definition.
    await q.query(`TRUNCATE scorecard_facts, scorecard_rollups`);
  }
}
