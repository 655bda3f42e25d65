import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches, MaxLength } from 'class-validator';
import { CoveragePeriodQueryDto } from './coverage.dto';

/** A period of Shanghai days (as coverage) and, optionally, one district. */
export class ScorecardQueryDto extends CoveragePeriodQueryDto {
  @ApiPropertyOptional({ example: '110108', description: 'only orders of this district (a district_coordinator: its own, the default)' })
  @IsOptional()
  @MaxLength(6)
  @Matches(/^\d{6}$/, { message: 'districtCode must be a 6-digit district code' })
  districtCode?: string;
}

export class ScorecardView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: '海淀区科协' }) name: string;
  @ApiProperty({ description: 'orders dispatched to the department (offered to, or accepted by, the organisation) first in the period' }) received: number;
  @ApiProperty({ description: 'of those, claimed (accepted) within the claim (accept) SLA' }) responded: number;
  @ApiProperty({ nullable: true, type: 'number', description: 'responded / received, 4 decimals; null when nothing was received' }) responseRate: number | null;
  @ApiProperty({ description: 'of those, delivered (completed, rated or closed) with this department (organisation)' }) resolved: number;
  @ApiProperty({ nullable: true, type: 'number', description: 'resolved / received, 4 decimals' }) resolutionRate: number | null;
  @ApiProperty({ description: 'of the resolved, rated' }) rated: number;
  @ApiProperty({ nullable: true, type: 'number', description: 'mean of the three rating scores of the rated, 2 decimals' }) averageRating: number | null;
  @ApiProperty({ nullable: true, type: 'number', description: 'share of the rated whose mean score is 4 or more, 4 decimals' }) satisfiedRate: number | null;
  @ApiProperty({ nullable: true, type: 'integer', description: 'lower median of whole hours from the dispatch (offer or open call) to the claim (acceptance), of the orders answered' })
  medianHoursToRespond: number | null;
}
