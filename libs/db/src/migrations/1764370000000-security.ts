import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refresh tokens (rotating, hashed), the failed-login counter per username
 * (lockout) and the audit log of administrative actions.
 */
export class Security1764370000000 implements MigrationInterface {
  name = 'Security1764370000000';

  async up(q: QueryRunner): Promise<void> {
    // Only a SHA-256 of each token is kept: a leaked table signs nobody in.
    // One family per login; a rotated token that comes back revokes the family.
    await q.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        family_id uuid NOT NULL,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash bytea NOT NULL UNIQUE,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        used_at timestamptz,
        revoked_at timestamptz
      )`);
    await q.query(`CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id)`);
    await q.query(`CREATE INDEX refresh_tokens_expiry_idx ON refresh_tokens (expires_at)`);

    // Keyed by the lower-cased username whether or not the account exists, so a
    // lockout tells nobody which usernames are real.
    await q.query(`
      CREATE TABLE login_failures (
        username_key text PRIMARY KEY,
        failures integer NOT NULL CHECK (failures >= 0),
        locked_until timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE audit_log (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        at timestamptz(3) NOT NULL DEFAULT now(),
        actor_id uuid,
        actor_role text,
        action text NOT NULL,
        target_type text NOT NULL,
        target_id text,
        summary jsonb NOT NULL DEFAULT '{}',
        ip text
      )`);
    await q.query(`CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC)`);
    await q.query(`CREATE INDEX audit_log_action_at_idx ON audit_log (action, at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_log`);
    await q.query(`DROP TABLE login_failures`);
    await q.query(`DROP TABLE refresh_tokens`);
  }
}
