import { CoverageMaintenanceService, REFRESHES_GROUPED } from '@kepu/coverage';
import { type CoverageJob, QUEUES, WORKER_OPTIONS } from '@kepu/notifications';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';

/**
 * Keeps the coverage rollups up to date: each job recomputes its orders' facts (a relay batch's)
 * from PostgreSQL and applies the difference, so duplicates and reordering are harmless.
 * Jobs taken at once wait for the service's one refresh at a time and go in the next together
 * (CoverageMaintenanceService): the concurrency is how many can join one refresh.
 */
@Processor(QUEUES.coverage, { ...WORKER_OPTIONS, concurrency: REFRESHES_GROUPED })
export class CoverageProcessor extends WorkerHost {
  constructor(private readonly coverage: CoverageMaintenanceService) {
    super();
  }

  async process(job: Job<CoverageJob['data'], void, CoverageJob['name']>): Promise<void> {
    switch (job.name) {
      case 'refresh-order':
        return this.coverage.refreshOrders(job.data.orderIds ?? [job.data.orderId]);
    }
  }
}
