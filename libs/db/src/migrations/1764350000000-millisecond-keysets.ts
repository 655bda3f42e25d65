import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Keyset cursors carry the row's created_at as a JavaScript Date (milliseconds);
 * PostgreSQL's microseconds made rows within one millisecond — e.g. every
 * notification of one fan-out, written by one statement — fall between pages.
 * Stored at millisecond precision, the cursor is exact.
 */
const TABLES = ['orders', 'notifications', 'deliveries', 'volunteers', 'venues', 'assignments'];

export class MillisecondKeysets1764350000000 implements MigrationInterface {
  name = 'MillisecondKeysets1764350000000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of TABLES) await q.query(`ALTER TABLE ${table} ALTER COLUMN created_at TYPE timestamptz(3)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of TABLES) await q.query(`ALTER TABLE ${table} ALTER COLUMN created_at TYPE timestamptz`);
  }
}
