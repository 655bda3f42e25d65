import { CurrentActor } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import { UuidParamPipe } from '@kepu/http';
import { CandidatesQueryDto, CandidatesService, CandidatesView } from '@kepu/volunteers';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { ApiAuthenticated, ApiScopedObject } from '../api-responses.decorator';
import { ProblemView } from '../problem.view';

@ApiTags('orders')
@ApiAuthenticated()
@Controller('orders')
export class CandidatesController {
  constructor(private readonly candidates: CandidatesService) {}

  @Get(':id/candidates')
  @ApiOperation({
    summary: 'For the accepting organisation: its eligible volunteers and the free venues that fit, for one slot, best first, each score broken down into named terms',
  })
  @ApiOkResponse({ type: CandidatesView })
  @ApiScopedObject()
  @ApiConflictResponse({ type: ProblemView, description: 'ORDER_STATE_CONFLICT: the order is not accepted or scheduled' })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: 'OUTSIDE_PREFERRED_WINDOW' })
  list(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string, @Query() query: CandidatesQueryDto): Promise<CandidatesView> {
    return this.candidates.forOrder(actor, id, query);
  }
}
