import { Module } from '@nestjs/common';
import { EscalationsRepository } from './escalations.repository';
import { EscalationsService } from './escalations.service';
import { IdempotencyRepository } from './idempotency.repository';
import { IdempotencyService } from './idempotency.service';
import { OrdersRepository } from './orders.repository';
import { OrdersService } from './orders.service';
import { Transactions } from './transactions';

/**
 * Orders, their events, escalations and idempotency records; the only writer of those tables.
 * Needs from the composing app: the Clock (ClockModule.forRoot) and an OrderFulfilment
 * (libs/volunteers' OrderFulfilmentModule), both global.
 */
@Module({
  providers: [OrdersRepository, OrdersService, IdempotencyRepository, IdempotencyService, Transactions, EscalationsRepository, EscalationsService],
  exports: [OrdersService, Transactions, EscalationsService],
})
export class OrdersModule {}
