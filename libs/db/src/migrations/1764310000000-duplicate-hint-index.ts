import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The duplicate-hint query reads the newest open orders of a community with one
 * topic and audience; with created_at in the index it reads 50 index entries
 * instead of every open order of the community.
 */
export class DuplicateHintIndex1764310000000 implements MigrationInterface {
  name = 'DuplicateHintIndex1764310000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS orders_duplicates_idx`);
    await q.query(
      `CREATE INDEX orders_duplicates_idx ON orders (community_code, topic, audience, created_at DESC) WHERE status IN ('submitted','dispatched','claimed','accepted','scheduled')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS orders_duplicates_idx`);
    await q.query(`CREATE INDEX orders_duplicates_idx ON orders (community_code, topic, audience) WHERE status IN ('submitted','dispatched','claimed','accepted','scheduled')`);
  }
}
