import { COVERED_SQL, PENDING_SQL } from '@kepu/coverage';
import type { Query } from './coverage-naive';

/**
 * The gap list of one audience recomputed straight from the orders: per community of the
 * district, the last delivered event of an order for that audience and its pending orders.
 */
export async function naiveAudienceCommunities(
  query: Query,
  districtCode: string,
  audience: string,
): Promise<{ communityCode: string; lastServedAt: Date | null; pendingOrders: number }[]> {
  return query(
    `SELECT c.code AS "communityCode",
       (SELECT max(o.scheduled_start) FROM orders o WHERE o.community_code = c.code AND o.audience = $2 AND o.status IN (${COVERED_SQL})) AS "lastServedAt",
       (SELECT count(*) FROM orders o WHERE o.community_code = c.code AND o.audience = $2 AND o.status IN (${PENDING_SQL}))::int AS "pendingOrders"
     FROM communities c WHERE c.district_code = $1 ORDER BY c.code`,
    [districtCode, audience],
  );
}
