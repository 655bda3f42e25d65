import { AppConfig } from '@kepu/config';
import { isNotified } from '@kepu/core';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { OutboxRepository, type UnpublishedMessage } from './outbox.repository';
import { COVERAGE_BATCH, type CoverageJob, hasStageTimers, JOB_IDS, type NotificationsJob, OUTBOX_JOBS, QUEUES } from './queue-catalogue';

const BATCH_SIZE = 200;
/** A queue that does not answer in this time is treated as down; the rows stay unpublished. */
const PUBLISH_TIMEOUT_MS = 5000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The batch's orders, COVERAGE_BATCH to a job: a refresh recomputes an order from its current state, so one per order per batch is enough. */
function coverageJobs(messages: (UnpublishedMessage & { orderId: string })[]): { name: 'refresh-order'; data: CoverageJob['data']; opts: { jobId: string } }[] {
  const jobs = [];
  for (let i = 0; i < messages.length; i += COVERAGE_BATCH) {
    const chunk = messages.slice(i, i + COVERAGE_BATCH);
    const first = chunk[0];
    if (!first) continue;
    const orderIds = [...new Set(chunk.map((m) => m.orderId))];
    jobs.push({ name: 'refresh-order' as const, data: { orderId: first.orderId, outboxId: first.id, orderIds }, opts: { jobId: JOB_IDS.coverageBatch(chunk.map((m) => m.id)) } });
  }
  return jobs;
}

/**
 * Publishes committed outbox rows to the queues. Rows are locked with SKIP LOCKED,
 * so several workers share the backlog; job ids are derived from the outbox id, so
 * publishing a row twice (a crash between enqueue and commit) adds nothing twice.
 * Woken by NOTIFY at commit, with a poll as the fallback.
 */
@Injectable()
export class OutboxRelayService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelayService.name);
  private listener?: Client;
  private isRunning = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  /** A NOTIFY that came while a batch was being published: the next sleep must not wait. */
  private isWakePending = false;
  private isQueueDown = false;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly config: AppConfig,
    @InjectQueue(QUEUES.notifications) private readonly notifications: Queue<NotificationsJob['data'], void, NotificationsJob['name']>,
    @InjectQueue(QUEUES.coverage) private readonly coverage: Queue<CoverageJob['data'], void, CoverageJob['name']>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.isRunning = true;
    await this.listen();
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.isRunning = false;
    this.signal();
    await this.loop;
    await this.listener?.end().catch(() => undefined);
  }

  /** Publishes one batch; returns how many rows it published. */
  publishBatch(): Promise<number> {
    return this.outbox.publishNext(BATCH_SIZE, async (messages) => {
      // One fan-out job per message someone is told of or that moves an order's stage timers (the job does both).
      const fannedOut = messages.filter((m) => isNotified(m.type) || (m.orderId !== null && hasStageTimers(m.type)));
      // Anything about an order (transitions, creation, SLA breaches…) may change its coverage figures.
      const aboutOrders = messages.filter((m): m is UnpublishedMessage & { orderId: string } => m.orderId !== null);
      await withTimeout(
        Promise.all([
          this.notifications.addBulk(fannedOut.map((m) => OUTBOX_JOBS.fanOut(m.id, m.type))),
          this.coverage.addBulk(coverageJobs(aboutOrders)),
        ]),
        PUBLISH_TIMEOUT_MS,
        'the queue',
      );
    });
  }

  private async run(): Promise<void> {
    while (this.isRunning) {
      let published = 0;
      try {
        published = await this.publishBatch();
        if (this.isQueueDown) this.logger.log('queue reachable again; publishing the outbox backlog');
        this.isQueueDown = false;
      } catch (error) {
        if (!this.isQueueDown) this.logger.warn({ err: error }, 'outbox relay cannot publish; will retry (state changes keep committing)');
        this.isQueueDown = true;
      }
      if (published < BATCH_SIZE) await this.sleep(this.config.outboxPollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.isWakePending) {
      this.isWakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** Called on NOTIFY: wakes a sleeping loop, or marks the wake-up for the next sleep. */
  private signal(): void {
    if (this.wake) this.wake();
    else this.isWakePending = true;
  }

  private async listen(): Promise<void> {
    const client = new Client({ connectionString: this.config.databaseUrl, application_name: 'kepu-outbox-relay' });
    client.on('notification', () => this.signal());
    // A lost LISTEN connection only costs promptness: the poll still runs. Reconnect in the background.
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'outbox LISTEN connection lost; polling until it is back');
      this.listener = undefined;
      if (this.isRunning) setTimeout(() => void this.listen().catch(() => undefined), this.config.outboxPollMs);
    });
    try {
      await client.connect();
      await client.query('LISTEN outbox');
      this.listener = client;
    } catch (error) {
      this.logger.warn({ err: error }, 'cannot LISTEN for outbox commits; polling only');
      await client.end().catch(() => undefined);
    }
  }
}
