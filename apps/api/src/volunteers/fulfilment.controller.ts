import { CurrentActor } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import { UuidParamPipe, wantsCsv } from '@kepu/http';
import { OrderView } from '@kepu/orders';
import { CheckInDto, CompleteOrderDto, FulfilmentService, OrderAssignmentView, RateOrderDto, serviceRecordsCsv, ServiceRecordsView, ServiceRecordView } from '@kepu/volunteers';
import { Body, Controller, Get, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiAuthenticated, ApiScopedObject, ApiTransitionErrors } from '../api-responses.decorator';

/** 履约 and 评单 (DESIGN.md §3–4). */
@ApiTags('fulfilment')
@ApiAuthenticated()
@Controller()
export class FulfilmentController {
  constructor(private readonly fulfilment: FulfilmentService) {}

  @Post('orders/:id/check-in')
  @HttpCode(200)
  @ApiOperation({ summary: 'A confirmed volunteer (or the accepting organisation for one) checks in, from 2 h before the start to the end; the first starts the event' })
  @ApiOkResponse({ type: OrderView })
  @ApiTransitionErrors('NOT_ASSIGNED, CHECK_IN_CLOSED; 409 ALREADY_CHECKED_IN')
  checkIn(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: CheckInDto): Promise<OrderView> {
    return this.fulfilment.checkIn(actor, id, dto);
  }

  @Post('orders/:id/check-out')
  @HttpCode(200)
  @ApiOperation({ summary: 'Check-out: the service record with hours = overlap with the event, rounded down to the quarter hour' })
  @ApiOkResponse({ type: ServiceRecordView })
  @ApiTransitionErrors('NOT_ASSIGNED; 409 NOT_CHECKED_IN')
  checkOut(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: CheckInDto): Promise<ServiceRecordView> {
    return this.fulfilment.checkOut(actor, id, dto);
  }

  @Post('orders/:id/complete')
  @HttpCode(200)
  @ApiOperation({ summary: 'The accepting organisation completes the event: open check-ins close at its end, absent confirmed volunteers are no-shows' })
  @ApiOkResponse({ type: OrderView })
  @ApiTransitionErrors('none')
  complete(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: CompleteOrderDto): Promise<OrderView> {
    return this.fulfilment.complete(actor, id, dto);
  }

  @Post('orders/:id/rating')
  @HttpCode(200)
  @ApiOperation({ summary: '评单: the requester or community staff rate once; a score of 2 or less tells the district coordinators' })
  @ApiOkResponse({ type: OrderView })
  @ApiTransitionErrors('none')
  rate(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: RateOrderDto): Promise<OrderView> {
    return this.fulfilment.rate(actor, id, dto);
  }

  @Get('orders/:id/assignments')
  @ApiOperation({
    summary:
      'The event\'s team (API extension): every assignment with the volunteer\'s name, status, check-in/out and hours, in the order they were made. For the accepting organisation\'s admins, the department, community staff, the district\'s coordinators, city_admin, and the volunteers on the team',
  })
  @ApiOkResponse({ type: [OrderAssignmentView] })
  @ApiScopedObject()
  assignments(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string): Promise<OrderAssignmentView[]> {
    return this.fulfilment.assignmentsOf(actor, id);
  }

  @Get('volunteers/:id/service-records')
  @ApiOperation({ summary: '志愿服务记录: total hours, star level and every record; Accept: text/csv for a CSV proof' })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: ServiceRecordsView })
  @ApiScopedObject()
  async serviceRecords(
    @CurrentActor() actor: Actor,
    @Param('id', UuidParamPipe) id: string,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ServiceRecordsView | string> {
    const records = await this.fulfilment.serviceRecords(actor, id);
    if (!wantsCsv(accept)) return records;
    void reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="service-records-${id}.csv"`);
    return serviceRecordsCsv(records);
  }
}
