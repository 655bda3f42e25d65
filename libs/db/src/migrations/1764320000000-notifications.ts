import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Notifications1764320000000 implements MigrationInterface {
  name = 'Notifications1764320000000';

  async up(q: QueryRunner): Promise<void> {
    // Contact addresses for external channels (the phone is already there).
    await q.query(`ALTER TABLE users ADD COLUMN email text, ADD COLUMN wechat_open_id text`);

    // Wakes the outbox relay as soon as a state change commits (NOTIFY is delivered at commit).
    await q.query(`
      CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('outbox', '');
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()`);

    await q.query(`
      CREATE TABLE notifications (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id),
        source_id uuid NOT NULL,
        type text NOT NULL,
        title text NOT NULL,
        body text NOT NULL,
        order_id uuid,
        channel text NOT NULL DEFAULT 'in_app' CHECK (channel = 'in_app'),
        created_at timestamptz NOT NULL DEFAULT now(),
        read_at timestamptz,
        -- a job that runs twice delivers once (DESIGN.md §8.3)
        CONSTRAINT notifications_once UNIQUE (source_id, user_id, channel)
      )`);
    await q.query(`CREATE INDEX notifications_inbox_idx ON notifications (user_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX notifications_unread_idx ON notifications (user_id, created_at DESC, id DESC) WHERE read_at IS NULL`);

    await q.query(`
      CREATE TABLE deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id),
        source_id uuid NOT NULL,
        channel text NOT NULL CHECK (channel IN ('sms','email','wechat')),
        address text NOT NULL,
        type text NOT NULL,
        title text NOT NULL,
        body text NOT NULL,
        order_id uuid,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','delivered','failed')),
        attempts int NOT NULL DEFAULT 0,
        last_error text,
        not_before timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        CONSTRAINT deliveries_once UNIQUE (source_id, user_id, channel)
      )`);
    await q.query(`CREATE INDEX deliveries_status_idx ON deliveries (status, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX deliveries_source_idx ON deliveries (source_id) WHERE status = 'pending'`);

    await q.query(`
      CREATE TABLE notification_preferences (
        user_id uuid PRIMARY KEY REFERENCES users(id),
        sms boolean NOT NULL DEFAULT false,
        email boolean NOT NULL DEFAULT false,
        wechat boolean NOT NULL DEFAULT false,
        quiet_hours boolean NOT NULL DEFAULT true,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE sla_breaches (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL REFERENCES orders(id),
        district_code varchar(6) NOT NULL,
        stage text NOT NULL CHECK (stage IN ('dispatch','claim','accept','schedule')),
        entered_seq int NOT NULL,
        entered_at timestamptz NOT NULL,
        due_at timestamptz NOT NULL,
        breached_at timestamptz NOT NULL DEFAULT now(),
        -- one breach per stretch of time in a stage, however often its timer fires
        CONSTRAINT sla_breaches_once UNIQUE (order_id, stage, entered_seq)
      )`);
    await q.query(`CREATE INDEX sla_breaches_district_idx ON sla_breaches (district_code, breached_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS sla_breaches, notification_preferences, deliveries, notifications`);
    await q.query(`DROP TRIGGER IF EXISTS outbox_notify ON outbox`);
    await q.query(`DROP FUNCTION IF EXISTS outbox_notify()`);
    await q.query(`ALTER TABLE users DROP COLUMN IF EXISTS email, DROP COLUMN IF EXISTS wechat_open_id`);
  }
}
