import { QUEUES } from '@kepu/notifications';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { MetricsRepository } from './metrics.repository';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;
/** The values of the deliveries.status check constraint: each is reported, 0 included, so a dashboard never sees a gap. */
const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
/** A queue backend that does not answer within this is skipped: a scrape must not hang on a Redis outage. */
const SOURCE_TIMEOUT_MS = 1000;
const DATABASE_TIMEOUT_MS = 2000;
/** Requests no route matched share one label, so probing random URLs cannot grow the series count. */
const UNMATCHED_ROUTE = 'unmatched';

/**
 * One registry per application (not prom-client's global one, so several apps
 * can live in one process, as in the tests). Queue depths, outbox backlog and
 * deliveries are read when Prometheus scrapes, never cached.
 */
@Injectable()
export class MetricsService implements OnModuleInit {
  private readonly logger = new Logger('Metrics');
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  private readonly queues: Queue[];
  private readonly queueJobs: Gauge<'queue' | 'state'>;
  private readonly outboxBacklog: Gauge;
  private readonly deliveries: Gauge<'status'>;
  private readonly sourceUp: Gauge<'source'>;
  private reading: Promise<void> | null = null;

  constructor(
    private readonly repository: MetricsRepository,
    private readonly adapterHost: HttpAdapterHost,
    @InjectQueue(QUEUES.notifications) notifications: Queue,
    @InjectQueue(QUEUES.deliveries) deliveries: Queue,
    @InjectQueue(QUEUES.timers) timers: Queue,
    @InjectQueue(QUEUES.coverage) coverage: Queue,
    @InjectQueue(QUEUES.broadcasts) broadcasts: Queue,
  ) {
    this.queues = [notifications, deliveries, timers, coverage, broadcasts];
    collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route template and status code',
      labelNames: ['method', 'route', 'status_code'],
      registers: [this.registry],
    });
    // Each gauge's collect() asks for the same per-scrape read (see refresh()).
    const collect = () => this.refresh();
    this.queueJobs = new Gauge({
      name: 'kepu_queue_jobs',
      help: 'Jobs in a queue by state, read from the queue backend at scrape time',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      collect,
    });
    this.outboxBacklog = new Gauge({
      name: 'kepu_outbox_backlog',
      help: 'Outbox messages not yet published to the queues',
      registers: [this.registry],
      collect,
    });
    this.deliveries = new Gauge({
      name: 'kepu_deliveries',
      help: 'External deliveries (sms, email, wechat) by status',
      labelNames: ['status'],
      registers: [this.registry],
      collect,
    });
    this.sourceUp = new Gauge({
      name: 'kepu_metrics_source_up',
      help: 'Whether a source answered during the scrape (1) or was skipped (0): each queue, the outbox and deliveries queries',
      labelNames: ['source'],
      registers: [this.registry],
      collect,
    });
  }

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // Added before the app is ready, so every route (Nest's and the queue board's) is timed.
    fastify.addHook('onResponse', async (request, reply) => this.observe(request, reply));
  }

  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  private observe(request: FastifyRequest, reply: FastifyReply): void {
    // The route template (/orders/:id), never the raw URL: ids would explode the cardinality.
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    this.httpDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  }

  /**
   * prom-client calls every metric's collect() at once; they share one read of
   * every source, started by the first and reused by the others, so the
   * source_up gauge describes the same read as the values beside it.
   */
  private refresh(): Promise<void> {
    this.reading ??= this.readSources().finally(() => {
      this.reading = null;
    });
    return this.reading;
  }

  private async readSources(): Promise<void> {
    // Labelled series of a skipped source disappear; the unlabelled backlog keeps its last value rather than read as 0.
    this.queueJobs.reset();
    this.deliveries.reset();
    await Promise.all([
      ...this.queues.map((queue) =>
        this.read(`queue:${queue.name}`, SOURCE_TIMEOUT_MS, async () => {
          const counts = await queue.getJobCounts(...QUEUE_STATES);
          for (const state of QUEUE_STATES) this.queueJobs.set({ queue: queue.name, state }, counts[state] ?? 0);
        }),
      ),
      this.read('outbox', DATABASE_TIMEOUT_MS, async () => this.outboxBacklog.set(await this.repository.outboxBacklog())),
      this.read('deliveries', DATABASE_TIMEOUT_MS, async () => {
        const counts = await this.repository.deliveriesByStatus();
        for (const status of new Set([...DELIVERY_STATUSES, ...counts.keys()])) this.deliveries.set({ status }, counts.get(status) ?? 0);
      }),
    ]);
  }

  /** A source that fails or does not answer in time is skipped, not allowed to fail the scrape. */
  private async read(source: string, timeoutMs: number, read: () => Promise<void>): Promise<void> {
    try {
      await withTimeout(read(), timeoutMs);
      this.sourceUp.set({ source }, 1);
    } catch (error) {
      this.sourceUp.set({ source }, 0);
      this.logger.debug(`metrics source ${source} skipped: ${(error as Error).message}`);
    }
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  // The loser is still settled later (e.g. when Redis returns); its rejection must not go unhandled.
  promise.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
