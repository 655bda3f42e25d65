import { AppConfig } from '@kepu/config';
import { AccountLockedError, type Actor, NotFoundError, UnauthenticatedError } from '@kepu/core';
import type { UserEntity } from '@kepu/db';
import { Injectable } from '@nestjs/common';
import { AuditLogRepository } from './audit-log.repository';
import type { LoginDto, LoginResultView } from './login.dto';
import { LoginLockoutRepository } from './login-lockout.repository';
import { DUMMY_PASSWORD_HASH, verifyPassword } from './password';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { TokenService } from './token.service';
import { toUserView, type UserView } from './user.view';
import { actorOf, UsersRepository } from './users.repository';

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersRepository,
    private readonly tokens: TokenService,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly lockout: LoginLockoutRepository,
    private readonly auditLog: AuditLogRepository,
    private readonly config: AppConfig,
  ) {}

  async login(dto: LoginDto, ip: string | null): Promise<LoginResultView> {
    const usernameKey = dto.username.toLowerCase();
    const threshold = this.config.loginLockoutThreshold;
    const attempt = await this.lockout.begin(usernameKey, threshold, this.config.loginLockoutMinutes * 60);
    if (attempt.failures > threshold) throw new AccountLockedError(attempt.lockedForSeconds);

    const user = await this.users.findByUsername(dto.username);
    // Hash even for an unknown user so response time does not reveal which usernames exist.
    const isValid = await verifyPassword(dto.password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
    if (!user || !isValid || !user.isActive) {
      if (attempt.failures === threshold)
        await this.auditLog.record({ actor: null, ip }, {
          action: 'account.locked',
          targetType: 'user',
          targetId: user?.id ?? null,
          summary: { username: usernameKey, failures: attempt.failures, lockedForSeconds: Math.round(attempt.lockedForSeconds) },
        });
      throw new UnauthenticatedError('Wrong username or password.');
    }
    await this.lockout.reset(usernameKey);
    return this.session(user, await this.refreshTokens.issue(user.id, this.config.refreshTokenTtlSeconds));
  }

  /** A new pair for a refresh token that was never used; a used one revokes its whole session. */
  async refresh(refreshToken: string): Promise<LoginResultView> {
    const outcome = await this.refreshTokens.rotate(refreshToken, this.config.refreshTokenTtlSeconds);
    if (outcome.status === 'reused') throw new UnauthenticatedError('This refresh token was already used; the session is revoked. Log in again.');
    if (outcome.status === 'invalid') throw new UnauthenticatedError('The refresh token is invalid, expired or revoked.');
    const user = await this.users.findById(outcome.userId);
    if (!user?.isActive) throw new UnauthenticatedError('The account is disabled.');
    return this.session(user, outcome.refreshToken);
  }

  async logout(refreshToken: string): Promise<void> {
    await this.refreshTokens.revokeFamilyOf(refreshToken);
  }

  async me(actor: Actor): Promise<UserView> {
    const user = await this.users.findById(actor.userId);
    if (!user) throw new NotFoundError('Your account no longer exists.');
    return toUserView(user);
  }

  private async session(user: UserEntity, refreshToken: string): Promise<LoginResultView> {
    return {
      accessToken: await this.tokens.issue(actorOf(user)),
      tokenType: 'Bearer',
      expiresIn: this.tokens.expiresInSeconds,
      refreshToken,
      refreshExpiresIn: this.config.refreshTokenTtlSeconds,
      user: toUserView(user),
    };
  }
}

