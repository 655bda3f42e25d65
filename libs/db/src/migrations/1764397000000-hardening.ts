import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Hardening (issue #14): an absolute session lifetime, the housekeeping
 * sweep's index on old login failures, and accepted open calls closed.
 *
 * `refresh_tokens.session_started_at` is the login's time, copied to every
 * token of the family: refreshing never takes a session past
 * SESSION_MAX_AGE_SECONDS after it. Existing families take their oldest
 * token's creation time.
 */
export class Hardening1764397000000 implements MigrationInterface {
  name = 'Hardening1764397000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE refresh_tokens ADD COLUMN session_started_at timestamptz`);
    await q.query(`
      UPDATE refresh_tokens t SET session_started_at = f.started
      FROM (SELECT family_id, min(created_at) AS started FROM refresh_tokens GROUP BY family_id) f
      WHERE f.family_id = t.family_id`);
    await q.query(`ALTER TABLE refresh_tokens ALTER COLUMN session_started_at SET DEFAULT now(), ALTER COLUMN session_started_at SET NOT NULL`);
    await q.query(`CREATE INDEX login_failures_updated_idx ON login_failures (updated_at)`);
    // An accepted open call is no longer open: the losing organisations stop seeing it.
    await q.query(`UPDATE orders SET is_open_to_organizations = false WHERE is_open_to_organizations AND organization_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS login_failures_updated_idx`);
    await q.query(`ALTER TABLE refresh_tokens DROP COLUMN IF EXISTS session_started_at`);
  }
}
