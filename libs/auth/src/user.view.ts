import { ROLES, type Role } from '@kepu/core';
import { ApiProperty } from '@nestjs/swagger';
import type { UserRecord } from './users.repository';

/** A user as the API shows it: never the password hash or the phone number. */
export class UserView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() username: string;
  @ApiProperty() displayName: string;
  @ApiProperty({ enum: ROLES }) role: Role;
  @ApiProperty({ type: String, nullable: true, example: '110108001001' }) communityCode: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) departmentId: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) organizationId: string | null;
  @ApiProperty({ type: String, nullable: true, example: '110108' }) districtCode: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) volunteerId: string | null;
}

export function toUserView(user: UserRecord): UserView {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    role: user.role,
    communityCode: user.communityCode,
    departmentId: user.departmentId,
    organizationId: user.organizationId,
    districtCode: user.districtCode,
    volunteerId: user.volunteerId,
  };
}
