import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sign-up by SMS code (DESIGN.md §10). One live code per phone and purpose (a
 * new one replaces the row), kept as an HMAC, never in plain text; a used code
 * or the fifth wrong try deletes the row.
 *
 * A resident's phone is its identity: at most one resident per phone, held by
 * a unique index so two sign-ups racing for one number cannot both win. Staff
 * and volunteer accounts keep their phones as contact data (an organisation may
 * list one number for several volunteers); sign-up and phone changes check
 * every account under an advisory lock on the number. The index build fails if
 * two residents already share a number: settle those accounts first.
 */
export class PhoneCodes1764390000000 implements MigrationInterface {
  name = 'PhoneCodes1764390000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE phone_codes (
        phone text NOT NULL,
        purpose text NOT NULL CHECK (purpose IN ('register', 'change_phone')),
        code_hash text NOT NULL,
        wrong_tries int NOT NULL DEFAULT 0,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (phone, purpose)
      )`);
    await q.query(`CREATE INDEX phone_codes_expires_idx ON phone_codes (expires_at)`);
    await q.query(`CREATE UNIQUE INDEX users_resident_phone_key ON users (phone) WHERE role = 'resident' AND phone IS NOT NULL`);
    await q.query(`CREATE INDEX users_phone_idx ON users (phone) WHERE phone IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX users_phone_idx`);
    await q.query(`DROP INDEX users_resident_phone_key`);
    await q.query(`DROP TABLE phone_codes`);
  }
}
