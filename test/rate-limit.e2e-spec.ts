import { RateLimitService, type RateLimit, WindowFullError } from '@kepu/http';
import { DataSource } from 'typeorm';
import { RateLimitedError } from '@kepu/core';
import { startTestApp, type TestApp } from './support/test-app';

/** The shared rate limiter: exact under real concurrency, all windows or none, rolled back with its caller. */
describe('rate limits shared by the API processes', () => {
  let t: TestApp;
  let limiter: RateLimitService;
  const perMinute: RateLimit = { name: 'test.minute', max: 5, windowSeconds: 60 };
  const perHour: RateLimit = { name: 'test.hour', max: 7, windowSeconds: 3600 };

  beforeAll(async () => {
    t = await startTestApp('rate-limit');
    limiter = t.app.get(RateLimitService);
  }, 60_000);
  afterAll(() => t?.close());

  const at = new Date('2026-12-04T10:00:10Z');

  it('40 parallel hits on a limit of 5: exactly 5 pass, the rest get 429 with Retry-After until the window ends', async () => {
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => limiter.consume('racer', [perMinute], { now: at })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
    expect(refused).toHaveLength(35);
    for (const error of refused) {
      expect(error).toBeInstanceOf(RateLimitedError);
      expect((error as RateLimitedError).headers).toEqual({ 'Retry-After': '50' });
    }
  });

  it('a hit counts in every window or none: a full minute does not spend the hour', async () => {
    for (let i = 0; i < 5; i++) await limiter.consume('both', [perMinute, perHour], { now: at });
    await expect(limiter.consume('both', [perMinute, perHour], { now: at })).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    const later = new Date(at.getTime() + 60_000);
    const states = await limiter.consume('both', [perMinute, perHour], { now: later });
    expect(states.map((s) => s.remaining)).toEqual([4, 1]); // the refused hit was not counted in the hour
    await limiter.consume('both', [perMinute, perHour], { now: later });
    await expect(limiter.consume('both', [perMinute, perHour], { now: later })).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('a refusal names the full limit it waits for, even in the last hour of a day, when the hour and the day end together', async () => {
    const hour: RateLimit = { name: 'test.last-hour', max: 1000, windowSeconds: 3600 };
    const day: RateLimit = { name: 'test.day', max: 2, windowSeconds: 86_400 };
    const lateAt = new Date('2026-12-04T23:30:00Z');
    await limiter.consume('late', [hour, day], { now: lateAt });
    await limiter.consume('late', [hour, day], { now: lateAt });
    const refused = (await limiter.consume('late', [hour, day], { now: lateAt }).catch((e: unknown) => e)) as WindowFullError;
    expect(refused).toBeInstanceOf(WindowFullError);
    expect(refused.limit).toBe(day);
    expect(refused.headers).toEqual({ 'Retry-After': '1800' });
  });

  it('40 parallel hits on two windows: the tighter one decides, and the other counts exactly the hits that passed', async () => {
    const wide: RateLimit = { name: 'test.wide', max: 10, windowSeconds: 60 };
    const tight: RateLimit = { name: 'test.z-tight', max: 3, windowSeconds: 3600 };
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => limiter.consume('pair', [wide, tight], { now: at })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    const { rows } = await t.db.query<{ key: string; hits: number }>(`SELECT key, hits FROM rate_limit_counters WHERE key LIKE '%:pair' ORDER BY key`);
    // windows are hit in key order: each racer hit the wide one first, and the refused ones took that hit back
    expect(rows).toEqual([
      { key: 'test.wide:pair', hits: 3 },
      { key: 'test.z-tight:pair', hits: 3 },
    ]);
  });

  it('a single window reports what remains, and a limit of 0 refuses every hit', async () => {
    const three: RateLimit = { name: 'test.three', max: 3, windowSeconds: 60 };
    const remaining = [];
    for (let i = 0; i < 3; i++) remaining.push((await limiter.consume('counted', [three], { now: at }))[0]?.remaining);
    expect(remaining).toEqual([2, 1, 0]);
    await expect(limiter.consume('counted', [three], { now: at })).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    const none: RateLimit = { name: 'test.none', max: 0, windowSeconds: 60 };
    await expect(limiter.consume('nobody', [none], { now: at })).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    const { rows } = await t.db.query<{ hits: number }>(`SELECT hits FROM rate_limit_counters WHERE key = 'test.none:nobody'`);
    expect(rows.map((r) => r.hits).filter((hits) => hits > 0)).toEqual([]);
  });

  it('subjects are counted apart', async () => {
    for (let i = 0; i < 5; i++) await limiter.consume('alice', [perMinute], { now: at });
    await expect(limiter.consume('bob', [perMinute], { now: at })).resolves.toHaveLength(1);
  });

  it("a hit inside the caller's transaction is taken back when the caller rolls back", async () => {
    const one: RateLimit = { name: 'test.one', max: 1, windowSeconds: 3600 };
    await expect(
      t.app.get(DataSource).transaction(async (manager) => {
        await limiter.consume('rollback', [one], { manager, now: at });
        throw new Error('refused later');
      }),
    ).rejects.toThrow('refused later');
    await expect(limiter.consume('rollback', [one], { now: at })).resolves.toHaveLength(1);
    await expect(limiter.consume('rollback', [one], { now: at })).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('expired windows are purged', async () => {
    const before = (await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM rate_limit_counters`)).rows[0]!.n;
    expect(Number(before)).toBeGreaterThan(0);
    await limiter.purgeExpired(new Date(at.getTime() + 3 * 24 * 3600 * 1000));
    expect((await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM rate_limit_counters`)).rows[0]!.n).toBe('0');
  });
});
