import { getMetadataStorage } from 'class-validator';

/** @nestjs/swagger's metadata key of one property's ApiProperty options (DECORATORS.API_MODEL_PROPERTIES). */
const API_MODEL_PROPERTIES = 'swagger/apiModelProperties';

interface ValidationMetadataLike {
  name?: string;
  target: unknown;
  propertyName: string;
  constraints?: unknown[];
  each?: boolean;
}

type PropertyOptions = Record<string, unknown>;

/**
 * The longest string an anchored regular expression accepts, when it is simple
 * enough to tell (literals, escapes and character classes with bounded
 * quantifiers, alternatives in groups); null when unbounded or not understood.
 * `^\d{12}$` → 12, `^[\w-]{6,64}$` → 64, `^\d{2}:\d{2}$` → 5.
 */
export function maxLengthOfPattern(pattern: RegExp): number | null {
  const source = pattern.source;
  if (!source.startsWith('^') || !source.endsWith('$') || source.endsWith('\\$')) return null;
  let i = 1;
  const end = source.length - 1;
  const parseSequence = (): number | null => {
    let total = 0;
    while (i < end && source[i] !== '|' && source[i] !== ')') {
      let atom: number | null;
      const c = source[i];
      if (c === '\\') {
        i += 2;
        atom = 1;
      } else if (c === '[') {
        i++;
        while (i < end && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
        if (source[i] !== ']') return null;
        i++;
        atom = 1;
      } else if (c === '(') {
        i++;
        if (source[i] === '?') {
          if (source[i + 1] !== ':') return null;
          i += 2;
        }
        let longest = parseSequence();
        while (source[i] === '|') {
          i++;
          const next = parseSequence();
          longest = longest === null || next === null ? null : Math.max(longest, next);
        }
        if (source[i] !== ')' || longest === null) return null;
        i++;
        atom = longest;
      } else if (c === '.' || c === '^' || c === '$') {
        return null;
      } else {
        i++;
        atom = 1;
      }
      // quantifier
      const q = source[i];
      let times = 1;
      if (q === '*' || q === '+') return null;
      if (q === '?') {
        i++;
      } else if (q === '{') {
        const close = source.indexOf('}', i);
        const m = /^\{(\d+)(,(\d*))?\}$/.exec(source.slice(i, close + 1));
        if (!m) return null;
        if (m[2] !== undefined && (m[3] === undefined || m[3] === '')) return null;
        times = Number(m[3] ?? m[1]);
        i = close + 1;
      }
      total += atom * times;
    }
    return total;
  };
  const first = parseSequence();
  let longest = first;
  while (source[i] === '|') {
    i++;
    const next = parseSequence();
    longest = longest === null || next === null ? null : Math.max(longest, next);
  }
  return i === end ? longest : null;
}

/** What one validator says about a property, in OpenAPI terms; null when it says nothing the document shows. */
function limitsOf(meta: ValidationMetadataLike): PropertyOptions | null {
  const [first, second] = meta.constraints ?? [];
  switch (meta.name) {
    case 'maxLength':
      return { maxLength: first };
    case 'minLength':
      return { minLength: first };
    case 'isLength':
      return { minLength: first, ...(typeof second === 'number' ? { maxLength: second } : {}) };
    case 'matches': {
      const regex = first instanceof RegExp ? first : typeof first === 'string' ? new RegExp(first, typeof second === 'string' ? second : '') : null;
      if (!regex) return null;
      const max = maxLengthOfPattern(regex);
      return { pattern: regex.source, ...(max !== null ? { maxLength: max } : {}) };
    }
    case 'isUuid':
      return { format: 'uuid', maxLength: 36 };
    case 'arrayMaxSize':
      return { maxItems: first };
    case 'arrayMinSize':
      return { minItems: first };
    case 'max':
      return { maximum: first };
    case 'min':
      return { minimum: first };
    case 'isIn':
      return { enum: first };
    case 'isInt':
      return { format: 'int32' };
    default:
      return null;
  }
}

/**
 * Declares in the OpenAPI document the limits the validators enforce: for every
 * property of every class validated with class-validator that is also an
 * ApiProperty, the bounds of @MaxLength, @Length, @Matches (the pattern, and the
 * longest string it accepts), @IsUUID, @ArrayMaxSize/@ArrayMinSize, @Max/@Min,
 * @IsInt are merged into its ApiProperty options, unless the ApiProperty states
 * its own. So the document never declares a limit the API does not enforce, and
 * a DTO added anywhere is documented with its limits without repeating them.
 * Validators with `each` bound the items of an array.
 */
export function declareValidatorLimits(): void {
  const storage = getMetadataStorage() as unknown as { validationMetadatas: Map<unknown, ValidationMetadataLike[]> };
  for (const [target, metadatas] of storage.validationMetadatas) {
    if (typeof target !== 'function') continue;
    const prototype = (target as { prototype: object }).prototype;
    for (const meta of metadatas) {
      const options = Reflect.getMetadata(API_MODEL_PROPERTIES, prototype, meta.propertyName) as PropertyOptions | undefined;
      if (!options) continue;
      const limits = limitsOf(meta);
      if (!limits) continue;
      const isArray = options.isArray === true || Array.isArray(options.type) || options.type === 'array';
      let updated: PropertyOptions;
      if (meta.each && isArray) {
        const items = (options.items ?? {}) as PropertyOptions;
        updated = { ...options, items: { type: 'string', ...limits, ...items } };
      } else if (meta.each || (isArray && !('maxItems' in limits || 'minItems' in limits))) {
        continue;
      } else {
        if (limits.format === 'int32' && options.type !== Number && options.type !== 'integer' && options.type !== 'number') continue;
        if (limits.format === 'int32') limits.type = 'integer';
        updated = { ...limits, ...options };
        if (limits.type === 'integer') updated.type = 'integer';
      }
      Reflect.defineMetadata(API_MODEL_PROPERTIES, updated, prototype, meta.propertyName);
    }
  }
}
