import { createHmac } from 'node:crypto';
import { AppConfig } from '@kepu/config';
import { maskPhone } from '@kepu/core';
import { Injectable, Logger } from '@nestjs/common';
import type { DeliveryRow } from './notifications.repository';

export interface ChannelProvider {
  readonly name: string;
  /** Resolves when the provider took the message; throws to have it retried. */
  send(delivery: DeliveryRow): Promise<void>;
}

export const WEBHOOK_TIMEOUT_MS = 5000;

/** `sha256=<hex HMAC-SHA256 of the raw body>`: the value of `X-Kepu-Signature`. */
export function webhookSignature(secret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex')}`;
}

/**
 * The webhook of API.md: any 2xx means delivered; the delivery id lets the
 * provider drop repeats. With a secret, each call carries `X-Kepu-Signature`
 * (the provider recomputes it over the raw body it received). Redirects are not
 * followed: a 3xx is a failed delivery (retried), so a compromised or misconfigured
 * provider cannot bounce phone numbers and codes to another host.
 */
export class WebhookProvider implements ChannelProvider {
  readonly name = 'webhook';
  constructor(
    private readonly url: string,
    private readonly secret?: string,
  ) {}

  async send(d: DeliveryRow): Promise<void> {
    const body = JSON.stringify({ deliveryId: d.id, channel: d.channel, to: d.address, userId: d.user_id, type: d.type, title: d.title, body: d.body, orderId: d.order_id });
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': d.id, ...(this.secret ? { 'x-kepu-signature': webhookSignature(this.secret, body) } : {}) },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    // Read (and drop) the body so the connection is released.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status >= 300 && response.status < 400) throw new Error(`provider answered a redirect (${response.status}); redirects are not followed`);
    if (!response.ok) throw new Error(`provider answered ${response.status}`);
  }
}

/** An address as a log line may show it: 138****1234, w***@example.cn, the first characters of an OpenID. */
export function maskAddress(channel: DeliveryRow['channel'], address: string): string {
  if (channel === 'sms') return maskPhone(address);
  if (channel === 'email') {
    const at = address.lastIndexOf('@');
    return at > 0 ? `${address[0]}***${address.slice(at)}` : '***';
  }
  return `${address.slice(0, 4)}***`;
}

/**
 * Without a provider configured: the delivery is logged (the address masked) and counts as delivered.
 * Outside production a sign-up code's 6 digits are logged too, so a developer can sign up with `npm start`.
 */
export class LogProvider implements ChannelProvider {
  readonly name = 'log';
  private readonly logger = new Logger('LogProvider');

  constructor(private readonly options: { showPhoneCodes: boolean } = { showPhoneCodes: false }) {}

  async send(d: DeliveryRow): Promise<void> {
    const code = this.options.showPhoneCodes && d.type === 'auth.phone_code' ? /\d{6}/.exec(d.body)?.[0] : undefined;
    this.logger.log(
      { deliveryId: d.id, channel: d.channel, recipient: maskAddress(d.channel, d.address), userId: d.user_id, type: d.type, ...(code ? { code } : {}) },
      code ? `delivery (log provider): sign-up code ${code}` : 'delivery (log provider)',
    );
  }
}

@Injectable()
export class ChannelProviders {
  readonly provider: ChannelProvider;
  constructor(config: AppConfig) {
    this.provider = config.notifyWebhookUrl ? new WebhookProvider(config.notifyWebhookUrl, config.notifyWebhookSecret) : new LogProvider({ showPhoneCodes: config.nodeEnv !== 'production' });
  }
}
