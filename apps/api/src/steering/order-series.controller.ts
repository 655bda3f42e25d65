import { CurrentActor } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import { CreateOrderSeriesDto, OrderSeriesView, OrdersService } from '@kepu/orders';
import { Body, Controller, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { ApiAuthenticated } from '../api-responses.decorator';
import { ProblemView } from '../problem.view';

@ApiTags('orders')
@ApiAuthenticated()
@Controller('order-series')
export class OrderSeriesController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @ApiOperation({
    summary: '常态化: community staff order a recurring service; one order per occurrence (weekly or monthly, windows shifted), each with the seriesId, all written in one transaction or none',
  })
  @ApiCreatedResponse({ type: OrderSeriesView })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: 'SERIES_BEYOND_HORIZON (an occurrence would end more than 180 days ahead), UNKNOWN_COMMUNITY' })
  create(@CurrentActor() actor: Actor, @Body() dto: CreateOrderSeriesDto): Promise<OrderSeriesView> {
    return this.orders.createSeries(actor, dto);
  }
}
