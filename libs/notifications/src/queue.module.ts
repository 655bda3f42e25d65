import { AppConfig } from '@kepu/config';
import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { createPostgresBackend, setDefaultBackendFactory } from 'bullmq';
import type { ConnectionOptions } from 'bullmq';
import { DEFAULT_JOB_OPTIONS, QUEUES } from './queue-catalogue';

/** PostgreSQL connections of one BullMQ queue or worker on the PostgreSQL backend, besides its LISTEN. */
export const QUEUE_POOL_PER_INSTANCE = 2;

/**
 * The queue backend is configuration: Redis, or BullMQ's own PostgreSQL
 * backend. The producer and processor code is the same for both; with
 * `postgres` the process-wide default backend is switched before any queue exists.
 */
export function queueConnection(config: AppConfig): ConnectionOptions {
  if (config.queueBackend === 'postgres') {
    setDefaultBackendFactory(createPostgresBackend);
    // Every queue and worker builds its own pool (plus one LISTEN connection): keep each small.
    // A shared pool starves: blocked worker fetches hold its connections.
    return { connectionString: config.databaseUrl, max: QUEUE_POOL_PER_INSTANCE } as unknown as ConnectionOptions;
  }
  const url = new URL(config.redisUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    username: url.username || undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    tls: url.protocol === 'rediss:' ? {} : undefined,
    // Workers must wait through a Redis outage, not give up (BullMQ's guidance).
    maxRetriesPerRequest: null,
  };
}

@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({ connection: queueConnection(config), prefix: config.queuePrefix }),
    }),
    BullModule.registerQueue(
      { name: QUEUES.notifications, defaultJobOptions: DEFAULT_JOB_OPTIONS.notifications },
      { name: QUEUES.deliveries, defaultJobOptions: DEFAULT_JOB_OPTIONS.deliveries },
      { name: QUEUES.timers, defaultJobOptions: DEFAULT_JOB_OPTIONS.timers },
      { name: QUEUES.coverage, defaultJobOptions: DEFAULT_JOB_OPTIONS.coverage },
      { name: QUEUES.broadcasts, defaultJobOptions: DEFAULT_JOB_OPTIONS.broadcasts },
    ),
  ],
  exports: [BullModule],
})
export class QueueModule {}
