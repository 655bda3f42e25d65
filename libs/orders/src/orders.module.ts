import { Module } from '@nestjs/common';
import { IdempotencyRepository } from './idempotency.repository';
import { IdempotencyService } from './idempotency.service';
import { OrdersRepository } from './orders.repository';
import { OrdersService } from './orders.service';

@Module({
  providers: [OrdersRepository, OrdersService, IdempotencyRepository, IdempotencyService],
  exports: [OrdersService, OrdersRepository],
})
export class OrdersModule {}
