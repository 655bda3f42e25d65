// What the two node:http + pg reference servers share: token check, the order's JSON, answers.
import crypto from 'node:crypto';
import type { Server, ServerResponse } from 'node:http';
import type { Pool } from 'pg';

/** The claims the API signs into its access tokens (AccessClaims in libs/auth token.service.ts). */
export interface Claims {
  sub: string;
  role: string;
  exp?: number;
  /** community, district, department and organization scope, as the API names them */
  cc?: string | null;
  dis?: string | null;
  dep?: string | null;
  org?: string | null;
}

function base64urlJson(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/** HS256 bearer token → claims, or null. */
export function verifyToken(header: string | undefined, secret: crypto.KeyObject): Claims | null {
  const match = /^Bearer\s+(\S+)$/i.exec(header || '');
  if (!match) return null;
  const parts = (match[1] ?? '').split('.');
  const [head64, claims64, signature64] = parts;
  if (parts.length !== 3 || head64 === undefined || claims64 === undefined || signature64 === undefined) return null;
  const expected = crypto.createHmac('sha256', secret).update(`${head64}.${claims64}`).digest();
  const given = Buffer.from(signature64, 'base64url');
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null;
  try {
    const head = base64urlJson(head64);
    const claims = base64urlJson(claims64);
    if (head.alg !== 'HS256') return null;
    if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) return null;
    if (typeof claims.sub !== 'string') return null;
    return claims as unknown as Claims;
  } catch {
    return null;
  }
}

/** An orders row as node-postgres returns it (snake_case columns). */
export type OrderRow = Record<string, unknown>;

const iso = (d: unknown): string | null => (d == null ? null : new Date(d as string | Date).toISOString());

export function toOrderJson(r: OrderRow): Record<string, unknown> & { id: unknown; createdAt: string | null } {
  return {
    id: r.id,
    code: r.code,
    status: r.status,
    version: r.version,
    communityCode: r.community_code,
    subdistrictCode: r.subdistrict_code,
    districtCode: r.district_code,
    requesterId: r.requester_id,
    topic: r.topic,
    audience: r.audience,
    format: r.format,
    title: r.title,
    description: r.description,
    expectedAttendance: r.expected_attendance,
    preferredWindows: r.preferred_windows,
    accessibilityNeeds: r.accessibility_needs,
    contactName: r.contact_name,
    contactPhone: r.contact_phone,
    departmentId: r.department_id,
    organizationId: r.organization_id,
    offeredOrganizationId: r.offered_organization_id,
    openToOrganizations: r.is_open_to_organizations,
    scheduledStart: iso(r.scheduled_start),
    scheduledEnd: iso(r.scheduled_end),
    venueId: r.venue_id,
    returnedCount: r.returned_count,
    mergedIntoId: r.merged_into_id,
    possibleDuplicateIds: r.possible_duplicate_ids,
    rating: r.rating,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

export function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** On SIGTERM or SIGINT: stop listening, close the pool, exit (at the latest after 3 s). */
export function stopOnSignal(server: Server, pool: Pool): void {
  const shutdown = (): void => {
    server.close();
    server.closeAllConnections();
    void pool.end().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
