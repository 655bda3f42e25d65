import { BusinessRuleError, ConflictError, ValidationError } from '@kepu/core';
import type { IdempotentReplays } from '@kepu/http';
import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { IdempotencyRepository } from './idempotency.repository';

export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;
/** A first attempt that has not finished after this long is taken to have died. */
const STALE_AFTER_MS = 60_000;

export type IdempotentOutcome<T> = { replayed: false; result: T } | { replayed: true; status: number; body: unknown };

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** The hash an Idempotency-Key's first request is remembered by: key order in objects does not matter. */
export function idempotencyRequestHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/**
 * Idempotency-Key semantics of API.md: the same key and body answer the first
 * response again; another body is 422; a first request still running is 409.
 * The work itself must store its answer in the same transaction as its writes.
 */
@Injectable()
export class IdempotencyService implements IdempotentReplays {
  constructor(private readonly records: IdempotencyRepository) {}

  /** Whether this key of the user already answered (its repeat replays, writing nothing): for @LimitedWrite. */
  async isAnswered(userId: string, key: string): Promise<boolean> {
    return (await this.records.find(userId, key))?.isCompleted === true;
  }

  static validateKey(key: string): void {
    if (key.length === 0 || key.length > IDEMPOTENCY_KEY_MAX_LENGTH || !/^[\x21-\x7e]+$/.test(key))
      throw new ValidationError(`Idempotency-Key must be 1–${IDEMPOTENCY_KEY_MAX_LENGTH} visible ASCII characters.`, [
        { field: 'Idempotency-Key', message: `1–${IDEMPOTENCY_KEY_MAX_LENGTH} visible ASCII characters` },
      ]);
  }

  async run<T>(userId: string, key: string, body: unknown, work: () => Promise<T>): Promise<IdempotentOutcome<T>> {
    IdempotencyService.validateKey(key);
    const requestHash = idempotencyRequestHash(body);
    if (!(await this.records.tryStart(userId, key, requestHash))) {
      const existing = await this.records.find(userId, key);
      if (existing && existing.requestHash !== requestHash)
        throw new BusinessRuleError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with another request body.');
      if (existing?.isCompleted) return { replayed: true, status: existing.responseStatus ?? 200, body: existing.responseBody };
      const isTakenOver =
        existing !== null && (await this.records.tryTakeOverStale(userId, key, requestHash, new Date(Date.now() - STALE_AFTER_MS)));
      // The record vanished: the first attempt failed and released it; start afresh.
      const isRestarted = existing === null && (await this.records.tryStart(userId, key, requestHash));
      if (!isTakenOver && !isRestarted)
        throw new ConflictError('IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still running; retry shortly.', undefined, {
          'Retry-After': '1',
        });
    }
    try {
      return { replayed: false, result: await work() };
    } catch (error) {
      await this.records.release(userId, key);
      throw error;
    }
  }
}
