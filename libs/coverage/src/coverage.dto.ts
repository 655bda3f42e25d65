import { AUDIENCE_CODES, MAX_PERIOD_DAYS } from '@kepu/core';
import { PageQueryDto } from '@kepu/http';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, MaxLength, Min } from 'class-validator';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A period of Asia/Shanghai days, both included; default the last 90 days up to today. */
export class CoveragePeriodQueryDto {
  @ApiPropertyOptional({ example: '2026-09-01', description: 'first day (Asia/Shanghai), included; default: to − 89 days' })
  @IsOptional()
  @Matches(DAY, { message: 'from must be a day YYYY-MM-DD' })
  from?: string;

  @ApiPropertyOptional({ example: '2026-11-28', description: 'last day (Asia/Shanghai), included; default: today' })
  @IsOptional()
  @Matches(DAY, { message: 'to must be a day YYYY-MM-DD' })
  to?: string;
}

export class CoverageGapsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PERIOD_DAYS, default: 90, description: 'a community is a gap without a delivered service in the last N days (today included)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PERIOD_DAYS)
  days?: number;

  @ApiPropertyOptional({
    enum: AUDIENCE_CODES,
    example: 'elderly',
    description: 'one key population (重点人群): the communities where no order for this audience was delivered in the last N days; pending orders of that audience',
  })
  @IsOptional()
  @MaxLength(40)
  @Matches(/^[a-z_]+$/, { message: 'audience must be an audience code' })
  @IsIn(AUDIENCE_CODES, { message: `audience must be one of ${AUDIENCE_CODES.join(', ')}` })
  audience?: string;
}

export class AudienceFiguresView {
  @ApiProperty({ description: 'orders submitted in the period' }) orders: number;
  @ApiProperty({ description: 'of those, delivered (completed, rated or closed)' }) completed: number;
}

@ApiExtraModels(AudienceFiguresView)
export class CoverageFiguresView {
  @ApiProperty() communities: number;
  @ApiProperty({ description: 'communities with a delivered order whose event was in the period' }) coveredCommunities: number;
  @ApiProperty({ description: 'coveredCommunities / communities, 0–1, 4 decimals' }) coverage: number;
  @ApiProperty({ description: 'orders submitted in the period' }) orders: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, description: 'orders submitted in the period by current status (every status)' })
  ordersByStatus: Record<string, number>;
  @ApiProperty({ description: 'SLA breaches of the orders submitted in the period' }) slaBreaches: number;
  @ApiProperty({ nullable: true, type: 'integer', description: 'lower median of whole hours from submission to first scheduling, orders submitted in the period' })
  medianHoursToSchedule: number | null;
  @ApiProperty({ description: 'volunteer hours of delivered orders whose event was in the period' }) volunteerHours: number;
  @ApiProperty({ nullable: true, type: 'number', description: 'mean of the three rating scores of rated delivered orders whose event was in the period' })
  averageRating: number | null;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: getSchemaPath(AudienceFiguresView) }, description: 'per audience (key group)' })
  byAudience: Record<string, AudienceFiguresView>;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: getSchemaPath(AudienceFiguresView) }, description: 'per topic' })
  byTopic: Record<string, AudienceFiguresView>;
}

export class DistrictCoverageView extends CoverageFiguresView {
  @ApiProperty({ example: '110108' }) districtCode: string;
  @ApiProperty({ example: '海淀区' }) districtName: string;
  @ApiProperty({ example: '2026-09-01' }) from: string;
  @ApiProperty({ example: '2026-11-28' }) to: string;
}

export class SubdistrictCoverageView extends CoverageFiguresView {
  @ApiProperty({ example: '110108001' }) subdistrictCode: string;
  @ApiProperty({ example: '万寿路街道' }) subdistrictName: string;
}

export class DistrictCoverageDetailView extends DistrictCoverageView {
  @ApiProperty({ type: [SubdistrictCoverageView] }) subdistricts: SubdistrictCoverageView[];
}

export class CoverageGapView {
  @ApiProperty({ example: '110108001001' }) communityCode: string;
  @ApiProperty() communityName: string;
  @ApiProperty({ example: '110108001' }) subdistrictCode: string;
  @ApiProperty() subdistrictName: string;
  @ApiProperty({ nullable: true, type: 'string', format: 'date-time', description: 'start of the last delivered event' }) lastServedAt: string | null;
  @ApiProperty({ nullable: true, type: 'integer', description: 'Shanghai days from the last delivered event to today' }) daysSinceService: number | null;
  @ApiProperty({ description: 'orders of the community not yet delivered nor ended' }) pendingOrders: number;
}

export class CoverageGapPageView {
  @ApiProperty({ type: [CoverageGapView] }) items: CoverageGapView[];
  @ApiProperty({ nullable: true, type: 'string' }) nextCursor: string | null;
}

export const MAX_TREND_WEEKS = 104;

export class CoverageTrendQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_TREND_WEEKS, default: 12, description: 'how many 7-day weeks, the last one ending today (Asia/Shanghai)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_TREND_WEEKS)
  weeks?: number;
}

export class CoverageTrendWeekView {
  @ApiProperty({ example: '2026-11-22', description: 'first day of the week (Asia/Shanghai), included' }) from: string;
  @ApiProperty({ example: '2026-11-28', description: 'last day, included' }) to: string;
  @ApiProperty({ description: 'communities with a delivered order whose event was in the week' }) coveredCommunities: number;
  @ApiProperty({ description: 'coveredCommunities / communities, 0–1, 4 decimals' }) coverage: number;
}

export class CoverageTrendView {
  @ApiProperty({ example: '110108' }) districtCode: string;
  @ApiProperty({ example: '海淀区' }) districtName: string;
  @ApiProperty() communities: number;
  @ApiProperty({ type: [CoverageTrendWeekView], description: 'oldest week first' }) weeks: CoverageTrendWeekView[];
}
