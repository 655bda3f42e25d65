// A minimal POST /orders written only as a yardstick for bench/orders.bench.js:
// node:http + pg, the same pool size as the API (20), the same bearer token
// (HS256, checked with node:crypto against a key object made once), minimal
// checks on the same JSON, and the
// same rows (order, its first order_events row, its outbox row) written in ONE
// round trip: a single statement whose CTEs insert all three.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/kepu_bench JWT_SECRET=... PORT=3101 \
//     node -r ./test/support/register-ts.js bench/reference-orders-server.ts
//
// Not part of the product: no idempotency keys, no duplicate detection, no
// metrics, no logging.

import { ACCESSIBILITY_FEATURES, AUDIENCES, FORMATS, TOPICS } from '@kepu/core';
import { createSecretKey } from 'node:crypto';
import http from 'node:http';
import { Pool } from 'pg';
import { type OrderRow, send, stopOnSignal, toOrderJson, verifyToken } from './support/reference-http';

const PORT = Number(process.env.PORT || 3101);
const HOST = '127.0.0.1';
const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/kepu_bench';
const JWT_SECRET = process.env.JWT_SECRET ?? '';
const POOL_SIZE = Number(process.env.DATABASE_POOL_SIZE || 20);
if (!JWT_SECRET) {
  console.error('JWT_SECRET is required');
  process.exit(1);
}
/** The HS256 key as a key object, made once (as the API's JWT service keeps its secret). */
const JWT_KEY = createSecretKey(Buffer.from(JWT_SECRET, 'utf8'));

const TOPIC_CODES = new Set<unknown>(TOPICS.map((t) => t.code));
const AUDIENCE_CODES = new Set<unknown>(AUDIENCES.map((a) => a.code));
const FORMAT_CODES = new Set<unknown>(FORMATS.map((f) => f.code));
const ACCESSIBILITY = new Set<unknown>(ACCESSIBILITY_FEATURES);
const MAX_DAYS_AHEAD_MS = 180 * 24 * 3600 * 1000;

const pool = new Pool({ connectionString: DATABASE_URL, max: POOL_SIZE });

// One statement, one round trip. The community row gives the subdistrict and
// district codes; no community, no rows.
const CREATE_ORDER_SQL = `
WITH o AS (
  INSERT INTO orders (code, status, version, community_code, subdistrict_code, district_code, requester_id,
                      topic, audience, format, title, description, expected_attendance, preferred_windows,
                      last_window_end, accessibility_needs, contact_name, contact_phone)
  SELECT 'KP' || to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || lpad(nextval('order_code_seq')::text, 6, '0'), 'submitted', 1, c.code, c.subdistrict_code, c.district_code, $2,
         $3, $4, $5, $6, $7, $8, $9::jsonb, $10::timestamptz, $11::text[], $12, $13
    FROM communities c
   WHERE c.code = $1
  RETURNING *
), e AS (
  INSERT INTO order_events (order_id, seq, type, from_status, to_status, actor_id, actor_role, payload)
  SELECT o.id, 1, 'order.submitted', NULL, 'submitted', $2, $14, '{}'::jsonb FROM o
), x AS (
  INSERT INTO outbox (type, order_id, payload)
  SELECT 'order.submitted', o.id,
         jsonb_build_object('orderId', o.id, 'communityCode', o.community_code, 'districtCode', o.district_code, 'actorId', $2::uuid)
    FROM o
)
SELECT * FROM o`;

/** The order JSON as it arrives: unchecked until check() has passed. */
interface OrderBody {
  communityCode: string;
  topic: string;
  audience: string;
  format: string;
  title: string;
  description: string;
  expectedAttendance: number;
  preferredWindows: { start: string; end: string }[];
  accessibilityNeeds?: string[];
  contactName: string;
  contactPhone: string;
}

interface FieldError {
  field: string;
  message: string;
}

const isText = (v: unknown, max: number): boolean => typeof v === 'string' && v.trim().length > 0 && v.length <= max;

/** Minimal checks on the same JSON as the API; returns field errors. */
function check(body: OrderBody, now: number): FieldError[] {
  const errors: FieldError[] = [];
  const windows: unknown = body?.preferredWindows;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return [{ field: '', message: 'must be an object' }];
  if (typeof body.communityCode !== 'string' || !/^\d{12}$/.test(body.communityCode)) errors.push({ field: 'communityCode', message: 'must be 12 digits' });
  if (!TOPIC_CODES.has(body.topic)) errors.push({ field: 'topic', message: 'unknown topic' });
  if (!AUDIENCE_CODES.has(body.audience)) errors.push({ field: 'audience', message: 'unknown audience' });
  if (!FORMAT_CODES.has(body.format)) errors.push({ field: 'format', message: 'unknown format' });
  if (!isText(body.title, 200)) errors.push({ field: 'title', message: 'required' });
  if (!isText(body.description, 5000)) errors.push({ field: 'description', message: 'required' });
  if (!Number.isInteger(body.expectedAttendance) || body.expectedAttendance < 1 || body.expectedAttendance > 2000) {
    errors.push({ field: 'expectedAttendance', message: 'must be 1-2000' });
  }
  if (!isText(body.contactName, 100)) errors.push({ field: 'contactName', message: 'required' });
  if (typeof body.contactPhone !== 'string' || !/^1\d{10}$/.test(body.contactPhone)) errors.push({ field: 'contactPhone', message: 'must be a mobile number' });
  if (body.accessibilityNeeds !== undefined && (!Array.isArray(body.accessibilityNeeds) || !body.accessibilityNeeds.every((a: unknown) => ACCESSIBILITY.has(a)))) {
    errors.push({ field: 'accessibilityNeeds', message: 'unknown feature' });
  }
  if (!Array.isArray(windows) || windows.length < 1 || windows.length > 5) {
    errors.push({ field: 'preferredWindows', message: 'must hold 1-5 windows' });
  } else {
    windows.forEach((w: { start?: string; end?: string } | null, i) => {
      const start = Date.parse(w?.start ?? '');
      const end = Date.parse(w?.end ?? '');
      if (!(end > start) || !(start > now) || end > now + MAX_DAYS_AHEAD_MS) {
        errors.push({ field: `preferredWindows.${i}`, message: 'must be in the future, within 180 days, end after start' });
      }
    });
  }
  return errors;
}

function problem(res: http.ServerResponse, status: number, code: string, detail: string, errors?: FieldError[]): void {
  send(res, status, { type: 'about:blank', title: http.STATUS_CODES[status], status, detail, code, ...(errors ? { errors } : {}) }, 'application/problem+json');
}

async function createOrder(req: http.IncomingMessage, res: http.ServerResponse, raw: string): Promise<void> {
  const claims = verifyToken(req.headers.authorization, JWT_KEY);
  if (!claims) return problem(res, 401, 'UNAUTHENTICATED', 'Send a valid bearer token.');
  if (claims.role !== 'resident' && claims.role !== 'community_staff') return problem(res, 403, 'FORBIDDEN', 'Only residents and community staff create orders.');
  let body: OrderBody;
  try {
    body = JSON.parse(raw) as OrderBody;
  } catch {
    return problem(res, 400, 'VALIDATION_FAILED', 'The body is not valid JSON.');
  }
  const now = Date.now();
  const errors = check(body, now);
  if (errors.length > 0) return problem(res, 400, 'VALIDATION_FAILED', 'Some fields are invalid.', errors);
  if (claims.cc && claims.cc !== body.communityCode) return problem(res, 404, 'NOT_FOUND', 'No such community in your scope.');

  const windows = body.preferredWindows.map((w) => ({ start: new Date(w.start).toISOString(), end: new Date(w.end).toISOString() }));
  const lastWindowEnd = windows.reduce((m, w) => (w.end > m ? w.end : m), windows[0]?.end ?? '');
  const { rows } = await pool.query<OrderRow>(CREATE_ORDER_SQL, [
    body.communityCode,
    claims.sub,
    body.topic,
    body.audience,
    body.format,
    body.title.trim(),
    body.description.trim(),
    body.expectedAttendance,
    JSON.stringify(windows),
    lastWindowEnd,
    body.accessibilityNeeds || [],
    body.contactName.trim(),
    body.contactPhone,
    claims.role,
  ]);
  const [row] = rows;
  if (!row) return problem(res, 404, 'NOT_FOUND', 'No such community.');
  res.setHeader('location', `/orders/${String(row.id)}`);
  return send(res, 201, toOrderJson(row));
}

const MAX_BODY_BYTES = 64 * 1024;

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') return send(res, 200, { status: 'ok' });
  if (req.method !== 'POST' || req.url !== '/orders') return problem(res, 404, 'NOT_FOUND', 'No such route.');
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_BODY_BYTES) {
      problem(res, 413, 'PAYLOAD_TOO_LARGE', 'The body is too large.');
      req.destroy();
    } else chunks.push(c);
  });
  req.on('end', () => {
    createOrder(req, res, Buffer.concat(chunks).toString('utf8')).catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      if (!res.headersSent) problem(res, 500, 'INTERNAL', 'Something went wrong.');
    });
  });
});
server.keepAliveTimeout = 65_000;

server.listen(PORT, HOST, () => {
  console.log(JSON.stringify({ msg: 'reference orders server listening', url: `http://${HOST}:${PORT}`, poolSize: POOL_SIZE }));
});
stopOnSignal(server, pool);
