import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export type PhoneCodePurpose = 'register' | 'change_phone';

/** Wrong tries that spend a code (DESIGN.md §10). */
export const PHONE_CODE_MAX_WRONG_TRIES = 5;

export type PhoneCodeCheck = 'ok' | 'wrong' | 'none';

/**
 * Live SMS codes, one per phone and purpose, as HMACs (phone_codes). Every
 * method runs in the caller's transaction: a code is spent in the one that
 * creates the account or changes the phone, and rolls back with it.
 */
@Injectable()
export class PhoneCodesRepository {
  /** Housekeeping: drops codes that expired more than an hour ago. */
  async purgeExpired(manager: EntityManager): Promise<number> {
    const result = await manager.query<[unknown[], number]>(`DELETE FROM phone_codes WHERE expires_at < now() - interval '1 hour'`);
    return Array.isArray(result) ? result[1] : 0;
  }

  /** Replaces any earlier code of this phone and purpose; sweeps a few long-expired rows on the way. */
  async issue(manager: EntityManager, phone: string, purpose: PhoneCodePurpose, codeHash: string, ttlSeconds: number): Promise<void> {
    await manager.query(
      `DELETE FROM phone_codes WHERE ctid IN (SELECT ctid FROM phone_codes WHERE expires_at < now() - interval '1 hour' LIMIT 20)`,
    );
    await manager.query(
      `INSERT INTO phone_codes (phone, purpose, code_hash, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4))
       ON CONFLICT (phone, purpose) DO UPDATE
         SET code_hash = EXCLUDED.code_hash, wrong_tries = 0, expires_at = EXCLUDED.expires_at, created_at = now()`,
      [phone, purpose, codeHash, ttlSeconds],
    );
  }

  /**
   * Locks the live code and compares it. `wrong` counts the try (the fifth
   * deletes the code) and must be committed; `none`: no live code (never sent,
   * expired, used or spent). Concurrent checks of one code queue on the row lock,
   * so a code works once.
   */
  async check(manager: EntityManager, phone: string, purpose: PhoneCodePurpose, matches: (codeHash: string) => boolean): Promise<PhoneCodeCheck> {
    const [row] = await manager.query<{ code_hash: string; wrong_tries: number }[]>(
      `SELECT code_hash, wrong_tries FROM phone_codes WHERE phone = $1 AND purpose = $2 AND expires_at > now() FOR UPDATE`,
      [phone, purpose],
    );
    if (!row) return 'none';
    if (matches(row.code_hash)) return 'ok';
    if (row.wrong_tries + 1 >= PHONE_CODE_MAX_WRONG_TRIES) await this.spend(manager, phone, purpose);
    else await manager.query(`UPDATE phone_codes SET wrong_tries = wrong_tries + 1 WHERE phone = $1 AND purpose = $2`, [phone, purpose]);
    return 'wrong';
  }

  async spend(manager: EntityManager, phone: string, purpose: PhoneCodePurpose): Promise<void> {
    await manager.query(`DELETE FROM phone_codes WHERE phone = $1 AND purpose = $2`, [phone, purpose]);
  }
}
