import { AppConfig } from '@kepu/config';
import { EXPIRABLE_STATUSES, formatEventTime, type OrderStatus, SLA_STAGE_LABEL, SLA_STAGE_OF_STATUS, type SlaHours, type SlaStage, slaDueAt } from '@kepu/core';
import { OrdersService } from '@kepu/orders';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { NotificationsRepository } from './notifications.repository';
import { JOB_IDS, QUEUES, REMINDER_LEAD_MS, type ReminderKind, type TimersJob } from './queue-catalogue';
import { type OrderTimes, StageTimersRepository } from './stage-timers.repository';

/** DESIGN.md §3: a reminder to rate after 3 days, closed without a rating after 7. */
const RATING_REMINDER_AFTER_MS = 3 * 24 * 3600 * 1000;
const CLOSE_UNRATED_AFTER_MS = 7 * 24 * 3600 * 1000;

const SLA_STAGES: readonly SlaStage[] = ['dispatch', 'claim', 'accept', 'schedule'];
/** Rounds of reconciling when the order keeps moving while its timers are set. */
const MAX_RECONCILE_ROUNDS = 5;

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

  /**
   * Brings the order's timers in line with its current state, not with the message:
   * stage-changed jobs of one order may run in any order and at once, so each one
   * reconciles from what the order is now, and again if the order moved meanwhile.
   */
  async onStageChanged(outboxId: string): Promise<void> {
    const message = await this.messages.findOutboxMessage(outboxId);
    if (!message?.orderId) return;
    for (let round = 0; round < MAX_RECONCILE_ROUNDS; round++) {
      const order = await this.repository.orderTimes(message.orderId);
      if (!order) return;
      await this.reconcile(message.orderId, order);
      const now = await this.repository.orderTimes(message.orderId);
      if (now?.version === order.version) return;
    }
  }

  private async reconcile(orderId: string, order: OrderTimes): Promise<void> {
    // SLA: a timer for the stage the order waits in now, for its latest stretch there; none for the others.
    const current = SLA_STAGE_OF_STATUS[order.status];
    for (const stage of SLA_STAGES) {
      const jobId = JOB_IDS.slaDue(orderId, stage);
      if (stage !== current) {
        await this.removeTimer(jobId);
        continue;
      }
      const entry = await this.repository.lastEntry(orderId, order.status);
      if (!entry) continue;
      await this.ensure<Extract<TimersJob, { name: 'sla-due' }>>('sla-due', { orderId, stage, enteredSeq: entry.seq }, jobId, slaDueAt(entry.at, stage, this.hours), (d) => d.enteredSeq === entry.seq);
    }
    // Expiry while not yet scheduled.
    if (EXPIRABLE_STATUSES.includes(order.status)) await this.ensure('expire-due', { orderId }, JOB_IDS.expireDue(orderId), order.lastWindowEnd, () => true);
    else await this.removeTimer(JOB_IDS.expireDue(orderId));
    // Event reminders for the time the event has now.
    for (const kind of ['24h', '2h'] as const) {
      const jobId = JOB_IDS.reminderDue(orderId, kind);
      const remindAt = order.scheduledStart ? new Date(order.scheduledStart.getTime() - REMINDER_LEAD_MS[kind]) : null;
      if (order.status === 'scheduled' && order.scheduledStart && remindAt && remindAt.getTime() > Date.now()) {
        const start = order.scheduledStart.toISOString();
        await this.ensure<Extract<TimersJob, { name: 'reminder-due' }>>('reminder-due', { orderId, kind, start }, jobId, remindAt, (d) => d.start === start);
      } else await this.removeTimer(jobId);
    }
    // After completion: the rating reminder and closing an unrated order.
    if (order.status === 'completed' && order.completedAt) {
      const completedAt = order.completedAt.getTime();
      await this.ensure('rating-reminder-due', { orderId }, JOB_IDS.ratingReminderDue(orderId), new Date(completedAt + RATING_REMINDER_AFTER_MS), () => true);
      await this.ensure('close-due', { orderId }, JOB_IDS.closeDue(orderId), new Date(completedAt + CLOSE_UNRATED_AFTER_MS), () => true);
    } else {
      await this.removeTimer(JOB_IDS.ratingReminderDue(orderId));
      await this.removeTimer(JOB_IDS.closeDue(orderId));
    }
  }

  /** Keeps a delayed timer whose data still fits, replaces one that does not, adds a missing one. */
  private async ensure<J extends TimersJob>(name: J['name'], data: J['data'], jobId: string, at: Date, fits: (existing: J['data']) => boolean): Promise<void> {
    const existing = await this.timers.getJob(jobId);
    if (existing && (await existing.isDelayed()) && fits(existing.data as J['data'])) return;
    await this.schedule(name, data, jobId, at);
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

  private async schedule(name: TimersJob['name'], data: TimersJob['data'], jobId: string, at: Date): Promise<void> {
    // A timer of the same id left from an earlier stretch of the stage is replaced.
    await this.removeTimer(jobId);
    await this.timers.add(name, data, { jobId, delay: Math.max(0, at.getTime() - Date.now()) });
  }

  private async removeTimer(jobId: string): Promise<void> {
    // A running timer is locked and cannot be removed; it re-checks the order anyway.
    await this.timers.remove(jobId).catch(() => 0);
  }
}
