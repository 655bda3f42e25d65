import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Volunteers, venues, bookings, assignments, service records (DESIGN.md §4). */
export class Fulfilment1764330000000 implements MigrationInterface {
  name = 'Fulfilment1764330000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS btree_gist`);

    await q.query(`
      CREATE TABLE volunteers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations(id),
        user_id uuid UNIQUE REFERENCES users(id),
        display_name text NOT NULL,
        phone text NOT NULL,
        home_community_code varchar(12) NOT NULL REFERENCES communities(code),
        home_subdistrict_code varchar(9) NOT NULL REFERENCES subdistricts(code),
        home_district_code varchar(6) NOT NULL REFERENCES districts(code),
        audiences text[] NOT NULL DEFAULT '{}',
        formats text[] NOT NULL DEFAULT '{}',
        languages text[] NOT NULL DEFAULT '{}',
        availability jsonb NOT NULL DEFAULT '[]',
        unavailable jsonb NOT NULL DEFAULT '[]',
        max_hours_per_week numeric(5,2) NOT NULL CHECK (max_hours_per_week > 0 AND max_hours_per_week <= 168),
        is_active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX volunteers_organization_idx ON volunteers (organization_id, created_at DESC, id DESC)`);
    await q.query(`
      CREATE TABLE volunteer_skills (
        volunteer_id uuid NOT NULL REFERENCES volunteers(id) ON DELETE CASCADE,
        topic text NOT NULL,
        level smallint NOT NULL CHECK (level BETWEEN 1 AND 3),
        PRIMARY KEY (volunteer_id, topic)
      )`);
    await q.query(`CREATE INDEX volunteer_skills_topic_idx ON volunteer_skills (topic, volunteer_id)`);
    await q.query(`ALTER TABLE users ADD CONSTRAINT users_volunteer_fk FOREIGN KEY (volunteer_id) REFERENCES volunteers(id)`);

    await q.query(`
      CREATE TABLE venues (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        owner_type text NOT NULL CHECK (owner_type IN ('community','department','organization','city')),
        owner_id text,
        community_code varchar(12) NOT NULL REFERENCES communities(code),
        subdistrict_code varchar(9) NOT NULL REFERENCES subdistricts(code),
        district_code varchar(6) NOT NULL REFERENCES districts(code),
        kind text NOT NULL,
        capacity int NOT NULL CHECK (capacity BETWEEN 1 AND 100000),
        accessibility text[] NOT NULL DEFAULT '{}',
        lat double precision CHECK (lat BETWEEN -90 AND 90),
        lng double precision CHECK (lng BETWEEN -180 AND 180),
        created_by uuid REFERENCES users(id),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX venues_district_idx ON venues (district_code, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX venues_community_idx ON venues (community_code)`);

    // No double booking, enforced by the database (DESIGN.md §4): the application checks
    // first for a friendly message; these constraints are the guarantee.
    await q.query(`
      CREATE TABLE bookings (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        venue_id uuid NOT NULL REFERENCES venues(id),
        order_id uuid NOT NULL REFERENCES orders(id),
        during tstzrange NOT NULL CHECK (NOT isempty(during)),
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active','cancelled')),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT bookings_no_overlap EXCLUDE USING gist (venue_id WITH =, during WITH &&) WHERE (status = 'active')
      )`);
    await q.query(`CREATE UNIQUE INDEX bookings_order_active_idx ON bookings (order_id) WHERE status = 'active'`);

    await q.query(`
      CREATE TABLE assignments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL REFERENCES orders(id),
        volunteer_id uuid NOT NULL REFERENCES volunteers(id),
        organization_id uuid NOT NULL REFERENCES organizations(id),
        during tstzrange NOT NULL CHECK (NOT isempty(during)),
        status text NOT NULL CHECK (status IN ('invited','confirmed','declined','withdrawn','cancelled')),
        is_slot_claim boolean NOT NULL DEFAULT false,
        reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT assignments_no_overlap EXCLUDE USING gist (volunteer_id WITH =, during WITH &&) WHERE (status IN ('invited','confirmed'))
      )`);
    await q.query(`CREATE INDEX assignments_order_idx ON assignments (order_id, status)`);
    await q.query(`CREATE INDEX assignments_volunteer_idx ON assignments (volunteer_id, lower(during))`);

    await q.query(`
      ALTER TABLE orders
        ADD COLUMN open_slots int NOT NULL DEFAULT 0 CHECK (open_slots BETWEEN 0 AND 50),
        ADD COLUMN attendance int CHECK (attendance >= 0),
        ADD COLUMN summary text,
        ADD COLUMN completed_at timestamptz`);

    await q.query(`
      CREATE TABLE service_records (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL REFERENCES orders(id),
        volunteer_id uuid NOT NULL REFERENCES volunteers(id),
        event_start timestamptz NOT NULL,
        event_end timestamptz NOT NULL,
        check_in_at timestamptz,
        check_out_at timestamptz,
        hours numeric(6,2) NOT NULL DEFAULT 0 CHECK (hours >= 0),
        is_no_show boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT service_records_once UNIQUE (order_id, volunteer_id),
        CONSTRAINT service_records_within_event CHECK (hours * 3600 <= extract(epoch FROM event_end - event_start))
      )`);
    await q.query(`CREATE INDEX service_records_volunteer_idx ON service_records (volunteer_id, event_start DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS service_records, assignments, bookings, venues, volunteer_skills CASCADE`);
    await q.query(`ALTER TABLE orders DROP COLUMN IF EXISTS open_slots, DROP COLUMN IF EXISTS attendance, DROP COLUMN IF EXISTS summary, DROP COLUMN IF EXISTS completed_at`);
    await q.query(`ALTER TABLE users DROP CONSTRAINT IF EXISTS users_volunteer_fk`);
    await q.query(`DROP TABLE IF EXISTS volunteers`);
  }
}
