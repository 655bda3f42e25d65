import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GET /orders/:id/candidates keeps each organisation's slowly changing volunteer facts
 * (skills, audiences, home, windows, exceptions, weekly cap, record, recent service) in
 * the API process, and checks them on every request against one number here: the
 * organisation's version, bumped in the writer's own transaction by statement-level
 * triggers on every table those facts come from. A request reads the version (one
 * primary-key read); the facts are reloaded only when it moved. Any API process, any
 * writer (the API, the worker, an import, a repair by hand) keeps the caches right.
 *
 * Assignments are not cached (they are read fresh on every request, one range scan of
 * the organisation's active assignments: the GiST index below), so scheduling does
 * not bump the version.
 *
 * The bump is an upsert of one row per organisation, so writers of one organisation's
 * volunteer facts queue on that row until they commit; the writes concerned (a
 * profile edit, a check-in or completion, a rating) are short transactions. Lock order:
 * every writer takes its organisation's version row BEFORE any volunteer_stats row (the
 * triggers on service_records and on orders.rating are named to fire before the stats
 * triggers: PostgreSQL fires triggers of one event in name order), so a rating and a
 * completion touching one volunteer at once queue instead of deadlocking.
 */
export class CandidateCache1764375000000 implements MigrationInterface {
  name = 'CandidateCache1764375000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE organization_volunteer_versions (
        organization_id uuid PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
        version bigint NOT NULL DEFAULT 1
      )`);
    await q.query(`INSERT INTO organization_volunteer_versions (organization_id) SELECT id FROM organizations`);
    // Organisations in id order, so two transactions bumping several never deadlock on these rows.
    await q.query(`
      CREATE FUNCTION organization_volunteer_versions_bump(p_organizations uuid[]) RETURNS void LANGUAGE sql AS $$
        INSERT INTO organization_volunteer_versions AS v (organization_id)
        SELECT DISTINCT o FROM unnest(p_organizations) o WHERE o IS NOT NULL ORDER BY o
        ON CONFLICT (organization_id) DO UPDATE SET version = v.version + 1
      $$`);
    // Once per statement, over its transition tables. volunteers carry their organisation;
    // the other tables name a volunteer (a volunteer never changes organisation).
    await q.query(`
      CREATE FUNCTION organization_volunteer_versions_touch() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        organizations uuid[] := '{}';
      BEGIN
        IF TG_TABLE_NAME = 'volunteers' THEN
          IF TG_OP <> 'DELETE' THEN
            organizations := organizations || ARRAY(SELECT DISTINCT r.organization_id FROM new_rows r);
          END IF;
          IF TG_OP <> 'INSERT' THEN
            organizations := organizations || ARRAY(SELECT DISTINCT r.organization_id FROM old_rows r);
          END IF;
        ELSE
          IF TG_OP <> 'DELETE' THEN
            organizations := organizations || ARRAY(SELECT DISTINCT v.organization_id FROM new_rows r JOIN volunteers v ON v.id = r.volunteer_id);
          END IF;
          IF TG_OP <> 'INSERT' THEN
            organizations := organizations || ARRAY(SELECT DISTINCT v.organization_id FROM old_rows r JOIN volunteers v ON v.id = r.volunteer_id);
          END IF;
        END IF;
        IF cardinality(organizations) > 0 THEN
          PERFORM organization_volunteer_versions_bump(organizations);
        END IF;
        RETURN NULL;
      END $$`);
    for (const table of TABLES)
      for (const [event, tables] of EVENTS)
        await q.query(`
          CREATE TRIGGER ${table}_version_${event.toLowerCase()}
          AFTER ${event} ON ${table} REFERENCING ${tables}
          FOR EACH STATEMENT EXECUTE FUNCTION organization_volunteer_versions_touch()`);
    // A rating moves the record (volunteer_stats) of everyone who served the order: bump first, then
    // orders_volunteer_stats (fired after this one, by name) locks their stats rows.
    await q.query(`
      CREATE FUNCTION organization_volunteer_versions_rating() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM organization_volunteer_versions_bump(ARRAY(
          SELECT DISTINCT v.organization_id FROM service_records r JOIN volunteers v ON v.id = r.volunteer_id
          WHERE r.order_id = NEW.id AND NOT r.is_no_show));
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER orders_version_rating
      AFTER UPDATE OF rating ON orders
      FOR EACH ROW WHEN (OLD.rating->>'volunteers' IS DISTINCT FROM NEW.rating->>'volunteers')
      EXECUTE FUNCTION organization_volunteer_versions_rating()`);
    // The organisation's active assignments touching a week: one range scan per request.
    await q.query(`
      CREATE INDEX assignments_organization_active_idx ON assignments USING gist (organization_id, during)
      WHERE status IN ('invited','confirmed')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS assignments_organization_active_idx`);
    await q.query(`DROP TRIGGER IF EXISTS orders_version_rating ON orders`);
    await q.query(`DROP FUNCTION IF EXISTS organization_volunteer_versions_rating()`);
    for (const table of TABLES) for (const [event] of EVENTS) await q.query(`DROP TRIGGER IF EXISTS ${table}_version_${event.toLowerCase()} ON ${table}`);
    await q.query(`DROP FUNCTION IF EXISTS organization_volunteer_versions_touch()`);
    await q.query(`DROP FUNCTION IF EXISTS organization_volunteer_versions_bump(uuid[])`);
    await q.query(`DROP TABLE IF EXISTS organization_volunteer_versions`);
  }
}

/** Where the cached facts come from: the profile (windows and exceptions are its columns), skills, the record, the recent hours. */
const TABLES = ['volunteers', 'volunteer_skills', 'volunteer_stats', 'service_records'] as const;
const EVENTS = [
  ['INSERT', 'NEW TABLE AS new_rows'],
  ['UPDATE', 'OLD TABLE AS old_rows NEW TABLE AS new_rows'],
  ['DELETE', 'OLD TABLE AS old_rows'],
] as const;
