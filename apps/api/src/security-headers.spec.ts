import { contentSecurityPolicyFor } from './security-headers';

describe('content security policy per route', () => {
  it('gives API answers the strictest policy: nothing loads, nothing frames them', () => {
    for (const url of ['/orders', '/me?x=1', '/health', '/docsx', '/dashboards'])
      expect(contentSecurityPolicyFor(url)).toBe("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  });

  it('lets the dashboard load same-origin scripts and styles, never inline code', () => {
    const policy = contentSecurityPolicyFor('/dashboard/assets/chart.umd.js');
    expect(policy).toContain("script-src 'self';");
    expect(policy).toMatch(/style-src 'self'$/);
    expect(policy).not.toContain('unsafe');
  });

  it("allows inline styles only where Swagger UI and Bull Board need them, and Bull Board's fonts", () => {
    expect(contentSecurityPolicyFor('/docs')).toContain("style-src 'self' 'unsafe-inline'");
    expect(contentSecurityPolicyFor('/docs/swagger-ui-init.js')).toContain("script-src 'self';");
    const board = contentSecurityPolicyFor('/admin/queues?token=x');
    expect(board).toContain("style-src 'self' 'unsafe-inline' https://fonts.googleapis.com");
    expect(board).toContain('font-src \'self\' data: https://fonts.gstatic.com');
    for (const url of ['/docs', '/admin/queues', '/dashboard']) {
      expect(contentSecurityPolicyFor(url)).not.toContain('unsafe-eval');
      expect(contentSecurityPolicyFor(url)).toContain("frame-ancestors 'none'");
    }
  });
});
