import { AppConfig } from '@kepu/config';
import { Injectable, Module } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { LoginLockoutRepository } from './login-lockout.repository';
import { PhoneCodesRepository } from './phone-codes.repository';
import { RefreshTokensRepository } from './refresh-tokens.repository';

export interface AuthSweep {
  refreshTokens: number;
  phoneCodes: number;
  loginFailures: number;
}

/**
 * Deletes what the auth tables no longer need: refresh tokens expired for a day,
 * phone codes expired for an hour, login-failure rows that count for nothing.
 * Run by the worker's periodic housekeeping (apps/worker/src/housekeeping.ts);
 * idempotent, so several workers may run it.
 */
@Injectable()
export class AuthHousekeepingService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly refreshTokens: RefreshTokensRepository,
    private readonly phoneCodes: PhoneCodesRepository,
    private readonly lockout: LoginLockoutRepository,
    private readonly config: AppConfig,
  ) {}

  async sweep(): Promise<AuthSweep> {
    return {
      refreshTokens: await this.refreshTokens.purgeExpired(),
      phoneCodes: await this.phoneCodes.purgeExpired(this.dataSource.manager),
      loginFailures: await this.lockout.purgeStale(this.config.loginLockoutMinutes * 60),
    };
  }
}

/** The auth tables' housekeeping alone (no guard, no JWT): for the worker. */
@Module({
  providers: [RefreshTokensRepository, PhoneCodesRepository, LoginLockoutRepository, AuthHousekeepingService],
  exports: [AuthHousekeepingService],
})
export class AuthHousekeepingModule {}
