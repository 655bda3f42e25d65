import { CurrentActor } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import { HistoryPageQueryDto, sendPage, UuidParamPipe, wantsCsv } from '@kepu/http';
import { OrderView } from '@kepu/orders';
import { CheckInCodeView, CheckInDto, CompleteOrderDto, FulfilmentService, OrderAssignmentView, RateOrderDto, serviceRecordsCsv, ServiceRecordsView, ServiceRecordView } from '@kepu/volunteers';
import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiConflictResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiAuthenticated, ApiNextCursor, ApiScopedObject, ApiTransition } from '../api-responses.decorator';
import { ProblemView } from '../problem.view';

/** 履约 and 评单 (DESIGN.md §3–4). */
@ApiTags('fulfilment')
@ApiAuthenticated()
@Controller()
export class FulfilmentController {
  constructor(private readonly fulfilment: FulfilmentService) {}

  @Post('orders/:id/check-in')
  @HttpCode(200)
  @ApiTransition('check_in')
  @ApiOkResponse({ type: OrderView })
  checkIn(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: CheckInDto): Promise<OrderView> {
    return this.fulfilment.checkIn(actor, id, dto);
  }

  @Get('orders/:id/check-in-code')
  @ApiOperation({
    summary:
      'The venue\'s rotating check-in code (show it as a QR code): 6 digits that change every 5 minutes, the one before stays valid. For the accepting organisation\'s admins and the staff of the order\'s community, while the event is scheduled or in progress',
  })
  @ApiOkResponse({ type: CheckInCodeView })
  @ApiScopedObject()
  @ApiConflictResponse({ type: ProblemView, description: 'ORDER_STATE_CONFLICT: the order is not scheduled or in progress' })
  checkInCode(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string): Promise<CheckInCodeView> {
    return this.fulfilment.checkInCode(actor, id);
  }

  @Post('orders/:id/check-out')
  @HttpCode(200)
  @ApiOperation({ summary: 'Check-out: the service record with hours = overlap with the event, rounded down to the quarter hour' })
  @ApiOkResponse({ type: ServiceRecordView })
  @ApiScopedObject()
  @ApiConflictResponse({ type: ProblemView, description: 'ORDER_STATE_CONFLICT: the order is not in_progress; NOT_CHECKED_IN: the volunteer has no open check-in' })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: 'NOT_ASSIGNED: the volunteer has no confirmed assignment for the event' })
  checkOut(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: CheckInDto): Promise<ServiceRecordView> {
    return this.fulfilment.checkOut(actor, id, dto);
  }

  @Post('orders/:id/complete')
  @HttpCode(200)
  @ApiTransition('complete')
  @ApiOkResponse({ type: OrderView })
  complete(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: CompleteOrderDto): Promise<OrderView> {
    return this.fulfilment.complete(actor, id, dto);
  }

  @Post('orders/:id/rating')
  @HttpCode(200)
  @ApiTransition('rate')
  @ApiOkResponse({ type: OrderView })
  rate(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: RateOrderDto): Promise<OrderView> {
    return this.fulfilment.rate(actor, id, dto);
  }

  @Get('orders/:id/assignments')
  @ApiOperation({
    summary:
      'The event\'s team (API extension): every assignment with the volunteer\'s name, status, check-in/out and hours, in the order they were made. For the accepting organisation\'s admins, the department, community staff, the district\'s coordinators, city_admin, and the volunteers on the team',
  })
  @ApiOkResponse({ type: [OrderAssignmentView], description: 'A bare array, a page of `limit` (default 100): the next page\'s cursor, if any, is in the X-Next-Cursor header' })
  @ApiNextCursor()
  @ApiScopedObject()
  async assignments(
    @CurrentActor() actor: Actor,
    @Param('id', UuidParamPipe) id: string,
    @Query() query: HistoryPageQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<OrderAssignmentView[]> {
    return sendPage(reply, await this.fulfilment.assignmentsOf(actor, id, query));
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
