import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rate limits shared by every API process (sign-up codes per phone and address,
 * broadcasts per sender, writes per user): one counter row per key and fixed
 * window. PostgreSQL, not Redis, so a deployment on the PostgreSQL queue backend
 * has them too. Unlogged: a crash may forget a window's counts, which only
 * forgives a few requests, and the counters cost no WAL.
 */
export class RateLimits1764381000000 implements MigrationInterface {
  name = 'RateLimits1764381000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE UNLOGGED TABLE rate_limit_counters (
        key text NOT NULL,
        window_start timestamptz NOT NULL,
        window_end timestamptz NOT NULL,
        hits int NOT NULL,
        PRIMARY KEY (key, window_start)
      )`);
    await q.query(`CREATE INDEX rate_limit_counters_end_idx ON rate_limit_counters (window_end)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE rate_limit_counters`);
  }
}
