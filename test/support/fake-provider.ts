import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the webhook provider of API.md receives. */
export interface ProviderMessage {
  deliveryId: string;
  channel: 'sms' | 'email' | 'wechat';
  to: string;
  /** `null` for a bare address with no account (a sign-up code). */
  userId: string | null;
  type: string;
  title: string;
  body: string;
  orderId: string | null;
}

export interface ProviderRequest {
  body: ProviderMessage;
  idempotencyKey: string | undefined;
  /** The status this fake answered. */
  status: number;
  at: number;
}

export interface FakeProvider {
  url: string;
  /** Every POST received, answered 2xx or not, in arrival order. */
  requests: ProviderRequest[];
  /** Requests answered 2xx. */
  accepted: () => ProviderRequest[];
  /** Answer the next `n` requests with 500. */
  failNext: (n: number) => void;
  /** Answer every request with 500 until told otherwise. */
  setAlwaysFail: (isFailing: boolean) => void;
  /** Wait this long before answering (to keep deliveries in flight). */
  setLatency: (ms: number) => void;
  reset: () => void;
  close: () => Promise<void>;
}

/** A local webhook provider on 127.0.0.1:0 that records what it is sent and can be told to fail. */
export async function startFakeProvider(): Promise<FakeProvider> {
  const requests: ProviderRequest[] = [];
  let failuresLeft = 0;
  let isAlwaysFailing = false;
  let latencyMs = 0;

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: ProviderMessage;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ProviderMessage;
      } catch {
        res.writeHead(400).end();
        return;
      }
      let status = 200;
      if (req.method !== 'POST') status = 405;
      else if (isAlwaysFailing) status = 500;
      else if (failuresLeft > 0) {
        failuresLeft -= 1;
        status = 500;
      }
      const key = req.headers['idempotency-key'];
      requests.push({ body, idempotencyKey: Array.isArray(key) ? key[0] : key, status, at: Date.now() });
      const answer = () => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: status === 200 }));
      if (latencyMs > 0) setTimeout(answer, latencyMs);
      else answer();
    });
  };

  const server: Server = createServer(handle);
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/deliveries`,
    requests,
    accepted: () => requests.filter((r) => r.status === 200),
    failNext: (n) => {
      failuresLeft = n;
    },
    setAlwaysFail: (isFailing) => {
      isAlwaysFailing = isFailing;
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    reset: () => {
      requests.length = 0;
      failuresLeft = 0;
      isAlwaysFailing = false;
      latencyMs = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
