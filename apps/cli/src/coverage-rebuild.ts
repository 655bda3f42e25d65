import type { AppConfig } from '@kepu/config';
import { rebuildCoverage, rebuildScorecards, scorecardSla } from '@kepu/coverage';
import { createDataSource } from '@kepu/db';

/**
 * `coverage:rebuild`: recomputes every order's coverage facts and all rollups
 * from the orders, set-based, in one transaction (README "Coverage"). Safe
 * while workers run: their refreshes wait for it and then apply on top.
 */
export async function coverageRebuild(config: AppConfig): Promise<number> {
  const dataSource = createDataSource({ ...config, databasePoolSize: 1 });
  await dataSource.initialize();
  try {
    const startedAt = Date.now();
    const result = await dataSource.transaction((manager) => rebuildCoverage(manager));
    const scorecards = await dataSource.transaction((manager) => rebuildScorecards(manager, scorecardSla(config)));
    // Fresh statistics, and a visibility map for the index-only reads of served days.
    await dataSource.query(`VACUUM (ANALYZE) coverage_order_facts, coverage_rollups, coverage_served_days, coverage_communities, scorecard_facts, scorecard_rollups`);
    console.log(`[coverage] rebuilt ${result.facts} order facts into ${result.rollups} rollup rows, ${scorecards.facts} scorecard facts into ${scorecards.rollups} rows, in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    return 0;
  } finally {
    await dataSource.destroy();
  }
}
