import { ValidationError } from '@kepu/core';
import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The OpenAPI schema a parameter pipe enforces; apps/api documents every path parameter by its pipe's schema. */
export interface DocumentedParamPipe {
  readonly openApiSchema: { type: 'string'; format?: string; maxLength: number; pattern: string };
}

/** Path ids are UUIDs; anything else is a malformed request, not a missing object. */
@Injectable()
export class UuidParamPipe implements PipeTransform<string, string>, DocumentedParamPipe {
  static readonly openApiSchema = { type: 'string', format: 'uuid', maxLength: 36, pattern: UUID.source } as const;
  readonly openApiSchema = UuidParamPipe.openApiSchema;

  transform(value: string, metadata: ArgumentMetadata): string {
    if (!UUID.test(value)) {
      const field = metadata.data ?? 'id';
      throw new ValidationError(`${field} must be a UUID.`, [{ field, message: 'must be a UUID' }]);
    }
    return value.toLowerCase();
  }
}

/** A region code path parameter: exactly `digits` digits (6 a district, 9 a subdistrict, 12 a community), else 400. */
export class RegionCodeParamPipe implements PipeTransform<string, string>, DocumentedParamPipe {
  readonly openApiSchema: DocumentedParamPipe['openApiSchema'];
  private readonly pattern: RegExp;

  constructor(private readonly digits: 6 | 9 | 12) {
    this.pattern = new RegExp(`^\\d{${digits}}$`);
    this.openApiSchema = { type: 'string', maxLength: digits, pattern: this.pattern.source };
  }

  transform(value: string, metadata: ArgumentMetadata): string {
    if (!this.pattern.test(value)) {
      const field = metadata.data ?? 'code';
      throw new ValidationError(`${field} must be ${this.digits} digits.`, [{ field, message: `must be a ${this.digits}-digit code` }]);
    }
    return value;
  }
}
