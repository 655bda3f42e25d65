import { ConfigError, listeningUrl, loadConfig, nestLogLevels } from './app-config';

describe('configuration', () => {
  it('has defaults that work on a developer machine', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/kepu',
      redisUrl: 'redis://127.0.0.1:6379',
      queueBackend: 'redis',
      regionProvince: '11',
      slaDispatchHours: 24,
      slaClaimHours: 48,
      slaAcceptHours: 72,
      slaScheduleHours: 72,
      slaUrgentFactor: 0.25,
      isJwtSecretGenerated: true,
    });
    expect(config.jwtSecret.length).toBeGreaterThanOrEqual(32);
  });

  it('reads the variables of API.md, fractions of hours included', () => {
    const config = loadConfig({ PORT: '8080', SLA_DISPATCH_HOURS: '0.001', QUEUE_BACKEND: 'postgres', JWT_SECRET: 'x'.repeat(32), REGION_PROVINCE: '44' });
    expect(config).toMatchObject({ port: 8080, slaDispatchHours: 0.001, queueBackend: 'postgres', isJwtSecretGenerated: false, regionProvince: '44' });
  });

  it('SLA_URGENT_FACTOR: a share of the normal deadlines, above 0 and at most 1', () => {
    expect(loadConfig({ SLA_URGENT_FACTOR: '0.5' }).slaUrgentFactor).toBe(0.5);
    for (const bad of ['0', '-0.25', '1.5', 'quarter']) expect(() => loadConfig({ SLA_URGENT_FACTOR: bad })).toThrow(/SLA_URGENT_FACTOR:/);
  });

  it('derives the check-in code secret from JWT_SECRET unless CHECK_IN_CODE_SECRET is set', () => {
    const derived = loadConfig({ JWT_SECRET: 'x'.repeat(32) });
    expect(derived.checkInCodeSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(derived.checkInCodeSecret).not.toContain(derived.jwtSecret);
    expect(loadConfig({ JWT_SECRET: 'x'.repeat(32) }).checkInCodeSecret).toBe(derived.checkInCodeSecret);
    expect(loadConfig({ JWT_SECRET: 'x'.repeat(32), CHECK_IN_CODE_SECRET: 'y'.repeat(20) }).checkInCodeSecret).toBe('y'.repeat(20));
    expect(() => loadConfig({ JWT_SECRET: 'x'.repeat(32), CHECK_IN_CODE_SECRET: 'short' })).toThrow(/CHECK_IN_CODE_SECRET/);
  });

  it('stops with a message naming each bad variable', () => {
    const attempt = () => loadConfig({ PORT: 'eighty', QUEUE_BACKEND: 'kafka', DATABASE_URL: 'mysql://x', SLA_CLAIM_HOURS: '-1' });
    expect(attempt).toThrow(ConfigError);
    const message = (() => {
      try {
        attempt();
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    for (const variable of ['PORT', 'QUEUE_BACKEND', 'DATABASE_URL', 'SLA_CLAIM_HOURS']) expect(message).toContain(`${variable}:`);
  });

  it('listens on loopback by default, on every interface in production, or on HOST', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({ NODE_ENV: 'test' }).host).toBe('127.0.0.1');
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32) }).host).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32), HOST: '::1' }).host).toBe('::1');
    expect(() => loadConfig({ HOST: 'http://0.0.0.0' })).toThrow(/HOST:/);
  });

  it('names the URL that reaches the API from this machine', () => {
    expect(listeningUrl('127.0.0.1', 3000)).toBe('http://127.0.0.1:3000');
    expect(listeningUrl('0.0.0.0', 3000)).toBe('http://127.0.0.1:3000');
    expect(listeningUrl('::', 3000)).toBe('http://127.0.0.1:3000');
    expect(listeningUrl('::1', 8080)).toBe('http://[::1]:8080');
    expect(listeningUrl('localhost', 3000)).toBe('http://localhost:3000');
  });

  it('requires JWT_SECRET in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET/);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32) }).isJwtSecretGenerated).toBe(false);
  });
});

describe('security settings', () => {
  it('defaults to short access tokens, week-long refresh tokens, a lock after 5 failures, 100 KiB bodies, no CORS and no HSTS', () => {
    expect(loadConfig({})).toMatchObject({
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 7 * 24 * 3600,
      loginLockoutThreshold: 5,
      loginLockoutMinutes: 15,
      bodyLimitBytes: 100 * 1024,
      corsOrigins: [],
      hstsMaxAgeSeconds: 0,
    });
  });

  it('reads CORS_ORIGINS as a comma-separated list of origins and refuses anything else', () => {
    expect(loadConfig({ CORS_ORIGINS: ' https://a.example.cn , http://localhost:5173,' }).corsOrigins).toEqual(['https://a.example.cn', 'http://localhost:5173']);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example.cn/path' })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS/);
  });

  it('believes no proxy unless TRUST_PROXY names them', () => {
    expect(loadConfig({}).trustProxy).toBe('false');
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).toBe('10.0.0.0/8, 127.0.0.1');
    expect(() => loadConfig({ TRUST_PROXY: 'everyone' })).toThrow(/TRUST_PROXY/);
  });

  it('refuses nonsense limits', () => {
    const message = (() => {
      try {
        loadConfig({ ACCESS_TOKEN_TTL_SECONDS: '0', LOGIN_LOCKOUT_THRESHOLD: 'many', BODY_LIMIT_BYTES: '10', HSTS_MAX_AGE_SECONDS: '-1' });
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    for (const variable of ['ACCESS_TOKEN_TTL_SECONDS', 'LOGIN_LOCKOUT_THRESHOLD', 'BODY_LIMIT_BYTES', 'HSTS_MAX_AGE_SECONDS']) expect(message).toContain(`${variable}:`);
  });
});

describe('Nest log levels from LOG_LEVEL', () => {
  it('keeps the levels at and above the configured one', () => {
    expect(nestLogLevels('warn')).toEqual(['fatal', 'error', 'warn']);
    expect(nestLogLevels('info')).toEqual(['fatal', 'error', 'warn', 'log']);
    expect(nestLogLevels('trace')).toEqual(['fatal', 'error', 'warn', 'log', 'debug', 'verbose']);
    expect(nestLogLevels('silent')).toBe(false);
  });
});

describe('hardening (issue #14)', () => {
  it('refuses a JWT_SECRET shorter than 32 bytes, counting bytes and not characters', () => {
    expect(() => loadConfig({ JWT_SECRET: 'x'.repeat(31) })).toThrow(/JWT_SECRET: must be at least 32 bytes/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'test-secret-0123456789abcdef' })).toThrow(/JWT_SECRET/);
    expect(loadConfig({ JWT_SECRET: '科'.repeat(11) }).jwtSecret).toBe('科'.repeat(11)); // 33 bytes
    expect(loadConfig({ JWT_SECRET: 'x'.repeat(32) }).jwtSecret).toHaveLength(32);
  });

  it('limits a session to 30 days by default, SESSION_MAX_AGE_SECONDS to change', () => {
    expect(loadConfig({}).sessionMaxAgeSeconds).toBe(30 * 24 * 3600);
    expect(loadConfig({ SESSION_MAX_AGE_SECONDS: '3600' }).sessionMaxAgeSeconds).toBe(3600);
    expect(() => loadConfig({ SESSION_MAX_AGE_SECONDS: '0' })).toThrow(/SESSION_MAX_AGE_SECONDS/);
  });

  it('has login limits per address and on password hashes', () => {
    expect(loadConfig({})).toMatchObject({ loginFailuresPerAddressPerMinute: 30, loginHashConcurrency: 4, loginHashQueue: 32 });
    expect(() => loadConfig({ LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE: '0' })).toThrow(/LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE/);
  });

  it('in production, the webhook must be https:// and signed with NOTIFY_WEBHOOK_SECRET', () => {
    const production = { NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32) };
    const secret = 'w'.repeat(32);
    expect(() => loadConfig({ ...production, NOTIFY_WEBHOOK_URL: 'http://sms.example.cn/send', NOTIFY_WEBHOOK_SECRET: secret })).toThrow(/NOTIFY_WEBHOOK_URL: must be an https:\/\/ URL in production/);
    expect(() => loadConfig({ ...production, NOTIFY_WEBHOOK_URL: 'https://sms.example.cn/send' })).toThrow(/NOTIFY_WEBHOOK_SECRET/);
    expect(() => loadConfig({ NOTIFY_WEBHOOK_SECRET: 'short' })).toThrow(/NOTIFY_WEBHOOK_SECRET/);
    expect(loadConfig({ ...production, NOTIFY_WEBHOOK_URL: 'https://sms.example.cn/send', NOTIFY_WEBHOOK_SECRET: secret }).notifyWebhookUrl).toBe('https://sms.example.cn/send');
    // Outside production a local provider over http:// stays possible (development, tests).
    expect(loadConfig({ NOTIFY_WEBHOOK_URL: 'http://127.0.0.1:9999/hook' }).notifyWebhookUrl).toBe('http://127.0.0.1:9999/hook');
  });
});
