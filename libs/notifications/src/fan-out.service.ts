import { AppConfig } from '@kepu/config';
import { NOTIFICATION_RULES, type NotificationFacts, type NotificationRule, type OrderStatus, planDeliveries, RESTARTS_STAGE, smsFacts, smsSafe, titleOf } from '@kepu/core';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { Queue, UnrecoverableError } from 'bullmq';
import { type NewDeliveryText, type NewNotice, NotificationsRepository, type OutboxMessage, type Recipient } from './notifications.repository';
import { StageTimersService } from './stage-timers.service';
import { type DeliveriesJob, hasStageTimers, JOB_IDS, QUEUES } from './queue-catalogue';

const asString = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** The facts every rule's text may use; order texts add the order's code and title. */
function factsOf(message: OutboxMessage): NotificationFacts {
  const text = Object.fromEntries(Object.entries(message.payload).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return { orderCode: '', orderTitle: '', text, reason: asString(message.payload.reason), when: asString(message.payload.when) };
}

/**
 * One outbox message → the notifications its rule calls for, exactly once per
 * (message, user, channel), and for a message about an order's status its stage
 * timers: one job per message, two statements (read everything, write everything).
 */
@Injectable()
export class FanOutService {
  private readonly logger = new Logger(FanOutService.name);
  /** The per-message line costs an object and a call even when dropped: built only at LOG_LEVEL=debug or trace. */
  private readonly isDebug: boolean;

  constructor(
    private readonly repository: NotificationsRepository,
    private readonly config: AppConfig,
    private readonly timers: StageTimersService,
    @InjectQueue(QUEUES.deliveries) private readonly deliveries: Queue<DeliveriesJob['data'], void, DeliveriesJob['name']>,
  ) {
    this.isDebug = config.logLevel === 'debug' || config.logLevel === 'trace';
  }

  /** `type`: the message's type when the job carries it (the relay's jobs do), saving a read. */
  async fanOut(outboxId: string, type?: string): Promise<number> {
    const knownType = type ?? (await this.repository.findOutboxMessage(outboxId))?.type;
    if (knownType === undefined) throw new UnrecoverableError(`outbox message ${outboxId} does not exist`);
    const rule = NOTIFICATION_RULES[knownType];
    const isOrderEvent = hasStageTimers(knownType);
    if (!rule && !isOrderEvent) return 0;
    const input = await this.repository.loadForFanOut(outboxId, rule?.recipients ?? [], isOrderEvent, RESTARTS_STAGE);
    if (!input) throw new UnrecoverableError(`outbox message ${outboxId} does not exist`);
    const { message, order } = input;
    let told = 0;
    if (rule) {
      if (message.orderId && !order) throw new UnrecoverableError(`order ${message.orderId} of outbox message ${message.id} does not exist`);
      told = order
        ? await this.record(message, rule, { ...factsOf(message), orderCode: order.code, orderTitle: order.title }, input.recipients, order.id)
        : await this.record(message, rule, factsOf(message), input.recipients, null, rule.recipients.includes('listed_phone') ? asString(message.payload.phone) : null);
    }
    if (isOrderEvent && message.orderId && order) await this.timers.afterOrderMessage(message, { ...order.times, status: order.times.status as OrderStatus }, input.entry, input.everIn);
    return told;
  }

  private async record(
    message: OutboxMessage,
    rule: NotificationRule,
    facts: NotificationFacts,
    allRecipients: Recipient[],
    orderId: string | null,
    phone: string | null = null,
  ): Promise<number> {
    const recipients = allRecipients.filter((r) => r.userId !== message.payload.actorId); // nobody is told of their own action
    const notice: NewNotice = { sourceId: message.id, type: message.type, title: titleOf(rule, facts), body: rule.body(facts), orderId };
    // An SMS carries what users wrote (titles, reasons, names) without links and short: rendered from SMS-safe facts, then bounded.
    const safeFacts = smsFacts(facts);
    const sms: NewNotice = { ...notice, title: smsSafe(titleOf(rule, safeFacts)), body: smsSafe(rule.body(safeFacts)) };
    const now = new Date();
    const external: NewDeliveryText[] = recipients.flatMap((r) =>
      planDeliveries(r, rule.isUrgent, now).map((d) => ({ ...d, ...(d.channel === 'sms' ? sms : notice), userId: r.userId })),
    );
    // A bare phone (no account yet) gets the SMS at once: nobody chose quiet hours for it.
    if (phone) external.push({ title: sms.title, body: sms.body, userId: null, channel: 'sms', address: phone, notBefore: now });
    const pending = await this.repository.recordNotices(
      notice,
      recipients.map((r) => r.userId),
      external,
    );
    await this.enqueueDeliveries(pending);
    if (this.isDebug) this.logger.debug({ outboxId: message.id, type: message.type, recipients: recipients.length, deliveries: pending.length }, 'fanned out');
    return recipients.length + (phone ? 1 : 0);
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
