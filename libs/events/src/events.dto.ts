import { MAX_EVENT_SEATS, MAX_SIGNUP_ATTENDEES, type EventStatus, type SignupStatus } from '@kepu/core';
import { IsInstant, IsOmittable, PageQueryDto } from '@kepu/http';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';

export const EVENT_STATUSES: readonly EventStatus[] = ['open', 'full', 'closed', 'cancelled'];
export const SIGNUP_STATUSES: readonly SignupStatus[] = ['confirmed', 'waitlisted', 'cancelled'];

export class PublishEventDto {
  @ApiProperty({ minimum: 1, maximum: MAX_EVENT_SEATS, description: 'Seats for attendees (counted in people, not sign-ups)' })
  @IsInt()
  @Min(1)
  @Max(MAX_EVENT_SEATS)
  seats: number;

  @ApiPropertyOptional({ maxLength: 40, description: 'No sign-ups after this instant (ISO 8601 with offset); must be before the start. Default: the start' })
  @IsOmittable()
  @IsString()
  @MaxLength(40)
  @IsInstant()
  signupDeadline?: string;

  @ApiPropertyOptional({ maxLength: 2000, description: 'A note for residents (what to bring, where to meet)' })
  @IsOmittable()
  @IsString()
  @MaxLength(2000)
  note?: string;
}

export class ListEventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: '110108', maxLength: 6 })
  @IsOmittable()
  @MaxLength(6)
  @Matches(/^\d{6}$/, { message: 'districtCode must be 6 digits' })
  districtCode?: string;

  @ApiPropertyOptional({ example: '110108001001', maxLength: 12 })
  @IsOmittable()
  @MaxLength(12)
  @Matches(/^\d{12}$/, { message: 'communityCode must be 12 digits' })
  communityCode?: string;

  @ApiPropertyOptional({ maxLength: 40, description: 'Events starting at or after (ISO 8601 with offset); default: events not yet ended' })
  @IsOmittable()
  @IsString()
  @MaxLength(40)
  @IsInstant()
  from?: string;

  @ApiPropertyOptional({ maxLength: 40, description: 'Events starting before (ISO 8601 with offset)' })
  @IsOmittable()
  @IsString()
  @MaxLength(40)
  @IsInstant()
  to?: string;
}

export class CreateSignupDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_SIGNUP_ATTENDEES, default: 1, description: 'People coming on this sign-up (you included)' })
  @IsOmittable()
  @IsInt()
  @Min(1)
  @Max(MAX_SIGNUP_ATTENDEES)
  attendees?: number;
}

export class AttendanceDto {
  @ApiProperty({ minLength: 1, maxLength: 32, example: 'K7M2QX9PTA', description: 'The ticket code of the sign-up (scanned or typed at the door)' })
  @IsString()
  @MinLength(1)
  @MaxLength(32)
  ticketCode: string;
}

export class EventFeedbackDto {
  @ApiProperty({ minimum: 1, maximum: 5 }) @IsInt() @Min(1) @Max(5) score: number;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOmittable()
  @IsString()
  @MaxLength(2000)
  comment?: string;
}

export class EventVenueView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() communityCode: string;
}

export class MySignupRefView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: SIGNUP_STATUSES }) status: SignupStatus;
}

export class EventView {
  @ApiProperty({ format: 'uuid' }) orderId: string;
  @ApiProperty() title: string;
  @ApiProperty() topic: string;
  @ApiProperty() audience: string;
  @ApiProperty() format: string;
  @ApiProperty() start: string;
  @ApiProperty() end: string;
  @ApiProperty({ type: EventVenueView, nullable: true }) venue: EventVenueView | null;
  @ApiProperty() communityCode: string;
  @ApiProperty() districtCode: string;
  @ApiProperty() seats: number;
  @ApiProperty({ description: 'Confirmed attendees (people)' }) confirmed: number;
  @ApiProperty({ description: 'Waiting attendees (people)' }) waitlisted: number;
  @ApiProperty({ type: String, nullable: true }) signupDeadline: string | null;
  @ApiProperty({ enum: EVENT_STATUSES }) status: EventStatus;
  @ApiProperty({ type: MySignupRefView, nullable: true, description: 'Your active sign-up (confirmed or waiting), if any' }) mySignup: MySignupRefView | null;
  @ApiProperty({ type: String, nullable: true }) note: string | null;
  @ApiProperty() publishedAt: string;
}

export class EventPageView {
  @ApiProperty({ type: [EventView] }) items: EventView[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class SignupView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) orderId: string;
  @ApiProperty({ enum: SIGNUP_STATUSES }) status: SignupStatus;
  @ApiProperty({ minimum: 1, maximum: MAX_SIGNUP_ATTENDEES }) attendees: number;
  @ApiProperty({ example: 'K7M2QX9PTA' }) ticketCode: string;
  @ApiPropertyOptional({ description: 'Place in the waiting line (1 = next), while waiting' }) position?: number;
  @ApiProperty() createdAt: string;
  @ApiProperty({ type: String, nullable: true }) attendedAt: string | null;
}

export class MySignupView extends SignupView {
  @ApiProperty({ type: EventView }) event: EventView;
}

export class MySignupPageView {
  @ApiProperty({ type: [MySignupView] }) items: MySignupView[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

/** A sign-up as the event's organisers see it: the phone masked (138****1234). */
export class EventSignupView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty() displayName: string;
  @ApiProperty({ type: String, nullable: true, example: '138****1234' }) phone: string | null;
  @ApiProperty() attendees: number;
  @ApiProperty({ enum: SIGNUP_STATUSES }) status: SignupStatus;
  @ApiProperty({ type: Number, nullable: true, description: 'Place in the waiting line while waiting' }) position: number | null;
  @ApiProperty() ticketCode: string;
  @ApiProperty({ type: String, nullable: true }) attendedAt: string | null;
}

export class EventSignupPageView {
  @ApiProperty({ type: [EventSignupView] }) items: EventSignupView[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class EventFeedbackView {
  @ApiProperty({ format: 'uuid' }) signupId: string;
  @ApiProperty({ format: 'uuid' }) orderId: string;
  @ApiProperty() score: number;
  @ApiProperty({ type: String, nullable: true }) comment: string | null;
  @ApiProperty() createdAt: string;
}
