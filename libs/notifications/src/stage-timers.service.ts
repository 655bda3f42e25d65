import { AppConfig } from '@kepu/config';
import { EXPIRABLE_STATUSES, formatEventTime, type OrderStatus, SLA_STAGE_LABEL, SLA_STAGE_OF_STATUS, type SlaHours, slaHoursFor, type SlaStage, slaDueAt } from '@kepu/core';
import { EscalationsService, OrdersService } from '@kepu/orders';
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
  private readonly urgentFactor: number;

  constructor(
    config: AppConfig,
    private readonly messages: NotificationsRepository,
    private readonly repository: StageTimersRepository,
    private readonly orders: OrdersService,
    private readonly escalations: EscalationsService,
    @InjectQueue(QUEUES.timers) private readonly timers: Queue<TimersJob['data'], void, TimersJob['name']>,
  ) {
    this.hours = { dispatch: config.slaDispatchHours, claim: config.slaClaimHours, accept: config.slaAcceptHours, schedule: config.slaScheduleHours };
    this.urgentFactor = config.slaUrgentFactor;
  }

  /** The order's deadlines: SLA_URGENT_FACTOR of the normal ones for an urgent order. */
  private hoursOf(order: OrderTimes): SlaHours {
    return slaHoursFor(this.hours, order.urgent, this.urgentFactor);
  }

  /**
   * Brings the order's timers in line with its current state, not with the message:
   * jobs of one order may run in any order and at once, so each one reconciles from
   * what the order is now, and again if the order moved meanwhile. Used by the resync's
   * `stage-changed` jobs; the fan-out job of an order message calls `afterOrderMessage`
   * with what it has read already.
   */
  async onStageChanged(outboxId: string): Promise<void> {
    const message = await this.messages.findOutboxMessage(outboxId);
    if (!message?.orderId) return;
    await this.afterOrderMessage(message, null, null);
  }

  /**
   * The stage timers' part of an order message, inside the message's fan-out job (one
   * job per event, not two): `known` is the order as the fan-out read it, with `entry`,
   * the event that brought it into its status, read in the same statement.
   */
  async afterOrderMessage(
    message: { id: string; type: string; orderId: string | null; payload: Record<string, unknown> },
    known: OrderTimes | null,
    entry: { seq: number; at: Date } | null,
    everIn?: ReadonlySet<string>,
  ): Promise<void> {
    if (!message.orderId) return;
    await this.tellAttendees(message);
    let order = known;
    let knownEntry: { seq: number; at: Date } | null | undefined = known ? entry : undefined;
    let history = known ? everIn : undefined;
    for (let round = 0; round < MAX_RECONCILE_ROUNDS; round++) {
      order ??= await this.repository.orderTimes(message.orderId);
      if (!order) return;
      await this.reconcile(message.orderId, order, knownEntry, history);
      const now = await this.repository.orderTimes(message.orderId);
      if (now?.version === order.version) return;
      order = now;
      knownEntry = undefined;
      history = undefined;
    }
  }

  /**
   * A published event's attendees hear of a reschedule (event.changed) and a cancellation
   * (event.cancelled) as messages of their own, derived here from the order's message under
   * an id derived from it: the order's transitions need not know about events, and a
   * stage-changed job that runs twice writes each once.
   */
  private async tellAttendees(message: { id: string; type: string; orderId: string | null; payload: Record<string, unknown> }): Promise<void> {
    if (!message.orderId) return;
    const isReschedule = message.type === 'order.scheduled' && 'previousStart' in message.payload;
    const isCancel = message.type === 'order.cancelled';
    if (!isReschedule && !isCancel) return;
    if (!(await this.repository.isPublished(message.orderId))) return;
    const { when, start, end, previousStart, reason } = message.payload;
    if (isReschedule) await this.repository.announceOnce(`event-changed:${message.id}`, 'event.changed', message.orderId, { when, start, end, previousStart });
    else await this.repository.announceOnce(`event-cancelled:${message.id}`, 'event.cancelled', message.orderId, { reason });
  }

  /**
   * Every timer of the order at once (different job ids: independent). `knownEntry`:
   * the stretch of the current stage when the caller read it with `order`, else looked up.
   * `everIn`: every status the order has been in, read with `order`. A timer is only ever
   * set by a reconcile that saw the order in its status, whose event was committed before
   * that read and so is in `everIn` of any later read: the timers of statuses the order
   * never entered cannot exist and are not removed (a reconcile that read before such a
   * status was entered sees the version move and reconciles again without `everIn`).
   */
  private async reconcile(orderId: string, order: OrderTimes, knownEntry?: { seq: number; at: Date } | null, everIn?: ReadonlySet<string>): Promise<void> {
    const ops: Promise<void>[] = [];
    const mayExist = (status: OrderStatus): boolean => everIn === undefined || everIn.has(status);
    // SLA: a timer for the stage the order waits in now, for its latest stretch there; none for the others.
    const current = SLA_STAGE_OF_STATUS[order.status];
    for (const stage of SLA_STAGES) {
      const jobId = JOB_IDS.slaDue(orderId, stage);
      if (stage !== current) {
        if (mayExist(STATUS_OF_STAGE[stage])) ops.push(this.removeTimer(jobId));
        continue;
      }
      ops.push(
        (async () => {
          const entry = knownEntry !== undefined ? knownEntry : await this.repository.lastEntry(orderId, order.status);
          if (!entry) return;
          await this.ensure<Extract<TimersJob, { name: 'sla-due' }>>(
            'sla-due',
            { orderId, stage, enteredSeq: entry.seq },
            jobId,
            slaDueAt(entry.at, stage, this.hoursOf(order)),
            (d) => d.enteredSeq === entry.seq,
          );
        })(),
      );
    }
    // Expiry while not yet scheduled.
    if (EXPIRABLE_STATUSES.includes(order.status)) ops.push(this.ensure('expire-due', { orderId }, JOB_IDS.expireDue(orderId), order.lastWindowEnd, () => true));
    else ops.push(this.removeTimer(JOB_IDS.expireDue(orderId)));
    // Event reminders for the time the event has now.
    for (const kind of ['24h', '2h'] as const) {
      const jobId = JOB_IDS.reminderDue(orderId, kind);
      const remindAt = order.scheduledStart ? new Date(order.scheduledStart.getTime() - REMINDER_LEAD_MS[kind]) : null;
      if (order.status === 'scheduled' && order.scheduledStart && remindAt && remindAt.getTime() > Date.now()) {
        const start = order.scheduledStart.toISOString();
        ops.push(this.ensure<Extract<TimersJob, { name: 'reminder-due' }>>('reminder-due', { orderId, kind, start }, jobId, remindAt, (d) => d.start === start));
      } else if (mayExist('scheduled')) ops.push(this.removeTimer(jobId));
    }
    // After completion: the rating reminder and closing an unrated order.
    if (order.status === 'completed' && order.completedAt) {
      const completedAt = order.completedAt.getTime();
      ops.push(this.ensure('rating-reminder-due', { orderId }, JOB_IDS.ratingReminderDue(orderId), new Date(completedAt + RATING_REMINDER_AFTER_MS), () => true));
      ops.push(this.ensure('close-due', { orderId }, JOB_IDS.closeDue(orderId), new Date(completedAt + CLOSE_UNRATED_AFTER_MS), () => true));
    } else if (mayExist('completed')) {
      ops.push(this.removeTimer(JOB_IDS.ratingReminderDue(orderId)));
      ops.push(this.removeTimer(JOB_IDS.closeDue(orderId)));
    }
    await Promise.all(ops);
  }

  /** Keeps a delayed timer whose data still fits, replaces one that does not, adds a missing one. */
  private async ensure<J extends TimersJob>(name: J['name'], data: J['data'], jobId: string, at: Date, fits: (existing: J['data']) => boolean): Promise<void> {
    const existing = await this.timers.getJob(jobId);
    if (existing && (await existing.isDelayed()) && fits(existing.data as J['data'])) return;
    await this.schedule(name, data, jobId, at, existing === undefined);
  }

  async onSlaDue(orderId: string, stage: SlaStage, enteredSeq: number): Promise<void> {
    const order = await this.repository.orderTimes(orderId);
    const status = STATUS_OF_STAGE[stage];
    if (!order || order.status !== status) return; // the stage was finished in time
    const entry = await this.repository.lastEntry(orderId, status);
    if (!entry || entry.seq !== enteredSeq) return; // left and re-entered: the newer timer decides
    const dueAt = slaDueAt(entry.at, stage, this.hoursOf(order));
    if (dueAt.getTime() > Date.now()) {
      await this.schedule('sla-due', { orderId, stage, enteredSeq }, JOB_IDS.slaDue(orderId, stage), dueAt);
      return;
    }
    const breachedAt = new Date();
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
    // The coordinators' worklist; idempotent, so a timer that runs again after a crash here still opens it.
    await this.escalations.openForBreach({ orderId, stage, status, enteredSeq, dueAt, breachedAt });
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

  /** `isAbsent`: the caller just found no job of this id, so there is nothing to replace. */
  private async schedule(name: TimersJob['name'], data: TimersJob['data'], jobId: string, at: Date, isAbsent = false): Promise<void> {
    // A timer of the same id left from an earlier stretch of the stage is replaced.
    if (!isAbsent) await this.removeTimer(jobId);
    await this.timers.add(name, data, { jobId, delay: Math.max(0, at.getTime() - Date.now()) });
  }

  private async removeTimer(jobId: string): Promise<void> {
    // A running timer is locked and cannot be removed; it re-checks the order anyway.
    await this.timers.remove(jobId).catch(() => 0);
  }
}
