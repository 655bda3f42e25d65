import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

const hashOf = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();
/** 256 random bits: too many to guess, so a fast hash is enough to store them. */
const newToken = (): string => randomBytes(32).toString('base64url');

export type RotateOutcome = { status: 'rotated'; userId: string; refreshToken: string } | { status: 'invalid' } | { status: 'reused' };

/**
 * Refresh tokens, stored as SHA-256 hashes. Each login starts a family; each
 * refresh marks the presented token used and issues the next one of the family.
 * A used token that comes back means it was copied: the whole family is revoked.
 */
@Injectable()
export class RefreshTokensRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** A new family for a login; the user's expired tokens are swept on the way. */
  async issue(userId: string, ttlSeconds: number): Promise<string> {
    await this.dataSource.query(`DELETE FROM refresh_tokens WHERE user_id = $1 AND expires_at < now()`, [userId]);
    return this.insert(this.dataSource.manager, userId, randomUUID(), ttlSeconds);
  }

  async rotate(token: string, ttlSeconds: number): Promise<RotateOutcome> {
    const hash = hashOf(token);
    return this.dataSource.transaction(async (manager) => {
      // Conditional: of two refreshes with one token, exactly one matches. (Wrapped in
      // a CTE because TypeORM answers a bare UPDATE with [rows, count].)
      const [used] = await manager.query<{ user_id: string; family_id: string }[]>(
        `WITH used AS (
           UPDATE refresh_tokens SET used_at = now()
           WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
           RETURNING user_id, family_id
         )
         SELECT user_id, family_id FROM used`,
        [hash],
      );
      if (used) return { status: 'rotated', userId: used.user_id, refreshToken: await this.insert(manager, used.user_id, used.family_id, ttlSeconds) };
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

  private async insert(manager: EntityManager, userId: string, familyId: string, ttlSeconds: number): Promise<string> {
    const token = newToken();
    await manager.query(
      `INSERT INTO refresh_tokens (family_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
      [familyId, userId, hashOf(token), ttlSeconds],
    );
    return token;
  }
}
