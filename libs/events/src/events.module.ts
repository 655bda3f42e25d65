import { NotificationsModule } from '@kepu/notifications';
import { OrdersModule } from '@kepu/orders';
import { Module } from '@nestjs/common';
import { EventsRepository } from './events.repository';
import { EventsService } from './events.service';

/**
 * Published events with sign-ups, tickets, attendance and feedback (DESIGN.md §10); the only
 * writer of `events` and `event_signups`. The order's own status stays with libs/orders.
 */
@Module({
  imports: [OrdersModule, NotificationsModule],
  providers: [EventsRepository, EventsService],
  exports: [EventsService],
})
export class EventsModule {}
