import { IsOmittable } from '@kepu/http';
import { ASSIGNMENT_STATUSES, type AssignmentStatus } from './assignments.dto';
import { TransitionDto } from '@kepu/orders';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsString, IsUUID, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';

export class CheckInDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'org_admin only: the volunteer checked in on their behalf' })
  @IsOmittable()
  @IsUUID()
  volunteerId?: string;

  @ApiPropertyOptional({ maxLength: 32, example: '042917', description: 'The code shown at the venue (GET /orders/:id/check-in-code): the service record is then verified; a wrong or expired code → 422 INVALID_CHECK_IN_CODE' })
  @IsOmittable()
  @IsString()
  @MaxLength(32)
  code?: string;
}

export class CheckInCodeView {
  @ApiProperty({ example: '042917', description: '6 digits, HMAC of the order and the 5-minute step; show it as a QR code at the venue' }) code: string;
  @ApiProperty({ description: 'When the next code replaces it on display' }) expiresAt: string;
  @ApiProperty({ description: 'Until when this code is still accepted (the code before the current one stays valid)' }) validUntil: string;
}

export class CompleteOrderDto extends TransitionDto {
  @ApiPropertyOptional({ minimum: 0, maximum: 100000, description: 'How many people attended; default for a published event: the attendees of the sign-ups scanned at the door (required otherwise)' })
  @IsOmittable()
  @IsInt()
  @Min(0)
  @Max(100000)
  attendance?: number;

  @ApiProperty({ maxLength: 5000 })
  @IsString()
  @MinLength(1)
  @MaxLength(5000)
  @Matches(/\S/, { message: 'summary must not be blank' })
  summary: string;
}

export class RateOrderDto extends TransitionDto {
  @ApiProperty({ minimum: 1, maximum: 5 }) @IsInt() @Min(1) @Max(5) content: number;
  @ApiProperty({ minimum: 1, maximum: 5 }) @IsInt() @Min(1) @Max(5) volunteers: number;
  @ApiProperty({ minimum: 1, maximum: 5 }) @IsInt() @Min(1) @Max(5) punctuality: number;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOmittable()
  @IsString()
  @MaxLength(2000)
  comment?: string;
}

export class ServiceRecordView {
  @ApiProperty({ format: 'uuid' }) volunteerId: string;
  @ApiProperty({ format: 'uuid' }) orderId: string;
  @ApiProperty({ type: String, nullable: true }) checkInAt: string | null;
  @ApiProperty({ type: String, nullable: true }) checkOutAt: string | null;
  @ApiProperty({ description: 'Overlap with the event, rounded down to the quarter hour' }) hours: number;
  @ApiProperty({ description: 'Checked in with the venue\'s rotating code' }) verified: boolean;
}

export class ServiceRecordItemView extends ServiceRecordView {
  @ApiProperty() orderCode: string;
  @ApiProperty() title: string;
  @ApiProperty() topic: string;
  @ApiProperty() eventStart: string;
  @ApiProperty() eventEnd: string;
  @ApiProperty() isNoShow: boolean;
}

export class ServiceRecordsView {
  @ApiProperty() volunteerId: string;
  @ApiProperty() totalHours: number;
  @ApiProperty({ description: 'Beijing star level 0–5 (100 / 300 / 600 / 1,000 / 1,500 h)' }) starLevel: number;
  @ApiProperty({ type: [ServiceRecordItemView] }) items: ServiceRecordItemView[];
}

/** GET /orders/:id/assignments: one volunteer's part in the event, with their attendance once there is one. */
export class OrderAssignmentView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) volunteerId: string;
  @ApiProperty() displayName: string;
  @ApiProperty({ enum: ASSIGNMENT_STATUSES }) status: AssignmentStatus;
  @ApiProperty({ description: 'Claimed from an open slot rather than invited by name' }) isSlotClaim: boolean;
  @ApiProperty() start: string;
  @ApiProperty() end: string;
  @ApiProperty({ type: String, nullable: true, description: 'Why it was declined or ended' }) reason: string | null;
  @ApiProperty({ type: String, nullable: true }) checkInAt: string | null;
  @ApiProperty({ type: String, nullable: true }) checkOutAt: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Hours served (overlap with the event, rounded down to the quarter hour) once checked out, 0 for a no-show; null before' })
  hours: number | null;
  @ApiProperty({ description: 'Confirmed but never came (recorded at completion)' }) isNoShow: boolean;
  @ApiProperty({ description: 'Checked in with the venue\'s rotating code' }) verified: boolean;
}
