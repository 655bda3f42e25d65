import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Messages not about an order: a sign-up code to a phone that has no account yet,
 * an application decision, a broadcast. A delivery may therefore have no user,
 * only an address; such deliveries stay exactly-once per (message, channel,
 * address), as user deliveries are per (message, user, channel).
 */
export class DirectNotices1764380000000 implements MigrationInterface {
  name = 'DirectNotices1764380000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deliveries ALTER COLUMN user_id DROP NOT NULL`);
    await q.query(`CREATE UNIQUE INDEX deliveries_once_by_address ON deliveries (source_id, channel, address) WHERE user_id IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX deliveries_once_by_address`);
    await q.query(`DELETE FROM deliveries WHERE user_id IS NULL`);
    await q.query(`ALTER TABLE deliveries ALTER COLUMN user_id SET NOT NULL`);
  }
}
