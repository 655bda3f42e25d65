import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GET /orders/:id/candidates scores each volunteer by their record: events served,
 * no-shows and the average `volunteers` score of the rated events they served
 * (DESIGN.md §4). Aggregating service_records ⋈ orders for every candidate on every
 * request cost a third of the endpoint's database time; these counts are kept per
 * volunteer instead, by triggers, so every writer (check-in, completion, rating,
 * an import, a repair by hand) keeps them right in its own transaction.
 *
 * Triggers add and subtract deltas rather than recount, so two transactions that
 * touch one volunteer at once both count (the row lock orders them); the average
 * is rating_sum / rated_count, the same numeric division as avg().
 * Hours of the last 90 days depend on today, so they are still summed per request
 * (an index-only range scan per candidate).
 */
export class CandidateStats1764365000000 implements MigrationInterface {
  name = 'CandidateStats1764365000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE volunteer_stats (
        volunteer_id uuid PRIMARY KEY REFERENCES volunteers(id) ON DELETE CASCADE,
        served_count int NOT NULL DEFAULT 0,
        no_show_count int NOT NULL DEFAULT 0,
        rated_count int NOT NULL DEFAULT 0,
        rating_sum numeric NOT NULL DEFAULT 0
      )`);
    // One service record counted in (sign 1) or out (sign -1), with its order's rating as it is now.
    await q.query(`
      CREATE FUNCTION volunteer_stats_add(p_volunteer uuid, p_order uuid, p_no_show boolean, p_sign int) RETURNS void LANGUAGE sql AS $$
        INSERT INTO volunteer_stats AS s (volunteer_id, served_count, no_show_count, rated_count, rating_sum)
        SELECT p_volunteer,
               CASE WHEN p_no_show THEN 0 ELSE p_sign END,
               CASE WHEN p_no_show THEN p_sign ELSE 0 END,
               CASE WHEN NOT p_no_show AND o.rating->>'volunteers' IS NOT NULL THEN p_sign ELSE 0 END,
               CASE WHEN p_no_show THEN 0 ELSE coalesce((o.rating->>'volunteers')::numeric, 0) * p_sign END
        FROM (VALUES (p_order)) AS r(order_id) LEFT JOIN orders o ON o.id = r.order_id
        ON CONFLICT (volunteer_id) DO UPDATE SET
          served_count = s.served_count + excluded.served_count,
          no_show_count = s.no_show_count + excluded.no_show_count,
          rated_count = s.rated_count + excluded.rated_count,
          rating_sum = s.rating_sum + excluded.rating_sum
      $$`);
    await q.query(`
      CREATE FUNCTION volunteer_stats_count_record() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
          PERFORM volunteer_stats_add(OLD.volunteer_id, OLD.order_id, OLD.is_no_show, -1);
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
          PERFORM volunteer_stats_add(NEW.volunteer_id, NEW.order_id, NEW.is_no_show, 1);
        END IF;
        RETURN NULL;
      END $$`);
    // Check-out changes hours only: no trigger runs for it.
    await q.query(`
      CREATE TRIGGER service_records_volunteer_stats
      AFTER INSERT OR DELETE OR UPDATE OF volunteer_id, order_id, is_no_show ON service_records
      FOR EACH ROW EXECUTE FUNCTION volunteer_stats_count_record()`);
    // A rating (or its change) moves the sum and count of every volunteer who served the order.
    await q.query(`
      CREATE FUNCTION volunteer_stats_count_rating() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE volunteer_stats s
        SET rated_count = s.rated_count + (NEW.rating->>'volunteers' IS NOT NULL)::int - (OLD.rating->>'volunteers' IS NOT NULL)::int,
            rating_sum = s.rating_sum + coalesce((NEW.rating->>'volunteers')::numeric, 0) - coalesce((OLD.rating->>'volunteers')::numeric, 0)
        FROM service_records r
        WHERE r.order_id = NEW.id AND NOT r.is_no_show AND s.volunteer_id = r.volunteer_id;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER orders_volunteer_stats
      AFTER UPDATE OF rating ON orders
      FOR EACH ROW WHEN (OLD.rating->>'volunteers' IS DISTINCT FROM NEW.rating->>'volunteers')
      EXECUTE FUNCTION volunteer_stats_count_rating()`);
    await q.query(`
      INSERT INTO volunteer_stats (volunteer_id, served_count, no_show_count, rated_count, rating_sum)
      SELECT r.volunteer_id,
             count(*) FILTER (WHERE NOT r.is_no_show),
             count(*) FILTER (WHERE r.is_no_show),
             count(o.rating->>'volunteers') FILTER (WHERE NOT r.is_no_show),
             coalesce(sum((o.rating->>'volunteers')::numeric) FILTER (WHERE NOT r.is_no_show), 0)
      FROM service_records r JOIN orders o ON o.id = r.order_id
      GROUP BY r.volunteer_id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS orders_volunteer_stats ON orders`);
    await q.query(`DROP TRIGGER IF EXISTS service_records_volunteer_stats ON service_records`);
    await q.query(`DROP FUNCTION IF EXISTS volunteer_stats_count_rating()`);
    await q.query(`DROP FUNCTION IF EXISTS volunteer_stats_count_record()`);
    await q.query(`DROP FUNCTION IF EXISTS volunteer_stats_add(uuid, uuid, boolean, int)`);
    await q.query(`DROP TABLE IF EXISTS volunteer_stats`);
  }
}
