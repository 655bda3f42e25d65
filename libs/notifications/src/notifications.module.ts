import { OrdersModule } from '@kepu/orders';
import { Module } from '@nestjs/common';
import { ChannelProviders } from './channel-provider';
import { DeliveryService } from './delivery.service';
import { FanOutService } from './fan-out.service';
import { InboxService } from './inbox.service';
import { NotificationsRepository } from './notifications.repository';
import { OutboxRelayService } from './outbox-relay.service';
import { OutboxRepository } from './outbox.repository';
import { OutboxService } from './outbox.service';
import { QueueModule } from './queue.module';
import { QueueResyncRepository } from './queue-resync.repository';
import { QueueResyncService } from './queue-resync.service';
import { StageTimersRepository } from './stage-timers.repository';
import { StageTimersService } from './stage-timers.service';

/** What the API needs: the inbox, preferences and the queues (for dashboards and metrics). */
@Module({
  imports: [QueueModule],
  providers: [NotificationsRepository, InboxService, OutboxRepository, OutboxService],
  exports: [InboxService, NotificationsRepository, OutboxRepository, OutboxService, QueueModule],
})
export class NotificationsModule {}

/** What the worker runs: the relay, fan-out, deliveries and stage timers. Never imported by the API. */
@Module({
  imports: [NotificationsModule, OrdersModule],
  providers: [OutboxRelayService, FanOutService, DeliveryService, ChannelProviders, StageTimersRepository, StageTimersService, QueueResyncRepository, QueueResyncService],
  exports: [OutboxRelayService, FanOutService, DeliveryService, StageTimersService, QueueResyncService],
})
export class NotificationsWorkerModule {}
