import { FanOutService, type NotificationsJob, QUEUES } from '@kepu/notifications';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';

@Processor(QUEUES.notifications, { concurrency: 10 })
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
