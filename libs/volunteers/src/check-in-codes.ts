import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '@kepu/config';
import { Clock } from '@kepu/core';
import { Injectable } from '@nestjs/common';

/** The venue's code changes every 5 minutes; the one before stays valid, so a code read just before the change still works. */
export const CHECK_IN_CODE_STEP_SECONDS = 300;
const STEP_MS = CHECK_IN_CODE_STEP_SECONDS * 1000;

/** The 5-minute step an instant falls in. */
export const checkInStepAt = (at: Date): number => Math.floor(at.getTime() / STEP_MS);

/**
 * The 6-digit code of an order for the step that `at` falls in: HMAC-SHA256 of the
 * order id and the step under the server's secret (DESIGN.md §10, verified hours), cut
 * to 6 digits as TOTP does. Pure, so a test can compute a past step's code.
 */
export function checkInCodeAt(secret: string, orderId: string, at: Date): string {
  return codeOfStep(secret, orderId, checkInStepAt(at));
}

function codeOfStep(secret: string, orderId: string, step: number): string {
  const digest = createHmac('sha256', secret).update(`${orderId.toLowerCase()}:${step}`).digest();
  return String(digest.readUInt32BE(0) % 1_000_000).padStart(6, '0');
}

const sameCode = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** The rotating check-in codes shown at the venue (as a QR code) and checked at check-in. */
@Injectable()
export class CheckInCodes {
  constructor(
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** The code to show now, when it changes (`expiresAt`) and until when it is still accepted (`validUntil`). */
  current(orderId: string): { code: string; expiresAt: Date; validUntil: Date } {
    const step = checkInStepAt(this.clock.now());
    return { code: codeOfStep(this.config.checkInCodeSecret, orderId, step), expiresAt: new Date((step + 1) * STEP_MS), validUntil: new Date((step + 2) * STEP_MS) };
  }

  /** Whether `code` is this step's or the previous step's code of the order, at `at`. */
  isValid(orderId: string, code: string, at: Date): boolean {
    const step = checkInStepAt(at);
    // Both compared, always: the time taken does not tell which one matched.
    const matches = [step, step - 1].map((s) => sameCode(codeOfStep(this.config.checkInCodeSecret, orderId, s), code));
    return matches.some(Boolean);
  }
}
