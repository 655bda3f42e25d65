import { ValidationError } from '@kepu/core';
import { depthLimitedJsonParser, exceedsJsonDepth } from './json-body';

describe('JSON body depth limit', () => {
  const nested = (n: number, open = '[', close = ']') => `${open.repeat(n)}1${close.repeat(n)}`;

  it('counts arrays and objects, not brackets inside strings', () => {
    expect(exceedsJsonDepth(nested(32), 32)).toBe(false);
    expect(exceedsJsonDepth(nested(33), 32)).toBe(true);
    expect(exceedsJsonDepth(nested(33, '{"a":', '}'), 32)).toBe(true);
    expect(exceedsJsonDepth(JSON.stringify({ title: '['.repeat(100), quoted: '\\"[[[[' }), 2)).toBe(false);
    expect(exceedsJsonDepth(Buffer.from(JSON.stringify({ a: [{ b: ['汉字'] }] })), 4)).toBe(false);
  });

  it('refuses a too-deep body with VALIDATION_FAILED and hands the others to the wrapped parser', () => {
    const parse = jest.fn((_req: unknown, body: Buffer, done: (e: Error | null, v?: unknown) => void) => done(null, JSON.parse(body.toString())));
    const parser = depthLimitedJsonParser(parse, 32);
    const done = jest.fn();
    parser({}, Buffer.from(nested(5000)), done);
    expect(done.mock.calls[0]?.[0]).toBeInstanceOf(ValidationError);
    expect(done.mock.calls[0]?.[0]).toMatchObject({ status: 400, statusCode: 400, code: 'VALIDATION_FAILED' });
    expect(parse).not.toHaveBeenCalled();
    parser({}, Buffer.from('{"a":[1]}'), done);
    expect(done).toHaveBeenLastCalledWith(null, { a: [1] });
  });
});
