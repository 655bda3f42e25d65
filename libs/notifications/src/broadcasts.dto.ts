import { ROLES } from '@kepu/core';
import { IsOmittable, PageQueryDto } from '@kepu/http';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsString, Matches, MaxLength, MinLength } from 'class-validator';

export const BROADCAST_CHANNELS = ['in_app', 'sms', 'wechat', 'email'] as const;
export type BroadcastChannel = (typeof BROADCAST_CHANNELS)[number];
export const BROADCAST_TITLE_MAX = 100;
export const BROADCAST_BODY_MAX = 2000;
/** Beijing has 16 districts; a few more leaves room for another province's list. */
export const BROADCAST_DISTRICTS_MAX = 30;

export class CreateBroadcastDto {
  @ApiProperty({ example: '暴雨红色预警：请减少外出', maxLength: BROADCAST_TITLE_MAX })
  @IsString()
  @MinLength(1)
  @MaxLength(BROADCAST_TITLE_MAX)
  @Matches(/\S/, { message: 'title must not be blank' })
  title: string;

  @ApiProperty({ maxLength: BROADCAST_BODY_MAX })
  @IsString()
  @MinLength(1)
  @MaxLength(BROADCAST_BODY_MAX)
  @Matches(/\S/, { message: 'body must not be blank' })
  body: string;

  @ApiPropertyOptional({
    type: [String],
    example: ['110108'],
    maxItems: BROADCAST_DISTRICTS_MAX,
    description: 'Districts whose users are told; absent: the whole city (city_admin) or your own district (district_coordinator)',
  })
  @IsOmittable()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(BROADCAST_DISTRICTS_MAX)
  @ArrayUnique()
  @IsString({ each: true })
  @MaxLength(6, { each: true })
  @Matches(/^\d{6}$/, { each: true, message: 'districtCodes must be 6-digit district codes' })
  districtCodes?: string[];

  @ApiProperty({ enum: ROLES, isArray: true, minItems: 1, maxItems: ROLES.length })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(ROLES.length)
  @ArrayUnique()
  @IsIn(ROLES, { each: true })
  roles: string[];

  @ApiProperty({ enum: BROADCAST_CHANNELS, isArray: true, minItems: 1, maxItems: BROADCAST_CHANNELS.length })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(BROADCAST_CHANNELS.length)
  @ArrayUnique()
  @IsIn(BROADCAST_CHANNELS, { each: true })
  channels: BroadcastChannel[];

  @ApiPropertyOptional({ description: 'Urgent (应急科普): SMS go out during quiet hours too', default: false })
  @IsOmittable()
  @IsBoolean()
  urgent?: boolean;
}

export class BroadcastAcceptedView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'Users the broadcast goes to' }) recipients: number;
  @ApiProperty({ enum: ['queued'] }) status: 'queued';
}

export type BroadcastStatus = 'queued' | 'sending' | 'done';

export class BroadcastView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() title: string;
  @ApiProperty() body: string;
  @ApiProperty({ format: 'uuid' }) senderId: string;
  @ApiProperty({ type: [String], nullable: true, description: 'null: the whole city' }) districtCodes: string[] | null;
  @ApiProperty({ type: [String] }) roles: string[];
  @ApiProperty({ enum: BROADCAST_CHANNELS, isArray: true }) channels: BroadcastChannel[];
  @ApiProperty() urgent: boolean;
  @ApiProperty({ enum: ['queued', 'sending', 'done'] }) status: BroadcastStatus;
  @ApiProperty({ description: 'Users the broadcast goes to' }) recipients: number;
  @ApiProperty({ description: 'Recipients told on every channel they get it on' }) delivered: number;
  @ApiProperty({ description: 'Recipients with an external delivery that failed after its last attempt' }) failed: number;
  @ApiProperty({ description: 'Recipients not yet told, or with an external delivery still pending (e.g. an SMS held for quiet hours)' }) pending: number;
  @ApiProperty() createdAt: string;
  @ApiProperty({ type: String, nullable: true }) finishedAt: string | null;
}

export class BroadcastPageView {
  @ApiProperty({ type: [BroadcastView] }) items: BroadcastView[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class BroadcastsQueryDto extends PageQueryDto {}
