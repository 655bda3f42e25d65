import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Published events and their sign-ups (DESIGN.md §10); libs/events alone writes them.
 *
 * Seats are exact under concurrency: every sign-up, cancellation and promotion
 * updates the event row's counters (a row lock held for a few statements), and
 * `confirmed <= seats` is also a CHECK, so no code path can overbook. One active
 * sign-up per user and event is a partial unique index; a ticket code is unique.
 */
export class Events1764392000000 implements MigrationInterface {
  name = 'Events1764392000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE events (
        order_id uuid PRIMARY KEY REFERENCES orders(id),
        seats int NOT NULL CHECK (seats BETWEEN 1 AND 2000),
        confirmed int NOT NULL DEFAULT 0 CHECK (confirmed >= 0 AND confirmed <= seats),
        waitlisted int NOT NULL DEFAULT 0 CHECK (waitlisted >= 0),
        next_queue_seq int NOT NULL DEFAULT 0,
        signup_deadline timestamptz,
        note text,
        published_by uuid NOT NULL REFERENCES users(id),
        published_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE event_signups (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL REFERENCES events(order_id),
        user_id uuid NOT NULL REFERENCES users(id),
        attendees smallint NOT NULL CHECK (attendees BETWEEN 1 AND 4),
        status text NOT NULL CHECK (status IN ('confirmed','waitlisted','cancelled')),
        queue_seq int NOT NULL,
        ticket_code text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL,
        confirmed_at timestamptz,
        cancelled_at timestamptz,
        attended_at timestamptz,
        feedback_score smallint CHECK (feedback_score BETWEEN 1 AND 5),
        feedback_comment text,
        feedback_at timestamptz,
        CHECK (attended_at IS NULL OR status = 'confirmed'),
        CHECK (feedback_at IS NULL OR attended_at IS NOT NULL)
      )`);
    await q.query(`CREATE UNIQUE INDEX event_signups_one_active ON event_signups (order_id, user_id) WHERE status <> 'cancelled'`);
    await q.query(`CREATE INDEX event_signups_line ON event_signups (order_id, queue_seq) WHERE status = 'waitlisted'`);
    await q.query(`CREATE INDEX event_signups_of_event ON event_signups (order_id, status, queue_seq)`);
    await q.query(`CREATE INDEX event_signups_of_user ON event_signups (user_id, created_at DESC, id DESC)`);
    // Residents may turn off being told of new events in their community.
    await q.query(`ALTER TABLE notification_preferences ADD COLUMN events boolean NOT NULL DEFAULT true`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE notification_preferences DROP COLUMN IF EXISTS events`);
    await q.query(`DROP TABLE IF EXISTS event_signups, events`);
  }
}
