import { CurrentActor } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import { UuidParamPipe } from '@kepu/http';
import {
  CreateOrderDto,
  DispatchOrderDto,
  ListOrdersQueryDto,
  MergeOrderDto,
  OfferOrderDto,
  OrderEventView,
  OrderPageView,
  OrdersService,
  OrderView,
  ReasonDto,
  TransitionDto,
} from '@kepu/orders';
import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiAuthenticated, ApiScopedObject, ApiTransitionErrors } from '../api-responses.decorator';
import { ProblemView } from '../problem.view';
import { sendIdempotent } from './send-idempotent';

@ApiTags('orders')
@ApiAuthenticated()
@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @ApiOperation({ summary: '群众点单: a resident or community staff posts a request for a science-popularization service' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: '≤ 255 visible ASCII characters; a repeat with the same body answers the first response again' })
  @ApiCreatedResponse({ type: OrderView })
  @ApiConflictResponse({ type: ProblemView, description: 'IDEMPOTENCY_IN_PROGRESS' })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: 'IDEMPOTENCY_KEY_REUSED, UNKNOWN_COMMUNITY' })
  async create(
    @CurrentActor() actor: Actor,
    @Body() dto: CreateOrderDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<unknown> {
    return sendIdempotent(reply, await this.orders.create(actor, dto, idempotencyKey));
  }

  @Get()
  @ApiOkResponse({ type: OrderPageView, description: 'Newest first, only orders in your scope' })
  list(@CurrentActor() actor: Actor, @Query() query: ListOrdersQueryDto): Promise<OrderPageView> {
    return this.orders.list(actor, query);
  }

  @Get(':id')
  @ApiOkResponse({ type: OrderView })
  @ApiScopedObject()
  get(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string): Promise<OrderView> {
    return this.orders.get(actor, id);
  }

  @Get(':id/events')
  @ApiOkResponse({ type: [OrderEventView], description: 'Oldest first' })
  @ApiScopedObject()
  events(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string): Promise<OrderEventView[]> {
    return this.orders.events(actor, id);
  }

  @Post(':id/dispatch')
  @HttpCode(200)
  @ApiOperation({ summary: '社区派单: community staff dispatch to a department serving the district (or city-wide)' })
  @ApiOkResponse({ type: OrderView })
  @ApiTransitionErrors('UNKNOWN_DEPARTMENT, DEPARTMENT_NOT_SERVING_DISTRICT')
  dispatch(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: DispatchOrderDto): Promise<OrderView> {
    return this.orders.dispatch(actor, id, dto);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @ApiOperation({ summary: 'Community staff reject the request, with a reason' })
  @ApiOkResponse({ type: OrderView })
  @ApiTransitionErrors('none')
  reject(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: ReasonDto): Promise<OrderView> {
    return this.orders.reject(actor, id, dto);
  }

  @Post(':id/merge')
  @HttpCode(200)
  @ApiOperation({ summary: 'Community staff merge a duplicate into a primary order of the same community' })
  @ApiOkResponse({ type: OrderView })
  @ApiTransitionErrors('INVALID_MERGE_TARGET')
  merge(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: MergeOrderDto): Promise<OrderView> {
    return this.orders.merge(actor, id, dto);
  }

  @Post(':id/claim')
  @HttpCode(200)
  @ApiOperation({ summary: '部门领单: staff of the department take the order; exactly one claim wins, the others get 409' })
  @ApiOkResponse({ type: OrderView })
  @ApiTransitionErrors('none')
  claim(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: TransitionDto): Promise<OrderView> {
    return this.orders.claim(actor, id, dto);
  }

  @Post(':id/decline')
  @HttpCode(200)
  @ApiOperation({ summary: 'The department returns the order to the community (returnedCount + 1)' })
  @ApiOkResponse({ type: OrderView })
  @ApiTransitionErrors('none')
  decline(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: ReasonDto): Promise<OrderView> {
    return this.orders.decline(actor, id, dto);
  }

  @Post(':id/offer')
  @HttpCode(200)
  @ApiOperation({ summary: 'The claiming department offers the order to one organisation serving the district' })
  @ApiOkResponse({ type: OrderView })
  @ApiTransitionErrors('UNKNOWN_ORGANIZATION, ORGANIZATION_NOT_SERVING_DISTRICT')
  offer(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: OfferOrderDto): Promise<OrderView> {
    return this.orders.offer(actor, id, dto);
  }

  @Post(':id/open')
  @HttpCode(200)
  @ApiOperation({ summary: 'The claiming department opens the order to every organisation serving the district' })
  @ApiOkResponse({ type: OrderView })
  @ApiTransitionErrors('none')
  open(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: TransitionDto): Promise<OrderView> {
    return this.orders.open(actor, id, dto);
  }

  @Post(':id/accept')
  @HttpCode(200)
  @ApiOperation({ summary: '志愿组织接单: the offered organisation, or any serving the district when open, accepts; exactly one wins' })
  @ApiOkResponse({ type: OrderView })
  @ApiTransitionErrors('none')
  accept(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: TransitionDto): Promise<OrderView> {
    return this.orders.accept(actor, id, dto);
  }

  @Post(':id/release')
  @HttpCode(200)
  @ApiOperation({ summary: 'The accepting organisation gives the order back to the department' })
  @ApiOkResponse({ type: OrderView })
  @ApiTransitionErrors('none')
  release(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: ReasonDto): Promise<OrderView> {
    return this.orders.release(actor, id, dto);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'The requester or community staff cancel (from scheduled: community staff only)' })
  @ApiOkResponse({ type: OrderView })
  @ApiTransitionErrors('none')
  cancel(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: ReasonDto): Promise<OrderView> {
    return this.orders.cancel(actor, id, dto);
  }
}
