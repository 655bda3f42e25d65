import { ACCESSIBILITY_FEATURES } from '@kepu/core';
import { IsOmittable, PageQueryDto } from '@kepu/http';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsIn, IsInt, IsNumber, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';

/** 科普基地, 新时代文明实践站, 社区活动室, school, museum, anything else. */
export const VENUE_KINDS = ['science_base', 'practice_station', 'community_room', 'school', 'museum', 'other'] as const;
export type VenueKind = (typeof VENUE_KINDS)[number];
export const VENUE_OWNER_TYPES = ['community', 'department', 'organization', 'city'] as const;
export type VenueOwnerType = (typeof VENUE_OWNER_TYPES)[number];

export class CreateVenueDto {
  @ApiProperty({ example: '学院路街道社区活动室', maxLength: 200 })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @Matches(/\S/, { message: 'name must not be blank' })
  name: string;

  @ApiProperty({ example: '110108001001', description: 'Where the venue is' })
  @IsString()
  @Matches(/^\d{12}$/, { message: 'communityCode must be 12 digits' })
  communityCode: string;

  @ApiProperty({ enum: VENUE_KINDS })
  @IsIn(VENUE_KINDS)
  kind: VenueKind;

  @ApiProperty({ minimum: 1, maximum: 100000, example: 80 })
  @IsInt()
  @Min(1)
  @Max(100000)
  capacity: number;

  @ApiProperty({ enum: ACCESSIBILITY_FEATURES, isArray: true })
  @IsArray()
  @ArrayMaxSize(ACCESSIBILITY_FEATURES.length)
  @ArrayUnique()
  @IsIn(ACCESSIBILITY_FEATURES, { each: true })
  accessibility: string[];

  @ApiPropertyOptional({ minimum: -90, maximum: 90, example: 39.99 })
  @IsOmittable()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-90)
  @Max(90)
  lat?: number;

  @ApiPropertyOptional({ minimum: -180, maximum: 180, example: 116.35 })
  @IsOmittable()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-180)
  @Max(180)
  lng?: number;
}

export class ListVenuesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: '110108001001' })
  @IsOmittable()
  @Matches(/^\d{12}$/, { message: 'communityCode must be 12 digits' })
  communityCode?: string;

  @ApiPropertyOptional({ example: '110108' })
  @IsOmittable()
  @Matches(/^\d{6}$/, { message: 'districtCode must be 6 digits' })
  districtCode?: string;
}

export class VenueView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: VENUE_OWNER_TYPES, description: 'Who registered it: a community, a department, an organisation, or the city' }) ownerType: VenueOwnerType;
  @ApiProperty({ type: String, nullable: true, description: 'Community code, department or organisation id; null for the city' }) ownerId: string | null;
  @ApiProperty() communityCode: string;
  @ApiProperty() subdistrictCode: string;
  @ApiProperty() districtCode: string;
  @ApiProperty({ enum: VENUE_KINDS }) kind: string;
  @ApiProperty() capacity: number;
  @ApiProperty({ enum: ACCESSIBILITY_FEATURES, isArray: true }) accessibility: string[];
  @ApiProperty({ type: Number, nullable: true }) lat: number | null;
  @ApiProperty({ type: Number, nullable: true }) lng: number | null;
  @ApiProperty() createdAt: string;
}

export class VenuePageView {
  @ApiProperty({ type: [VenueView] }) items: VenueView[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
