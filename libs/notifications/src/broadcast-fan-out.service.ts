import { AppConfig } from '@kepu/config';
import { planDeliveries } from '@kepu/core';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Queue, UnrecoverableError } from 'bullmq';
import { BroadcastsRepository } from './broadcasts.repository';
import { NotificationsRepository } from './notifications.repository';
import { type BroadcastsJob, type DeliveriesJob, JOB_IDS, type NotificationsJob, QUEUES } from './queue-catalogue';

/**
 * Broadcast deliveries share the `deliveries` queue (one job id per delivery, whoever
 * enqueues it) but wait behind every unprioritised job: an order's SMS never queues
 * behind 100,000 broadcast texts.
 */
export const BROADCAST_DELIVERY_PRIORITY = 100;
/** Batch jobs added per round trip to the queue. */
const ADD_BULK = 500;
/** A batch about to start waits while order fan-outs are queued, in steps of this, at most `YIELD_MAX_MS`. */
const YIELD_STEP_MS = 50;
const YIELD_MAX_MS = 2000;
/** A queue that does not answer in this time is treated as down: the broadcast stays unenqueued for the next look. */
const ENQUEUE_TIMEOUT_MS = 5000;
/** How often open batches of older broadcasts are added again (a no-op unless their jobs were lost with Redis' data). */
const REQUEUE_EVERY_MS = 60_000;

/**
 * The worker's side of broadcasts: adds one job per recipient batch (deterministic id
 * `broadcast-<id>-<batch>`) and fans each batch out exactly once per (user, channel).
 */
@Injectable()
export class BroadcastFanOutService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BroadcastFanOutService.name);
  private timer?: NodeJS.Timeout;
  private isRunning = false;
  private isLooking = false;
  private looking?: Promise<void>;
  private lastRequeueAt = Date.now();

  constructor(
    private readonly repository: BroadcastsRepository,
    private readonly notices: NotificationsRepository,
    private readonly config: AppConfig,
    @InjectQueue(QUEUES.broadcasts) private readonly broadcasts: Queue<BroadcastsJob['data'], number, BroadcastsJob['name']>,
    @InjectQueue(QUEUES.deliveries) private readonly deliveries: Queue<DeliveriesJob['data'], void, DeliveriesJob['name']>,
    @InjectQueue(QUEUES.notifications) private readonly notifications: Queue<NotificationsJob['data'], void, NotificationsJob['name']>,
  ) {}

  onApplicationBootstrap(): void {
    this.isRunning = true;
    this.timer = setInterval(() => void this.look(), this.config.outboxPollMs);
  }

  async onApplicationShutdown(): Promise<void> {
    this.isRunning = false;
    clearInterval(this.timer);
    await this.looking;
  }

  /** One look: new broadcasts' batch jobs; now and then, open batches of older ones again. */
  look(): Promise<void> {
    if (this.isLooking || !this.isRunning) return Promise.resolve();
    this.isLooking = true;
    this.looking = this.lookOnce();
    return this.looking;
  }

  private async lookOnce(): Promise<void> {
    try {
      await this.enqueueNew();
      if (Date.now() - this.lastRequeueAt >= REQUEUE_EVERY_MS) {
        this.lastRequeueAt = Date.now();
        await this.requeueOpen(new Date(Date.now() - REQUEUE_EVERY_MS));
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'cannot enqueue broadcast batches; will retry');
    } finally {
      this.isLooking = false;
    }
  }

  /** Adds the batch jobs of broadcasts not yet enqueued; returns how many broadcasts. */
  enqueueNew(): Promise<number> {
    return this.repository.enqueueNext(10, async (rows) => {
      for (const row of rows) {
        const batchNos = Array.from({ length: row.batches }, (_, i) => i);
        await this.addBatches(batchNos.map((batchNo) => ({ broadcastId: row.id, batchNo })));
      }
    });
  }

  /** Adds again the batches of broadcasts enqueued before `enqueuedBefore` that are not done; job ids make this a no-op for live jobs. */
  async requeueOpen(enqueuedBefore: Date): Promise<number> {
    const open = await this.repository.openBatches(enqueuedBefore);
    await this.addBatches(open);
    return open.length;
  }

  private async addBatches(batches: { broadcastId: string; batchNo: number }[]): Promise<void> {
    for (let i = 0; i < batches.length; i += ADD_BULK) {
      const jobs = batches.slice(i, i + ADD_BULK).map((b) => ({ name: 'broadcast-batch' as const, data: b, opts: { jobId: JOB_IDS.broadcastBatch(b.broadcastId, b.batchNo) } }));
      // Bounded: the caller may hold a transaction (the broadcasts' row locks) while the queue is asked.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the queue did not answer within ${ENQUEUE_TIMEOUT_MS} ms`)), ENQUEUE_TIMEOUT_MS);
      });
      await Promise.race([this.broadcasts.addBulk(jobs), timeout]).finally(() => clearTimeout(timer));
    }
  }

  /**
   * Order notifications first: while order fan-outs wait in their queue, a batch does
   * not start (for at most YIELD_MAX_MS, so a busy platform still drains its broadcasts).
   */
  private async yieldToOrders(): Promise<void> {
    const deadline = Date.now() + YIELD_MAX_MS;
    while (Date.now() < deadline) {
      const counts = await this.notifications.getJobCounts('waiting', 'prioritized');
      if ((counts.waiting ?? 0) + (counts.prioritized ?? 0) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, YIELD_STEP_MS));
    }
  }

  /**
   * One batch: the audience's users in the batch's id range get the in-app notification
   * and the external channels asked for that they enabled (SMS held for quiet hours
   * unless urgent), under the unique keys; the pending deliveries are enqueued after the
   * commit and only then is the batch marked done, so a crash anywhere re-runs the
   * batch, which writes nothing twice. Returns the users told.
   */
  async runBatch(broadcastId: string, batchNo: number): Promise<number> {
    const broadcast = await this.repository.find(broadcastId);
    const batch = broadcast ? await this.repository.findBatch(broadcastId, batchNo) : null;
    if (!broadcast || !batch) throw new UnrecoverableError(`broadcast ${broadcastId} has no batch ${batchNo}`);
    if (batch.doneAt) return 0;
    await this.yieldToOrders();
    const recipients = await this.repository.batchRecipients(broadcast, batch);
    const now = new Date();
    const external = new Set<string>(broadcast.channels.filter((c) => c !== 'in_app'));
    const deliveries = recipients.flatMap((r) =>
      planDeliveries(r, broadcast.isUrgent, now)
        .filter((d) => external.has(d.channel))
        .map((d) => ({ ...d, userId: r.userId, title: broadcast.title, body: broadcast.body })),
    );
    const inApp = broadcast.channels.includes('in_app') ? recipients.map((r) => r.userId) : [];
    // The same one-statement write as an order message's fan-out; pending deliveries of this batch's id range only.
    const pending = await this.notices.recordNotices(
      { sourceId: broadcast.id, type: 'broadcast', title: broadcast.title, body: broadcast.body, orderId: null },
      inApp,
      deliveries,
      { first: batch.firstUserId, last: batch.lastUserId },
    );
    await this.deliveries.addBulk(
      pending.map((d) => ({
        name: 'deliver' as const,
        data: { deliveryId: d.id },
        opts: {
          jobId: JOB_IDS.deliver(d.id),
          delay: Math.max(0, d.notBefore.getTime() - Date.now()),
          priority: BROADCAST_DELIVERY_PRIORITY,
          attempts: this.config.deliveryAttempts,
          backoff: { type: 'exponential', delay: this.config.deliveryBackoffMs },
        },
      })),
    );
    await this.repository.markBatchDone(broadcastId, batchNo);
    this.logger.debug({ broadcastId, batchNo, recipients: recipients.length, deliveries: pending.length }, 'broadcast batch fanned out');
    return recipients.length;
  }
}
