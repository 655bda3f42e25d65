/**
 * Content-Security-Policy per kind of response. The API answers JSON, which
 * never needs to load anything: it gets the strictest policy. The three HTML
 * pages get what their own markup needs and no more:
 * - /dashboard: same-origin scripts and styles only (no inline code, nothing else);
 * - /docs (Swagger UI): an inline <style> block and style attributes;
 * - /admin/queues (Bull Board): an inline <style> block, style attributes and
 *   its IBM Plex fonts from Google Fonts.
 */
const API_POLICY = ["default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"];

const PAGE_POLICY = [
  "default-src 'self'",
  "base-uri 'self'",
  "connect-src 'self'",
  "font-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self'",
];

/** The dashboard: its own files only, nothing inline, data from the API itself. */
const DASHBOARD_POLICY = [
  "default-src 'none'",
  "base-uri 'none'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "img-src 'self' data:",
  "script-src 'self'",
  "style-src 'self'",
];

const withDirective = (policy: string[], directive: string, value: string): string[] =>
  policy.map((d) => (d.startsWith(`${directive} `) ? `${d} ${value}` : d));

const DOCS_POLICY = withDirective(PAGE_POLICY, 'style-src', "'unsafe-inline'");
const QUEUE_BOARD_POLICY = withDirective(
  withDirective(DOCS_POLICY, 'style-src', 'https://fonts.googleapis.com'),
  'font-src',
  'https://fonts.gstatic.com',
);

const isUnder = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

// Joined once: the header is set on every request.
const API_HEADER = API_POLICY.join('; ');
export const DASHBOARD_CSP = DASHBOARD_POLICY.join('; ');
const DOCS_HEADER = DOCS_POLICY.join('; ');
const QUEUE_BOARD_HEADER = QUEUE_BOARD_POLICY.join('; ');

export function contentSecurityPolicyFor(url: string): string {
  const path = url.split('?')[0] ?? url;
  if (isUnder(path, '/docs')) return DOCS_HEADER;
  if (isUnder(path, '/admin/queues')) return QUEUE_BOARD_HEADER;
  if (isUnder(path, '/dashboard')) return DASHBOARD_CSP;
  return API_HEADER;
}

/** Headers a browser may read on a cross-origin answer (CORS). */
export const EXPOSED_HEADERS = ['x-next-cursor', 'x-request-id', 'retry-after', 'content-disposition', 'ratelimit', 'ratelimit-policy'];
/** Request headers a browser may send cross-origin. */
export const ALLOWED_HEADERS = ['authorization', 'content-type', 'idempotency-key', 'x-request-id', 'accept'];
