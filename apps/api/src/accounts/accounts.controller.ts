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
import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiCreatedResponse, ApiOkResponse, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { ApiAuthenticated } from '../api-responses.decorator';
import { ProblemView } from '../problem.view';

@ApiTags('accounts')
@ApiAuthenticated()
@Controller()
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post('users')
  @Roles('city_admin', 'district_coordinator')
  @ApiCreatedResponse({ type: UserView })
  @ApiConflictResponse({ type: ProblemView, description: 'USERNAME_TAKEN' })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: 'UNKNOWN_COMMUNITY, UNKNOWN_DEPARTMENT, UNKNOWN_ORGANIZATION, UNKNOWN_DISTRICT' })
  createUser(@CurrentActor() actor: Actor, @Body() dto: CreateUserDto): Promise<UserView> {
    return this.accounts.createUser(actor, dto);
  }

  @Post('departments')
  @Roles('city_admin')
  @ApiCreatedResponse({ type: DepartmentView })
  @ApiUnprocessableEntityResponse({ type: ProblemView, description: 'UNKNOWN_DISTRICT' })
  createDepartment(@Body() dto: CreateDepartmentDto): Promise<DepartmentView> {
    return this.accounts.createDepartment(dto);
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
  createOrganization(@CurrentActor() actor: Actor, @Body() dto: CreateOrganizationDto): Promise<OrganizationView> {
    return this.accounts.createOrganization(actor, dto);
  }

  @Get('organizations')
  @ApiOkResponse({ type: [OrganizationView], description: 'With districtCode: the organisations serving it' })
  listOrganizations(@Query() query: DirectoryQueryDto): Promise<OrganizationView[]> {
    return this.accounts.listOrganizations(query.districtCode);
  }
}
