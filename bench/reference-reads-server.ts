// A minimal GET /orders and GET /orders/:id, written only as a yardstick for the
// reads of bench/mixed.bench.js: node:http + pg, the API's pool size (20), the same
// bearer token (HS256, checked with node:crypto), the same scope filters in SQL as
// libs/orders visibleTo (one statement per request), the same keyset order and the
// same JSON field names. Not part of the product: no cursor, no filters, no phone
// masking, no metrics, no logging.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/kepu_bench_mixed JWT_SECRET=... PORT=4601 \
//     node -r ./test/support/register-ts.js bench/reference-reads-server.ts

import { createSecretKey } from 'node:crypto';
import http from 'node:http';
import { Pool } from 'pg';
import { type Claims, type OrderRow, send, stopOnSignal, toOrderJson, verifyToken } from './support/reference-http';

const PORT = Number(process.env.PORT || 4601);
const JWT_SECRET = process.env.JWT_SECRET ?? '';
if (!JWT_SECRET) {
  console.error('JWT_SECRET is required');
  process.exit(1);
}
/** The HS256 key as a key object, made once (as the API's JWT service keeps its secret). */
const JWT_KEY = createSecretKey(Buffer.from(JWT_SECRET, 'utf8'));
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_SIZE || 20) });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The scope filter of libs/orders visibleTo, as SQL on `o` with the claim as $1. */
function scope(claims: Claims): [string, unknown[]] {
  switch (claims.role) {
    case 'city_admin':
      return ['TRUE', []];
    case 'district_coordinator':
      return ['o.district_code = $1', [claims.dis]];
    case 'resident':
      return ['o.requester_id = $1', [claims.sub]];
    case 'community_staff':
      return ['o.community_code = $1', [claims.cc]];
    case 'department_staff':
      return ['o.department_id = $1', [claims.dep]];
    case 'org_admin':
      return [
        '(o.organization_id = $1 OR o.offered_organization_id = $1 OR (o.is_open_to_organizations AND o.district_code IN (SELECT district_code FROM organization_districts WHERE organization_id = $1)))',
        [claims.org],
      ];
    default:
      return ['FALSE', []];
  }
}

const problem = (res: http.ServerResponse, status: number, code: string): void => send(res, status, { type: 'about:blank', title: http.STATUS_CODES[status], status, detail: code, code }, 'application/problem+json');

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (req.url === '/health') return send(res, 200, { status: 'ok' });
  const claims = verifyToken(req.headers.authorization, JWT_KEY);
  if (!claims) return problem(res, 401, 'UNAUTHENTICATED');
  const url = new URL(req.url ?? '/', 'http://x');
  const [where, params] = scope(claims);
  if (req.method === 'GET' && url.pathname === '/orders') {
    const limit = Math.min(100, Math.max(1, Number(url.searchParams.get('limit') || 20)));
    const { rows } = await pool.query<OrderRow>(`SELECT o.* FROM orders o WHERE ${where} ORDER BY o.created_at DESC, o.id DESC LIMIT ${limit + 1}`, params);
    const items = rows.slice(0, limit).map(toOrderJson);
    const last = rows.length > limit ? items.at(-1) : undefined;
    return send(res, 200, { items, nextCursor: last ? Buffer.from(`${last.createdAt}|${last.id}`).toString('base64url') : null });
  }
  const byId = /^\/orders\/([^/]+)$/.exec(url.pathname);
  if (req.method === 'GET' && byId?.[1] && UUID.test(byId[1])) {
    const { rows } = await pool.query<OrderRow>(`SELECT o.* FROM orders o WHERE o.id = $${params.length + 1} AND ${where}`, [...params, byId[1]]);
    return rows[0] ? send(res, 200, toOrderJson(rows[0])) : problem(res, 404, 'NOT_FOUND');
  }
  return problem(res, 404, 'NOT_FOUND');
}

const server = http.createServer((req, res) => {
  req.resume();
  handle(req, res).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    if (!res.headersSent) problem(res, 500, 'INTERNAL');
  });
});
server.keepAliveTimeout = 65_000;
server.listen(PORT, '127.0.0.1', () => console.log(JSON.stringify({ msg: 'reference reads server listening', port: PORT })));
stopOnSignal(server, pool);
