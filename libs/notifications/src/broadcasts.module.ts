import { OrdersModule } from '@kepu/orders';
import { Module } from '@nestjs/common';
import { BroadcastFanOutService } from './broadcast-fan-out.service';
import { BroadcastsRepository } from './broadcasts.repository';
import { BroadcastsService } from './broadcasts.service';
import { NotificationsModule } from './notifications.module';
import { QueueModule } from './queue.module';

/** What the API needs of broadcasts: accept one, read its progress. */
@Module({
  imports: [OrdersModule],
  providers: [BroadcastsRepository, BroadcastsService],
  exports: [BroadcastsService],
})
export class BroadcastsModule {}

/** What the worker runs of broadcasts: the batch jobs and their fan-out. Never imported by the API. */
@Module({
  imports: [QueueModule, NotificationsModule],
  providers: [BroadcastsRepository, BroadcastFanOutService],
  exports: [BroadcastFanOutService],
})
export class BroadcastsWorkerModule {}
