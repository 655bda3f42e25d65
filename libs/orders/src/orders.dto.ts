import {
  ACCESSIBILITY_FEATURES,
  AUDIENCE_CODES,
  FORMAT_CODES,
  MAX_PREFERRED_WINDOWS,
  ORDER_STATUSES,
  type OrderStatus,
  TOPIC_CODES,
} from '@kepu/core';
import { INSTANT_MAX_LENGTH, IsInstant, IsOmittable, PageQueryDto } from '@kepu/http';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsISO8601,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';


export class TimeWindowDto {
  @ApiProperty({ example: '2027-03-14T09:00:00+08:00' })
  @IsInstant()
  start: string;

  @ApiProperty({ example: '2027-03-14T11:00:00+08:00' })
  @IsInstant()
  end: string;
}

export class CreateOrderDto {
  @ApiProperty({ example: '110108001001' })
  @Matches(/^\d{12}$/, { message: 'communityCode must be 12 digits' })
  communityCode: string;

  @ApiProperty({ enum: TOPIC_CODES })
  @IsIn(TOPIC_CODES)
  topic: string;

  @ApiProperty({ enum: AUDIENCE_CODES })
  @IsIn(AUDIENCE_CODES)
  audience: string;

  @ApiProperty({ enum: FORMAT_CODES })
  @IsIn(FORMAT_CODES)
  format: string;

  @ApiProperty({ example: '老年人防范电信诈骗讲座', maxLength: 200 })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @Matches(/\S/, { message: 'title must not be blank' })
  title: string;

  @ApiProperty({ maxLength: 5000 })
  @IsString()
  @MinLength(1)
  @MaxLength(5000)
  @Matches(/\S/, { message: 'description must not be blank' })
  description: string;

  @ApiProperty({ minimum: 1, maximum: 2000, example: 60 })
  @IsInt()
  @Min(1)
  @Max(2000)
  expectedAttendance: number;

  @ApiProperty({ type: [TimeWindowDto], minItems: 1, maxItems: MAX_PREFERRED_WINDOWS, description: 'Each in the future, at most 180 days out, end after start' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_PREFERRED_WINDOWS)
  @ValidateNested({ each: true })
  @Type(() => TimeWindowDto)
  preferredWindows: TimeWindowDto[];

  @ApiPropertyOptional({ enum: ACCESSIBILITY_FEATURES, isArray: true })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(ACCESSIBILITY_FEATURES.length)
  @ArrayUnique()
  @IsIn(ACCESSIBILITY_FEATURES, { each: true })
  accessibilityNeeds?: string[];

  @ApiProperty({ example: '李阿姨', maxLength: 100 })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @Matches(/\S/, { message: 'contactName must not be blank' })
  contactName: string;

  @ApiProperty({ example: '13812341234' })
  @Matches(/^\+?\d{7,15}$/, { message: 'contactPhone must be 7–15 digits' })
  contactPhone: string;

  @ApiPropertyOptional({
    default: false,
    description: '应急科普: every stage deadline is SLA_URGENT_FACTOR of the normal one and the district coordinator is told at once. Community staff and coordinators (coordinators create urgent orders only); a resident → 403',
  })
  @IsOmittable()
  @IsBoolean()
  urgent?: boolean;
}

export const RECURRENCE_UNITS = ['week', 'month'] as const;
export const MIN_SERIES_OCCURRENCES = 2;
export const MAX_SERIES_OCCURRENCES = 12;

export class RecurrenceDto {
  @ApiProperty({ enum: RECURRENCE_UNITS, description: 'Each occurrence\'s windows are shifted by this much from the one before (months in Shanghai calendar days, clamped to the month\'s last day)' })
  @IsIn(RECURRENCE_UNITS)
  every: (typeof RECURRENCE_UNITS)[number];

  @ApiProperty({ minimum: MIN_SERIES_OCCURRENCES, maximum: MAX_SERIES_OCCURRENCES, description: 'Occurrences, the first included' })
  @IsInt()
  @Min(MIN_SERIES_OCCURRENCES)
  @Max(MAX_SERIES_OCCURRENCES)
  count: number;
}

/** 常态化: the order body plus how it recurs. */
export class CreateOrderSeriesDto extends CreateOrderDto {
  @ApiProperty({ type: RecurrenceDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => RecurrenceDto)
  recurrence: RecurrenceDto;
}

/** Any transition may carry the version the caller last saw (optimistic concurrency). */
export class TransitionDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 2_147_483_647, description: 'When given and not the current version: 409 ORDER_STATE_CONFLICT' })
  @IsOmittable()
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  expectedVersion?: number;
}

export class DispatchOrderDto extends TransitionDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  departmentId: string;

  @ApiPropertyOptional({ maxLength: 1000 })
  @IsOmittable()
  @IsString()
  @MaxLength(1000)
  note?: string;
}

export class ReassignOrderDto extends TransitionDto {
  @ApiProperty({ format: 'uuid', description: 'Another department serving the order\'s district, or a city-wide one' })
  @IsUUID()
  departmentId: string;

  @ApiProperty({ maxLength: 1000, example: '区科协超时未领单，改派区卫健委' })
  @IsString()
  @MinLength(1)
  @MaxLength(1000)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason: string;
}

export class ReasonDto extends TransitionDto {
  @ApiProperty({ maxLength: 1000, example: '与已有需求重复' })
  @IsString()
  @MinLength(1)
  @MaxLength(1000)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason: string;
}

export class MergeOrderDto extends TransitionDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  primaryOrderId: string;
}

export class OfferOrderDto extends TransitionDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  organizationId: string;
}

export class ListOrdersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ORDER_STATUSES })
  @IsOmittable()
  @IsIn(ORDER_STATUSES)
  status?: OrderStatus;

  @ApiPropertyOptional({ example: '110108' })
  @IsOmittable()
  @Matches(/^\d{6}$/, { message: 'districtCode must be 6 digits' })
  districtCode?: string;

  @ApiPropertyOptional({ example: '110108001' })
  @IsOmittable()
  @Matches(/^\d{9}$/, { message: 'subdistrictCode must be 9 digits' })
  subdistrictCode?: string;

  @ApiPropertyOptional({ example: '110108001001' })
  @IsOmittable()
  @Matches(/^\d{12}$/, { message: 'communityCode must be 12 digits' })
  communityCode?: string;

  @ApiPropertyOptional({ enum: TOPIC_CODES })
  @IsOmittable()
  @IsIn(TOPIC_CODES)
  topic?: string;

  @ApiPropertyOptional({ enum: AUDIENCE_CODES })
  @IsOmittable()
  @IsIn(AUDIENCE_CODES)
  audience?: string;

  @ApiPropertyOptional({ description: 'Created at or after (ISO 8601)' })
  @IsOmittable()
  @IsISO8601({ strict: true })
  @MaxLength(INSTANT_MAX_LENGTH)
  from?: string;

  @ApiPropertyOptional({ description: 'Created before (ISO 8601)' })
  @IsOmittable()
  @IsISO8601({ strict: true })
  @MaxLength(INSTANT_MAX_LENGTH)
  to?: string;

  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'Only urgent (true) or only ordinary (false) orders; without it urgent orders come first' })
  @IsOmittable()
  @IsIn(['true', 'false'])
  urgent?: 'true' | 'false';
}

export class WindowView {
  @ApiProperty() start: string;
  @ApiProperty() end: string;
}

export class OrderView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'KP20261128000001' }) code: string;
  @ApiProperty({ enum: ORDER_STATUSES }) status: OrderStatus;
  @ApiProperty() version: number;
  @ApiProperty() communityCode: string;
  @ApiProperty() subdistrictCode: string;
  @ApiProperty() districtCode: string;
  @ApiProperty({ format: 'uuid' }) requesterId: string;
  @ApiProperty({ enum: TOPIC_CODES }) topic: string;
  @ApiProperty({ enum: AUDIENCE_CODES }) audience: string;
  @ApiProperty({ enum: FORMAT_CODES }) format: string;
  @ApiProperty() title: string;
  @ApiProperty() description: string;
  @ApiProperty() expectedAttendance: number;
  @ApiProperty({ type: [WindowView] }) preferredWindows: WindowView[];
  @ApiProperty({ type: [String] }) accessibilityNeeds: string[];
  @ApiProperty() contactName: string;
  @ApiProperty({ description: 'Masked (138****1234) except for the requester, the community staff and the accepting organisation' })
  contactPhone: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) departmentId: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) organizationId: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) offeredOrganizationId: string | null;
  @ApiProperty() openToOrganizations: boolean;
  @ApiProperty({ type: String, nullable: true }) scheduledStart: string | null;
  @ApiProperty({ type: String, nullable: true }) scheduledEnd: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) venueId: string | null;
  @ApiProperty() returnedCount: number;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) mergedIntoId: string | null;
  @ApiProperty({ type: [String] }) possibleDuplicateIds: string[];
  @ApiProperty({ type: Object, nullable: true }) rating: Record<string, unknown> | null;
  @ApiProperty({ description: 'Slots left for volunteers to claim' }) openSlots: number;
  @ApiProperty({ type: Number, nullable: true }) attendance: number | null;
  @ApiProperty({ type: String, nullable: true }) summary: string | null;
  @ApiProperty({ description: '应急科普: shortened deadlines, first in every worklist' }) urgent: boolean;
  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'The series (常态化) this order is one occurrence of' }) seriesId: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class OrderPageView {
  @ApiProperty({ type: [OrderView] }) items: OrderView[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class OrderSeriesView {
  @ApiProperty({ format: 'uuid' }) seriesId: string;
  @ApiProperty({ type: [OrderView], description: 'One per occurrence, in date order' }) orders: OrderView[];
}

export class OrderEventView {
  @ApiProperty() seq: number;
  @ApiProperty({ example: 'order.claimed' }) type: string;
  @ApiProperty({ type: String, nullable: true }) fromStatus: string | null;
  @ApiProperty() toStatus: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) actorId: string | null;
  @ApiProperty() actorRole: string;
  @ApiProperty({ type: Object }) payload: Record<string, unknown>;
  @ApiProperty() at: string;
}
