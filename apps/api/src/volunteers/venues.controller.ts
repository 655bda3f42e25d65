import { CurrentActor, Roles } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import { CreateVenueDto, ListVenuesQueryDto, VenuePageView, VenuesService, VenueView } from '@kepu/volunteers';
import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { ApiAuthenticated } from '../api-responses.decorator';
import { ProblemView } from '../problem.view';

@ApiTags('venues')
@ApiAuthenticated()
@Controller('venues')
export class VenuesController {
  constructor(private readonly venues: VenuesService) {}

  @Post()
  @Roles('community_staff', 'department_staff', 'org_admin', 'city_admin')
  @ApiOperation({ summary: 'Register a venue (科普基地, 文明实践站, 社区活动室…): community staff for their own community, departments, organisations and the city anywhere' })
  @ApiCreatedResponse({ type: VenueView })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: 'UNKNOWN_COMMUNITY' })
  create(@CurrentActor() actor: Actor, @Body() dto: CreateVenueDto): Promise<VenueView> {
    return this.venues.create(actor, dto);
  }

  @Get()
  @ApiOperation({ summary: 'Venues, newest first, by community or district' })
  @ApiOkResponse({ type: VenuePageView })
  list(@Query() query: ListVenuesQueryDto): Promise<VenuePageView> {
    return this.venues.list(query);
  }
}
