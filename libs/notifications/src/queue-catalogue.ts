import type { SlaStage } from '@kepu/core';
import type { JobsOptions } from 'bullmq';
import { createHash } from 'node:crypto';

/**
 * Every queue and job of the platform, with its payload (ids only: the worker
 * reloads from PostgreSQL) and its default options. Job ids are deterministic
 * wherever a duplicate must be a no-op.
 */
export const QUEUES = {
  /** An outbox message → one in-app notification per recipient, plus external deliveries. */
  notifications: 'notifications',
  /** One external delivery (sms, email, wechat) to a provider, retried with backoff. */
  deliveries: 'deliveries',
  /** Stage timers: SLA deadlines and expiry, scheduled as delayed jobs. */
  timers: 'timers',
  /** Coverage rollups: every outbox message about an order → refresh that order's facts and rollups. */
  coverage: 'coverage',
  /** Broadcasts: one job per batch of recipients (broadcast-<id>-<batch>), its own modest concurrency. */
  broadcasts: 'broadcasts',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** `type`: the message's type (absent in jobs queued before it was added: the job reads it). */
export type NotificationsJob = { name: 'fan-out'; data: { outboxId: string; type?: string } };

/** An order's status messages (`order.*`) reconcile its stage timers, inside their fan-out job. */
export const hasStageTimers = (type: string): boolean => type.startsWith('order.');
export type DeliveriesJob = { name: 'deliver'; data: { deliveryId: string } };
export type TimersJob =
  | { name: 'stage-changed'; data: { outboxId: string } }
  | { name: 'sla-due'; data: { orderId: string; stage: SlaStage; enteredSeq: number } }
  | { name: 'expire-due'; data: { orderId: string } }
  | { name: 'reminder-due'; data: { orderId: string; kind: ReminderKind; start: string } }
  | { name: 'rating-reminder-due'; data: { orderId: string } }
  | { name: 'close-due'; data: { orderId: string } };

/** `orderIds`: every order of one relay batch (the relay's jobs); absent, `orderId` alone. */
export type CoverageJob = { name: 'refresh-order'; data: { orderId: string; outboxId: string; orderIds?: string[] } };

/** Orders per coverage job: one transaction refreshes them together (one plan, one lock round trip, one commit). */
export const COVERAGE_BATCH = 50;

export type BroadcastsJob = { name: 'broadcast-batch'; data: { broadcastId: string; batchNo: number } };

/** Event reminders go 24 h and 2 h before the start (DESIGN.md §3). */
export type ReminderKind = '24h' | '2h';
export const REMINDER_LEAD_MS: Record<ReminderKind, number> = { '24h': 24 * 3600 * 1000, '2h': 2 * 3600 * 1000 };

export interface JobCatalogue {
  notifications: NotificationsJob;
  deliveries: DeliveriesJob;
  timers: TimersJob;
  coverage: CoverageJob;
  broadcasts: BroadcastsJob;
}

/** BullMQ refuses ':' in custom ids; these use '-' and are stable for one logical job. */
export const JOB_IDS = {
  fanOut: (outboxId: string) => `fan-out-${outboxId}`,
  stageChanged: (outboxId: string) => `stage-${outboxId}`,
  deliver: (deliveryId: string) => `deliver-${deliveryId}`,
  slaDue: (orderId: string, stage: SlaStage) => `sla-${orderId}-${stage}`,
  expireDue: (orderId: string) => `expire-${orderId}`,
  reminderDue: (orderId: string, kind: ReminderKind) => `remind-${orderId}-${kind}`,
  ratingReminderDue: (orderId: string) => `rate-remind-${orderId}`,
  closeDue: (orderId: string) => `close-${orderId}`,
  coverage: (outboxId: string) => `coverage-${outboxId}`,
  /** A batch of messages: named by all of their ids, so publishing the same batch again adds nothing, and a different one is a job of its own. */
  coverageBatch: (outboxIds: string[]) => `coverage-${createHash('sha1').update(outboxIds.join(',')).digest('hex')}`,
  broadcastBatch: (broadcastId: string, batchNo: number) => `broadcast-${broadcastId}-${batchNo}`,
};

/** Jobs an outbox message publishes: built one way for the relay and for the resync after Redis lost its data, so both land on one job id. */
export const OUTBOX_JOBS = {
  fanOut: (outboxId: string, type?: string) => ({ name: 'fan-out' as const, data: type === undefined ? { outboxId } : { outboxId, type }, opts: { jobId: JOB_IDS.fanOut(outboxId) } }),
  stageChanged: (outboxId: string) => ({ name: 'stage-changed' as const, data: { outboxId }, opts: { jobId: JOB_IDS.stageChanged(outboxId) } }),
};

const KEEP_FAILED = { age: 30 * 24 * 3600 };

export const DEFAULT_JOB_OPTIONS: Record<QueueName, JobsOptions> = {
  // Internal work retries quickly; its outcome is in PostgreSQL, so the job record can go.
  notifications: { attempts: 8, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: { count: 1000 }, removeOnFail: KEEP_FAILED },
  // Attempts and backoff come from configuration (DELIVERY_*); dead letters are kept.
  deliveries: { removeOnComplete: { count: 1000 }, removeOnFail: KEEP_FAILED },
  // Removed on completion so a timer id can be scheduled again when an order re-enters a stage.
  timers: { attempts: 8, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: KEEP_FAILED },
  // A refresh recomputes from the orders, so a retry (e.g. after a deadlock between two refreshes) is always safe.
  coverage: { attempts: 10, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: { count: 1000 }, removeOnFail: KEEP_FAILED },
  // A batch re-run writes nothing twice (unique keys), so it may retry freely.
  broadcasts: { attempts: 20, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { count: 1000 }, removeOnFail: KEEP_FAILED },
};

/**
 * Options every processor runs with. A job whose worker died is taken back by
 * BullMQ's stalled check; past `maxStalledCount` it would be failed without
 * running again, losing its notifications. Our jobs are idempotent (unique keys,
 * deterministic ids), so running one again is always safe: allow many stalls.
 */
export const WORKER_OPTIONS = { maxStalledCount: 20 } as const;
