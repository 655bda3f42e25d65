import { AUDIENCE_CODES, FORMAT_CODES, TOPIC_CODES } from '@kepu/core';
import { IsAcceptablePassword, IsOmittable, PageQueryDto } from '@kepu/http';
import { TimeWindowDto } from '@kepu/orders';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

export const MAX_SKILLS = 20;
export const MAX_WEEKLY_WINDOWS = 21;
export const MAX_UNAVAILABLE = 50;
export const MAX_LANGUAGES = 20;
/** Same policy as every other account (libs/accounts CreateUserDto). */
const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;
/** A window may run to the end of the day. */
const HH_MM_OR_MIDNIGHT = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;

export class SkillDto {
  @ApiProperty({ enum: TOPIC_CODES, example: 'anti_fraud' })
  @IsIn(TOPIC_CODES)
  topic: string;

  @ApiProperty({ minimum: 1, maximum: 3, example: 2, description: '1 novice, 2 experienced, 3 expert' })
  @IsInt()
  @Min(1)
  @Max(3)
  level: number;
}

export class WeeklyWindowDto {
  @ApiProperty({ minimum: 1, maximum: 7, example: 6, description: 'ISO weekday, 1 = Monday … 7 = Sunday (Asia/Shanghai)' })
  @IsInt()
  @Min(1)
  @Max(7)
  weekday: number;

  @ApiProperty({ example: '09:00', description: 'HH:MM, Beijing time' })
  @IsString()
  @Matches(HH_MM, { message: 'start must be HH:MM (00:00–23:59)' })
  start: string;

  @ApiProperty({ example: '12:00', description: 'HH:MM, Beijing time, after start (24:00 = end of day)' })
  @IsString()
  @Matches(HH_MM_OR_MIDNIGHT, { message: 'end must be HH:MM (00:01–24:00)' })
  end: string;
}

/** A topic may appear once; a non-object is left for the nested validation to refuse. */
const skillTopic = (s: unknown): unknown => (s !== null && typeof s === 'object' ? (s as { topic?: unknown }).topic : s);

class AvailabilityFields {
  @ApiProperty({ type: [WeeklyWindowDto], maxItems: MAX_WEEKLY_WINDOWS, description: 'Weekly windows the volunteer can serve in' })
  @IsArray()
  @ArrayMaxSize(MAX_WEEKLY_WINDOWS)
  @ValidateNested({ each: true })
  @Type(() => WeeklyWindowDto)
  availability: WeeklyWindowDto[];

  @ApiPropertyOptional({ type: [TimeWindowDto], maxItems: MAX_UNAVAILABLE, description: 'Dated exceptions: times the volunteer is away' })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(MAX_UNAVAILABLE)
  @ValidateNested({ each: true })
  @Type(() => TimeWindowDto)
  unavailable?: TimeWindowDto[];
}

export class CreateVolunteerDto extends AvailabilityFields {
  @ApiProperty({ example: '张明', maxLength: 100 })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @Matches(/\S/, { message: 'displayName must not be blank' })
  displayName: string;

  @ApiProperty({ example: '13812341234' })
  @IsString()
  @Matches(/^\+?\d{7,15}$/, { message: 'phone must be 7–15 digits' })
  phone: string;

  @ApiProperty({ example: '110108001001', description: 'Where the volunteer lives: proximity in matching' })
  @IsString()
  @Matches(/^\d{12}$/, { message: 'homeCommunityCode must be 12 digits' })
  homeCommunityCode: string;

  @ApiProperty({ type: [SkillDto], minItems: 1, maxItems: MAX_SKILLS, description: 'Each topic once' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_SKILLS)
  @ArrayUnique(skillTopic, { message: 'skills must name each topic once' })
  @ValidateNested({ each: true })
  @Type(() => SkillDto)
  skills: SkillDto[];

  @ApiProperty({ enum: AUDIENCE_CODES, isArray: true, description: 'Audiences the volunteer has experience with' })
  @IsArray()
  @ArrayMaxSize(AUDIENCE_CODES.length)
  @ArrayUnique()
  @IsIn(AUDIENCE_CODES, { each: true })
  audiences: string[];

  @ApiProperty({ enum: FORMAT_CODES, isArray: true })
  @IsArray()
  @ArrayMaxSize(FORMAT_CODES.length)
  @ArrayUnique()
  @IsIn(FORMAT_CODES, { each: true })
  formats: string[];

  @ApiPropertyOptional({ type: [String], maxItems: MAX_LANGUAGES, example: ['zh', 'sign_language'] })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(MAX_LANGUAGES)
  @ArrayUnique()
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(30, { each: true })
  @Matches(/\S/, { each: true, message: 'each language must not be blank' })
  languages?: string[];

  @ApiProperty({ minimum: 0.5, maximum: 168, example: 8 })
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 2 })
  @Min(0.5)
  @Max(168)
  maxHoursPerWeek: number;

  @ApiPropertyOptional({ example: 'zhang.ming', pattern: '^[A-Za-z0-9._-]{3,64}$', description: 'With password: a login with role volunteer' })
  @IsOmittable()
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{3,64}$/, { message: 'username must be 3–64 letters, digits, dots, dashes or underscores' })
  username?: string;

  @IsOmittable()
  @IsString()
  @IsAcceptablePassword({ required: false, description: 'With username' })
  password?: string;
}

/** What an organisation changes on a volunteer; every field optional, skills replaced as a whole. */
export class UpdateVolunteerDto {
  @ApiPropertyOptional({ description: 'false: never matched or invited until reactivated' })
  @IsOmittable()
  @IsBoolean()
  isActive?: boolean;

  @ApiPropertyOptional({ type: [WeeklyWindowDto], maxItems: MAX_WEEKLY_WINDOWS })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(MAX_WEEKLY_WINDOWS)
  @ValidateNested({ each: true })
  @Type(() => WeeklyWindowDto)
  availability?: WeeklyWindowDto[];

  @ApiPropertyOptional({ type: [TimeWindowDto], maxItems: MAX_UNAVAILABLE })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(MAX_UNAVAILABLE)
  @ValidateNested({ each: true })
  @Type(() => TimeWindowDto)
  unavailable?: TimeWindowDto[];

  @ApiPropertyOptional({ minimum: 0.5, maximum: 168 })
  @IsOmittable()
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 2 })
  @Min(0.5)
  @Max(168)
  maxHoursPerWeek?: number;

  @ApiPropertyOptional({ type: [SkillDto], minItems: 1, maxItems: MAX_SKILLS, description: 'Replaces every skill' })
  @IsOmittable()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_SKILLS)
  @ArrayUnique(skillTopic, { message: 'skills must name each topic once' })
  @ValidateNested({ each: true })
  @Type(() => SkillDto)
  skills?: SkillDto[];
}

export class ListVolunteersQueryDto extends PageQueryDto {}

export class SkillView {
  @ApiProperty({ enum: TOPIC_CODES }) topic: string;
  @ApiProperty({ minimum: 1, maximum: 3 }) level: number;
}

export class WeeklyWindowView {
  @ApiProperty() weekday: number;
  @ApiProperty() start: string;
  @ApiProperty() end: string;
}

export class DatedWindowView {
  @ApiProperty() start: string;
  @ApiProperty() end: string;
}

export class VolunteerView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'The volunteer\'s login, if one was created' }) userId: string | null;
  @ApiProperty({ format: 'uuid' }) organizationId: string;
  @ApiProperty() displayName: string;
  @ApiProperty({ description: 'Masked (138****1234) except for the organisation\'s admins' }) phone: string;
  @ApiProperty() homeCommunityCode: string;
  @ApiProperty() homeSubdistrictCode: string;
  @ApiProperty() homeDistrictCode: string;
  @ApiProperty({ type: [SkillView] }) skills: SkillView[];
  @ApiProperty({ type: [String] }) audiences: string[];
  @ApiProperty({ type: [String] }) formats: string[];
  @ApiProperty({ type: [String] }) languages: string[];
  @ApiProperty({ type: [WeeklyWindowView] }) availability: WeeklyWindowView[];
  @ApiProperty({ type: [DatedWindowView] }) unavailable: DatedWindowView[];
  @ApiProperty() maxHoursPerWeek: number;
  @ApiProperty() isActive: boolean;
  @ApiProperty() createdAt: string;
}

export class VolunteerPageView {
  @ApiProperty({ type: [VolunteerView] }) items: VolunteerView[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

/* Candidates (GET /orders/:id/candidates) */

export const MAX_CANDIDATES = 50;
export const MAX_SLOT_HOURS = 12;

export class CandidatesQueryDto extends TimeWindowDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_CANDIDATES, default: MAX_CANDIDATES, description: 'At most this many volunteers and this many venues' })
  @IsOmittable()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_CANDIDATES)
  limit?: number;
}

const BREAKDOWN_SCHEMA = { type: 'object', additionalProperties: { type: 'number' } } as const;

export class VolunteerCandidateView {
  @ApiProperty({ format: 'uuid' }) volunteerId: string;
  @ApiProperty() displayName: string;
  @ApiProperty({ example: 78.5 }) score: number;
  @ApiProperty({
    ...BREAKDOWN_SCHEMA,
    description: 'The score as a sum of named terms: topicLevel, audience, proximity, fairness, rating, reliability',
    example: { topicLevel: 20, audience: 15, proximity: 14, fairness: 10, rating: 7.5, reliability: 10 },
  })
  breakdown: Record<string, number>;
}

export class VenueCandidateView {
  @ApiProperty({ format: 'uuid' }) venueId: string;
  @ApiProperty() name: string;
  @ApiProperty() kind: string;
  @ApiProperty() capacity: number;
  @ApiProperty() communityCode: string;
  @ApiProperty({ example: 27.5 }) score: number;
  @ApiProperty({ ...BREAKDOWN_SCHEMA, description: 'proximity and fit (share of seats the audience fills)', example: { proximity: 20, fit: 7.5 } })
  breakdown: Record<string, number>;
}

export class CandidatesView {
  @ApiProperty({ type: [VolunteerCandidateView], description: 'Eligible volunteers of the accepting organisation, best first' })
  volunteers: VolunteerCandidateView[];
  @ApiProperty({ type: [VenueCandidateView], description: 'Free venues of the order\'s district that fit the audience and its needs, best first' })
  venues: VenueCandidateView[];
}
