import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GET /orders for a volunteer: the branch "orders they served" (service_records) was read
 * as every record of the volunteer, each probed in orders for its urgency and created_at,
 * then sorted (300 records: 300 probes for a page of 21). Each record now carries its
 * order's sort key, `order_urgent` and `order_created_at` (both fixed when the order is
 * created: no transition changes them), so the branch walks
 * `service_records_visible_idx` in page order and probes only the orders it returns.
 *
 * A BEFORE INSERT trigger copies them from the order, so every writer (the fulfilment
 * repository, the demo seed, the tests' and benches' fixtures) keeps them right without
 * naming them.
 */
export class ServiceRecordOrderKeys1764399830000 implements MigrationInterface {
  name = 'ServiceRecordOrderKeys1764399830000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE service_records ADD COLUMN order_urgent boolean, ADD COLUMN order_created_at timestamptz`);
    await q.query(`UPDATE service_records r SET order_urgent = o.urgent, order_created_at = o.created_at FROM orders o WHERE o.id = r.order_id`);
    await q.query(`ALTER TABLE service_records ALTER COLUMN order_urgent SET NOT NULL, ALTER COLUMN order_created_at SET NOT NULL`);
    await q.query(`
      CREATE FUNCTION service_records_order_keys() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        SELECT o.urgent, o.created_at INTO NEW.order_urgent, NEW.order_created_at FROM orders o WHERE o.id = NEW.order_id;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER service_records_order_keys
      BEFORE INSERT OR UPDATE OF order_id ON service_records
      FOR EACH ROW EXECUTE FUNCTION service_records_order_keys()`);
    await q.query(`CREATE INDEX service_records_visible_idx ON service_records (volunteer_id, order_urgent, order_created_at DESC, order_id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS service_records_visible_idx`);
    await q.query(`DROP TRIGGER IF EXISTS service_records_order_keys ON service_records`);
    await q.query(`DROP FUNCTION IF EXISTS service_records_order_keys()`);
    await q.query(`ALTER TABLE service_records DROP COLUMN IF EXISTS order_created_at, DROP COLUMN IF EXISTS order_urgent`);
  }
}
