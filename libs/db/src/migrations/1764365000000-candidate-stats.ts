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
 * touch one volunteer at once both count (the row lock orders them), and write
 * their rows in volunteer order, so two that touch several never deadlock; the
 * average is rating_sum / rated_count, the same numeric division as avg().
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
    // Service records counted in (sign 1) or out (sign -1), with their orders' ratings as they are now.
    // Grouped per volunteer (an upsert may touch a row once) and written in volunteer order, so two
    // transactions that both count several volunteers lock their rows in one order and never deadlock.
    await q.query(`
      CREATE FUNCTION volunteer_stats_add(p_volunteers uuid[], p_orders uuid[], p_no_shows boolean[], p_signs int[]) RETURNS void LANGUAGE sql AS $$
        INSERT INTO volunteer_stats AS s (volunteer_id, served_count, no_show_count, rated_count, rating_sum)
        SELECT c.volunteer_id,
               sum(CASE WHEN c.no_show THEN 0 ELSE c.sign END),
               sum(CASE WHEN c.no_show THEN c.sign ELSE 0 END),
               sum(CASE WHEN NOT c.no_show AND o.rating->>'volunteers' IS NOT NULL THEN c.sign ELSE 0 END),
               coalesce(sum((o.rating->>'volunteers')::numeric * c.sign) FILTER (WHERE NOT c.no_show), 0)
        FROM unnest(p_volunteers, p_orders, p_no_shows, p_signs) AS c(volunteer_id, order_id, no_show, sign)
        LEFT JOIN orders o ON o.id = c.order_id
        GROUP BY c.volunteer_id
        ORDER BY c.volunteer_id
        ON CONFLICT (volunteer_id) DO UPDATE SET
          served_count = s.served_count + excluded.served_count,
          no_show_count = s.no_show_count + excluded.no_show_count,
          rated_count = s.rated_count + excluded.rated_count,
          rating_sum = s.rating_sum + excluded.rating_sum
      $$`);
    // Once per statement, over its transition tables: a bulk insert is one upsert, not one per row.
    await q.query(`
      CREATE FUNCTION volunteer_stats_count_records() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        volunteers uuid[];
        orders uuid[];
        no_shows boolean[];
        signs int[];
      BEGIN
        IF TG_OP = 'INSERT' THEN
          SELECT array_agg(r.volunteer_id), array_agg(r.order_id), array_agg(r.is_no_show), array_agg(1)
          INTO volunteers, orders, no_shows, signs FROM new_rows r;
        ELSIF TG_OP = 'DELETE' THEN
          SELECT array_agg(r.volunteer_id), array_agg(r.order_id), array_agg(r.is_no_show), array_agg(-1)
          INTO volunteers, orders, no_shows, signs FROM old_rows r;
        ELSE
          -- Only rows whose volunteer, order or no-show flag changed: a check-out (hours) counts nothing.
          SELECT array_agg(c.volunteer_id), array_agg(c.order_id), array_agg(c.is_no_show), array_agg(c.sign)
          INTO volunteers, orders, no_shows, signs
          FROM old_rows o JOIN new_rows n ON n.id = o.id
          CROSS JOIN LATERAL (VALUES (o.volunteer_id, o.order_id, o.is_no_show, -1), (n.volunteer_id, n.order_id, n.is_no_show, 1))
            AS c(volunteer_id, order_id, is_no_show, sign)
          WHERE (o.volunteer_id, o.order_id, o.is_no_show) IS DISTINCT FROM (n.volunteer_id, n.order_id, n.is_no_show);
        END IF;
        IF volunteers IS NOT NULL THEN
          PERFORM volunteer_stats_add(volunteers, orders, no_shows, signs);
        END IF;
        RETURN NULL;
      END $$`);
    for (const [event, tables] of [
      ['INSERT', 'NEW TABLE AS new_rows'],
      ['UPDATE', 'OLD TABLE AS old_rows NEW TABLE AS new_rows'],
      ['DELETE', 'OLD TABLE AS old_rows'],
    ])
      await q.query(`
        CREATE TRIGGER service_records_volunteer_stats_${event.toLowerCase()}
        AFTER ${event} ON service_records REFERENCING ${tables}
        FOR EACH STATEMENT EXECUTE FUNCTION volunteer_stats_count_records()`);
    // A rating (or its change) moves the sum and count of every volunteer who served the order, in volunteer order.
    await q.query(`
      CREATE FUNCTION volunteer_stats_count_rating() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO volunteer_stats AS s (volunteer_id, rated_count, rating_sum)
        SELECT r.volunteer_id,
               (NEW.rating->>'volunteers' IS NOT NULL)::int - (OLD.rating->>'volunteers' IS NOT NULL)::int,
               coalesce((NEW.rating->>'volunteers')::numeric, 0) - coalesce((OLD.rating->>'volunteers')::numeric, 0)
        FROM service_records r
        WHERE r.order_id = NEW.id AND NOT r.is_no_show
        ORDER BY r.volunteer_id
        ON CONFLICT (volunteer_id) DO UPDATE SET
          rated_count = s.rated_count + excluded.rated_count,
          rating_sum = s.rating_sum + excluded.rating_sum;
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
    for (const event of ['insert', 'update', 'delete']) await q.query(`DROP TRIGGER IF EXISTS service_records_volunteer_stats_${event} ON service_records`);
    await q.query(`DROP FUNCTION IF EXISTS volunteer_stats_count_rating()`);
    await q.query(`DROP FUNCTION IF EXISTS volunteer_stats_count_records()`);
    await q.query(`DROP FUNCTION IF EXISTS volunteer_stats_add(uuid[], uuid[], boolean[], int[])`);
    await q.query(`DROP TABLE IF EXISTS volunteer_stats`);
  }
}
