import { ConfigModule } from '@kepu/config';
import { CoverageModule } from '@kepu/coverage';
import { DbModule } from '@kepu/db';
import { NotificationsWorkerModule } from '@kepu/notifications';
import { Module } from '@nestjs/common';
import { CoverageBootstrap } from './coverage-bootstrap';
import { CoverageProcessor } from './processors/coverage.processor';
import { DeliveriesProcessor } from './processors/deliveries.processor';
import { NotificationsProcessor } from './processors/notifications.processor';
import { TimersProcessor } from './processors/timers.processor';
import { RedisPolicyCheck } from './redis-policy.check';

/** The worker: outbox relay plus one processor per queue. */
@Module({
  imports: [ConfigModule, DbModule, NotificationsWorkerModule, CoverageModule],
  providers: [NotificationsProcessor, DeliveriesProcessor, TimersProcessor, CoverageProcessor, CoverageBootstrap, RedisPolicyCheck],
})
export class WorkerModule {}
