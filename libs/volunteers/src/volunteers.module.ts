import { OrdersModule } from '@kepu/orders';
import { Module } from '@nestjs/common';
import { FulfilmentRepository } from './fulfilment.repository';
import { FulfilmentService } from './fulfilment.service';

/**
 * Fulfilment (志愿组织接单 → 派员 → 履约 → 评单): volunteers, venues, candidates,
 * scheduling, assignments and open slots, check-in/out, service records, rating.
 * Order status changes go through OrdersService.transition with effects.
 */
@Module({
  imports: [OrdersModule],
  providers: [FulfilmentRepository, FulfilmentService],
  exports: [FulfilmentService],
})
export class VolunteersModule {}
