import { ChangePhoneDto, ContactDto, CurrentActor, LoginResultView, PhoneCodeRequestDto, PhoneCodeSentView, Public, RegisterDto, SignupService, UserView } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import { Body, Controller, HttpCode, Ip, Post, Put } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ApiAuthenticated } from '../api-responses.decorator';
import { ProblemView } from '../problem.view';

@ApiTags('accounts')
@Controller()
export class SignupController {
  constructor(private readonly signup: SignupService) {}

  @Public()
  @Post('auth/phone-codes')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Sends a 6-digit code by SMS (type auth.phone_code), the same answer whether or not the phone has an account',
    description: 'At most 1 a minute and 5 an hour per phone, and PHONE_CODES_PER_ADDRESS_PER_HOUR per client address. A new code replaces the last one of that phone and purpose.',
  })
  @ApiAcceptedResponse({ type: PhoneCodeSentView })
  @ApiBadRequestResponse({ type: ProblemView, description: 'VALIDATION_FAILED' })
  @ApiTooManyRequestsResponse({ type: ProblemView, description: 'RATE_LIMITED (Retry-After)' })
  sendCode(@Body() dto: PhoneCodeRequestDto, @Ip() ip: string): Promise<PhoneCodeSentView> {
    return this.signup.sendCode(dto, ip);
  }

  @Public()
  @Post('auth/register')
  @ApiOperation({ summary: 'A resident signs up with a register code; signed in at once (tokens as for a login)' })
  @ApiCreatedResponse({ type: LoginResultView })
  @ApiBadRequestResponse({ type: ProblemView, description: 'VALIDATION_FAILED (the code is not spent)' })
  @ApiConflictResponse({ type: ProblemView, description: 'PHONE_TAKEN, USERNAME_TAKEN (the code is not spent)' })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: 'INVALID_PHONE_CODE: wrong, expired or used (5 wrong tries spend it); UNKNOWN_COMMUNITY' })
  @ApiTooManyRequestsResponse({ type: ProblemView, description: 'RATE_LIMITED: too many attempts from this address (Retry-After)' })
  register(@Body() dto: RegisterDto, @Ip() ip: string): Promise<LoginResultView> {
    return this.signup.register(dto, ip);
  }

  @ApiAuthenticated()
  @Put('me/contact')
  @ApiOperation({ summary: 'Sets or removes (null) the e-mail address and WeChat OpenID the notification channels use' })
  @ApiOkResponse({ type: UserView })
  updateContact(@CurrentActor() actor: Actor, @Body() dto: ContactDto): Promise<UserView> {
    return this.signup.updateContact(actor, dto);
  }

  @ApiAuthenticated()
  @Post('me/phone')
  @HttpCode(200)
  @ApiOperation({ summary: 'Changes the own phone number with a change_phone code sent to the new number' })
  @ApiOkResponse({ type: UserView })
  @ApiConflictResponse({ type: ProblemView, description: 'PHONE_TAKEN: another account has the number' })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: 'INVALID_PHONE_CODE' })
  changePhone(@CurrentActor() actor: Actor, @Body() dto: ChangePhoneDto, @Ip() ip: string): Promise<UserView> {
    return this.signup.changePhone(actor, dto, ip);
  }
}
