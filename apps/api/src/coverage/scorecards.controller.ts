import { CurrentActor, Roles } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import { ScorecardQueryDto, scorecardsCsv, ScorecardsService, ScorecardView } from '@kepu/coverage';
import { wantsCsv } from '@kepu/http';
import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiAuthenticated, ApiScopedObject } from '../api-responses.decorator';

function asCsv(reply: FastifyReply, filename: string, body: string): string {
  void reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${filename}.csv"`);
  return body;
}

const PERIOD = 'over the orders received in ?from=&to= (Shanghai days, default the last 90), in ?districtCode= (a district_coordinator: its own) or the whole city; Accept: text/csv for a CSV';

@ApiTags('scorecards')
@ApiAuthenticated()
@Roles('city_admin', 'district_coordinator')
@Controller('scorecards')
export class ScorecardsController {
  constructor(private readonly scorecards: ScorecardsService) {}

  @Get('departments')
  @ApiOperation({ summary: `三率 per department (received, responded within the claim SLA, resolved, rated) ${PERIOD}` })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: [ScorecardView] })
  @ApiScopedObject()
  async departments(
    @CurrentActor() actor: Actor,
    @Query() query: ScorecardQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ScorecardView[] | string> {
    const rows = await this.scorecards.scorecards(actor, 'departments', query);
    return wantsCsv(accept) ? asCsv(reply, 'scorecards-departments', scorecardsCsv(rows)) : rows;
  }

  @Get('organizations')
  @ApiOperation({ summary: `三率 per organisation (offered or accepted; responded = accepted within the accept SLA) ${PERIOD}` })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: [ScorecardView] })
  @ApiScopedObject()
  async organizations(
    @CurrentActor() actor: Actor,
    @Query() query: ScorecardQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ScorecardView[] | string> {
    const rows = await this.scorecards.scorecards(actor, 'organizations', query);
    return wantsCsv(accept) ? asCsv(reply, 'scorecards-organizations', scorecardsCsv(rows)) : rows;
  }
}
