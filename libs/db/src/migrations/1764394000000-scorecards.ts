import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Scorecards (三率, DESIGN.md §10): what each order contributes to each
 * department and organisation it reached, and additive counters per subject,
 * order district and month / Fenwick node of days (as coverage_rollups), so a
 * period reads subjects × (months + a few nodes) rows, never orders. Maintained
 * with the coverage facts by the worker; rebuilt by `coverage:rebuild`. Also the
 * index the key-population gaps read. See README "Scorecards".
 */
export class Scorecards1764394000000 implements MigrationInterface {
  name = 'Scorecards1764394000000';

  async up(q: QueryRunner): Promise<void> {
    // kind 'd': the order was dispatched to department subject_id; 'o': offered to, or accepted by, organisation subject_id.
    await q.query(`
      CREATE TABLE scorecard_facts (
        order_id uuid NOT NULL,
        kind char(1) NOT NULL CHECK (kind IN ('d','o')),
        subject_id uuid NOT NULL,
        district_code varchar(6) NOT NULL,
        received_day date NOT NULL,
        responded boolean NOT NULL,
        hours_to_respond int,
        resolved boolean NOT NULL,
        rating_sum int,
        PRIMARY KEY (order_id, kind, subject_id)
      )`);
    await q.query(`
      CREATE TABLE scorecard_rollups (
        kind char(1) NOT NULL CHECK (kind IN ('d','o')),
        grain char(1) NOT NULL CHECK (grain IN ('f','m')),
        period_start date NOT NULL,
        district_code varchar(6) NOT NULL,
        subject_id uuid NOT NULL,
        counters jsonb NOT NULL DEFAULT '{}',
        PRIMARY KEY (kind, grain, period_start, district_code, subject_id)
      )`);
    // Gaps for one audience: the delivered events and pending orders of a district's communities for that audience.
    await q.query(
      `CREATE INDEX coverage_order_facts_audience_idx ON coverage_order_facts (district_code, audience, community_code) INCLUDE (status, event_start)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS coverage_order_facts_audience_idx`);
    await q.query(`DROP TABLE IF EXISTS scorecard_rollups, scorecard_facts`);
  }
}
