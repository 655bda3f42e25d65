import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Foundation1764300000000 implements MigrationInterface {
  name = 'Foundation1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);

    await q.query(`
      CREATE TABLE districts (
        code varchar(6) PRIMARY KEY CHECK (code ~ '^\\d{6}$'),
        name text NOT NULL,
        province_code varchar(2) NOT NULL
      )`);
    await q.query(`CREATE INDEX districts_province_idx ON districts (province_code)`);
    await q.query(`
      CREATE TABLE subdistricts (
        code varchar(9) PRIMARY KEY CHECK (code ~ '^\\d{9}$'),
        name text NOT NULL,
        district_code varchar(6) NOT NULL REFERENCES districts(code)
      )`);
    await q.query(`CREATE INDEX subdistricts_district_idx ON subdistricts (district_code)`);
    await q.query(`
      CREATE TABLE communities (
        code varchar(12) PRIMARY KEY CHECK (code ~ '^\\d{12}$'),
        name text NOT NULL,
        subdistrict_code varchar(9) NOT NULL REFERENCES subdistricts(code),
        district_code varchar(6) NOT NULL REFERENCES districts(code)
      )`);
    await q.query(`CREATE INDEX communities_subdistrict_idx ON communities (subdistrict_code)`);
    await q.query(`CREATE INDEX communities_district_idx ON communities (district_code)`);

    await q.query(`
      CREATE TABLE departments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        district_code varchar(6) REFERENCES districts(code),
        topics text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX departments_district_idx ON departments (district_code)`);

    await q.query(`
      CREATE TABLE organizations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE organization_districts (
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        district_code varchar(6) NOT NULL REFERENCES districts(code),
        PRIMARY KEY (organization_id, district_code)
      )`);
    await q.query(`CREATE INDEX organization_districts_district_idx ON organization_districts (district_code, organization_id)`);

    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        username text NOT NULL,
        password_hash text NOT NULL,
        display_name text NOT NULL,
        role text NOT NULL CHECK (role IN ('resident','community_staff','department_staff','org_admin','volunteer','district_coordinator','city_admin')),
        phone text,
        community_code varchar(12) REFERENCES communities(code),
        department_id uuid REFERENCES departments(id),
        organization_id uuid REFERENCES organizations(id),
        district_code varchar(6) REFERENCES districts(code),
        volunteer_id uuid,
        is_active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        -- every scoped role carries its scope (DESIGN.md §2)
        CONSTRAINT users_scope_check CHECK (
          (role NOT IN ('resident','community_staff') OR community_code IS NOT NULL) AND
          (role <> 'department_staff' OR department_id IS NOT NULL) AND
          (role NOT IN ('org_admin','volunteer') OR organization_id IS NOT NULL) AND
          (role <> 'district_coordinator' OR district_code IS NOT NULL)
        )
      )`);
    await q.query(`CREATE UNIQUE INDEX users_username_key ON users (lower(username))`);
    await q.query(`CREATE INDEX users_role_idx ON users (role)`);
    await q.query(`CREATE INDEX users_community_idx ON users (community_code) WHERE community_code IS NOT NULL`);
    await q.query(`CREATE INDEX users_department_idx ON users (department_id) WHERE department_id IS NOT NULL`);
    await q.query(`CREATE INDEX users_organization_idx ON users (organization_id) WHERE organization_id IS NOT NULL`);
    await q.query(`CREATE INDEX users_district_idx ON users (district_code) WHERE district_code IS NOT NULL`);

    await q.query(`CREATE SEQUENCE order_code_seq`);
    await q.query(`
      CREATE TABLE orders (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        code text NOT NULL UNIQUE,
        status text NOT NULL CHECK (status IN ('submitted','dispatched','claimed','accepted','scheduled','in_progress','completed','rated','closed','rejected','merged','cancelled','expired')),
        version int NOT NULL DEFAULT 1,
        community_code varchar(12) NOT NULL REFERENCES communities(code),
        subdistrict_code varchar(9) NOT NULL REFERENCES subdistricts(code),
        district_code varchar(6) NOT NULL REFERENCES districts(code),
        requester_id uuid NOT NULL REFERENCES users(id),
        topic text NOT NULL,
        audience text NOT NULL,
        format text NOT NULL,
        title text NOT NULL,
        description text NOT NULL,
        expected_attendance int NOT NULL CHECK (expected_attendance BETWEEN 1 AND 2000),
        preferred_windows jsonb NOT NULL,
        last_window_end timestamptz NOT NULL,
        accessibility_needs text[] NOT NULL DEFAULT '{}',
        contact_name text NOT NULL,
        contact_phone text NOT NULL,
        department_id uuid REFERENCES departments(id),
        organization_id uuid REFERENCES organizations(id),
        offered_organization_id uuid REFERENCES organizations(id),
        is_open_to_organizations boolean NOT NULL DEFAULT false,
        scheduled_start timestamptz,
        scheduled_end timestamptz,
        venue_id uuid,
        returned_count int NOT NULL DEFAULT 0,
        merged_into_id uuid REFERENCES orders(id),
        possible_duplicate_ids uuid[] NOT NULL DEFAULT '{}',
        rating jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Keyset pagination is (created_at DESC, id DESC) inside each scope.
    await q.query(`CREATE INDEX orders_created_idx ON orders (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX orders_community_idx ON orders (community_code, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX orders_district_idx ON orders (district_code, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX orders_subdistrict_idx ON orders (subdistrict_code, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX orders_requester_idx ON orders (requester_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX orders_department_idx ON orders (department_id, created_at DESC, id DESC) WHERE department_id IS NOT NULL`);
    await q.query(`CREATE INDEX orders_organization_idx ON orders (organization_id, created_at DESC, id DESC) WHERE organization_id IS NOT NULL`);
    await q.query(`CREATE INDEX orders_offered_idx ON orders (offered_organization_id) WHERE offered_organization_id IS NOT NULL`);
    await q.query(`CREATE INDEX orders_open_idx ON orders (district_code, created_at DESC, id DESC) WHERE is_open_to_organizations`);
    await q.query(`CREATE INDEX orders_duplicates_idx ON orders (community_code, topic, audience) WHERE status IN ('submitted','dispatched','claimed','accepted','scheduled')`);
    await q.query(`CREATE INDEX orders_status_idx ON orders (status)`);

    await q.query(`
      CREATE TABLE order_events (
        id bigserial PRIMARY KEY,
        order_id uuid NOT NULL REFERENCES orders(id),
        seq int NOT NULL,
        type text NOT NULL,
        from_status text,
        to_status text NOT NULL,
        actor_id uuid,
        actor_role text NOT NULL,
        payload jsonb NOT NULL DEFAULT '{}',
        at timestamptz NOT NULL DEFAULT now(),
        -- one event per version: a second writer of the same version cannot append
        CONSTRAINT order_events_seq_key UNIQUE (order_id, seq)
      )`);
    await q.query(`CREATE INDEX order_events_type_at_idx ON order_events (type, at)`);

    await q.query(`
      CREATE TABLE outbox (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        type text NOT NULL,
        order_id uuid,
        payload jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
      )`);
    await q.query(`CREATE INDEX outbox_unpublished_idx ON outbox (created_at) WHERE published_at IS NULL`);

    await q.query(`
      CREATE TABLE idempotency_records (
        user_id uuid NOT NULL REFERENCES users(id),
        key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
        request_hash text NOT NULL,
        response_status int,
        response_body jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        PRIMARY KEY (user_id, key)
      )`);
    await q.query(`CREATE INDEX idempotency_records_created_idx ON idempotency_records (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'idempotency_records',
      'outbox',
      'order_events',
      'orders',
      'users',
      'organization_districts',
      'organizations',
      'departments',
      'communities',
      'subdistricts',
      'districts',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
    await q.query(`DROP SEQUENCE IF EXISTS order_code_seq`);
  }
}
