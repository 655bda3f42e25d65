import { ValidationError } from '@kepu/core';

/** Deeper JSON than any request of this API needs (its DTOs nest three or four levels). */
export const MAX_JSON_DEPTH = 32;

/**
 * True when the JSON text nests arrays and objects deeper than `maxDepth`. A
 * linear scan of the bytes (strings skipped), so it runs before parsing: a body
 * of a few thousand `[` parses fine but overflows the stack of the recursive
 * class-transformer behind the validation pipe (a 500 before this check).
 */
export function exceedsJsonDepth(body: Buffer | string, maxDepth = MAX_JSON_DEPTH): boolean {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let depth = 0;
  let isInString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (isInString) {
      if (b === 0x5c) i++; // backslash: skip the escaped byte
      else if (b === 0x22) isInString = false;
    } else if (b === 0x22) isInString = true;
    else if (b === 0x5b || b === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (b === 0x5d || b === 0x7d) depth--;
  }
  return false;
}

type Done = (error: Error | null, body?: unknown) => void;
type Parser = (request: unknown, body: Buffer, done: Done) => void;

/** Wraps Fastify's JSON parser (proto-poisoning checks and all) with the depth limit. */
export function depthLimitedJsonParser(parse: Parser, maxDepth = MAX_JSON_DEPTH): Parser {
  return (request, body, done) => {
    if (exceedsJsonDepth(body, maxDepth)) {
      const error = new ValidationError(`The JSON body nests deeper than ${maxDepth} levels.`, [{ field: '', message: `nested deeper than ${maxDepth} levels` }]);
      // Error handlers of plugins with their own (Bull Board's) read Fastify's `statusCode`, not ours.
      return done(Object.assign(error, { statusCode: 400 }));
    }
    parse(request, body, done);
  };
}
