import { QUEUES, StageTimersService, type TimersJob, WORKER_OPTIONS } from '@kepu/notifications';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';

@Processor(QUEUES.timers, { ...WORKER_OPTIONS, concurrency: 5 })
export class TimersProcessor extends WorkerHost {
  constructor(private readonly timers: StageTimersService) {
    super();
  }

  async process(job: Job<TimersJob['data'], void, TimersJob['name']>): Promise<void> {
    // name and data travel together: narrow them as the catalogue's union
    const entry = { name: job.name, data: job.data } as TimersJob;
    switch (entry.name) {
      case 'stage-changed':
        return this.timers.onStageChanged(entry.data.outboxId);
      case 'sla-due':
        return this.timers.onSlaDue(entry.data.orderId, entry.data.stage, entry.data.enteredSeq);
      case 'expire-due':
        return this.timers.onExpireDue(entry.data.orderId);
      case 'reminder-due':
        return this.timers.onReminderDue(entry.data.orderId, entry.data.kind, entry.data.start);
      case 'rating-reminder-due':
        return this.timers.onRatingReminderDue(entry.data.orderId);
      case 'close-due':
        return this.timers.onCloseDue(entry.data.orderId);
    }
  }
}
