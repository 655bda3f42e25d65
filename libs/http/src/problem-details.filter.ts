import { DomainError, type FieldError } from '@kepu/core';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import type { FastifyReply } from 'fastify';
import type { Duplex } from 'node:stream';
import { QueryFailedError } from 'typeorm';

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export interface Problem {
  body: ProblemDetails;
  headers: Record<string, string>;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const CODES: Record<number, string> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
  500: 'INTERNAL_ERROR',
  503: 'DEPENDENCY_UNAVAILABLE',
};

export function problem(status: number, code: string, detail: string, errors?: FieldError[], headers: Record<string, string> = {}): Problem {
  const body: ProblemDetails = {
    type: `https://kepu-dispatch.example/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
  };
  if (errors && errors.length > 0) body.errors = errors;
  return { body, headers };
}

/** PostgreSQL errors that mean "the database is not reachable", not "the request is wrong". */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08006']);
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND']);

/** Maps anything thrown to RFC 9457 problem details. Never a stack trace, never a database message. */
export function toProblem(error: unknown): Problem {
  if (error instanceof DomainError) return problem(error.status, error.code, error.message, error.errors, error.headers);
  if (error instanceof ThrottlerException) return problem(429, 'RATE_LIMITED', 'Too many requests; try again later.', undefined, { 'Retry-After': '60' });
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const detail = status >= 500 ? 'Unexpected error.' : httpExceptionDetail(error);
    return problem(status, CODES[status] ?? `HTTP_${status}`, detail);
  }
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    // Fastify's own refusals: malformed JSON, wrong content type, body too large.
    const status = fastifyError.statusCode === 400 ? 400 : fastifyError.statusCode;
    return problem(status, CODES[status] ?? `HTTP_${status}`, fastifyMessage(fastifyError));
  }
  if (error instanceof QueryFailedError) {
    const sqlState = (error as QueryFailedError & { code?: string }).code ?? '';
    if (UNAVAILABLE_SQLSTATES.has(sqlState)) return unavailable();
    // 22021/22P05: text PostgreSQL cannot store, e.g. a NUL character (U+0000) that no DTO refused.
    if (['22P02', '22007', '22008', '22003', '22001', '22021', '22P05'].includes(sqlState))
      return problem(400, 'VALIDATION_FAILED', 'A value has the wrong form or is out of range.');
    if (sqlState === '40001' || sqlState === '40P01') return problem(409, 'CONCURRENT_UPDATE', 'A concurrent change won; try again.');
    // A row the request points at is not there (any more), e.g. a still valid token of a user since removed.
    if (sqlState === '23503') return problem(422, 'UNKNOWN_REFERENCE', 'The request refers to something that does not exist.');
  }
  const code = (error as { code?: string })?.code;
  const message = (error as { message?: string })?.message ?? '';
  if ((code && UNAVAILABLE_NODE_CODES.has(code)) || /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED/i.test(message))
    return unavailable();
  return problem(500, 'INTERNAL_ERROR', 'Unexpected error. It has been logged.');
}

function unavailable(): Problem {
  return problem(503, 'DEPENDENCY_UNAVAILABLE', 'A dependency is unavailable; try again shortly.', undefined, { 'Retry-After': '5' });
}

function httpExceptionDetail(error: HttpException): string {
  const response = error.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  if (typeof message === 'string') return message;
  return error.message;
}

function fastifyMessage(error: { code?: string; message?: string }): string {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'The body is not valid JSON.';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'The body is too large.';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Unsupported content type; send application/json.';
    case 'FST_ERR_BAD_URL':
      return 'The URL is not valid (a malformed percent-escape?).';
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return 'A path parameter is too long.';
    default:
      return 'The request could not be read.';
  }
}

/**
 * Fastify answers some refusals before any route or filter runs: a URL it cannot
 * decode, a path parameter over its length limit (`frameworkErrors`), and what
 * Node's HTTP parser rejects (`clientErrorHandler`: headers too large, a broken
 * request line). These answer problem details too, not Fastify's own JSON.
 */
export function frameworkErrorHandler(error: unknown, _request: unknown, reply: FastifyReply): void {
  sendProblem(reply, toProblem(error));
}

export function clientErrorHandler(error: Error & { code?: string }, socket: Duplex): void {
  // A reset connection has nobody to answer (as Fastify's default handler).
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const detail = status === 408 ? 'The request took too long to arrive.' : status === 431 ? 'The request headers are too large.' : 'The request could not be read.';
  const body = JSON.stringify(problem(status, CODES[status] ?? `HTTP_${status}`, detail).body);
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${TITLES[status]}\r\nContent-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  socket.destroy(error);
}

export function sendProblem(reply: FastifyReply, p: Problem): void {
  void reply
    .status(p.body.status)
    .headers(p.headers)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .send(JSON.stringify(p.body));
}

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(error: unknown, host: ArgumentsHost): void {
    const p = toProblem(error);
    if (p.body.status >= 500) this.logger.error({ err: error }, 'request failed');
    sendProblem(host.switchToHttp().getResponse<FastifyReply>(), p);
  }
}
