import { CurrentActor } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import { LimitedWrite, UuidParamPipe } from '@kepu/http';
import { AssignmentsService, AssignmentView, DeclineAssignmentDto, MyAssignmentsQueryDto, OpenTasksQueryDto, OpenTaskView } from '@kepu/volunteers';
import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiAuthenticated, ApiNextCursor, ApiScopedObject } from '../api-responses.decorator';
import { ProblemView } from '../problem.view';

const LEAVE_CONFLICTS = 'ASSIGNMENT_STATE_CONFLICT (not in a state that allows it), EVENT_STARTED';

@ApiTags('volunteers')
@ApiAuthenticated()
// Any account with a volunteer profile (GET /me shows volunteerId), whatever its role; others are 403 in the service.
@Controller()
export class AssignmentsController {
  constructor(private readonly assignments: AssignmentsService) {}

  @Get('me/assignments')
  @ApiOperation({ summary: 'Your invitations and assignments, latest event first' })
  @ApiOkResponse({ type: [AssignmentView], description: 'A bare array as API.md gives it; the next page\'s cursor, if any, is in the X-Next-Cursor header' })
  @ApiNextCursor()
  async listMine(
    @CurrentActor() actor: Actor,
    @Query() query: MyAssignmentsQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AssignmentView[]> {
    const page = await this.assignments.listMine(actor, query);
    if (page.nextCursor) void reply.header('x-next-cursor', page.nextCursor);
    return page.items;
  }

  @Post('assignments/:id/confirm')
  @HttpCode(200)
  @ApiOperation({ summary: 'Accept an invitation (invited → confirmed), before the event starts' })
  @ApiOkResponse({ type: AssignmentView })
  @ApiScopedObject()
  @ApiConflictResponse({ type: ProblemView, description: LEAVE_CONFLICTS })
  confirm(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string): Promise<AssignmentView> {
    return this.assignments.confirm(actor, id);
  }

  @Post('assignments/:id/decline')
  @HttpCode(200)
  @ApiOperation({ summary: 'Decline an invitation or a confirmed assignment, with a reason, before the event starts; the organisation is told (assignment.declined)' })
  @ApiOkResponse({ type: AssignmentView })
  @ApiScopedObject()
  @ApiConflictResponse({ type: ProblemView, description: LEAVE_CONFLICTS })
  decline(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: DeclineAssignmentDto): Promise<AssignmentView> {
    return this.assignments.decline(actor, id, dto);
  }

  @Post('assignments/:id/withdraw')
  @LimitedWrite('slots.withdraw')
  @HttpCode(200)
  @ApiOperation({ summary: 'Withdraw from a confirmed assignment before the event starts; a claimed slot reopens; the organisation is told (assignment.withdrawn)' })
  @ApiOkResponse({ type: AssignmentView })
  @ApiScopedObject()
  @ApiConflictResponse({ type: ProblemView, description: LEAVE_CONFLICTS })
  withdraw(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string): Promise<AssignmentView> {
    return this.assignments.withdraw(actor, id);
  }

  @Get('me/open-tasks')
  @ApiOperation({ summary: 'Scheduled events of your organisation with open slots you may claim (skilled, available, free, under your weekly cap), ranked for you by the matching score' })
  @ApiOkResponse({ type: [OpenTaskView] })
  openTasks(@CurrentActor() actor: Actor, @Query() query: OpenTasksQueryDto): Promise<OpenTaskView[]> {
    return this.assignments.openTasks(actor, query.limit);
  }

  @Post('orders/:id/slots/claim')
  @LimitedWrite('slots.claim', { perObjectParam: 'id' })
  @ApiOperation({ summary: 'Claim an open slot of your organisation\'s scheduled event: confirmed at once, never more winners than slots' })
  @ApiCreatedResponse({ type: AssignmentView })
  @ApiScopedObject()
  @ApiConflictResponse({ type: ProblemView, description: 'SLOTS_FULL, VOLUNTEER_CONFLICT (overlap or already on the event), EVENT_STARTED, ORDER_STATE_CONFLICT' })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: 'NOT_ELIGIBLE (errors list the reasons: inactive, not_skilled, unavailable, over_weekly_cap)' })
  claim(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string): Promise<AssignmentView> {
    return this.assignments.claim(actor, id);
  }
}
