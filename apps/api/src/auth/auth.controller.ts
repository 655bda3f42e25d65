import { AuthService, CurrentActor, LoginDto, LoginResultView, LoginThrottlerGuard, Public, UserView } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
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
  @ApiTooManyRequestsResponse({ type: ProblemView, description: 'Too many attempts (Retry-After)' })
  login(@Body() dto: LoginDto): Promise<LoginResultView> {
    return this.auth.login(dto);
  }

  @ApiBearerAuth()
  @Get('me')
  @ApiOkResponse({ type: UserView })
  me(@CurrentActor() actor: Actor): Promise<UserView> {
    return this.auth.me(actor);
  }
}
