import { ValidationError } from '@kepu/core';
import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Path ids are UUIDs; anything else is a malformed request, not a missing object. */
@Injectable()
export class UuidParamPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (!UUID.test(value)) {
      const field = metadata.data ?? 'id';
      throw new ValidationError(`${field} must be a UUID.`, [{ field, message: 'must be a UUID' }]);
    }
    return value.toLowerCase();
  }
}
