import { FanOutService, type NotificationsJob, QUEUES, WORKER_OPTIONS } from '@kepu/notifications';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';

@Processor(QUEUES.notifications, { ...WORKER_OPTIONS, concurrency: 10 })
export class NotificationsProcessor extends WorkerHost {
  constructor(private readonly fanOut: FanOutService) {
    super();
  }

  async process(job: Job<NotificationsJob['data'], unknown, NotificationsJob['name']>): Promise<number> {
    switch (job.name) {
      case 'fan-out':
        return this.fanOut.fanOut(job.data.outboxId);
    }
  }
}
