import { AuthService, CurrentActor, LoginDto, LoginResultView, LoginThrottlerGuard, Public, RefreshTokenDto, UserView } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import { Body, Controller, Get, HttpCode, Ip, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ProblemView } from '../problem.view';

@ApiTags('accounts')
@Controller()
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @UseGuards(LoginThrottlerGuard)
  @Post('auth/login')
  @HttpCode(200)
  @ApiOkResponse({ type: LoginResultView })
  @ApiUnauthorizedResponse({ type: ProblemView, description: 'Wrong username or password' })
  @ApiTooManyRequestsResponse({
    type: ProblemView,
    description: 'RATE_LIMITED: too many attempts from this address, or LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE failures from it whatever the usernames; ACCOUNT_LOCKED: too many failures for this username (Retry-After)',
  })
  @ApiServiceUnavailableResponse({ type: ProblemView, description: 'DEPENDENCY_UNAVAILABLE: too many sign-ins being checked at once (LOGIN_HASH_CONCURRENCY, LOGIN_HASH_QUEUE); Retry-After: 1' })
  login(@Body() dto: LoginDto, @Ip() ip: string): Promise<LoginResultView> {
    return this.auth.login(dto, ip);
  }

  @Public()
  @Post('auth/refresh')
  @HttpCode(200)
  @ApiOperation({ summary: 'A new access and refresh token for an unused refresh token; presenting a used one revokes the session' })
  @ApiOkResponse({ type: LoginResultView })
  @ApiUnauthorizedResponse({ type: ProblemView, description: 'Invalid, expired, revoked or already used refresh token, or a session older than SESSION_MAX_AGE_SECONDS' })
  refresh(@Body() dto: RefreshTokenDto): Promise<LoginResultView> {
    return this.auth.refresh(dto.refreshToken);
  }

  @Public()
  @Post('auth/logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revokes the refresh token and every token of its session; answers 204 whether or not it was valid' })
  @ApiNoContentResponse()
  logout(@Body() dto: RefreshTokenDto): Promise<void> {
    return this.auth.logout(dto.refreshToken);
  }

  @ApiBearerAuth()
  @Get('me')
  @ApiOkResponse({ type: UserView })
  me(@CurrentActor() actor: Actor): Promise<UserView> {
    return this.auth.me(actor);
  }
}
