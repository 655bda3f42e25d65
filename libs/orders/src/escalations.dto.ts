import { ORDER_STATUSES, type OrderStatus, type SlaStage } from '@kepu/core';
import { IsOmittable, PageQueryDto } from '@kepu/http';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, Matches, MaxLength } from 'class-validator';

export const ESCALATION_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
const SLA_STAGES = ['dispatch', 'claim', 'accept', 'schedule'] as const;

export class ListEscalationsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ESCALATION_STATUSES })
  @IsOmittable()
  @IsIn(ESCALATION_STATUSES)
  status?: (typeof ESCALATION_STATUSES)[number];

  @ApiPropertyOptional({ example: '110108', description: 'Within your scope: a district coordinator sees its own district only' })
  @IsOmittable()
  @Matches(/^\d{6}$/, { message: 'districtCode must be 6 digits' })
  districtCode?: string;

  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'Only urgent (true) or only ordinary (false) orders' })
  @IsOmittable()
  @IsIn(['true', 'false'])
  urgent?: 'true' | 'false';
}

export class AcknowledgeEscalationDto {
  @ApiPropertyOptional({ maxLength: 1000, example: '已电话督促区科协，明日领单' })
  @IsOmittable()
  @IsString()
  @MaxLength(1000)
  note?: string;
}

export class EscalationOrderView {
  @ApiProperty() code: string;
  @ApiProperty() title: string;
  @ApiProperty({ enum: ORDER_STATUSES }) status: OrderStatus;
  @ApiProperty() communityCode: string;
  @ApiProperty() urgent: boolean;
}

export class EscalationView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) orderId: string;
  @ApiProperty({ type: EscalationOrderView }) order: EscalationOrderView;
  @ApiProperty() districtCode: string;
  @ApiProperty({ enum: SLA_STAGES, description: 'The stage whose deadline passed' }) stage: SlaStage;
  @ApiProperty() dueAt: string;
  @ApiProperty() breachedAt: string;
  @ApiProperty({ enum: ESCALATION_STATUSES }) status: (typeof ESCALATION_STATUSES)[number];
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) acknowledgedBy: string | null;
  @ApiProperty({ type: String, nullable: true }) acknowledgedAt: string | null;
  @ApiProperty({ type: String, nullable: true }) note: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'When the order left the stage' }) resolvedAt: string | null;
}

export class EscalationPageView {
  @ApiProperty({ type: [EscalationView] }) items: EscalationView[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
