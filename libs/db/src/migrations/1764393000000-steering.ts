import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Coordinators' levers (DESIGN.md §10): urgent orders (应急科普), series of
 * recurring orders (常态化), and escalations, the worklist the SLA timers open.
 *
 * An escalation is one per stretch of a stage, like an SLA breach
 * (`escalations_once`); the partial index finds an order's unresolved ones,
 * which every status change of the order resolves in its own transaction.
 */
export class Steering1764393000000 implements MigrationInterface {
  name = 'Steering1764393000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE orders ADD COLUMN urgent boolean NOT NULL DEFAULT false, ADD COLUMN series_id uuid`);
    // Urgent orders come first in the lists: a small partial index serves that first part of a page.
    await q.query(`CREATE INDEX orders_urgent_created_idx ON orders (created_at DESC, id DESC) WHERE urgent`);
    await q.query(`CREATE INDEX orders_series_idx ON orders (series_id) WHERE series_id IS NOT NULL`);
    await q.query(`
      CREATE TABLE escalations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL REFERENCES orders(id),
        district_code varchar(6) NOT NULL,
        stage text NOT NULL CHECK (stage IN ('dispatch','claim','accept','schedule')),
        entered_seq int NOT NULL,
        due_at timestamptz NOT NULL,
        breached_at timestamptz NOT NULL,
        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open','acknowledged','resolved')),
        acknowledged_by uuid REFERENCES users(id),
        acknowledged_at timestamptz,
        note text,
        resolved_at timestamptz,
        CONSTRAINT escalations_once UNIQUE (order_id, stage, entered_seq),
        CONSTRAINT escalations_resolved CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX escalations_unresolved_idx ON escalations (order_id) WHERE status <> 'resolved'`);
    await q.query(`CREATE INDEX escalations_worklist_idx ON escalations (district_code, status, breached_at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS escalations`);
    await q.query(`DROP INDEX IF EXISTS orders_series_idx`);
    await q.query(`DROP INDEX IF EXISTS orders_urgent_created_idx`);
    await q.query(`ALTER TABLE orders DROP COLUMN IF EXISTS series_id, DROP COLUMN IF EXISTS urgent`);
  }
}
