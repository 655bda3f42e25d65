import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface LoginAttempt {
  /** Attempts counted since the last success, this one included. */
  failures: number;
  /** Seconds the username stays locked; 0 when it is not locked. */
  lockedForSeconds: number;
}

/**
 * The failed-login counter per username, in PostgreSQL so every API process
 * shares it. An attempt is counted before the password is checked (one atomic
 * upsert), and forgiven by a success: N parallel wrong guesses can never get
 * more than the threshold through.
 */
@Injectable()
export class LoginLockoutRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Counts an attempt. The counter starts again when the last lock has run out,
   * or when the last attempt was longer than a lock ago; the attempt that
   * reaches the threshold sets the lock (lifted by its own success).
   */
  async begin(usernameKey: string, threshold: number, lockSeconds: number): Promise<LoginAttempt> {
    const [row] = await this.dataSource.query<{ failures: number; locked_for: string }[]>(
      `INSERT INTO login_failures AS f (username_key, failures, locked_until, updated_at)
       VALUES ($1, 1, CASE WHEN 1 >= $2 THEN now() + make_interval(secs => $3) END, now())
       ON CONFLICT (username_key) DO UPDATE SET
         failures = CASE WHEN f.locked_until <= now() OR (f.locked_until IS NULL AND f.updated_at < now() - make_interval(secs => $3)) THEN 1
                         ELSE f.failures + 1 END,
         locked_until = CASE
           WHEN f.locked_until <= now() OR (f.locked_until IS NULL AND f.updated_at < now() - make_interval(secs => $3))
             THEN CASE WHEN 1 >= $2 THEN now() + make_interval(secs => $3) END
           WHEN f.locked_until IS NOT NULL THEN f.locked_until
           WHEN f.failures + 1 >= $2 THEN now() + make_interval(secs => $3)
         END,
         updated_at = now()
       RETURNING failures, greatest(0, extract(epoch FROM coalesce(locked_until, now()) - now())) AS locked_for`,
      [usernameKey, threshold, lockSeconds],
    );
    if (!row) throw new Error('login_failures upsert returned no row');
    return { failures: row.failures, lockedForSeconds: Number(row.locked_for) };
  }

  /**
   * Housekeeping: drops the rows that no longer count for anything (the next
   * attempt would start again at 1): a lock that ran out, or no lock and no
   * attempt for `lockSeconds`. Without it a caller trying ever new usernames
   * leaves a row behind for each.
   */
  async purgeStale(lockSeconds: number): Promise<number> {
    const result = await this.dataSource.query<[unknown[], number]>(
      `DELETE FROM login_failures
       WHERE (locked_until IS NOT NULL AND locked_until <= now())
          OR (locked_until IS NULL AND updated_at < now() - make_interval(secs => $1))`,
      [lockSeconds],
    );
    return Array.isArray(result) ? result[1] : 0;
  }

  /** A success forgives every counted attempt and lifts the lock. */
  async reset(usernameKey: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM login_failures WHERE username_key = $1`, [usernameKey]);
  }
}
