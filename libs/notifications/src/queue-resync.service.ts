import { AppConfig } from '@kepu/config';
import { NOTIFICATION_RULES } from '@kepu/core';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { FanOutService } from './fan-out.service';
import { type NotificationsJob, OUTBOX_JOBS, QUEUES, type TimersJob } from './queue-catalogue';
import { QueueResyncRepository } from './queue-resync.repository';

/** How often a worker looks whether Redis still holds its data. */
export const RESYNC_CHECK_MS = 5000;
/** How far back a message whose fan-out was lost is looked for (the longest a job can wait: a week of retries is not configured). */
const FAN_OUT_LOOKBACK_MS = 7 * 24 * 3600 * 1000;
const BULK = 500;

/**
 * Redis that comes back without its data (no AOF, a replica that was behind, a new
 * node) has lost every job the relay had already published: fan-outs, deliveries and
 * stage timers. A marker key, absent from an empty Redis, tells the worker; the first
 * worker to set it again re-enqueues from PostgreSQL what should be queued. Every job
 * id is deterministic and every job idempotent, so re-enqueueing what was not lost
 * (a first start, two workers) costs work, never a second notification.
 */
@Injectable()
export class QueueResyncService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(QueueResyncService.name);
  private interval?: NodeJS.Timeout;
  private isChecking = false;
  private client?: Redis;

  constructor(
    private readonly config: AppConfig,
    private readonly repository: QueueResyncRepository,
    private readonly fanOut: FanOutService,
    @InjectQueue(QUEUES.notifications) private readonly notifications: Queue<NotificationsJob['data'], void, NotificationsJob['name']>,
    @InjectQueue(QUEUES.timers) private readonly timers: Queue<TimersJob['data'], void, TimersJob['name']>,
  ) {}

  onApplicationBootstrap(): void {
    // The PostgreSQL queue backend keeps its jobs in the same database as the outbox.
    if (this.config.queueBackend !== 'redis') return;
    // Its own connection, which fails fast while Redis is down rather than queueing the marker commands.
    this.client = new Redis(this.config.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.client.on('error', () => undefined);
    this.interval = setInterval(() => void this.check(), RESYNC_CHECK_MS);
    void this.check();
  }

  onApplicationShutdown(): void {
    clearInterval(this.interval);
    this.client?.disconnect();
  }

  /** Resyncs when the marker is missing; true when this call did. Redis down: nothing now, the next check retries. */
  async check(): Promise<boolean> {
    const client = this.client;
    if (!client || this.isChecking) return false;
    this.isChecking = true;
    const key = `${this.config.queuePrefix}:queues-since`;
    let isMarkerSet = false;
    try {
      if (client.status === 'wait') await client.connect();
      isMarkerSet = (await client.set(key, new Date().toISOString(), 'NX')) === 'OK';
      if (!isMarkerSet) return false;
      await this.resync();
      return true;
    } catch (error) {
      // Half done: leave the marker unset so the next check starts again.
      if (isMarkerSet) await client.del(key).catch(() => 0);
      this.logger.warn({ err: error }, 'queue resync failed; will retry');
      return false;
    } finally {
      this.isChecking = false;
    }
  }

  private async resync(): Promise<void> {
    const lost = await this.repository.publishedWithoutNotifications(Object.keys(NOTIFICATION_RULES), new Date(Date.now() - FAN_OUT_LOOKBACK_MS));
    for (let i = 0; i < lost.length; i += BULK) await this.notifications.addBulk(lost.slice(i, i + BULK).map((m) => OUTBOX_JOBS.fanOut(m.id, m.type)));
    const events = await this.repository.latestEventOfTimedOrders();
    for (let i = 0; i < events.length; i += BULK) await this.timers.addBulk(events.slice(i, i + BULK).map((id) => OUTBOX_JOBS.stageChanged(id)));
    const deliveries = await this.repository.pendingDeliveries();
    await this.fanOut.enqueueDeliveries(deliveries);
    if (lost.length + events.length + deliveries.length > 0)
      this.logger.warn({ fanOuts: lost.length, timerReconciles: events.length, deliveries: deliveries.length }, 'queue data missing (Redis restarted empty?); re-enqueued from PostgreSQL');
  }
}
