import { CurrentActor, Roles } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import { LimitedWrite, UuidParamPipe, WriteLimit, type WriteLimitTicket } from '@kepu/http';
import { BroadcastAcceptedView, BroadcastPageView, BroadcastsQueryDto, BroadcastsService, BroadcastView, CreateBroadcastDto } from '@kepu/notifications';
import { Body, Controller, Get, Headers, Param, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiForbiddenResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiAuthenticated, ApiScopedObject } from '../api-responses.decorator';
import { ProblemView } from '../problem.view';

/** Broadcasts (API.md "Coordinators steering"): a message to roles in districts, fanned out by the worker in batches. */
@ApiTags('broadcasts')
@ApiAuthenticated()
@Controller('broadcasts')
export class BroadcastsController {
  constructor(private readonly broadcasts: BroadcastsService) {}

  @Post()
  @Roles('city_admin', 'district_coordinator')
  @LimitedWrite('broadcasts.create', { perHour: (config) => config.broadcastsPerHour, countedInWrite: true })
  @ApiOperation({ summary: 'Broadcast to roles in districts over in_app and external channels (city_admin: any districts; district_coordinator: its own)' })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: '≤ 255 visible ASCII characters; a repeat with the same body answers the first response again and sends nothing',
    schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
  })
  @ApiAcceptedResponse({ type: BroadcastAcceptedView })
  @ApiForbiddenResponse({ type: ProblemView, description: 'FORBIDDEN: not a coordinator, or a district other than your own' })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: 'UNKNOWN_DISTRICT, IDEMPOTENCY_KEY_REUSED' })
  @ApiTooManyRequestsResponse({ type: ProblemView, description: 'RATE_LIMITED: BROADCASTS_PER_HOUR accepted this hour (Retry-After)' })
  async create(
    @CurrentActor() actor: Actor,
    @Body() dto: CreateBroadcastDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
    @WriteLimit() limit: WriteLimitTicket | undefined,
  ): Promise<unknown> {
    const outcome = await this.broadcasts.create(actor, dto, idempotencyKey, limit);
    void reply.status(202);
    if (!outcome.replayed) return outcome.result;
    void reply.header('idempotent-replayed', 'true');
    return outcome.body;
  }

  @Get()
  @Roles('city_admin', 'district_coordinator')
  @ApiOperation({ summary: 'Broadcasts with their progress, newest first: all of them for city_admin, your own for a coordinator' })
  @ApiOkResponse({ type: BroadcastPageView })
  list(@CurrentActor() actor: Actor, @Query() query: BroadcastsQueryDto): Promise<BroadcastPageView> {
    return this.broadcasts.list(actor, query);
  }

  @Get(':id')
  @Roles('city_admin', 'district_coordinator')
  @ApiOperation({ summary: 'One broadcast with its progress (its sender, city_admin)' })
  @ApiOkResponse({ type: BroadcastView })
  @ApiScopedObject()
  get(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string): Promise<BroadcastView> {
    return this.broadcasts.get(actor, id);
  }
}
