import { AppConfig } from '@kepu/config';
import { FanOutService, type NotificationsJob, QUEUES, WORKER_OPTIONS } from '@kepu/notifications';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';

/** Concurrency comes from NOTIFICATIONS_CONCURRENCY, set on the worker once Nest has created it (the decorator's options are fixed at import). */
@Processor(QUEUES.notifications, { ...WORKER_OPTIONS, concurrency: 1 })
export class NotificationsProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly fanOut: FanOutService,
    private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.notificationsConcurrency;
  }

  async process(job: Job<NotificationsJob['data'], unknown, NotificationsJob['name']>): Promise<number> {
    switch (job.name) {
      case 'fan-out':
        return this.fanOut.fanOut(job.data.outboxId, job.data.type);
    }
  }
}
