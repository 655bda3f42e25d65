import { CurrentActor, Roles } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import {
  CoverageGapPageView,
  CoverageGapsQueryDto,
  CoveragePeriodQueryDto,
  CoverageService,
  CoverageTrendQueryDto,
  CoverageTrendView,
  DistrictCoverageDetailView,
  DistrictCoverageView,
  gapsCsv,
  trendCsv,
} from '@kepu/coverage';
import { RegionCodeParamPipe, wantsCsv } from '@kepu/http';
import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiAuthenticated, ApiScopedObject } from '../api-responses.decorator';

/** Marks the answer as a CSV download and returns the body. */
function asCsv(reply: FastifyReply, filename: string, body: string, nextCursor?: string | null): string {
  void reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${filename}.csv"`);
  if (nextCursor) void reply.header('x-next-cursor', nextCursor);
  return body;
}

@ApiTags('coverage')
@ApiAuthenticated()
@Roles('city_admin', 'district_coordinator')
@Controller('coverage/districts')
export class CoverageController {
  constructor(private readonly coverage: CoverageService) {}

  @Get()
  @ApiOperation({ summary: 'Coverage per district (city_admin: all; district_coordinator: its own) for ?from=&to= (Shanghai days, default the last 90); Accept: text/csv for a CSV' })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: [DistrictCoverageView] })
  async districts(
    @CurrentActor() actor: Actor,
    @Query() query: CoveragePeriodQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DistrictCoverageView[] | string> {
    const rows = await this.coverage.districts(actor, query);
    return wantsCsv(accept) ? asCsv(reply, 'coverage-districts', this.coverage.districtsCsv(rows)) : rows;
  }

  @Get(':code')
  @ApiOperation({ summary: 'One district\'s coverage row plus one per subdistrict; Accept: text/csv for a CSV (district row first)' })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: DistrictCoverageDetailView })
  @ApiScopedObject()
  async district(
    @CurrentActor() actor: Actor,
    @Param('code', new RegionCodeParamPipe(6)) code: string,
    @Query() query: CoveragePeriodQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DistrictCoverageDetailView | string> {
    const detail = await this.coverage.district(actor, code, query);
    return wantsCsv(accept) ? asCsv(reply, `coverage-${code}`, this.coverage.districtCsv(detail)) : detail;
  }

  @Get(':code/gaps')
  @ApiOperation({
    summary: 'Communities of the district without a delivered service in the last ?days= (default 90) — with ?audience=, without one for that key population — never served first, then longest unserved; pending orders shown. Accept: text/csv for a CSV (without ?limit: the whole list; next cursor in X-Next-Cursor)',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: CoverageGapPageView })
  @ApiScopedObject()
  async gaps(
    @CurrentActor() actor: Actor,
    @Param('code', new RegionCodeParamPipe(6)) code: string,
    @Query() query: CoverageGapsQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CoverageGapPageView | string> {
    const isCsv = wantsCsv(accept);
    const page = await this.coverage.gaps(actor, code, query, isCsv);
    return isCsv ? asCsv(reply, `coverage-gaps-${code}${query.audience ? `-${query.audience}` : ''}`, gapsCsv(page.items), page.nextCursor) : page;
  }

  @Get(':code/trend')
  @ApiOperation({ summary: 'Covered communities of the district per 7-day week, the last ?weeks= (default 12, at most 104), the last week ending today, oldest first; Accept: text/csv for a CSV' })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: CoverageTrendView })
  @ApiScopedObject()
  async trend(
    @CurrentActor() actor: Actor,
    @Param('code', new RegionCodeParamPipe(6)) code: string,
    @Query() query: CoverageTrendQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CoverageTrendView | string> {
    const trend = await this.coverage.trend(actor, code, query);
    return wantsCsv(accept) ? asCsv(reply, `coverage-trend-${code}`, trendCsv(trend)) : trend;
  }
}
