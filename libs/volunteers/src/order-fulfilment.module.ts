import { OrderFulfilment } from '@kepu/orders';
import { Global, Module } from '@nestjs/common';
import { OrderFulfilmentService } from './order-fulfilment.service';
import { SchedulingRepository } from './scheduling.repository';

/**
 * Provides libs/orders' OrderFulfilment, globally: OrdersModule needs it and
 * VolunteersModule needs OrdersModule, so neither imports the other's half.
 * Every app that composes OrdersModule imports this (the API through VolunteersModule).
 */
@Global()
@Module({
  providers: [SchedulingRepository, OrderFulfilmentService, { provide: OrderFulfilment, useExisting: OrderFulfilmentService }],
  exports: [OrderFulfilment],
})
export class OrderFulfilmentModule {}
