'use strict';
// What the two node:http + pg reference servers share: token check, the order's JSON, answers.
const crypto = require('node:crypto');

function base64urlJson(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/** HS256 bearer token → claims, or null. */
function verifyToken(header, secret) {
  const match = /^Bearer\s+(\S+)$/i.exec(header || '');
  if (!match) return null;
  const parts = match[1].split('.');
  if (parts.length !== 3) return null;
  const expected = crypto.createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null;
  try {
    const head = base64urlJson(parts[0]);
    const claims = base64urlJson(parts[1]);
    if (head.alg !== 'HS256') return null;
    if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) return null;
    if (typeof claims.sub !== 'string') return null;
    return claims;
  } catch {
    return null;
  }
}

const iso = (d) => (d == null ? null : new Date(d).toISOString());

function toOrderJson(r) {
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

function send(res, status, body, type = 'application/json') {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

module.exports = { verifyToken, toOrderJson, send };
