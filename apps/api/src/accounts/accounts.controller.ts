import {
  AccountsService,
  CreateDepartmentDto,
  CreateOrganizationDto,
  CreateUserDto,
  DepartmentView,
  DirectoryQueryDto,
  OrganizationView,
} from '@kepu/accounts';
import { CurrentActor, Roles, UserView } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import { Body, Controller, Get, Ip, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { ApiAuthenticated } from '../api-responses.decorator';
import { ProblemView } from '../problem.view';

@ApiTags('accounts')
@ApiAuthenticated()
@Controller()
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post('users')
  @Roles('city_admin', 'district_coordinator', 'community_staff')
  @ApiOperation({ summary: 'Creates an account: city_admin any; district_coordinator inside its district; community_staff residents of its own community (代注册)' })
  @ApiCreatedResponse({ type: UserView })
  @ApiConflictResponse({ type: ProblemView, description: 'USERNAME_TAKEN, PHONE_TAKEN (a resident with this phone exists)' })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: 'UNKNOWN_COMMUNITY, UNKNOWN_DEPARTMENT, UNKNOWN_ORGANIZATION, UNKNOWN_DISTRICT' })
  createUser(@CurrentActor() actor: Actor, @Body() dto: CreateUserDto, @Ip() ip: string): Promise<UserView> {
    return this.accounts.createUser(actor, dto, ip);
  }

  @Post('departments')
  @Roles('city_admin')
  @ApiCreatedResponse({ type: DepartmentView })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: 'UNKNOWN_DISTRICT' })
  createDepartment(@CurrentActor() actor: Actor, @Body() dto: CreateDepartmentDto, @Ip() ip: string): Promise<DepartmentView> {
    return this.accounts.createDepartment(actor, dto, ip);
  }

  @Get('departments')
  @ApiOkResponse({ type: [DepartmentView], description: 'With districtCode: its departments and the city-wide ones' })
  listDepartments(@Query() query: DirectoryQueryDto): Promise<DepartmentView[]> {
    return this.accounts.listDepartments(query.districtCode);
  }

  @Post('organizations')
  @Roles('city_admin', 'district_coordinator')
  @ApiCreatedResponse({ type: OrganizationView })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: 'UNKNOWN_DISTRICT' })
  createOrganization(@CurrentActor() actor: Actor, @Body() dto: CreateOrganizationDto, @Ip() ip: string): Promise<OrganizationView> {
    return this.accounts.createOrganization(actor, dto, ip);
  }

  @Get('organizations')
  @ApiOkResponse({ type: [OrganizationView], description: 'With districtCode: the organisations serving it' })
  listOrganizations(@Query() query: DirectoryQueryDto): Promise<OrganizationView[]> {
    return this.accounts.listOrganizations(query.districtCode);
  }
}
