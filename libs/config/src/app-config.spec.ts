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

describe('Nest log levels from LOG_LEVEL', () => {
  it('keeps the levels at and above the configured one', () => {
    expect(nestLogLevels('warn')).toEqual(['fatal', 'error', 'warn']);
    expect(nestLogLevels('info')).toEqual(['fatal', 'error', 'warn', 'log']);
    expect(nestLogLevels('trace')).toEqual(['fatal', 'error', 'warn', 'log', 'debug', 'verbose']);
    expect(nestLogLevels('silent')).toBe(false);
  });
});
