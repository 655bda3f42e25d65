import { AUDIENCE_CODES, FORMAT_CODES } from '@kepu/core';
import { IsOmittable, PageQueryDto } from '@kepu/http';
import { ApiProperty, ApiPropertyOptional, OmitType, PickType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsString, IsUUID, Matches, MaxLength, MinLength, ValidateNested } from 'class-validator';
import {
  CreateVolunteerDto,
  DatedWindowView,
  MAX_LANGUAGES,
  MAX_SKILLS,
  SkillDto,
  SkillView,
  UpdateVolunteerDto,
  WeeklyWindowView,
} from './volunteers.dto';

export const APPLICATION_STATUSES = ['pending', 'approved', 'rejected'] as const;
export type ApplicationStatus = (typeof APPLICATION_STATUSES)[number];

/** A topic may appear once; a non-object is left for the nested validation to refuse. */
const skillTopic = (s: unknown): unknown => (s !== null && typeof s === 'object' ? (s as { topic?: unknown }).topic : s);

/** POST /volunteer-applications: the facts of POST /organizations/:id/volunteers (no login: the applicant has one), the organisation and why. */
export class CreateVolunteerApplicationDto extends OmitType(CreateVolunteerDto, ['username', 'password'] as const) {
  @ApiProperty({ format: 'uuid', description: 'The organisation applied to; it must serve the district of homeCommunityCode' })
  @IsUUID()
  organizationId: string;

  @ApiPropertyOptional({ maxLength: 2000, example: '退休教师，想给社区老人讲防诈骗' })
  @IsOmittable()
  @IsString()
  @MaxLength(2000)
  motivation?: string;
}

/** POST /volunteer-applications/:id/approve: optionally the skill levels the organisation grants (default: the declared topics at level 1). */
export class ApproveVolunteerApplicationDto {
  @ApiPropertyOptional({ type: [SkillDto], minItems: 1, maxItems: MAX_SKILLS, description: 'The volunteer\'s skills and levels; default: the topics applied with, each at level 1' })
  @IsOmittable()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_SKILLS)
  @ArrayUnique(skillTopic, { message: 'skills must name each topic once' })
  @ValidateNested({ each: true })
  @Type(() => SkillDto)
  skills?: SkillDto[];
}

export class RejectVolunteerApplicationDto {
  @ApiProperty({ maxLength: 500, example: '本队目前只招募海淀区的志愿者' })
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason: string;
}

export class ListVolunteerApplicationsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: APPLICATION_STATUSES })
  @IsOmittable()
  @IsIn(APPLICATION_STATUSES)
  status?: ApplicationStatus;
}

export class VolunteerApplicationView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: APPLICATION_STATUSES }) status: ApplicationStatus;
  @ApiProperty({ format: 'uuid' }) organizationId: string;
  @ApiProperty() organizationName: string;
  @ApiProperty({ format: 'uuid', description: 'The applicant' }) userId: string;
  @ApiProperty() displayName: string;
  @ApiProperty({ description: 'Masked (138****1234) except for the organisation\'s admins and the applicant' }) phone: string;
  @ApiProperty() homeCommunityCode: string;
  @ApiProperty({ type: [SkillView], description: 'As declared by the applicant' }) skills: SkillView[];
  @ApiProperty({ type: [String] }) audiences: string[];
  @ApiProperty({ type: [String] }) formats: string[];
  @ApiProperty({ type: [String] }) languages: string[];
  @ApiProperty({ type: [WeeklyWindowView] }) availability: WeeklyWindowView[];
  @ApiProperty({ type: [DatedWindowView] }) unavailable: DatedWindowView[];
  @ApiProperty() maxHoursPerWeek: number;
  @ApiProperty({ type: String, nullable: true }) motivation: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why it was rejected' }) reason: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'The volunteer profile created on approval' }) volunteerId: string | null;
  @ApiProperty({ type: String, nullable: true }) decidedAt: string | null;
  @ApiProperty() createdAt: string;
}

export class VolunteerApplicationPageView {
  @ApiProperty({ type: [VolunteerApplicationView] }) items: VolunteerApplicationView[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

/** PATCH /me/volunteer-profile: what a volunteer changes about themself; skills stay with the organisation (any other field → 400). */
export class UpdateMyVolunteerProfileDto extends PickType(UpdateVolunteerDto, ['availability', 'maxHoursPerWeek', 'isActive'] as const) {
  @ApiPropertyOptional({ enum: AUDIENCE_CODES, isArray: true })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(AUDIENCE_CODES.length)
  @ArrayUnique()
  @IsIn(AUDIENCE_CODES, { each: true })
  audiences?: string[];

  @ApiPropertyOptional({ enum: FORMAT_CODES, isArray: true })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(FORMAT_CODES.length)
  @ArrayUnique()
  @IsIn(FORMAT_CODES, { each: true })
  formats?: string[];

  @ApiPropertyOptional({ type: [String], maxItems: MAX_LANGUAGES })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(MAX_LANGUAGES)
  @ArrayUnique()
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(30, { each: true })
  @Matches(/\S/, { each: true, message: 'each language must not be blank' })
  languages?: string[];

}
