import { CurrentActor } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import {
  AttendanceDto,
  CreateSignupDto,
  EventFeedbackDto,
  EventFeedbackView,
  EventPageView,
  EventSignupPageView,
  EventSignupView,
  EventsService,
  EventView,
  ListEventsQueryDto,
  MySignupPageView,
  PublishEventDto,
  SignupView,
} from '@kepu/events';
import { LimitedWrite, PageQueryDto, UuidParamPipe } from '@kepu/http';
import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ApiAuthenticated, ApiScopedObject } from '../api-responses.decorator';
import { ProblemView } from '../problem.view';

/** Published events with sign-ups (DESIGN.md §10): residents sign up, organisers scan tickets at the door. */
@ApiTags('events')
@ApiAuthenticated()
@Controller()
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Post('orders/:id/publish')
  @ApiOperation({ summary: 'Publish a scheduled order as an event with seats (the accepting organisation\'s admins, the community\'s staff); the community\'s residents are told (event.published)' })
  @ApiCreatedResponse({ type: EventView })
  @ApiScopedObject()
  @ApiForbiddenResponse({ type: ProblemView, description: 'FORBIDDEN: you see the order but do not run it' })
  @ApiConflictResponse({ type: ProblemView, description: 'ORDER_STATE_CONFLICT: the order is not scheduled; ALREADY_PUBLISHED: published before' })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: 'INVALID_SIGNUP_DEADLINE: in the past or after the start' })
  publish(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: PublishEventDto): Promise<EventView> {
    return this.events.publish(actor, id, dto);
  }

  @Get('events')
  @ApiOperation({ summary: 'Published events you may see, soonest first (residents: their district\'s); without `from`, those not yet ended' })
  @ApiOkResponse({ type: EventPageView })
  list(@CurrentActor() actor: Actor, @Query() query: ListEventsQueryDto): Promise<EventPageView> {
    return this.events.list(actor, query);
  }

  @Get('events/:orderId')
  @ApiOperation({ summary: 'One published event, with your sign-up if any' })
  @ApiOkResponse({ type: EventView })
  @ApiScopedObject()
  get(@CurrentActor() actor: Actor, @Param('orderId', UuidParamPipe) orderId: string): Promise<EventView> {
    return this.events.get(actor, orderId);
  }

  @Post('events/:orderId/signups')
  @LimitedWrite('signups.create')
  @ApiOperation({ summary: 'Sign up with 1–4 attendees: confirmed while the seats last (never more confirmed attendees than seats), else waiting in line with a position; a ticket code per sign-up' })
  @ApiCreatedResponse({ type: SignupView })
  @ApiScopedObject()
  @ApiConflictResponse({ type: ProblemView, description: 'ALREADY_SIGNED_UP: you have an active sign-up for this event' })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: 'SIGNUP_CLOSED: past the deadline or the start, or cancelled' })
  @ApiServiceUnavailableResponse({ type: ProblemView, description: 'DEPENDENCY_UNAVAILABLE: too many sign-ups for this event waiting in this API process (SIGNUP_QUEUE_PER_EVENT); Retry-After: 1' })
  signUp(@CurrentActor() actor: Actor, @Param('orderId', UuidParamPipe) orderId: string, @Body() dto: CreateSignupDto): Promise<SignupView> {
    return this.events.signUp(actor, orderId, dto);
  }

  @Post('signups/:id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'The attendee cancels before the start; the first waiting sign-ups that fit are confirmed (signup.promoted)' })
  @ApiOkResponse({ type: SignupView })
  @ApiScopedObject()
  @ApiForbiddenResponse({ type: ProblemView, description: 'FORBIDDEN: an organiser of the event, not the attendee' })
  @ApiConflictResponse({ type: ProblemView, description: 'SIGNUP_NOT_ACTIVE: cancelled already or scanned at the door' })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: 'SIGNUP_CLOSED: the event has started' })
  @ApiServiceUnavailableResponse({ type: ProblemView, description: 'DEPENDENCY_UNAVAILABLE: too many sign-ups for this event waiting in this API process (SIGNUP_QUEUE_PER_EVENT); Retry-After: 1' })
  cancel(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string): Promise<SignupView> {
    return this.events.cancelSignup(actor, id);
  }

  @Get('me/signups')
  @ApiOperation({ summary: 'Your sign-ups with their events, newest first' })
  @ApiOkResponse({ type: MySignupPageView })
  listMine(@CurrentActor() actor: Actor, @Query() query: PageQueryDto): Promise<MySignupPageView> {
    return this.events.listMine(actor, query);
  }

  @Get('events/:orderId/signups')
  @ApiOperation({ summary: 'The event\'s sign-ups in the order they came (organisation admins, community staff, coordinators in scope); phones masked' })
  @ApiOkResponse({ type: EventSignupPageView })
  @ApiScopedObject()
  @ApiForbiddenResponse({ type: ProblemView, description: 'FORBIDDEN: you see the event but do not run or oversee it' })
  listSignups(@CurrentActor() actor: Actor, @Param('orderId', UuidParamPipe) orderId: string, @Query() query: PageQueryDto): Promise<EventSignupPageView> {
    return this.events.listSignups(actor, orderId, query);
  }

  @Post('events/:orderId/attendance')
  @HttpCode(200)
  @ApiOperation({ summary: 'Scan a ticket at the door, from 2 h before the start until the end (organisation admins, assigned volunteers, community staff)' })
  @ApiOkResponse({ type: EventSignupView })
  @ApiScopedObject()
  @ApiForbiddenResponse({ type: ProblemView, description: 'FORBIDDEN: you do not run the event' })
  @ApiConflictResponse({ type: ProblemView, description: 'ALREADY_ATTENDED: the ticket was scanned before' })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: 'ATTENDANCE_CLOSED: outside 2 h before the start … the end; SIGNUP_NOT_CONFIRMED: the sign-up waits or was cancelled' })
  attend(@CurrentActor() actor: Actor, @Param('orderId', UuidParamPipe) orderId: string, @Body() dto: AttendanceDto): Promise<EventSignupView> {
    return this.events.recordAttendance(actor, orderId, dto);
  }

  @Post('events/:orderId/feedback')
  @ApiOperation({ summary: 'An attendee whose ticket was scanned rates the event once' })
  @ApiCreatedResponse({ type: EventFeedbackView })
  @ApiScopedObject()
  @ApiForbiddenResponse({ type: ProblemView, description: 'FORBIDDEN: you did not attend' })
  @ApiConflictResponse({ type: ProblemView, description: 'ALREADY_RATED: feedback given before' })
  feedback(@CurrentActor() actor: Actor, @Param('orderId', UuidParamPipe) orderId: string, @Body() dto: EventFeedbackDto): Promise<EventFeedbackView> {
    return this.events.giveFeedback(actor, orderId, dto);
  }
}
