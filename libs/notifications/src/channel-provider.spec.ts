import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { LogProvider, maskAddress, WebhookProvider } from './channel-provider';
import type { DeliveryRow } from './notifications.repository';

const delivery = (channel: DeliveryRow['channel'], address: string): DeliveryRow => ({
  id: 'd1',
  user_id: 'u1',
  channel,
  address,
  type: 'order.dispatched',
  title: 't',
  body: 'b',
  order_id: null,
  status: 'pending',
  attempts: 0,
  last_error: null,
  not_before: new Date(0),
  created_at: new Date(0),
  finished_at: null,
});

describe('the log provider never logs a whole address', () => {
  afterEach(() => jest.restoreAllMocks());

  it('masks phone numbers, e-mail addresses and OpenIDs', () => {
    expect(maskAddress('sms', '13812341234')).toBe('138****1234');
    expect(maskAddress('email', 'wang.laoshi@example.cn')).toBe('w***@example.cn');
    expect(maskAddress('wechat', 'oAbCdEfGhIjK123')).toBe('oAbC***');
  });

  it.each([
    ['sms', '13812341234'],
    ['email', 'wang.laoshi@example.cn'],
    ['wechat', 'oAbCdEfGhIjK123'],
  ] as const)('logs a %s delivery without its address', async (channel, address) => {
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    await new LogProvider().send(delivery(channel, address));
    expect(log).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(log.mock.calls)).not.toContain(address);
  });
});

describe('the log provider and sign-up codes', () => {
  afterEach(() => jest.restoreAllMocks());
  const code = { ...delivery('sms', '13812341234'), type: 'auth.phone_code', body: '【科普派单】您的验证码是 482913，5 分钟内有效，请勿告诉他人。' };

  it('shows the 6 digits outside production, so a developer can sign up with the log provider', async () => {
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    await new LogProvider({ showPhoneCodes: true }).send(code);
    expect(JSON.stringify(log.mock.calls)).toContain('482913');
    expect(JSON.stringify(log.mock.calls)).not.toContain('13812341234');
  });

  it('never in production, nor the body of any other message', async () => {
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    await new LogProvider({ showPhoneCodes: false }).send(code);
    await new LogProvider({ showPhoneCodes: true }).send({ ...delivery('sms', '13812341234'), body: '工单 123456 已派发' });
    expect(JSON.stringify(log.mock.calls)).not.toContain('482913');
    expect(JSON.stringify(log.mock.calls)).not.toContain('123456');
  });
});

describe('the webhook provider (a local HTTP server as the provider)', () => {
  const SECRET = 'provider-shared-secret-0123456789abcdef';
  let server: Server;
  let base: string;
  let received: { path: string; headers: IncomingHttpHeaders; body: string }[];
  let answer: (path: string) => { status: number; headers?: Record<string, string> };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const { status, headers } = answer(req.url ?? '');
        res.writeHead(status, headers).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    received = [];
    answer = () => ({ status: 204 });
  });

  it('signs each call: X-Kepu-Signature is sha256=<hex HMAC-SHA256 of the raw body> with NOTIFY_WEBHOOK_SECRET', async () => {
    await new WebhookProvider(`${base}/send`, SECRET).send({ ...delivery('sms', '13812341234'), body: '工单已派发 ✓' });
    expect(received).toHaveLength(1);
    const [call] = received;
    const expected = `sha256=${createHmac('sha256', SECRET).update(Buffer.from(call!.body, 'utf8')).digest('hex')}`;
    expect(call!.headers['x-kepu-signature']).toBe(expected);
    expect(call!.headers['idempotency-key']).toBe('d1');
    expect(JSON.parse(call!.body)).toMatchObject({ deliveryId: 'd1', channel: 'sms', to: '13812341234', body: '工单已派发 ✓' });
    // A different secret gives a different signature: the provider can tell a forged call.
    expect(call!.headers['x-kepu-signature']).not.toBe(`sha256=${createHmac('sha256', 'another-secret').update(call!.body).digest('hex')}`);
  });

  it('follows no redirect: a 3xx is a failed delivery and the redirect target is never called', async () => {
    answer = (path) => (path === '/send' ? { status: 307, headers: { location: `${base}/elsewhere` } } : { status: 200 });
    await expect(new WebhookProvider(`${base}/send`, SECRET).send(delivery('sms', '13812341234'))).rejects.toThrow(/redirect \(307\)/);
    answer = (path) => (path === '/send' ? { status: 302, headers: { location: `${base}/elsewhere` } } : { status: 200 });
    await expect(new WebhookProvider(`${base}/send`, SECRET).send(delivery('sms', '13812341234'))).rejects.toThrow(/redirect \(302\)/);
    expect(received.map((r) => r.path)).toEqual(['/send', '/send']);
  });

  it('any other non-2xx is a failure, a 2xx a success', async () => {
    answer = () => ({ status: 500 });
    await expect(new WebhookProvider(`${base}/send`, SECRET).send(delivery('email', 'a@b.cn'))).rejects.toThrow(/500/);
    answer = () => ({ status: 200 });
    await expect(new WebhookProvider(`${base}/send`, SECRET).send(delivery('email', 'a@b.cn'))).resolves.toBeUndefined();
  });
});
