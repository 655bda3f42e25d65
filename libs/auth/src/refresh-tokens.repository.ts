import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

const hashOf = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();
/** 256 random bits: too many to guess, so a fast hash is enough to store them. */
const newToken = (): string => randomBytes(32).toString('base64url');

/** A refresh token and the seconds it lives: its own lifetime, cut to what is left of the session. */
export interface IssuedRefreshToken {
  token: string;
  expiresIn: number;
}

export type RotateOutcome = { status: 'rotated'; userId: string; refreshToken: IssuedRefreshToken } | { status: 'invalid' } | { status: 'reused' };

/** How long a token may live, and how long its session may: SESSION_MAX_AGE_SECONDS after the login. */
export interface RefreshLifetime {
  ttlSeconds: number;
  sessionMaxAgeSeconds: number;
}

/**
 * Refresh tokens, stored as SHA-256 hashes. Each login starts a family; each
 * refresh marks the presented token used and issues the next one of the family.
 * A used token that comes back means it was copied: the whole family is revoked.
 */
@Injectable()
export class RefreshTokensRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** A new family for a login (its session starts now); the user's expired tokens are swept on the way. */
  async issue(userId: string, lifetime: RefreshLifetime): Promise<IssuedRefreshToken> {
    await this.dataSource.query(`DELETE FROM refresh_tokens WHERE user_id = $1 AND expires_at < now()`, [userId]);
    return this.insert(this.dataSource.manager, userId, randomUUID(), null, lifetime);
  }

  /**
   * A token of a session older than `sessionMaxAgeSeconds` is invalid whatever its
   * own expiry (the limit may have been lowered since it was issued).
   */
  async rotate(token: string, lifetime: RefreshLifetime): Promise<RotateOutcome> {
    const hash = hashOf(token);
    return this.dataSource.transaction(async (manager) => {
      // Conditional: of two refreshes with one token, exactly one matches. (Wrapped in
      // a CTE because TypeORM answers a bare UPDATE with [rows, count].)
      const [used] = await manager.query<{ user_id: string; family_id: string; session_started_at: Date }[]>(
        `WITH used AS (
           UPDATE refresh_tokens SET used_at = now()
           WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
             AND session_started_at > now() - make_interval(secs => $2)
           RETURNING user_id, family_id, session_started_at
         )
         SELECT user_id, family_id, session_started_at FROM used`,
        [hash, lifetime.sessionMaxAgeSeconds],
      );
      if (used)
        return { status: 'rotated', userId: used.user_id, refreshToken: await this.insert(manager, used.user_id, used.family_id, used.session_started_at, lifetime) };
      // FOR UPDATE waits for a concurrent rotation of the same token to commit, so the
      // revocation below (a new statement, a new snapshot) also catches its new token.
      const [known] = await manager.query<{ family_id: string; used_at: Date | null }[]>(
        `SELECT family_id, used_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
        [hash],
      );
      if (!known?.used_at) return { status: 'invalid' };
      await manager.query(`UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`, [known.family_id]);
      return { status: 'reused' };
    });
  }

  /** Logout: the token's whole family (that login's session) is revoked. */
  async revokeFamilyOf(token: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE refresh_tokens SET revoked_at = now()
       WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1) AND revoked_at IS NULL`,
      [hashOf(token)],
    );
  }

  /** Expires after its own lifetime or at the session's end, whichever comes first. */
  private async insert(manager: EntityManager, userId: string, familyId: string, sessionStartedAt: Date | null, lifetime: RefreshLifetime): Promise<IssuedRefreshToken> {
    const token = newToken();
    const [row] = await manager.query<{ expires_in: string }[]>(
      `WITH started AS (SELECT coalesce($4::timestamptz, now()) AS at)
       INSERT INTO refresh_tokens (family_id, user_id, token_hash, session_started_at, expires_at)
       SELECT $1, $2, $3, started.at, least(now() + make_interval(secs => $5), started.at + make_interval(secs => $6)) FROM started
       RETURNING greatest(0, floor(extract(epoch FROM expires_at - now()))) AS expires_in`,
      [familyId, userId, hashOf(token), sessionStartedAt, lifetime.ttlSeconds, lifetime.sessionMaxAgeSeconds],
    );
    return { token, expiresIn: Number(row?.expires_in ?? lifetime.ttlSeconds) };
  }

  /** Housekeeping: drops tokens that expired more than a day ago (a reused one within a day still revokes its family). */
  async purgeExpired(): Promise<number> {
    const result = await this.dataSource.query<[unknown[], number]>(`DELETE FROM refresh_tokens WHERE expires_at < now() - interval '1 day'`);
    return Array.isArray(result) ? result[1] : 0;
  }
}
