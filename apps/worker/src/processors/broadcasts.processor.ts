import { BroadcastFanOutService, type BroadcastsJob, QUEUES, WORKER_OPTIONS } from '@kepu/notifications';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';

/**
 * Broadcast batches on their own queue with a modest concurrency: a 100,000-recipient
 * broadcast drains beside the order notifications instead of in front of them.
 */
@Processor(QUEUES.broadcasts, { ...WORKER_OPTIONS, concurrency: 2 })
export class BroadcastsProcessor extends WorkerHost {
  constructor(private readonly broadcasts: BroadcastFanOutService) {
    super();
  }

  async process(job: Job<BroadcastsJob['data'], number, BroadcastsJob['name']>): Promise<number> {
    switch (job.name) {
      case 'broadcast-batch':
        return this.broadcasts.runBatch(job.data.broadcastId, job.data.batchNo);
    }
  }
}
