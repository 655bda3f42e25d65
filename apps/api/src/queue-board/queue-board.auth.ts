import type { TokenService } from '@kepu/auth';
import { type Actor, DomainError } from '@kepu/core';
import { problem, sendProblem } from '@kepu/http';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Carries a city_admin's access token for the board's own page and API calls, which send no bearer header. */
export const QUEUE_BOARD_COOKIE = 'kepu_admin';

const SIGN_IN_HINT = 'Send Authorization: Bearer <accessToken> of a city_admin, or open /admin/queues?token=<accessToken> in the browser.';

/**
 * The board is raw Fastify routes, which the global Nest guard never sees, so
 * this onRequest hook guards everything under `basePath`:
 * - a city_admin token as `Authorization: Bearer` or in the `kepu_admin` cookie passes;
 * - `GET …?token=<accessToken>` (a city_admin's) sets that cookie for the token's
 *   remaining lifetime and redirects to the same page without the token in the URL;
 * - anything else is 401 UNAUTHENTICATED, or 403 FORBIDDEN for another role's valid token.
 * The cookie is `Secure` in production (`secureCookie`) and on any https request.
 */
export function queueBoardAuthHook(tokens: TokenService, basePath: string, options: { secureCookie: boolean } = { secureCookie: false }) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const queryToken = (request.query as Record<string, unknown> | undefined)?.token;
    if (request.method === 'GET' && typeof queryToken === 'string') {
      const refusal = await refusalFor(tokens, queryToken);
      if (refusal) return refuse(reply, refusal);
      // Always Secure in production (options.secureCookie): TLS usually ends at a proxy, so the request may look like http here.
      const secure = options.secureCookie || request.protocol === 'https' ? '; Secure' : '';
      const cookie = `${QUEUE_BOARD_COOKIE}=${queryToken}; Path=${basePath}; Max-Age=${secondsLeft(queryToken, tokens.expiresInSeconds)}; HttpOnly; SameSite=Strict${secure}`;
      return reply.header('set-cookie', cookie).header('cache-control', 'no-store').redirect(withoutToken(request.url), 303);
    }
    const token = bearerToken(request.headers.authorization) ?? cookieValue(request.headers.cookie, QUEUE_BOARD_COOKIE);
    if (!token) return refuse(reply, { status: 401, code: 'UNAUTHENTICATED', detail: SIGN_IN_HINT });
    const refusal = await refusalFor(tokens, token);
    if (refusal) return refuse(reply, refusal);
    return undefined;
  };
}

interface Refusal {
  status: number;
  code: string;
  detail: string;
}

async function refusalFor(tokens: TokenService, token: string): Promise<Refusal | null> {
  let actor: Actor;
  try {
    actor = await tokens.verify(token);
  } catch (error) {
    if (error instanceof DomainError) return { status: error.status, code: error.code, detail: `${error.message} ${SIGN_IN_HINT}` };
    throw error;
  }
  return actor.role === 'city_admin' ? null : { status: 403, code: 'FORBIDDEN', detail: 'Only city_admin may open the queue dashboard.' };
}

function refuse(reply: FastifyReply, refusal: Refusal): FastifyReply {
  sendProblem(reply, problem(refusal.status, refusal.code, refusal.detail));
  return reply;
}

function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const pair of (header ?? '').split(';')) {
    const separator = pair.indexOf('=');
    if (separator > 0 && pair.slice(0, separator).trim() === name) return pair.slice(separator + 1).trim() || undefined;
  }
  return undefined;
}

/** Seconds until the (already verified) token expires, so the cookie dies with it. */
function secondsLeft(token: string, fallbackSeconds: number): number {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    if (typeof claims.exp === 'number') return Math.max(0, claims.exp - Math.floor(Date.now() / 1000));
  } catch {
    // verified tokens always carry exp; fall through to the configured lifetime
  }
  return fallbackSeconds;
}

function withoutToken(url: string): string {
  const target = new URL(url, 'http://board.invalid');
  target.searchParams.delete('token');
  return `${target.pathname}${target.search}`;
}
