import { IsInstant, IsOmittable } from '@kepu/http';
import { TransitionDto } from '@kepu/orders';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsInt, IsUUID, Max, Min } from 'class-validator';


export const MAX_NAMED_VOLUNTEERS = 20;
export const MAX_OPEN_SLOTS = 50;
export const MAX_EVENT_HOURS = 12;

/** POST /orders/:id/schedule and /reschedule: time, venue, the volunteers invited by name, slots left open. */
export class ScheduleOrderDto extends TransitionDto {
  @ApiProperty({ example: '2027-03-14T09:00:00+08:00', description: 'Inside one of the order\'s preferred windows' })
  @IsInstant()
  start: string;

  @ApiProperty({ example: '2027-03-14T11:00:00+08:00', description: `After start, at most ${MAX_EVENT_HOURS} h later` })
  @IsInstant()
  end: string;

  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  venueId: string;

  @ApiPropertyOptional({
    type: [String],
    format: 'uuid',
    maxItems: MAX_NAMED_VOLUNTEERS,
    description: 'Volunteers of the organisation invited by name (default none). On reschedule: the named volunteers who stay or are newly invited; the others are removed. Slot claims stay.',
  })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(MAX_NAMED_VOLUNTEERS)
  @ArrayUnique()
  @IsUUID(undefined, { each: true })
  volunteerIds?: string[];

  @ApiPropertyOptional({ minimum: 0, maximum: MAX_OPEN_SLOTS, default: 0, description: 'Slots left for the organisation\'s volunteers to claim' })
  @IsOmittable()
  @IsInt()
  @Min(0)
  @Max(MAX_OPEN_SLOTS)
  openSlots?: number;
}
