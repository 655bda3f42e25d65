import { AppConfig } from '@kepu/config';
import { NOTIFICATION_RULES, planDeliveries } from '@kepu/core';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { Queue, UnrecoverableError } from 'bullmq';
import { type NewNotice, NotificationsRepository } from './notifications.repository';
import { type DeliveriesJob, JOB_IDS, QUEUES } from './queue-catalogue';

const asString = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** One outbox message → the notifications its rule calls for, exactly once per (message, user, channel). */
@Injectable()
export class FanOutService {
  private readonly logger = new Logger(FanOutService.name);

  constructor(
    private readonly repository: NotificationsRepository,
    private readonly config: AppConfig,
    @InjectQueue(QUEUES.deliveries) private readonly deliveries: Queue<DeliveriesJob['data'], void, DeliveriesJob['name']>,
  ) {}

  async fanOut(outboxId: string): Promise<number> {
    const message = await this.repository.findOutboxMessage(outboxId);
    if (!message) throw new UnrecoverableError(`outbox message ${outboxId} does not exist`);
    const rule = NOTIFICATION_RULES[message.type];
    if (!rule || !message.orderId) return 0;
    const order = await this.repository.findOrder(message.orderId);
    if (!order) throw new UnrecoverableError(`order ${message.orderId} of outbox message ${outboxId} does not exist`);

    const recipients = (
      await this.repository.resolveRecipients(rule.recipients, order, {
        departmentId: asString(message.payload.departmentId),
        organizationId: asString(message.payload.organizationId),
        volunteerIds: Array.isArray(message.payload.volunteerIds) ? message.payload.volunteerIds.filter((id): id is string => typeof id === 'string') : [],
      })
    ).filter((r) => r.userId !== message.payload.actorId); // nobody is told of their own action

    const notice: NewNotice = {
      sourceId: message.id,
      type: message.type,
      title: rule.title,
      body: rule.body({ orderCode: order.code, orderTitle: order.title, reason: asString(message.payload.reason), when: asString(message.payload.when) }),
      orderId: order.id,
    };
    const now = new Date();
    const external = recipients.flatMap((r) =>
      planDeliveries(r, rule.isUrgent, now).map((d) => ({ ...d, ...notice, userId: r.userId })),
    );
    const pending = await this.repository.recordNotices(
      notice,
      recipients.map((r) => r.userId),
      external,
    );
    await this.enqueueDeliveries(pending);
    this.logger.debug({ outboxId, type: message.type, recipients: recipients.length, deliveries: pending.length }, 'fanned out');
    return recipients.length;
  }

  /** Enqueued after the rows commit, with the delivery id as job id: a re-run re-adds the same jobs, a no-op. */
  async enqueueDeliveries(pending: { id: string; notBefore: Date }[]): Promise<void> {
    await this.deliveries.addBulk(
      pending.map((d) => ({
        name: 'deliver' as const,
        data: { deliveryId: d.id },
        opts: {
          jobId: JOB_IDS.deliver(d.id),
          delay: Math.max(0, d.notBefore.getTime() - Date.now()),
          attempts: this.config.deliveryAttempts,
          backoff: { type: 'exponential', delay: this.config.deliveryBackoffMs },
        },
      })),
    );
  }
}
