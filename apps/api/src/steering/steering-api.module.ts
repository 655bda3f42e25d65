import { OrdersModule } from '@kepu/orders';
import { Module } from '@nestjs/common';
import { EscalationsController } from './escalations.controller';
import { OrderSeriesController } from './order-series.controller';

/** The coordinators' levers besides reassign (a transition, in the orders controller): escalations and series. */
@Module({
  imports: [OrdersModule],
  controllers: [EscalationsController, OrderSeriesController],
})
export class SteeringApiModule {}
