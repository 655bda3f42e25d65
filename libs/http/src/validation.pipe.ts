import { type FieldError, ValidationError } from '@kepu/core';
import { applyDecorators, ValidationPipe, type ValidationError as ClassValidatorError } from '@nestjs/common';
import { IsISO8601, Matches, MaxLength, ValidateIf } from 'class-validator';

function flatten(errors: ClassValidatorError[], prefix = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** Whitelisted DTOs, unknown fields refused, every problem listed by field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const fieldErrors = flatten(errors);
      return new ValidationError(fieldErrors.map((e) => `${e.field}: ${e.message}`).join('; ') || 'Invalid request.', fieldErrors);
    },
  });
}

/**
 * Like @IsOptional(), but only for an absent field: an explicit `null` is still
 * validated (and refused), so it can never reach a query as "given".
 */
export const IsOmittable = () => ValidateIf((_object, value) => value !== undefined);

/** ISO 8601 with an explicit offset: a bare local time is ambiguous across time zones. */
const WITH_OFFSET = /(Z|[+-]\d{2}:?\d{2})$/;

/** An instant as the API takes it: strict ISO 8601 with an offset, e.g. 2027-03-14T09:00:00+08:00. */
export const IsInstant = () =>
  applyDecorators(
    IsISO8601({ strict: true, strictSeparator: true }),
    Matches(WITH_OFFSET, { message: '$property must be an ISO 8601 time with an offset, e.g. 2027-03-14T09:00:00+08:00' }),
    MaxLength(INSTANT_MAX_LENGTH),
  );

/** The longest instant taken: 2027-03-14T09:00:00.123456789+08:00 is 35 characters. */
export const INSTANT_MAX_LENGTH = 40;
