import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Coverage rollups (DESIGN.md §6, §9): per-order facts, additive counters per
 * region and day/month, served days per community and year, and the gap list's
 * per-community row. Maintained by the worker from order events; rebuilt
 * set-based by `npm run coverage:rebuild`. See README "Coverage".
 */
export class Coverage1764360000000 implements MigrationInterface {
  name = 'Coverage1764360000000';

  async up(q: QueryRunner): Promise<void> {
    // What one order currently contributes; the worker applies the difference between the old and the new row.
    await q.query(`
      CREATE TABLE coverage_order_facts (
        order_id uuid PRIMARY KEY,
        community_code varchar(12) NOT NULL,
        subdistrict_code varchar(9) NOT NULL,
        district_code varchar(6) NOT NULL,
        status text NOT NULL,
        audience text NOT NULL,
        topic text NOT NULL,
        submitted_day date NOT NULL,
        event_start timestamptz,
        event_day date,
        hours_to_schedule int,
        volunteer_hours numeric(10,2) NOT NULL DEFAULT 0,
        rating_sum int,
        sla_breaches int NOT NULL DEFAULT 0
      )`);
    await q.query(`CREATE INDEX coverage_order_facts_community_idx ON coverage_order_facts (community_code)`);
    // Counters of a region (district or subdistrict), key → number, for a calendar month ('m') or a
    // Fenwick node of days inside a month ('f', period_start = the node's last day): libs/core coverage.ts.
    await q.query(`
      CREATE TABLE coverage_rollups (
        region_code varchar(9) NOT NULL,
        grain char(1) NOT NULL CHECK (grain IN ('f','m')),
        period_start date NOT NULL,
        counters jsonb NOT NULL DEFAULT '{}',
        PRIMARY KEY (region_code, grain, period_start)
      )`);
    // Bit (day of the year − 1) set when a delivered order of the community had its event that day.
    await q.query(`
      CREATE TABLE coverage_served_days (
        community_code varchar(12) NOT NULL,
        year int NOT NULL,
        district_code varchar(6) NOT NULL,
        subdistrict_code varchar(9) NOT NULL,
        days bit(366) NOT NULL,
        PRIMARY KEY (community_code, year)
      )`);
    // A period reads the years it touches (all districts, or one): index-only, ~7.5k rows per year for Beijing.
    await q.query(`CREATE INDEX coverage_served_days_year_idx ON coverage_served_days (year, district_code) INCLUDE (subdistrict_code, community_code, days)`);
    await q.query(`
      CREATE TABLE coverage_communities (
        community_code varchar(12) PRIMARY KEY,
        district_code varchar(6) NOT NULL,
        subdistrict_code varchar(9) NOT NULL,
        last_served_at timestamptz,
        pending_orders int NOT NULL DEFAULT 0
      )`);
    await q.query(`CREATE INDEX coverage_communities_district_idx ON coverage_communities (district_code, last_served_at)`);
    // The histogram of hours to schedule as a dense array (index = whole hours, trailing zeros trimmed) from
    // sparse (hours, count) pairs; null when every count is zero. Dense: ~200 numbers parse far faster than ~200 keys.
    await q.query(`
      CREATE FUNCTION coverage_histogram(idx int[], n numeric[]) RETURNS jsonb
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        WITH sums AS (SELECT u.i, sum(u.n) AS total FROM unnest(idx, n) AS u(i, n) WHERE u.i IS NOT NULL GROUP BY u.i HAVING sum(u.n) <> 0)
        SELECT jsonb_agg(coalesce(s.total, 0) ORDER BY g.i)
        FROM generate_series(0, (SELECT max(i) FROM sums)) AS g(i) LEFT JOIN sums s ON s.i = g.i
      $$`);
    // Key-wise sum of two counter objects (the histogram "h" element-wise); keys that add up to zero disappear.
    await q.query(`
      CREATE FUNCTION coverage_counters_add(a jsonb, b jsonb) RETURNS jsonb
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT coalesce((SELECT jsonb_object_agg(key, total)
                         FROM (SELECT key, sum(value::numeric) AS total
                               FROM (SELECT * FROM jsonb_each_text(a) UNION ALL SELECT * FROM jsonb_each_text(b)) kv
                               WHERE key <> 'h' GROUP BY key) sums
                         WHERE total <> 0), '{}'::jsonb)
          || (SELECT jsonb_strip_nulls(jsonb_build_object('h', coverage_histogram(array_agg(ord::int - 1), array_agg(value::numeric))))
              FROM (SELECT * FROM jsonb_array_elements_text(coalesce(a->'h', '[]')) WITH ORDINALITY e(value, ord)
                    UNION ALL
                    SELECT * FROM jsonb_array_elements_text(coalesce(b->'h', '[]')) WITH ORDINALITY e(value, ord)) h)
      $$`);
    // The Fenwick nodes a change on `day` updates: day i of its month, then i + lowbit(i), … up to the month's length.
    await q.query(`
      CREATE FUNCTION coverage_fenwick_nodes(day date) RETURNS date[]
      LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
      DECLARE
        month_start date := date_trunc('month', day)::date;
        month_length int := extract(day FROM date_trunc('month', day) + interval '1 month - 1 day')::int;
        i int := extract(day FROM day)::int;
        nodes date[] := '{}';
      BEGIN
        WHILE i <= month_length LOOP
          nodes := nodes || (month_start + i - 1);
          i := i + (i & -i);
        END LOOP;
        RETURN nodes;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS coverage_fenwick_nodes(date)`);
    await q.query(`DROP FUNCTION IF EXISTS coverage_counters_add(jsonb, jsonb)`);
    await q.query(`DROP FUNCTION IF EXISTS coverage_histogram(int[], numeric[])`);
    await q.query(`DROP TABLE IF EXISTS coverage_communities, coverage_served_days, coverage_rollups, coverage_order_facts`);
  }
}
