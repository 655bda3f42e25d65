import { CurrentActor } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import { UuidParamPipe } from '@kepu/http';
import { OrderView } from '@kepu/orders';
import { ScheduleOrderDto, SchedulingService } from '@kepu/volunteers';
import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { ApiAuthenticated } from '../api-responses.decorator';
import { ProblemView } from '../problem.view';

const SCHEDULE_RULES =
  'SLOT_IN_PAST, OUTSIDE_PREFERRED_WINDOW, UNKNOWN_VENUE, VENUE_TOO_SMALL, VENUE_NOT_ACCESSIBLE, VOLUNTEER_NOT_IN_ORGANIZATION, NOT_ELIGIBLE (errors list each volunteer\'s reasons: inactive, unavailable, over_weekly_cap)';
const SCHEDULE_CONFLICTS = 'VENUE_CONFLICT, VOLUNTEER_CONFLICT (double booking, guaranteed by exclusion constraints), ORDER_STATE_CONFLICT';

@ApiTags('orders')
@ApiAuthenticated()
@Controller('orders')
export class SchedulingController {
  constructor(private readonly scheduling: SchedulingService) {}

  @Post(':id/schedule')
  @HttpCode(200)
  @ApiOperation({ summary: 'The accepting organisation fixes time, venue and volunteers (invited by name) and may leave slots open for its volunteers to claim' })
  @ApiOkResponse({ type: OrderView })
  @ApiNotFoundResponse({ type: ProblemView, description: 'NOT_FOUND: absent or outside your scope' })
  @ApiConflictResponse({ type: ProblemView, description: SCHEDULE_CONFLICTS })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: SCHEDULE_RULES })
  schedule(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: ScheduleOrderDto): Promise<OrderView> {
    return this.scheduling.schedule(actor, id, dto);
  }

  @Post(':id/reschedule')
  @HttpCode(200)
  @ApiOperation({
    summary: 'The accepting organisation moves the event: re-books the venue, moves every invited and confirmed volunteer (slot claims too), removes named volunteers no longer listed and invites new ones, atomically',
  })
  @ApiOkResponse({ type: OrderView })
  @ApiNotFoundResponse({ type: ProblemView, description: 'NOT_FOUND: absent or outside your scope' })
  @ApiConflictResponse({ type: ProblemView, description: SCHEDULE_CONFLICTS })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: SCHEDULE_RULES })
  reschedule(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: ScheduleOrderDto): Promise<OrderView> {
    return this.scheduling.reschedule(actor, id, dto);
  }
}
