import { CurrentActor, Roles } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import { LimitedWrite, PageQueryDto, UuidParamPipe } from '@kepu/http';
import {
  ApproveVolunteerApplicationDto,
  CreateVolunteerApplicationDto,
  ListVolunteerApplicationsQueryDto,
  RejectVolunteerApplicationDto,
  UpdateMyVolunteerProfileDto,
  VolunteerApplicationPageView,
  VolunteerApplicationsService,
  VolunteerApplicationView,
  VolunteersService,
  VolunteerView,
} from '@kepu/volunteers';
import { Body, Controller, Get, HttpCode, Ip, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { ApiAuthenticated, ApiScopedObject } from '../api-responses.decorator';
import { ProblemView } from '../problem.view';

const DECIDED = 'APPLICATION_STATE_CONFLICT: already approved or rejected (of racing decisions one wins)';

/** Volunteering on one's own (DESIGN.md §10): apply, be approved, keep one's profile. */
@ApiTags('volunteers')
@ApiAuthenticated()
@Controller()
export class VolunteerApplicationsController {
  constructor(
    private readonly applications: VolunteerApplicationsService,
    private readonly volunteers: VolunteersService,
  ) {}

  @Post('volunteer-applications')
  @LimitedWrite('volunteer-applications.create')
  @ApiOperation({ summary: 'Apply to volunteer with an organisation serving your home district (any signed-in user without a volunteer profile); its admins are told' })
  @ApiCreatedResponse({ type: VolunteerApplicationView })
  @ApiConflictResponse({ type: ProblemView, description: 'ALREADY_VOLUNTEER: your account has a volunteer profile; APPLICATION_PENDING: you have a pending application at some organisation' })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: 'UNKNOWN_ORGANIZATION, UNKNOWN_COMMUNITY, ORGANIZATION_NOT_SERVING_DISTRICT (of the home community)' })
  apply(@CurrentActor() actor: Actor, @Body() dto: CreateVolunteerApplicationDto): Promise<VolunteerApplicationView> {
    return this.applications.apply(actor, dto);
  }

  @Get('me/volunteer-applications')
  @ApiOperation({ summary: 'Your applications to volunteer, newest first' })
  @ApiOkResponse({ type: VolunteerApplicationPageView })
  listMine(@CurrentActor() actor: Actor, @Query() query: PageQueryDto): Promise<VolunteerApplicationPageView> {
    return this.applications.listMine(actor, query);
  }

  @Get('organizations/:id/volunteer-applications')
  @Roles('org_admin', 'district_coordinator', 'city_admin')
  @ApiOperation({ summary: 'The organisation\'s applications, newest first: for its admins, the coordinators of a district it serves, and the city' })
  @ApiOkResponse({ type: VolunteerApplicationPageView })
  @ApiScopedObject()
  listForOrganization(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Query() query: ListVolunteerApplicationsQueryDto): Promise<VolunteerApplicationPageView> {
    return this.applications.listForOrganization(actor, id, query);
  }

  @Post('volunteer-applications/:id/approve')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'The organisation\'s admin approves: the volunteer profile is created on the applicant\'s own account (skills: the declared topics at level 1 unless given), the applicant is told; GET /me shows volunteerId at once',
  })
  @ApiOkResponse({ type: VolunteerApplicationView })
  @ApiScopedObject()
  @ApiConflictResponse({ type: ProblemView, description: `${DECIDED}; ALREADY_VOLUNTEER: the applicant has a volunteer profile meanwhile` })
  approve(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: ApproveVolunteerApplicationDto): Promise<VolunteerApplicationView> {
    return this.applications.approve(actor, id, dto);
  }

  @Post('volunteer-applications/:id/reject')
  @HttpCode(200)
  @ApiOperation({ summary: 'The organisation\'s admin rejects with a reason; the applicant is told' })
  @ApiOkResponse({ type: VolunteerApplicationView })
  @ApiScopedObject()
  @ApiConflictResponse({ type: ProblemView, description: DECIDED })
  reject(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: RejectVolunteerApplicationDto): Promise<VolunteerApplicationView> {
    return this.applications.reject(actor, id, dto);
  }

  @Get('me/volunteer-profile')
  @ApiOperation({ summary: 'Your volunteer profile (any account with one, whatever its role)' })
  @ApiOkResponse({ type: VolunteerView })
  @ApiNotFoundResponse({ type: ProblemView, description: 'NOT_FOUND: your account has no volunteer profile' })
  myProfile(@CurrentActor() actor: Actor): Promise<VolunteerView> {
    return this.volunteers.myProfile(actor);
  }

  @Patch('me/volunteer-profile')
  @ApiOperation({ summary: 'Change your availability, weekly cap, audiences, formats, languages, or pause (isActive); skills stay with the organisation (any other field → 400). Matching sees it at once' })
  @ApiOkResponse({ type: VolunteerView })
  @ApiNotFoundResponse({ type: ProblemView, description: 'NOT_FOUND: your account has no volunteer profile' })
  updateMyProfile(@CurrentActor() actor: Actor, @Body() dto: UpdateMyVolunteerProfileDto, @Ip() ip: string): Promise<VolunteerView> {
    return this.volunteers.updateMyProfile(actor, dto, ip);
  }
}
