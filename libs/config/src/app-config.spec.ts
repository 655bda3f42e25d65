import { ConfigError, loadConfig, nestLogLevels } from './app-config';

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
      isJwtSecretGenerated: true,
    });
    expect(config.jwtSecret.length).toBeGreaterThanOrEqual(32);
  });

  it('reads the variables of API.md, fractions of hours included', () => {
    const config = loadConfig({ PORT: '8080', SLA_DISPATCH_HOURS: '0.001', QUEUE_BACKEND: 'postgres', JWT_SECRET: 'x'.repeat(20), REGION_PROVINCE: '44' });
    expect(config).toMatchObject({ port: 8080, slaDispatchHours: 0.001, queueBackend: 'postgres', isJwtSecretGenerated: false, regionProvince: '44' });
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
