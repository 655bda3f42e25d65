import { CurrentActor, Roles } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import { UuidParamPipe } from '@kepu/http';
import { AcknowledgeEscalationDto, EscalationPageView, EscalationsService, EscalationView, ListEscalationsQueryDto } from '@kepu/orders';
import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiScopedObject } from '../api-responses.decorator';
import { ProblemView } from '../problem.view';

@ApiTags('escalations')
@ApiAuthenticated()
@Roles('city_admin', 'district_coordinator')
@Controller('escalations')
export class EscalationsController {
  constructor(private readonly escalations: EscalationsService) {}

  @Get()
  @ApiOperation({
    summary: 'The coordinators\' worklist of SLA breaches (city_admin: all; district_coordinator: its district): urgent orders first, then oldest breach first. An escalation opens at a breach and resolves itself when the order leaves the stage',
  })
  @ApiOkResponse({ type: EscalationPageView })
  list(@CurrentActor() actor: Actor, @Query() query: ListEscalationsQueryDto): Promise<EscalationPageView> {
    return this.escalations.list(actor, query);
  }

  @Post(':id/acknowledge')
  @HttpCode(200)
  @ApiOperation({ summary: 'A coordinator acknowledges an escalation, with an optional note (again: the latest note and acknowledger are kept)' })
  @ApiOkResponse({ type: EscalationView })
  @ApiScopedObject()
  @ApiConflictResponse({ type: ProblemView, description: 'ESCALATION_RESOLVED: the order already left the stage' })
  acknowledge(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Body() dto: AcknowledgeEscalationDto): Promise<EscalationView> {
    return this.escalations.acknowledge(actor, id, dto);
  }
}
