import { CurrentActor } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import { HistoryPageQueryDto, LimitedWrite, sendPage, UuidParamPipe } from '@kepu/http';
import {
  CreateOrderDto,
  DispatchOrderDto,
  IdempotencyService,
  ListOrdersQueryDto,
  MergeOrderDto,
  OfferOrderDto,
  OrderEventView,
  OrderPageView,
  OrdersService,
  OrderView,
  ReassignOrderDto,
  ReasonDto,
  TransitionDto,
} from '@kepu/orders';
import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiAuthenticated, ApiNextCursor, ApiScopedObject, ApiTransition } from '../api-responses.decorator';
import { ProblemView } from '../problem.view';
import { sendIdempotent } from './send-idempotent';

@ApiTags('orders')
@ApiAuthenticated()
@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @LimitedWrite('orders.create', { replays: IdempotencyService })
  @ApiOperation({
    summary:
      '群众点单: a resident or community staff posts a request for a science-popularization service; with urgent: true (应急科普) community staff or a coordinator (own district; city_admin any) posts an urgent one, a resident gets 403',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: '≤ 255 visible ASCII characters; a repeat with the same body answers the first response again',
    schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
  })
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
  @ApiOkResponse({ type: OrderPageView, description: 'Urgent orders first, then newest first; only orders in your scope' })
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
  @ApiOkResponse({ type: [OrderEventView], description: 'Oldest first; a bare array as API.md gives it, a page of `limit` (default 100): the next page\'s cursor, if any, is in the X-Next-Cursor header' })
  @ApiNextCursor()
  @ApiScopedObject()
  async events(
    @CurrentActor() actor: Actor,
    @Param('id', UuidParamPipe) id: string,
    @Query() query: HistoryPageQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<OrderEventView[]> {
    return sendPage(reply, await this.orders.events(actor, id, query));
  }

  @Post(':id/dispatch')
  @HttpCode(200)
  @ApiTransition('dispatch')
  @ApiOkResponse({ type: OrderView })
  dispatch(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: DispatchOrderDto): Promise<OrderView> {
    return this.orders.dispatch(actor, id, dto);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @ApiTransition('reject')
  @ApiOkResponse({ type: OrderView })
  reject(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: ReasonDto): Promise<OrderView> {
    return this.orders.reject(actor, id, dto);
  }

  @Post(':id/merge')
  @HttpCode(200)
  @ApiTransition('merge')
  @ApiOkResponse({ type: OrderView })
  merge(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: MergeOrderDto): Promise<OrderView> {
    return this.orders.merge(actor, id, dto);
  }

  @Post(':id/claim')
  @HttpCode(200)
  @ApiTransition('claim')
  @ApiOkResponse({ type: OrderView })
  claim(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: TransitionDto): Promise<OrderView> {
    return this.orders.claim(actor, id, dto);
  }

  @Post(':id/decline')
  @HttpCode(200)
  @ApiTransition('decline')
  @ApiOkResponse({ type: OrderView })
  decline(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: ReasonDto): Promise<OrderView> {
    return this.orders.decline(actor, id, dto);
  }

  @Post(':id/offer')
  @HttpCode(200)
  @ApiTransition('offer')
  @ApiOkResponse({ type: OrderView })
  offer(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: OfferOrderDto): Promise<OrderView> {
    return this.orders.offer(actor, id, dto);
  }

  @Post(':id/open')
  @HttpCode(200)
  @ApiTransition('open')
  @ApiOkResponse({ type: OrderView })
  open(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: TransitionDto): Promise<OrderView> {
    return this.orders.open(actor, id, dto);
  }

  @Post(':id/accept')
  @HttpCode(200)
  @ApiTransition('accept')
  @ApiOkResponse({ type: OrderView })
  accept(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: TransitionDto): Promise<OrderView> {
    return this.orders.accept(actor, id, dto);
  }

  @Post(':id/release')
  @HttpCode(200)
  @ApiTransition('release')
  @ApiOkResponse({ type: OrderView })
  release(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: ReasonDto): Promise<OrderView> {
    return this.orders.release(actor, id, dto);
  }

  @Post(':id/reassign')
  @HttpCode(200)
  @ApiTransition('reassign')
  @ApiOkResponse({ type: OrderView })
  reassign(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: ReassignOrderDto): Promise<OrderView> {
    return this.orders.reassign(actor, id, dto);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiTransition('cancel')
  @ApiOkResponse({ type: OrderView })
  cancel(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: ReasonDto): Promise<OrderView> {
    return this.orders.cancel(actor, id, dto);
  }
}
