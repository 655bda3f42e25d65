import { createSecretKey } from 'node:crypto';
import { AppConfig } from '@kepu/config';
import { RateLimitModule } from '@kepu/http';
import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { ThrottlerModule } from '@nestjs/throttler';
import { AuthGuard } from './auth.guard';
import { AuditLogRepository } from './audit-log.repository';
import { AuditLogService } from './audit-log.service';
import { AuthService } from './auth.service';
import { LoginLockoutRepository } from './login-lockout.repository';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { LoginThrottlerGuard } from './login-throttler.guard';
import { TokenService } from './token.service';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

@Module({
  imports: [
    RateLimitModule,
    JwtModule.registerAsync({
      inject: [AppConfig],
      // A KeyObject, not a string: jsonwebtoken otherwise first tries to parse the secret as a PEM public key on every verify (~50x slower).
      useFactory: (config: AppConfig) => ({ secret: createSecretKey(Buffer.from(config.jwtSecret, 'utf8')) }),
    }),
    ThrottlerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => [{ name: 'login', ttl: 60_000, limit: config.loginRateLimitPerMinute }],
    }),
  ],
  providers: [TokenService, UsersRepository, UsersService, AuthService, LoginThrottlerGuard, RefreshTokensRepository, LoginLockoutRepository, AuditLogRepository, AuditLogService, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [TokenService, UsersService, AuthService, LoginThrottlerGuard, AuditLogService],
})
export class AuthModule {}
