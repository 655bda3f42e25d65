import { ConfigModule } from '@kepu/config';
import { DbModule } from '@kepu/db';
import { NotificationsWorkerModule } from '@kepu/notifications';
import { Module } from '@nestjs/common';
import { DeliveriesProcessor } from './processors/deliveries.processor';
import { NotificationsProcessor } from './processors/notifications.processor';
import { TimersProcessor } from './processors/timers.processor';
import { RedisPolicyCheck } from './redis-policy.check';

/** The worker: outbox relay plus one processor per queue. */
@Module({
  imports: [ConfigModule, DbModule, NotificationsWorkerModule],
  providers: [NotificationsProcessor, DeliveriesProcessor, TimersProcessor, RedisPolicyCheck],
})
export class WorkerModule {}
