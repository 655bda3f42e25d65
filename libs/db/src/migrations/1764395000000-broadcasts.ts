import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Broadcasts (API.md "Coordinators steering"): a message to roles in districts.
 * The recipients are cut into keyset batches over user ids when the broadcast is
 * accepted (`broadcast_batches`, fixed from then on), so a batch job re-run after a
 * crash covers the same users; its notifications and deliveries are written under
 * the unique keys of `notifications` and `deliveries` (source_id = broadcast id),
 * so each (user, channel) is told once.
 */
export class Broadcasts1764395000000 implements MigrationInterface {
  name = 'Broadcasts1764395000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE broadcasts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        sender_id uuid NOT NULL REFERENCES users(id),
        title text NOT NULL,
        body text NOT NULL,
        -- NULL: the whole city
        district_codes varchar(6)[],
        roles text[] NOT NULL,
        channels text[] NOT NULL,
        is_urgent boolean NOT NULL DEFAULT false,
        recipients int NOT NULL,
        batches int NOT NULL,
        idempotency_key text,
        request_hash text,
        response jsonb,
        -- set when the worker has added the batch jobs to the queue
        enqueued_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT broadcasts_idempotency UNIQUE (sender_id, idempotency_key)
      )`);
    await q.query(`CREATE INDEX broadcasts_sender_idx ON broadcasts (sender_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX broadcasts_list_idx ON broadcasts (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX broadcasts_unqueued_idx ON broadcasts (created_at) WHERE enqueued_at IS NULL`);
    await q.query(`
      CREATE TABLE broadcast_batches (
        broadcast_id uuid NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
        batch_no int NOT NULL,
        first_user_id uuid NOT NULL,
        last_user_id uuid NOT NULL,
        recipients int NOT NULL,
        done_at timestamptz,
        PRIMARY KEY (broadcast_id, batch_no)
      )`);
    await q.query(`CREATE INDEX broadcast_batches_open_idx ON broadcast_batches (broadcast_id) WHERE done_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS broadcast_batches, broadcasts`);
  }
}
