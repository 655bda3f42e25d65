import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GET /orders for an org_admin or a volunteer reads the union of index-friendly branches
 * (libs/orders orders.repository.ts visibleBranches), each with urgent first then created_at
 * DESC, id DESC: one index range per branch and part of the page, instead of an OR filtered
 * row by row over the whole created_at index (at 1,000,000 orders: bench/reads.bench.ts).
 * `urgent` sits before the keyset columns so the urgent part and the rest are both short ranges.
 * Every index is partial on what a newly created order never is (an organisation, an offer, an
 * open call, a scheduled event with open slots), so POST /orders writes none of them.
 */
export class VisibleOrders1764399600000 implements MigrationInterface {
  name = 'VisibleOrders1764399600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX orders_organization_urgent_idx ON orders (organization_id, urgent, created_at DESC, id DESC) WHERE organization_id IS NOT NULL`);
    await q.query(`CREATE INDEX orders_offered_urgent_idx ON orders (offered_organization_id, urgent, created_at DESC, id DESC) WHERE offered_organization_id IS NOT NULL`);
    // Superseded by orders_offered_urgent_idx (same leading column).
    await q.query(`DROP INDEX IF EXISTS orders_offered_idx`);
    await q.query(
      `CREATE INDEX orders_open_call_idx ON orders (district_code, urgent, created_at DESC, id DESC) WHERE is_open_to_organizations AND organization_id IS NULL`,
    );
    await q.query(`CREATE INDEX orders_claimable_idx ON orders (organization_id, urgent, created_at DESC, id DESC) WHERE status = 'scheduled' AND open_slots > 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS orders_claimable_idx`);
    await q.query(`DROP INDEX IF EXISTS orders_open_call_idx`);
    await q.query(`CREATE INDEX IF NOT EXISTS orders_offered_idx ON orders (offered_organization_id) WHERE offered_organization_id IS NOT NULL`);
    await q.query(`DROP INDEX IF EXISTS orders_offered_urgent_idx`);
    await q.query(`DROP INDEX IF EXISTS orders_organization_urgent_idx`);
  }
}
