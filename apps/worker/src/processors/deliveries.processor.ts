import { DeliveryService, type DeliveriesJob, QUEUES, WORKER_OPTIONS } from '@kepu/notifications';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';

@Processor(QUEUES.deliveries, { ...WORKER_OPTIONS, concurrency: 20 })
export class DeliveriesProcessor extends WorkerHost {
  constructor(private readonly delivery: DeliveryService) {
    super();
  }

  async process(job: Job<DeliveriesJob['data'], void, DeliveriesJob['name']>): Promise<void> {
    switch (job.name) {
      case 'deliver':
        return this.delivery.deliver(job.data.deliveryId, job.attemptsMade + 1, job.opts.attempts ?? 1);
    }
  }
}
