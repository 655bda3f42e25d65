import { ConflictError, NotFoundError, ValidationError } from '@kepu/core';
import { BadRequestException } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { QueryFailedError } from 'typeorm';
import { clientErrorHandler, toProblem } from './problem-details.filter';

describe('problem details', () => {
  it('maps domain errors with their code and field errors', () => {
    const p = toProblem(new ValidationError('bad', [{ field: 'title', message: 'required' }]));
    expect(p.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', title: 'Bad Request', detail: 'bad', errors: [{ field: 'title', message: 'required' }] });
    expect(p.body.type).toMatch(/validation-failed$/);
    expect(toProblem(new NotFoundError()).body).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect(toProblem(new ConflictError('VENUE_CONFLICT', 'taken')).body).toMatchObject({ status: 409, code: 'VENUE_CONFLICT' });
  });

  it('never leaks a database message or a stack', () => {
    const dbError = new QueryFailedError('SELECT secret FROM users', [], new Error('relation "users" password column leaked'));
    const p = toProblem(dbError);
    expect(p.body).toMatchObject({ status: 500, code: 'INTERNAL_ERROR' });
    expect(JSON.stringify(p.body)).not.toMatch(/secret|password|relation|at /);
    const plain = toProblem(new Error('boom at /work/main/file.ts:1'));
    expect(JSON.stringify(plain.body)).not.toContain('/work/main');
  });

  it('turns an unreachable database into 503 with Retry-After', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const p = toProblem(refused);
    expect(p.body).toMatchObject({ status: 503, code: 'DEPENDENCY_UNAVAILABLE' });
    expect(p.headers['Retry-After']).toBeDefined();
  });

  it('maps framework refusals', () => {
    expect(toProblem(new BadRequestException('Body is not valid JSON')).body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    const limited = toProblem(new ThrottlerException());
    expect(limited.body).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(limited.headers['Retry-After']).toBeDefined();
    expect(toProblem({ statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE', message: 'x' }).body).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  });

  it('maps text PostgreSQL cannot store (a NUL character) to 400', () => {
    const nul = Object.assign(new QueryFailedError('SELECT …', [], new Error('invalid byte sequence for encoding "UTF8": 0x00')), { code: '22021' });
    expect(toProblem(nul).body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  });

  it('maps a foreign key violation to 422 UNKNOWN_REFERENCE without the database message', () => {
    const fk = Object.assign(new QueryFailedError('INSERT …', [], new Error('violates foreign key constraint "x_user_id_fkey"')), { code: '23503' });
    const p = toProblem(fk);
    expect(p.body).toMatchObject({ status: 422, code: 'UNKNOWN_REFERENCE' });
    expect(JSON.stringify(p.body)).not.toMatch(/foreign key|fkey/);
  });

  it('maps the refusals Fastify makes before routing', () => {
    expect(toProblem({ statusCode: 414, code: 'FST_ERR_MAX_PARAM_LENGTH', message: "'/orders/xxxx' is exceeding the max param length" }).body).toMatchObject({
      status: 414,
      code: 'URI_TOO_LONG',
      title: 'URI Too Long',
      detail: 'A path parameter is too long.',
    });
    expect(toProblem({ statusCode: 400, code: 'FST_ERR_BAD_URL', message: "'/%zz' is not a valid url component" }).body.detail).not.toContain('%zz');
  });

  it('answers what Node’s HTTP parser refuses with a problem on the raw socket', () => {
    const written: string[] = [];
    const socket = { destroyed: false, writable: true, write: (s: string) => written.push(s), destroy: jest.fn() };
    clientErrorHandler(Object.assign(new Error('Header overflow'), { code: 'HPE_HEADER_OVERFLOW' }), socket as never);
    expect(written[0]).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\nContent-Type: application\/problem\+json/);
    expect(JSON.parse(written[0]?.split('\r\n\r\n')[1] ?? '')).toMatchObject({ status: 431, code: 'HEADERS_TOO_LARGE' });
    expect(socket.destroy).toHaveBeenCalled();
    const reset = { ...socket, write: jest.fn(), destroy: jest.fn() };
    clientErrorHandler(Object.assign(new Error('reset'), { code: 'ECONNRESET' }), reset as never);
    expect(reset.write).not.toHaveBeenCalled();
  });
});
