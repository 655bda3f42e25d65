import { AppConfig } from '@kepu/config';
import { AccountLockedError, type Actor, NotFoundError, systemClock, UnauthenticatedError } from '@kepu/core';
import { type RateLimit, RateLimitService } from '@kepu/http';
import { Injectable } from '@nestjs/common';
import { AuditLogRepository } from './audit-log.repository';
import { HashGate } from './hash-gate';
import type { LoginDto, LoginResultView } from './login.dto';
import { LoginLockoutRepository } from './login-lockout.repository';
import { DUMMY_PASSWORD_HASH, verifyPassword } from './password';
import { type IssuedRefreshToken, type RefreshLifetime, RefreshTokensRepository } from './refresh-tokens.repository';
import { TokenService } from './token.service';
import { toUserView, type UserView } from './user.view';
import { actorOf, type UserRecord, UsersRepository } from './users.repository';

/**
 * The only usernames accounts can have (POST /users, sign-up, volunteer logins):
 * anything else cannot match an account, so it is refused before any lockout
 * key is made of it (`admİn` would otherwise lower-case to a fresh key).
 */
export const LOGIN_USERNAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

@Injectable()
export class AuthService {
  private readonly hashGate: HashGate;
  private readonly addressLimits: readonly RateLimit[];

  constructor(
    private readonly users: UsersRepository,
    private readonly tokens: TokenService,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly lockout: LoginLockoutRepository,
    private readonly auditLog: AuditLogRepository,
    private readonly rateLimits: RateLimitService,
    private readonly config: AppConfig,
  ) {
    this.hashGate = new HashGate(config.loginHashConcurrency, config.loginHashQueue);
    this.addressLimits = [{ name: 'login.address-failures', max: config.loginFailuresPerAddressPerMinute, windowSeconds: 60 }];
  }

  /**
   * Every attempt is first counted against its address (shared by every API
   * process, whatever the username: password spraying) and forgiven when it
   * succeeds, so of N parallel wrong guesses from one address at most
   * LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE are checked. Then the username's lockout,
   * then the password hash, at most LOGIN_HASH_CONCURRENCY at once.
   */
  async login(dto: LoginDto, ip: string | null): Promise<LoginResultView> {
    const address = ip ?? 'unknown';
    const at = systemClock.now();
    await this.rateLimits.consume(address, this.addressLimits, { now: at, detail: 'Too many failed logins from this address; try again later.' });
    if (!LOGIN_USERNAME_PATTERN.test(dto.username)) throw new UnauthenticatedError('Wrong username or password.');

    let user: UserRecord;
    try {
      user = await this.hashGate.run(() => this.check(dto, ip));
    } catch (error) {
      // Refused for load (503), not a failed guess: the address's hit is taken back.
      if (!(error instanceof UnauthenticatedError) && !(error instanceof AccountLockedError)) await this.rateLimits.release(address, this.addressLimits, at);
      throw error;
    }
    await this.rateLimits.release(address, this.addressLimits, at);
    if (user.role === 'city_admin')
      await this.auditLog.record({ actor: actorOf(user), ip }, { action: 'user.logged_in', targetType: 'user', targetId: user.id, summary: { username: user.username, role: user.role } });
    return this.session(user, await this.refreshTokens.issue(user.id, this.lifetime));
  }

  private async check(dto: LoginDto, ip: string | null): Promise<UserRecord> {
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
    return user;
  }

  /**
   * A new pair for a refresh token that was never used; a used one revokes its
   * whole session. No refresh takes a session past SESSION_MAX_AGE_SECONDS after its login.
   */
  async refresh(refreshToken: string): Promise<LoginResultView> {
    const outcome = await this.refreshTokens.rotate(refreshToken, this.lifetime);
    if (outcome.status === 'reused') throw new UnauthenticatedError('This refresh token was already used; the session is revoked. Log in again.');
    if (outcome.status === 'invalid') throw new UnauthenticatedError('The refresh token is invalid, expired or revoked, or its session is over. Log in again.');
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

  /** A new session for an account just created (sign-up): the same tokens, refresh and rotation as a login. */
  async startSession(user: UserRecord): Promise<LoginResultView> {
    return this.session(user, await this.refreshTokens.issue(user.id, this.lifetime));
  }

  private get lifetime(): RefreshLifetime {
    return { ttlSeconds: this.config.refreshTokenTtlSeconds, sessionMaxAgeSeconds: this.config.sessionMaxAgeSeconds };
  }

  private async session(user: UserRecord, refreshToken: IssuedRefreshToken): Promise<LoginResultView> {
    return {
      accessToken: await this.tokens.issue(actorOf(user)),
      tokenType: 'Bearer',
      expiresIn: this.tokens.expiresInSeconds,
      refreshToken: refreshToken.token,
      refreshExpiresIn: refreshToken.expiresIn,
      user: toUserView(user),
    };
  }
}
