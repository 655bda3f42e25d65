import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Residents who volunteer on their own (DESIGN.md §10): applications to an
 * organisation, and verified service hours.
 *
 * One pending application per user at any organisation: a partial unique
 * index, so two parallel applications cannot both be accepted. One profile
 * per user is `volunteers.user_id UNIQUE` (Fulfilment migration).
 */
export class Volunteering1764391000000 implements MigrationInterface {
  name = 'Volunteering1764391000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE volunteer_applications (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id),
        organization_id uuid NOT NULL REFERENCES organizations(id),
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','approved','rejected')),
        display_name text NOT NULL,
        phone text NOT NULL,
        home_community_code varchar(12) NOT NULL REFERENCES communities(code),
        skills jsonb NOT NULL,
        audiences text[] NOT NULL DEFAULT '{}',
        formats text[] NOT NULL DEFAULT '{}',
        languages text[] NOT NULL DEFAULT '{}',
        availability jsonb NOT NULL DEFAULT '[]',
        unavailable jsonb NOT NULL DEFAULT '[]',
        max_hours_per_week numeric(5,2) NOT NULL CHECK (max_hours_per_week > 0 AND max_hours_per_week <= 168),
        motivation text,
        reason text,
        volunteer_id uuid REFERENCES volunteers(id),
        decided_by uuid REFERENCES users(id),
        decided_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT volunteer_applications_decided CHECK ((status = 'pending') = (decided_at IS NULL)),
        CONSTRAINT volunteer_applications_approved CHECK ((status = 'approved') = (volunteer_id IS NOT NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX volunteer_applications_one_pending ON volunteer_applications (user_id) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX volunteer_applications_user_idx ON volunteer_applications (user_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX volunteer_applications_organization_idx ON volunteer_applications (organization_id, status, created_at DESC, id DESC)`);

    // A check-in made with the venue's rotating code (志愿北京-style verified hours).
    await q.query(`ALTER TABLE service_records ADD COLUMN verified boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE service_records DROP COLUMN IF EXISTS verified`);
    await q.query(`DROP TABLE IF EXISTS volunteer_applications`);
  }
}
