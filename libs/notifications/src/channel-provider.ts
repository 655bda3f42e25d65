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

/** The webhook of API.md: any 2xx means delivered; the delivery id lets the provider drop repeats. */
export class WebhookProvider implements ChannelProvider {
  readonly name = 'webhook';
  constructor(private readonly url: string) {}

  async send(d: DeliveryRow): Promise<void> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': d.id },
      body: JSON.stringify({ deliveryId: d.id, channel: d.channel, to: d.address, userId: d.user_id, type: d.type, title: d.title, body: d.body, orderId: d.order_id }),
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
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

/** Without a provider configured: the delivery is logged (the address masked) and counts as delivered. */
export class LogProvider implements ChannelProvider {
  readonly name = 'log';
  private readonly logger = new Logger('LogProvider');

  async send(d: DeliveryRow): Promise<void> {
    this.logger.log(
      { deliveryId: d.id, channel: d.channel, recipient: maskAddress(d.channel, d.address), userId: d.user_id, type: d.type },
      'delivery (log provider)',
    );
  }
}

@Injectable()
export class ChannelProviders {
  readonly provider: ChannelProvider;
  constructor(config: AppConfig) {
    this.provider = config.notifyWebhookUrl ? new WebhookProvider(config.notifyWebhookUrl) : new LogProvider();
  }
}
