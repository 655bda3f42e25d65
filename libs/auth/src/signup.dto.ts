import { MAINLAND_MOBILE_INPUT } from '@kepu/core';
import { IsAcceptablePassword, IsOmittable } from '@kepu/http';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsIn, IsString, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';

export const PHONE_CODE_PURPOSES = ['register', 'change_phone'] as const;

const PHONE_MESSAGE = 'phone must be a mainland mobile number: 11 digits starting 13–19, optionally after +86';

export class PhoneCodeRequestDto {
  @ApiProperty({ example: '13812341234', pattern: MAINLAND_MOBILE_INPUT.source, maxLength: 14 })
  @IsString()
  @Matches(MAINLAND_MOBILE_INPUT, { message: PHONE_MESSAGE })
  phone: string;

  @ApiProperty({ enum: PHONE_CODE_PURPOSES })
  @IsIn(PHONE_CODE_PURPOSES)
  purpose: (typeof PHONE_CODE_PURPOSES)[number];
}

export class PhoneCodeSentView {
  @ApiProperty({ description: 'Seconds the code stays valid' }) expiresIn: number;
}

export class RegisterDto {
  @ApiProperty({ example: '13812341234', pattern: MAINLAND_MOBILE_INPUT.source, maxLength: 14 })
  @IsString()
  @Matches(MAINLAND_MOBILE_INPUT, { message: PHONE_MESSAGE })
  phone: string;

  @ApiProperty({ example: '482913', pattern: '^\\d{6}$', description: 'The 6 digits of the SMS (POST /auth/phone-codes, purpose register)' })
  @IsString()
  @Matches(/^\d{6}$/, { message: 'code must be 6 digits' })
  code: string;

  @IsString()
  @IsAcceptablePassword()
  password: string;

  @ApiProperty({ example: '张阿姨', maxLength: 100 })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @Matches(/\S/, { message: 'displayName must not be blank' })
  displayName: string;

  @ApiProperty({ example: '110108001001', pattern: '^\\d{12}$' })
  @IsString()
  @Matches(/^\d{12}$/, { message: 'communityCode must be 12 digits' })
  communityCode: string;

  @ApiPropertyOptional({ example: 'zhang.ayi', pattern: '^[A-Za-z0-9._-]{3,64}$', description: 'Default: the phone number (11 digits)' })
  @IsOmittable()
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{3,64}$/, { message: 'username must be 3–64 letters, digits, dots, dashes or underscores' })
  username?: string;
}

export class ChangePhoneDto {
  @ApiProperty({ example: '13812341234', pattern: MAINLAND_MOBILE_INPUT.source, maxLength: 14 })
  @IsString()
  @Matches(MAINLAND_MOBILE_INPUT, { message: PHONE_MESSAGE })
  phone: string;

  @ApiProperty({ example: '482913', pattern: '^\\d{6}$', description: 'The 6 digits of the SMS (POST /auth/phone-codes, purpose change_phone)' })
  @IsString()
  @Matches(/^\d{6}$/, { message: 'code must be 6 digits' })
  code: string;
}

/** Absent: unchanged; null: removed. */
export class ContactDto {
  @ApiPropertyOptional({ type: String, nullable: true, example: 'zhang@example.cn', maxLength: 200, description: 'for e-mail notifications; null removes it' })
  @ValidateIf((_, value) => value !== undefined && value !== null)
  @IsEmail({}, { message: 'email must be an e-mail address' })
  @MaxLength(200)
  email?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, pattern: '^[\\w-]{6,64}$', description: 'WeChat OpenID, for WeChat notifications; null removes it' })
  @ValidateIf((_, value) => value !== undefined && value !== null)
  @Matches(/^[\w-]{6,64}$/, { message: 'wechatOpenId must be 6–64 letters, digits, dashes or underscores' })
  wechatOpenId?: string | null;
}
