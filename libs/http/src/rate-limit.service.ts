import { RateLimitedError } from '@kepu/core';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { RateLimitRepository, type WindowHit } from './rate-limit.repository';

/** At most `max` hits per fixed window of `windowSeconds`, counted per subject (a phone, an address, a user). */
export interface RateLimit {
  /** Names the counter, e.g. `phone-code.phone`; with the subject it makes the key. */
  name: string;
  max: number;
  windowSeconds: number;
}

/** The tightest window after a counted hit, for `RateLimit` response headers. */
export interface RateLimitState {
  limit: RateLimit;
  remaining: number;
  resetSeconds: number;
}

/** 429 RATE_LIMITED from a full window, naming the limit that Retry-After waits for. */
export class WindowFullError extends RateLimitedError {
  constructor(
    readonly limit: RateLimit,
    retryAfterSeconds: number,
    detail?: string,
  ) {
    super(retryAfterSeconds, detail);
  }
}

/**
 * Rate limits shared by every API process (PostgreSQL counters). `consume`
 * counts a hit in each limit's current window, or none when any is full, and
 * then throws 429 `RATE_LIMITED` with `Retry-After` = until the full windows end.
 * Given the caller's transaction manager, the hit is taken back if the caller
 * rolls back (a refused broadcast does not count).
 */
@Injectable()
export class RateLimitService {
  constructor(private readonly repository: RateLimitRepository) {}

  async consume(subject: string, limits: readonly RateLimit[], options: { manager?: EntityManager; now?: Date; detail?: string } = {}): Promise<RateLimitState[]> {
    const now = options.now ?? new Date();
    const hits: (WindowHit & { limit: RateLimit })[] = limits.map((limit) => ({ ...this.windowOf(limit, subject, now), max: limit.max, limit }));
    const { full, counts } = await this.repository.hitAll(hits, options.manager);
    // the full window that ends last is the one a retry waits for
    const last = hits.filter((h) => full.includes(h)).sort((a, b) => b.windowEnd.getTime() - a.windowEnd.getTime())[0];
    if (last) throw new WindowFullError(last.limit, (last.windowEnd.getTime() - now.getTime()) / 1000, options.detail);
    return hits.map((h, i) => ({ limit: h.limit, remaining: Math.max(0, h.max - (counts[i] ?? 0)), resetSeconds: Math.ceil((h.windowEnd.getTime() - now.getTime()) / 1000) }));
  }

  /**
   * Takes back a hit `consume` counted at `now` (e.g. a login that succeeded is no
   * failure). Counting first and forgiving after keeps parallel attempts honest:
   * each one holds its hit while it is checked.
   */
  async release(subject: string, limits: readonly RateLimit[], now: Date, options: { manager?: EntityManager } = {}): Promise<void> {
    await this.repository.unhit(
      limits.map((limit) => this.windowOf(limit, subject, now)),
      options.manager,
    );
  }

  /** What each limit's current window holds at `now`, counting nothing: for the `RateLimit` header of a write that was not counted. */
  async peek(subject: string, limits: readonly RateLimit[], now: Date): Promise<RateLimitState[]> {
    const windows = limits.map((limit) => ({ limit, ...this.windowOf(limit, subject, now) }));
    const hits = await this.repository.hitsOf(windows);
    return windows.map((w, i) => ({ limit: w.limit, remaining: Math.max(0, w.limit.max - (hits[i] ?? 0)), resetSeconds: Math.ceil((w.windowEnd.getTime() - now.getTime()) / 1000) }));
  }

  private windowOf(limit: RateLimit, subject: string, now: Date): { key: string; windowStart: Date; windowEnd: Date } {
    const windowMs = limit.windowSeconds * 1000;
    const start = Math.floor(now.getTime() / windowMs) * windowMs;
    return { key: `${limit.name}:${subject}`, windowStart: new Date(start), windowEnd: new Date(start + windowMs) };
  }

  /** Drops counters of windows that ended more than a day ago (called by the worker's housekeeping). */
  purgeExpired(now: Date = new Date()): Promise<number> {
    return this.repository.purge(new Date(now.getTime() - 24 * 3600 * 1000));
  }
}
