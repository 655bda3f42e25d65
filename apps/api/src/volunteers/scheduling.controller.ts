import { CurrentActor } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import { UuidParamPipe } from '@kepu/http';
import { OrderView } from '@kepu/orders';
import { ScheduleOrderDto, SchedulingService } from '@kepu/volunteers';
import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiTransition } from '../api-responses.decorator';

@ApiTags('orders')
@ApiAuthenticated()
@Controller('orders')
export class SchedulingController {
  constructor(private readonly scheduling: SchedulingService) {}

  @Post(':id/schedule')
  @HttpCode(200)
  @ApiTransition('schedule')
  @ApiOkResponse({ type: OrderView })
  schedule(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: ScheduleOrderDto): Promise<OrderView> {
    return this.scheduling.schedule(actor, id, dto);
  }

  @Post(':id/reschedule')
  @HttpCode(200)
  @ApiTransition('reschedule')
  @ApiOkResponse({ type: OrderView })
  reschedule(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: ScheduleOrderDto): Promise<OrderView> {
    return this.scheduling.reschedule(actor, id, dto);
  }
}
