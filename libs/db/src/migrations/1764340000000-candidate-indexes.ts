import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GET /orders/:id/candidates reads one organisation's volunteers skilled in a
 * topic with their week's assignments and their service history (DESIGN.md §4, §9).
 * These indexes let it read the pool from two index-only scans and the history
 * without touching the service_records table; and list venues newest first.
 */
export class CandidateIndexes1764340000000 implements MigrationInterface {
  name = 'CandidateIndexes1764340000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX volunteers_active_organization_idx ON volunteers (organization_id, id) WHERE is_active`);
    await q.query(`DROP INDEX IF EXISTS volunteer_skills_topic_idx`);
    await q.query(`CREATE INDEX volunteer_skills_topic_idx ON volunteer_skills (topic, volunteer_id) INCLUDE (level)`);
    // Same leading columns as before (a volunteer's records, newest first), plus what the matching facts add up.
    await q.query(`DROP INDEX IF EXISTS service_records_volunteer_idx`);
    await q.query(`CREATE INDEX service_records_volunteer_idx ON service_records (volunteer_id, event_start DESC) INCLUDE (hours, is_no_show, order_id)`);
    await q.query(`CREATE INDEX venues_created_idx ON venues (created_at DESC, id DESC)`);
    await q.query(`DROP INDEX IF EXISTS venues_community_idx`);
    await q.query(`CREATE INDEX venues_community_idx ON venues (community_code, created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS venues_community_idx`);
    await q.query(`CREATE INDEX venues_community_idx ON venues (community_code)`);
    await q.query(`DROP INDEX IF EXISTS venues_created_idx`);
    await q.query(`DROP INDEX IF EXISTS service_records_volunteer_idx`);
    await q.query(`CREATE INDEX service_records_volunteer_idx ON service_records (volunteer_id, event_start DESC)`);
    await q.query(`DROP INDEX IF EXISTS volunteer_skills_topic_idx`);
    await q.query(`CREATE INDEX volunteer_skills_topic_idx ON volunteer_skills (topic, volunteer_id)`);
    await q.query(`DROP INDEX IF EXISTS volunteers_active_organization_idx`);
  }
}
