/**
 * Domain errors carry the stable upper-snake `code` of API.md; one global
 * filter maps them to RFC 9457 problem details.
 */
export interface FieldError {
  field: string;
  message: string;
}

export abstract class DomainError extends Error {
  abstract readonly status: number;
  abstract readonly title: string;
  constructor(
    readonly code: string,
    detail: string,
    readonly errors?: FieldError[],
    /** Extra headers the answer must carry, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  readonly status = 400;
  readonly title = 'Bad Request';
  constructor(detail: string, errors?: FieldError[]) {
    super('VALIDATION_FAILED', detail, errors);
  }
}

export class UnauthenticatedError extends DomainError {
  readonly status = 401;
  readonly title = 'Unauthorized';
  constructor(detail = 'Missing, invalid or expired credentials.') {
    super('UNAUTHENTICATED', detail);
  }
}

export class ForbiddenError extends DomainError {
  readonly status = 403;
  readonly title = 'Forbidden';
  constructor(detail = 'Your role may not do this.') {
    super('FORBIDDEN', detail);
  }
}

export class NotFoundError extends DomainError {
  readonly status = 404;
  readonly title = 'Not Found';
  constructor(detail = 'Not found.') {
    super('NOT_FOUND', detail);
  }
}

export class ConflictError extends DomainError {
  readonly status = 409;
  readonly title = 'Conflict';
}

export class OrderStateConflictError extends ConflictError {
  constructor(detail = 'The order changed under you or is not in a state that allows this.') {
    super('ORDER_STATE_CONFLICT', detail);
  }
}

export class BusinessRuleError extends DomainError {
  readonly status = 422;
  readonly title = 'Unprocessable Content';
}

export class RateLimitedError extends DomainError {
  readonly status = 429;
  readonly title = 'Too Many Requests';
  constructor(retryAfterSeconds: number, detail = 'Too many requests; try again later.') {
    super('RATE_LIMITED', detail, undefined, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
  }
}

export class DependencyUnavailableError extends DomainError {
  readonly status = 503;
  readonly title = 'Service Unavailable';
  constructor(detail = 'A dependency is unavailable; try again shortly.', retryAfterSeconds = 5) {
    super('DEPENDENCY_UNAVAILABLE', detail, undefined, { 'Retry-After': String(retryAfterSeconds) });
  }
}

/**
 * Too many failed logins for one username: 429 like the other limits (API.md),
 * with its own code so a client can say "locked, try again later".
 */
export class AccountLockedError extends DomainError {
  readonly status = 429;
  readonly title = 'Too Many Requests';
  constructor(retryAfterSeconds: number) {
    super('ACCOUNT_LOCKED', 'Too many failed logins for this username; it is locked for a while.', undefined, {
      'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))),
    });
  }
}
