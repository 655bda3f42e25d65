import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, passwordPolicyViolations } from '@kepu/core';
import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { registerDecorator, type ValidationArguments } from 'class-validator';

const DESCRIPTION =
  `At least ${PASSWORD_MIN_LENGTH} characters with a letter and a digit; not the username (nor the username with fewer than 6 other characters); not a common password.`;

const usernameOf = (args: ValidationArguments): string | undefined => {
  const username = (args.object as { username?: unknown }).username;
  return typeof username === 'string' ? username : undefined;
};

/** The password policy of libs/core (password-policy.ts) on a DTO field, checked against the DTO's `username`. */
export const IsAcceptablePassword = (options: { required: boolean; description?: string } = { required: true }) =>
  applyDecorators(
    ApiProperty({
      required: options.required,
      minLength: PASSWORD_MIN_LENGTH,
      maxLength: PASSWORD_MAX_LENGTH,
      description: options.description ? `${options.description}. ${DESCRIPTION}` : DESCRIPTION,
    }),
    (target: object, propertyName: string | symbol) =>
      registerDecorator({
        name: 'isAcceptablePassword',
        target: target.constructor,
        propertyName: String(propertyName),
        validator: {
          validate: (value: unknown, args: ValidationArguments) =>
            typeof value === 'string' && passwordPolicyViolations(value, usernameOf(args)).length === 0,
          defaultMessage: (args: ValidationArguments) =>
            typeof args.value === 'string' ? passwordPolicyViolations(args.value, usernameOf(args)).join('; ') : 'password must be a string',
        },
      }),
  );
