import { AUDIENCE_CODES, TOPIC_CODES } from '@kepu/core';
import { IsOmittable, MAX_PAGE_SIZE, PageQueryDto } from '@kepu/http';
import { Type } from 'class-transformer';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';

export const ASSIGNMENT_STATUSES = ['invited', 'confirmed', 'declined', 'withdrawn', 'cancelled'] as const;
export type AssignmentStatus = (typeof ASSIGNMENT_STATUSES)[number];

export class MyAssignmentsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ASSIGNMENT_STATUSES })
  @IsOmittable()
  @IsIn(ASSIGNMENT_STATUSES)
  status?: AssignmentStatus;
}

export class OpenTasksQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: MAX_PAGE_SIZE, description: 'The best this many' })
  @IsOmittable()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;
}

export class DeclineAssignmentDto {
  @ApiProperty({ maxLength: 1000, example: '当天有事，无法参加' })
  @IsString()
  @MinLength(1)
  @MaxLength(1000)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason: string;
}

export class VenueSummaryView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() communityCode: string;
}

export class AssignmentOrderView {
  @ApiProperty() title: string;
  @ApiProperty({ enum: TOPIC_CODES }) topic: string;
  @ApiProperty() communityCode: string;
}

export class AssignmentView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) orderId: string;
  @ApiProperty({ enum: ASSIGNMENT_STATUSES }) status: AssignmentStatus;
  @ApiProperty({ description: 'Claimed from an open slot rather than invited by name' }) isSlotClaim: boolean;
  @ApiProperty() start: string;
  @ApiProperty() end: string;
  @ApiProperty({ type: VenueSummaryView, nullable: true }) venue: VenueSummaryView | null;
  @ApiProperty({ type: AssignmentOrderView }) order: AssignmentOrderView;
  @ApiProperty({ type: String, nullable: true, description: 'Why it was declined or ended' }) reason: string | null;
}


export class OpenTaskView {
  @ApiProperty({ format: 'uuid' }) orderId: string;
  @ApiProperty() title: string;
  @ApiProperty({ enum: TOPIC_CODES }) topic: string;
  @ApiProperty({ enum: AUDIENCE_CODES }) audience: string;
  @ApiProperty() start: string;
  @ApiProperty() end: string;
  @ApiProperty({ type: VenueSummaryView, nullable: true }) venue: VenueSummaryView | null;
  @ApiProperty() openSlots: number;
  @ApiProperty({ description: 'The matching score of you for this event (the candidates score, in reverse)' }) score: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, example: { topicLevel: 20, audience: 15, proximity: 14, fairness: 15, rating: 5, reliability: 10 } })
  breakdown: Record<string, number>;
}
