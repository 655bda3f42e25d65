import { PASSWORD_MAX_LENGTH, passwordPolicyViolations } from '@kepu/core';
import { getMetadataStorage } from 'class-validator';
// every library's DTOs, as the API loads them
import './app.module';
import { declareValidatorLimits, maxLengthOfPattern } from './validator-limits';

describe('the longest string a validator pattern accepts', () => {
  it.each([
    [/^\d{12}$/, 12],
    [/^\d{6}$/, 6],
    [/^[\w-]{6,64}$/, 64],
    [/^\d{2}:\d{2}$/, 5],
    [/^\+?\d{7,15}$/, 16],
    [/^(?:[01]\d|2[0-3]):[0-5]\d$/, 5],
    [/^(ab|cde)x?$/, 4],
  ])('%s → %s', (pattern, expected) => {
    expect(maxLengthOfPattern(pattern)).toBe(expected);
  });

  it.each([[/\S/], [/^\d+$/], [/^a.*$/], [/^\d{2,}$/], [/(Z|[+-]\d{2}:?\d{2})$/], [/^abc/]])('%s: unbounded or not anchored → null', (pattern) => {
    expect(maxLengthOfPattern(pattern)).toBeNull();
  });
});

describe('the document declares no limit the validators do not enforce', () => {
  it('every ApiProperty maxLength / maxItems / maximum / minimum of a validated class is a validator\'s', () => {
    declareValidatorLimits();
    const storage = getMetadataStorage() as unknown as { validationMetadatas: Map<unknown, { name?: string; propertyName: string; constraints?: unknown[]; each?: boolean }[]> };
    const mismatches: string[] = [];
    let checked = 0;
    for (const [target, metadatas] of storage.validationMetadatas) {
      if (typeof target !== 'function') continue;
      const byProperty = new Map<string, typeof metadatas>();
      for (const m of metadatas) byProperty.set(m.propertyName, [...(byProperty.get(m.propertyName) ?? []), m]);
      for (const [property, validators] of byProperty) {
        const options = Reflect.getMetadata('swagger/apiModelProperties', (target as { prototype: object }).prototype, property) as Record<string, unknown> | undefined;
        if (!options) continue;
        checked++;
        const own = validators.filter((v) => !v.each);
        const enforced = (name: string) => own.filter((v) => v.name === name).map((v) => v.constraints?.[0]);
        const patternMax = own
          .filter((v) => v.name === 'matches' && v.constraints?.[0] instanceof RegExp)
          .map((v) => maxLengthOfPattern(v.constraints?.[0] as RegExp))
          .filter((n): n is number => n !== null);
        const at = `${(target as { name: string }).name}.${property}`;
        if (options.maxLength !== undefined) {
          const bounds = [...enforced('maxLength'), ...(own.some((v) => v.name === 'isAcceptablePassword') ? [PASSWORD_MAX_LENGTH] : []), ...own.filter((v) => v.name === 'isLength').map((v) => v.constraints?.[1]), ...patternMax, ...(own.some((v) => v.name === 'isUuid') ? [36] : [])];
          if (!bounds.some((b) => typeof b === 'number' && b <= (options.maxLength as number))) mismatches.push(`${at}: maxLength ${String(options.maxLength)} not enforced (${JSON.stringify(bounds)})`);
        }
        if (options.maxItems !== undefined && !enforced('arrayMaxSize').some((b) => typeof b === 'number' && b <= (options.maxItems as number)))
          mismatches.push(`${at}: maxItems ${String(options.maxItems)} not enforced`);
        if (options.maximum !== undefined && !enforced('max').some((b) => typeof b === 'number' && b <= (options.maximum as number)))
          mismatches.push(`${at}: maximum ${String(options.maximum)} not enforced`);
        if (options.minimum !== undefined && !enforced('min').some((b) => typeof b === 'number' && b >= (options.minimum as number)))
          mismatches.push(`${at}: minimum ${String(options.minimum)} not enforced`);
      }
    }
    expect(checked).toBeGreaterThan(100);
    // the password policy's own bound (libs/core), enforced by @IsAcceptablePassword
    expect(passwordPolicyViolations(`a1${'x'.repeat(PASSWORD_MAX_LENGTH)}`, undefined)).not.toEqual([]);
    expect(mismatches).toEqual([]);
  });
});
