import { Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { ChannelProviders } from './channel-provider';
import { NotificationsRepository } from './notifications.repository';

/** Hands one external delivery to the provider; the queue retries it with backoff. */
@Injectable()
export class DeliveryService {
  constructor(
    private readonly repository: NotificationsRepository,
    private readonly providers: ChannelProviders,
  ) {}

  /**
   * `attempt` counts from 1; on the last one a failure marks the delivery failed
   * (kept and visible to admins, never dropped) before the error goes back to the queue.
   */
  async deliver(deliveryId: string, attempt: number, maxAttempts: number): Promise<void> {
    const delivery = await this.repository.findDelivery(deliveryId);
    if (!delivery) throw new UnrecoverableError(`delivery ${deliveryId} does not exist`);
    if (delivery.status !== 'pending') return; // a repeated job after success or final failure
    try {
      await this.providers.provider.send(delivery);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await this.repository.recordAttemptFailure(deliveryId, attempt, message, attempt >= maxAttempts);
      throw error;
    }
    await this.repository.markDelivered(deliveryId, attempt);
  }
}
