import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Scorecard rollups as plain columns instead of a jsonb counters object, plus city rows.
 *
 * - `received`, `responded`, `resolved`, `rated`, `rating_sum`, `satisfied` (int) and `hours` (int[],
 *   the histogram of whole hours to respond: element h + 1 counts h hours, trailing zeros trimmed,
 *   `{}` for none). A city-wide request read ~300 jsonb objects whose ~120 numbers PostgreSQL prints
 *   as numerics and the API parses as JSON objects; int columns and an int array print and parse
 *   several times faster (bench/RESULTS.md "GET /scorecards", 2026-12-05 afternoon).
 * - district_code `*`: the subject's figures over every district (the same grains as a district's
 *   rows), kept by the same writers in the same statement, so a city-wide request reads one row per
 *   subject and grain instead of one per subject, district and grain.
 *
 * The rows are a different shape, so the facts and rollups are emptied and the worker rebuilds them
 * once at start (CoverageBootstrap → rebuildIfEmpty), as after 1764399700000-scorecard-edges;
 * `npm run coverage:rebuild` does the same at once.
 */
export class ScorecardColumns1764399810000 implements MigrationInterface {
  name = 'ScorecardColumns1764399810000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`TRUNCATE scorecard_facts, scorecard_rollups`);
    await q.query(`
      ALTER TABLE scorecard_rollups
        DROP COLUMN counters,
        ADD COLUMN received int NOT NULL DEFAULT 0,
        ADD COLUMN responded int NOT NULL DEFAULT 0,
        ADD COLUMN resolved int NOT NULL DEFAULT 0,
        ADD COLUMN rated int NOT NULL DEFAULT 0,
        ADD COLUMN rating_sum int NOT NULL DEFAULT 0,
        ADD COLUMN satisfied int NOT NULL DEFAULT 0,
        ADD COLUMN hours int[] NOT NULL DEFAULT '{}'`);
    await q.query(`COMMENT ON COLUMN scorecard_rollups.district_code IS 'the orders'' district, or * for every district (the city row)'`);
    // A dense histogram (element h + 1 = count of h hours, trailing zeros trimmed) from sparse (hours, count) pairs; '{}' when all are zero.
    await q.query(`
      CREATE FUNCTION scorecard_hours(idx int[], n int[]) RETURNS int[]
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        WITH sums AS (SELECT u.i, sum(u.n)::int AS total FROM unnest(idx, n) AS u(i, n) WHERE u.i IS NOT NULL GROUP BY u.i HAVING sum(u.n) <> 0)
        SELECT coalesce(array_agg(coalesce(s.total, 0) ORDER BY g.i), '{}')
        FROM generate_series(0, (SELECT max(i) FROM sums)) AS g(i) LEFT JOIN sums s ON s.i = g.i
      $$`);
    // Element-wise sum of two such histograms, trailing zeros trimmed.
    await q.query(`
      CREATE FUNCTION scorecard_hours_add(a int[], b int[]) RETURNS int[]
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        WITH s AS (SELECT g.i, coalesce(a[g.i], 0) + coalesce(b[g.i], 0) AS n
                   FROM generate_series(1, greatest(coalesce(cardinality(a), 0), coalesce(cardinality(b), 0))) AS g(i)),
        last AS (SELECT max(s.i) AS i FROM s WHERE s.n <> 0)
        SELECT coalesce(array_agg(s.n ORDER BY s.i), '{}') FROM s, last WHERE s.i <= last.i
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Emptied again: the older worker rebuilds its jsonb rows.
    await q.query(`TRUNCATE scorecard_facts, scorecard_rollups`);
    await q.query(`DROP FUNCTION IF EXISTS scorecard_hours_add(int[], int[])`);
    await q.query(`DROP FUNCTION IF EXISTS scorecard_hours(int[], int[])`);
    await q.query(`COMMENT ON COLUMN scorecard_rollups.district_code IS NULL`);
    await q.query(`
      ALTER TABLE scorecard_rollups
        DROP COLUMN received, DROP COLUMN responded, DROP COLUMN resolved, DROP COLUMN rated,
        DROP COLUMN rating_sum, DROP COLUMN satisfied, DROP COLUMN hours,
        ADD COLUMN counters jsonb NOT NULL DEFAULT '{}'`);
  }
}
