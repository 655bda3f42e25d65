import { ROLES, type Role, TOPIC_CODES } from '@kepu/core';
import { IsAcceptablePassword, IsOmittable } from '@kepu/http';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsEmail, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsString, IsUUID, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';

export class CreateUserDto {
  @ApiProperty({ example: 'haidian.staff', pattern: '^[A-Za-z0-9._-]{3,64}$' })
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{3,64}$/, { message: 'username must be 3–64 letters, digits, dots, dashes or underscores' })
  username: string;

  @IsString()
  @IsAcceptablePassword()
  password: string;

  @ApiProperty({ example: '王老师' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @Matches(/\S/, { message: 'displayName must not be blank' })
  displayName: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role: Role;

  @ApiPropertyOptional({ example: '13812341234' })
  @IsOmittable()
  @Matches(/^\+?\d{6,15}$/, { message: 'phone must be 6–15 digits' })
  phone?: string;

  @ApiPropertyOptional({ example: 'wang@example.cn', description: 'for e-mail notifications' })
  @IsOmittable()
  @IsEmail({}, { message: 'email must be an e-mail address' })
  @MaxLength(200)
  email?: string;

  @ApiPropertyOptional({ description: 'WeChat OpenID, for WeChat notifications' })
  @IsOmittable()
  @Matches(/^[\w-]{6,64}$/, { message: 'wechatOpenId must be 6–64 letters, digits, dashes or underscores' })
  wechatOpenId?: string;

  @ApiPropertyOptional({ example: '110108001001', description: 'resident, community_staff' })
  @IsOmittable()
  @Matches(/^\d{12}$/, { message: 'communityCode must be 12 digits' })
  communityCode?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'department_staff' })
  @IsOmittable()
  @IsUUID()
  departmentId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'org_admin' })
  @IsOmittable()
  @IsUUID()
  organizationId?: string;

  @ApiPropertyOptional({ example: '110108', description: 'district_coordinator' })
  @IsOmittable()
  @Matches(/^\d{6}$/, { message: 'districtCode must be 6 digits' })
  districtCode?: string;
}

export class CreateDepartmentDto {
  @ApiProperty({ example: '海淀区科学技术协会' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @Matches(/\S/, { message: 'name must not be blank' })
  name: string;

  @ApiProperty({ type: String, nullable: true, example: '110108', description: 'null: city-wide' })
  @ValidateIf((_, value) => value !== null)
  @Matches(/^\d{6}$/, { message: 'districtCode must be 6 digits or null' })
  districtCode: string | null;

  @ApiPropertyOptional({ type: [String], example: ['health', 'anti_fraud'] })
  @IsOmittable()
  @IsArray()
  @ArrayMaxSize(50)
  @ArrayUnique()
  @IsIn(TOPIC_CODES, { each: true })
  topics?: string[];
}

export class CreateOrganizationDto {
  @ApiProperty({ example: '海淀区科普志愿服务队' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @Matches(/\S/, { message: 'name must not be blank' })
  name: string;

  @ApiProperty({ type: [String], example: ['110108'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ArrayUnique()
  @Matches(/^\d{6}$/, { each: true, message: 'each districtCode must be 6 digits' })
  districtCodes: string[];
}

export class DepartmentView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ type: String, nullable: true }) districtCode: string | null;
  @ApiProperty({ type: [String] }) topics: string[];
}

export class OrganizationView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ type: [String] }) districtCodes: string[];
}

export class DirectoryQueryDto {
  @ApiPropertyOptional({ example: '110108' })
  @IsOmittable()
  @Matches(/^\d{6}$/, { message: 'districtCode must be 6 digits' })
  districtCode?: string;
}
