import { AppConfig } from '@kepu/config';
import { RateLimitedError } from '@kepu/core';
import { applyDecorators, type CallHandler, createParamDecorator, type ExecutionContext, Injectable, type NestInterceptor, SetMetadata, type Type, UseInterceptors } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import { ApiExtension } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { catchError, from, map, type Observable, of, switchMap, tap, throwError } from 'rxjs';
import type { EntityManager } from 'typeorm';
import { type RateLimit, RateLimitService, type RateLimitState, WindowFullError } from './rate-limit.service';

const LIMITED_WRITE = 'kepu:limited-write';
/** The OpenAPI extension a limited operation carries; apps/api's document post-processing documents its headers from it. */
export const RATE_LIMIT_EXTENSION = 'x-kepu-rate-limit';

export interface LimitedWriteOptions {
  /**
   * Also cap the writes of one user on one object a day, the object's id read
   * from this route parameter (e.g. `'id'` for `orders/:id/slots/claim`), at
   * SLOT_CLAIMS_PER_ORDER_PER_DAY.
   */
  perObjectParam?: string;
  /**
   * The route's hourly limit when WRITE_RATE_LIMITS does not name it, from a
   * setting of its own (e.g. BROADCASTS_PER_HOUR) instead of WRITE_RATE_LIMIT_PER_HOUR.
   */
  perHour?: (config: AppConfig) => number;
  /**
   * For a route that honours `Idempotency-Key`: the provider that knows which keys
   * already answered a write. The repeat of such a key is a replay that writes
   * nothing, so it is neither counted nor refused, even past the limit.
   */
  replays?: Type<IdempotentReplays>;
  /**
   * The write counts its own hit, in its own transaction, through the
   * `WriteLimitTicket` its handler takes with `@WriteLimit()`: after it has
   * serialized repeats of one Idempotency-Key and found no earlier answer. Repeats
   * racing the first request then replay it instead of spending (or being refused)
   * hits of their own, and a write that rolls back takes its hit back with it.
   */
  countedInWrite?: boolean;
}

/** A limited write's hit, counted by the write itself (LimitedWriteOptions.countedInWrite). */
export interface WriteLimitTicket {
  /**
   * Counts the write in `manager`'s transaction, so a rollback takes it back; throws
   * 429 RATE_LIMITED when a window is full. The write must throw only when that
   * transaction rolled back.
   */
  count(manager: EntityManager): Promise<void>;
}

const TICKET = Symbol('kepu:write-limit-ticket');

/** The handler's WriteLimitTicket (undefined when the route is not limited for this request). */
export const WriteLimit = createParamDecorator((_data: unknown, context: ExecutionContext): WriteLimitTicket | undefined => {
  return context.switchToHttp().getRequest<{ [TICKET]?: WriteLimitTicket }>()[TICKET];
});

/** Which of a user's Idempotency-Keys already answered a write (their repeats replay it). */
export interface IdempotentReplays {
  isAnswered(userId: string, key: string): Promise<boolean>;
}

interface LimitedRoute extends LimitedWriteOptions {
  name: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A write limited per user and shared by every API process (RateLimitService):
 * WRITE_RATE_LIMIT_PER_HOUR a user an hour on this route (WRITE_RATE_LIMITS may
 * name the route with its own limit). Refused writes (any error) and replayed
 * idempotent answers (`Idempotent-Replayed: true`) give their hit back. Answers carry `RateLimit-Policy` and `RateLimit` (IETF draft headers);
 * past the limit, 429 RATE_LIMITED with `Retry-After`. Put it on a handler:
 *
 *     @Post() @LimitedWrite('broadcasts.create') create(...)
 */
export const LimitedWrite = (name: string, options: LimitedWriteOptions = {}) =>
  applyDecorators(
    SetMetadata(LIMITED_WRITE, { name, ...options } satisfies LimitedRoute),
    UseInterceptors(LimitedWriteInterceptor),
    ApiExtension(RATE_LIMIT_EXTENSION, { name, perObject: options.perObjectParam ?? null }),
  );

/** `RateLimit-Policy: 60;w=3600, 5;w=86400` */
export function rateLimitPolicyHeader(limits: readonly RateLimit[]): string {
  return limits.map((l) => `${l.max};w=${l.windowSeconds}`).join(', ');
}

/** `RateLimit: limit=60, remaining=57, reset=1200`, of the limit closest to running out. */
export function rateLimitHeader(states: readonly RateLimitState[]): string {
  const closest = [...states].sort((a, b) => a.remaining - b.remaining || b.resetSeconds - a.resetSeconds)[0];
  return closest ? `limit=${closest.limit.max}, remaining=${closest.remaining}, reset=${closest.resetSeconds}` : '';
}

@Injectable()
export class LimitedWriteInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: RateLimitService,
    private readonly config: AppConfig,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** The limits of a route for one request; the per-object one is keyed by the object's id in its name. */
  limitsOf(route: LimitedRoute, params: Record<string, string | undefined>): RateLimit[] | null {
    const perHour = this.config.writeRateLimitOverrides.get(route.name) ?? route.perHour?.(this.config) ?? this.config.writeRateLimitPerHour;
    const limits: RateLimit[] = [{ name: `write.${route.name}`, max: perHour, windowSeconds: 3600 }];
    if (route.perObjectParam) {
      const id = params[route.perObjectParam] ?? '';
      // not an id: the route's UUID pipe refuses the request, so nothing is counted
      if (!UUID.test(id)) return null;
      limits.push({ name: `write.${route.name}.per-object:${id.toLowerCase()}`, max: this.config.slotClaimsPerOrderPerDay, windowSeconds: 86_400 });
    }
    return limits;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const route = this.reflector.get<LimitedRoute | undefined>(LIMITED_WRITE, context.getHandler());
    const http = context.switchToHttp();
    const request = http.getRequest<{
      actor?: { userId: string };
      params?: Record<string, string | undefined>;
      headers: Record<string, string | string[] | undefined>;
      [TICKET]?: WriteLimitTicket;
    }>();
    const reply = http.getResponse<FastifyReply>();
    const userId = request.actor?.userId;
    const limits = route && userId ? this.limitsOf(route, request.params ?? {}) : null;
    if (!route || !limits || !userId) return next.handle();
    const at = new Date();
    void reply.header('ratelimit-policy', rateLimitPolicyHeader(limits));
    if (route.countedInWrite) {
      let counted: RateLimitState[] | null = null;
      request[TICKET] = { count: async (manager) => void (counted = await this.consume(userId, limits, at, reply, manager)) };
      // counted and answered: what the count left; otherwise (a replay, a refusal, a rollback) what the windows hold now
      const report = async () => void reply.header('ratelimit', rateLimitHeader(counted ?? (await this.limiter.peek(userId, limits, at))));
      return next.handle().pipe(
        switchMap((value: unknown) => from(report()).pipe(map(() => value))),
        catchError((error: unknown) => {
          if (error instanceof RateLimitedError) return throwError(() => error);
          counted = null;
          return from(report()).pipe(switchMap(() => throwError(() => error)));
        }),
      );
    }
    const key = request.headers['idempotency-key'];
    const isReplay = route.replays && typeof key === 'string' ? this.moduleRef.get(route.replays, { strict: false }).isAnswered(userId, key) : Promise.resolve(false);
    return from(isReplay).pipe(switchMap((replay) => this.counted(userId, limits, at, reply, next, replay)));
  }

  /** Counts the write, runs it, gives the hit back if it failed or replayed; a known replay past the limit still runs (it writes nothing). */
  private counted(userId: string, limits: RateLimit[], at: Date, reply: FastifyReply, next: CallHandler, replay: boolean): Observable<unknown> {
    const consumed = this.consume(userId, limits, at, reply).catch((error: unknown) => {
      if (replay && error instanceof RateLimitedError) return null;
      throw error;
    });
    return from(consumed).pipe(
      switchMap((states) => {
        if (states === null) return next.handle();
        return next.handle().pipe(
          // a replayed Idempotency-Key answer wrote nothing: it gives its hit back too
          switchMap((value: unknown) =>
            reply.getHeader('idempotent-replayed') === 'true'
              ? from(this.refund(userId, limits, at, states, reply)).pipe(map(() => value))
              : of(value).pipe(tap(() => void reply.header('ratelimit', rateLimitHeader(states)))),
          ),
          catchError((error: unknown) => from(this.refund(userId, limits, at, states, reply)).pipe(switchMap(() => throwError(() => error)))),
        );
      }),
    );
  }

  private async refund(userId: string, limits: RateLimit[], at: Date, states: RateLimitState[], reply: FastifyReply): Promise<void> {
    await this.limiter.release(userId, limits, at);
    void reply.header('ratelimit', rateLimitHeader(states.map((s) => ({ ...s, remaining: Math.min(s.limit.max, s.remaining + 1) }))));
  }

  private async consume(userId: string, limits: RateLimit[], at: Date, reply: FastifyReply, manager?: EntityManager): Promise<RateLimitState[]> {
    try {
      return await this.limiter.consume(userId, limits, { now: at, manager, detail: 'Too many writes of this kind from your account; try again later (see Retry-After).' });
    } catch (error) {
      if (error instanceof WindowFullError) void reply.header('ratelimit', `limit=${error.limit.max}, remaining=0, reset=${error.headers['Retry-After']}`);
      throw error;
    }
  }
}
