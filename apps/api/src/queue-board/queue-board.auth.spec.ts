import type { TokenService } from '@kepu/auth';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { queueBoardAuthHook } from './queue-board.auth';

const token = `h.${Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url')}.s`;
const tokens = { verify: () => Promise.resolve({ role: 'city_admin' }), expiresInSeconds: 900 } as unknown as TokenService;

/** The Set-Cookie the hook answers to `GET /admin/queues?token=` over `protocol`. */
async function cookieFor(protocol: 'http' | 'https', options?: { secureCookie: boolean }): Promise<string> {
  const headers: Record<string, string> = {};
  const reply = {
    header(name: string, value: string) {
      headers[name] = value;
      return reply;
    },
    redirect: () => reply,
  } as unknown as FastifyReply;
  const request = { method: 'GET', protocol, url: `/admin/queues?token=${token}`, query: { token }, headers: {} } as unknown as FastifyRequest;
  await queueBoardAuthHook(tokens, '/admin/queues', options)(request, reply);
  return headers['set-cookie'] ?? '';
}

describe('the queue board cookie', () => {
  it('is Secure in production even when the request reached the API over http (TLS ended at a proxy)', async () => {
    expect(await cookieFor('http', { secureCookie: true })).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
  });

  it('outside production, Secure only over https (a developer opens http://127.0.0.1)', async () => {
    expect(await cookieFor('http', { secureCookie: false })).not.toContain('Secure');
    expect(await cookieFor('https', { secureCookie: false })).toMatch(/; Secure$/);
  });
});
