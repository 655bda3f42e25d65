import { AppConfig } from '@kepu/config';
import { EXPIRABLE_STATUSES, formatEventTime, type OrderStatus, SLA_STAGE_LABEL, SLA_STAGE_OF_STATUS, type SlaHours, type SlaStage, slaDueAt } from '@kepu/core';
import { OrdersService } from '@kepu/orders';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { NotificationsRepository } from './notifications.repository';
import { JOB_IDS, QUEUES, REMINDER_LEAD_MS, type ReminderKind, type TimersJob } from './queue-catalogue';
import { StageTimersRepository } from './stage-timers.repository';

/** DESIGN.md §3: a reminder to rate after 3 days, closed without a rating after 7. */
const RATING_REMINDER_AFTER_MS = 3 * 24 * 3600 * 1000;
const CLOSE_UNRATED_AFTER_MS = 7 * 24 * 3600 * 1000;

const STATUS_OF_STAGE = Object.fromEntries(Object.entries(SLA_STAGE_OF_STATUS).map(([status, stage]) => [stage, status])) as Record<SlaStage, OrderStatus>;

/**
 * Stage deadlines and expiry as durable delayed jobs with deterministic ids,
 * (re)scheduled from the order events. A timer that fires after its stage moved
 * on does nothing: the handlers re-check the order, not the job.
 */
@Injectable()
export class StageTimersService {
  private readonly logger = new Logger(StageTimersService.name);
  private readonly hours: SlaHours;

  constructor(
    config: AppConfig,
    private readonly messages: NotificationsRepository,
    private readonly repository: StageTimersRepository,
    private readonly orders: OrdersService,
    @InjectQueue(QUEUES.timers) private readonly timers: Queue<TimersJob['data'], void, TimersJob['name']>,
  ) {
    this.hours = { dispatch: config.slaDispatchHours, claim: config.slaClaimHours, accept: config.slaAcceptHours, schedule: config.slaScheduleHours };
  }

  async onStageChanged(outboxId: string): Promise<void> {
    const message = await this.messages.findOutboxMessage(outboxId);
    if (!message?.orderId) return;
    const orderId = message.orderId;
    const from = (message.payload.fromStatus as OrderStatus | undefined) ?? null;
    const to = (message.payload.toStatus as OrderStatus | undefined) ?? (message.type === 'order.submitted' ? 'submitted' : null);
    if (to === null) return;
    await this.planEventTimers(orderId, message.type, to, message.createdAt);
    if (from === to) return;

    const leftStage = from ? SLA_STAGE_OF_STATUS[from] : undefined;
    if (leftStage) await this.removeTimer(JOB_IDS.slaDue(orderId, leftStage));
    const enteredStage = SLA_STAGE_OF_STATUS[to];
    if (enteredStage) {
      const dueAt = slaDueAt(message.createdAt, enteredStage, this.hours);
      const enteredSeq = Number(message.payload.eventSeq ?? 1);
      await this.schedule('sla-due', { orderId, stage: enteredStage, enteredSeq }, JOB_IDS.slaDue(orderId, enteredStage), dueAt);
    }

    const isExpirable = EXPIRABLE_STATUSES.includes(to);
    if (!isExpirable) await this.removeTimer(JOB_IDS.expireDue(orderId));
    else if (from === null || !EXPIRABLE_STATUSES.includes(from)) {
      const order = await this.repository.orderTimes(orderId);
      if (order) await this.schedule('expire-due', { orderId }, JOB_IDS.expireDue(orderId), order.lastWindowEnd);
    }
  }

  async onSlaDue(orderId: string, stage: SlaStage, enteredSeq: number): Promise<void> {
    const order = await this.repository.orderTimes(orderId);
    const status = STATUS_OF_STAGE[stage];
    if (!order || order.status !== status) return; // the stage was finished in time
    const entry = await this.repository.lastEntry(orderId, status);
    if (!entry || entry.seq !== enteredSeq) return; // left and re-entered: the newer timer decides
    const dueAt = slaDueAt(entry.at, stage, this.hours);
    if (dueAt.getTime() > Date.now()) {
      await this.schedule('sla-due', { orderId, stage, enteredSeq }, JOB_IDS.slaDue(orderId, stage), dueAt);
      return;
    }
    const isRecorded = await this.repository.recordBreach({
      orderId,
      districtCode: order.districtCode,
      stage,
      enteredSeq,
      enteredAt: entry.at,
      dueAt,
      label: SLA_STAGE_LABEL[stage],
    });
    if (isRecorded) this.logger.log({ orderId, stage }, 'SLA breached');
  }

  async onExpireDue(orderId: string): Promise<void> {
    const order = await this.repository.orderTimes(orderId);
    if (!order || !EXPIRABLE_STATUSES.includes(order.status)) return;
    if (order.lastWindowEnd.getTime() > Date.now()) {
      await this.schedule('expire-due', { orderId }, JOB_IDS.expireDue(orderId), order.lastWindowEnd);
      return;
    }
    await this.orders.expire(orderId);
  }

  /** Reminders before a scheduled event; the rating reminder and closing after completion. */
  private async planEventTimers(orderId: string, type: string, to: OrderStatus, at: Date): Promise<void> {
    if (type === 'order.scheduled') {
      const order = await this.repository.orderTimes(orderId);
      if (order?.scheduledStart)
        for (const kind of ['24h', '2h'] as const) {
          const remindAt = new Date(order.scheduledStart.getTime() - REMINDER_LEAD_MS[kind]);
          if (remindAt.getTime() > Date.now())
            await this.schedule('reminder-due', { orderId, kind, start: order.scheduledStart.toISOString() }, JOB_IDS.reminderDue(orderId, kind), remindAt);
          else await this.removeTimer(JOB_IDS.reminderDue(orderId, kind));
        }
    } else if (to !== 'scheduled') {
      for (const kind of ['24h', '2h'] as const) await this.removeTimer(JOB_IDS.reminderDue(orderId, kind));
    }
    if (to === 'completed') {
      await this.schedule('rating-reminder-due', { orderId }, JOB_IDS.ratingReminderDue(orderId), new Date(at.getTime() + RATING_REMINDER_AFTER_MS));
      await this.schedule('close-due', { orderId }, JOB_IDS.closeDue(orderId), new Date(at.getTime() + CLOSE_UNRATED_AFTER_MS));
    } else if (to === 'rated' || to === 'closed') {
      await this.removeTimer(JOB_IDS.ratingReminderDue(orderId));
      await this.removeTimer(JOB_IDS.closeDue(orderId));
    }
  }

  async onReminderDue(orderId: string, kind: ReminderKind, start: string): Promise<void> {
    const order = await this.repository.orderTimes(orderId);
    // Rescheduled since, or no longer going ahead: this reminder is stale.
    if (order?.status !== 'scheduled' || order.scheduledStart?.toISOString() !== start || !order.scheduledEnd) return;
    await this.repository.announceOnce(`reminder:${orderId}:${kind}:${start}`, 'event.reminder', orderId, {
      kind,
      start,
      when: formatEventTime(order.scheduledStart, order.scheduledEnd),
    });
  }

  async onRatingReminderDue(orderId: string): Promise<void> {
    const order = await this.repository.orderTimes(orderId);
    if (order?.status !== 'completed') return;
    await this.repository.announceOnce(`rating-reminder:${orderId}`, 'rating.reminder', orderId, {});
  }

  async onCloseDue(orderId: string): Promise<void> {
    await this.orders.closeUnrated(orderId, CLOSE_UNRATED_AFTER_MS);
  }

  private async schedule<N extends TimersJob['name']>(name: N, data: Extract<TimersJob, { name: N }>['data'], jobId: string, at: Date): Promise<void> {
    // A timer of the same id left from an earlier stretch of the stage is replaced.
    await this.removeTimer(jobId);
    await this.timers.add(name, data, { jobId, delay: Math.max(0, at.getTime() - Date.now()) });
  }

  private async removeTimer(jobId: string): Promise<void> {
    // A running timer is locked and cannot be removed; it re-checks the order anyway.
    await this.timers.remove(jobId).catch(() => 0);
  }
}
