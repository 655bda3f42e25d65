import { CurrentActor, Roles } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import { UuidParamPipe } from '@kepu/http';
import { CreateVolunteerDto, ListVolunteersQueryDto, UpdateVolunteerDto, VolunteerPageView, VolunteersService, VolunteerView } from '@kepu/volunteers';
import { Body, Controller, Get, Ip, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { ApiAuthenticated, ApiScopedObject } from '../api-responses.decorator';
import { ProblemView } from '../problem.view';

@ApiTags('volunteers')
@ApiAuthenticated()
@Controller()
export class VolunteersController {
  constructor(private readonly volunteers: VolunteersService) {}

  @Post('organizations/:id/volunteers')
  @Roles('org_admin', 'city_admin')
  @ApiOperation({ summary: 'The organisation registers a volunteer: skills, audiences, weekly availability, weekly cap; with username and password also a login (role volunteer)' })
  @ApiCreatedResponse({ type: VolunteerView })
  @ApiScopedObject()
  @ApiConflictResponse({ type: ProblemView, description: 'USERNAME_TAKEN (nothing is written)' })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: 'UNKNOWN_COMMUNITY' })
  create(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: CreateVolunteerDto, @Ip() ip: string): Promise<VolunteerView> {
    return this.volunteers.create(actor, id, dto, ip);
  }

  @Get('organizations/:id/volunteers')
  @Roles('org_admin', 'district_coordinator', 'city_admin')
  @ApiOperation({ summary: 'The organisation\'s volunteers, newest first: for its admins, the coordinators of a district it serves, and the city' })
  @ApiOkResponse({ type: VolunteerPageView })
  @ApiScopedObject()
  list(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Query() query: ListVolunteersQueryDto): Promise<VolunteerPageView> {
    return this.volunteers.list(actor, id, query);
  }

  @Patch('volunteers/:id')
  @Roles('org_admin', 'city_admin')
  @ApiOperation({ summary: 'The organisation changes a volunteer: deactivate or reactivate, availability, exceptions, weekly cap, skills (replaced as a whole)' })
  @ApiOkResponse({ type: VolunteerView })
  @ApiScopedObject()
  update(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: UpdateVolunteerDto, @Ip() ip: string): Promise<VolunteerView> {
    return this.volunteers.update(actor, id, dto, ip);
  }
}
