import { hashPassword, type UserView, UsersService } from '@kepu/auth';
import { type Actor, BusinessRuleError, ConflictError, ForbiddenError, type Role, ROLE_SCOPE_FIELD, ValidationError } from '@kepu/core';
import { Injectable } from '@nestjs/common';
import type { CreateDepartmentDto, CreateOrganizationDto, CreateUserDto, DepartmentView, OrganizationView } from './accounts.dto';
import { AccountsRepository } from './accounts.repository';

type ScopeField = 'communityCode' | 'departmentId' | 'organizationId' | 'districtCode';
const SCOPE_FIELDS: ScopeField[] = ['communityCode', 'departmentId', 'organizationId', 'districtCode'];

@Injectable()
export class AccountsService {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly users: UsersService,
  ) {}

  async createUser(actor: Actor, dto: CreateUserDto, ip: string | null): Promise<UserView> {
    if (dto.role === 'volunteer')
      throw new BusinessRuleError('USE_VOLUNTEER_ENDPOINT', 'Volunteer accounts are created with POST /organizations/:id/volunteers.');
    const scopeField = ROLE_SCOPE_FIELD[dto.role] as ScopeField | null;
    const stray = SCOPE_FIELDS.filter((f) => f !== scopeField && dto[f] !== undefined);
    const missing = scopeField && dto[scopeField] === undefined ? [scopeField] : [];
    if (stray.length > 0 || missing.length > 0)
      throw new ValidationError(`A ${dto.role} carries ${scopeField ?? 'no scope field'}.`, [
        ...missing.map((field) => ({ field, message: `${field} is required for role ${dto.role}` })),
        ...stray.map((field) => ({ field, message: `${field} does not apply to role ${dto.role}` })),
      ]);
    // 代注册: community staff sign up residents of their own community (e.g. elderly people without a smartphone), nothing else.
    if (actor.role === 'community_staff' && (dto.role !== 'resident' || dto.communityCode !== actor.communityCode))
      throw new ForbiddenError('Community staff create resident accounts of their own community only.');
    const scopeDistricts = await this.districtsOfScope(dto);
    if (actor.role === 'district_coordinator') this.assertInsideDistrict(actor, dto.role, scopeDistricts);

    const user = await this.users.create({
      username: dto.username,
      passwordHash: await hashPassword(dto.password),
      displayName: dto.displayName,
      role: dto.role,
      phone: dto.phone ?? null,
      email: dto.email ?? null,
      wechatOpenId: dto.wechatOpenId ?? null,
      communityCode: dto.communityCode ?? null,
      departmentId: dto.departmentId ?? null,
      organizationId: dto.organizationId ?? null,
      districtCode: dto.districtCode ?? null,
    }, { actor, ip });
    if (!user) throw new ConflictError('USERNAME_TAKEN', `The username ${dto.username} is taken.`);
    return user;
  }

  async createDepartment(actor: Actor, dto: CreateDepartmentDto, ip: string | null): Promise<DepartmentView> {
    if (dto.districtCode !== null) await this.assertDistrictsExist([dto.districtCode]);
    return this.accounts.insertDepartment(dto.name, dto.districtCode, dto.topics ?? [], { actor, ip });
  }

  async createOrganization(actor: Actor, dto: CreateOrganizationDto, ip: string | null): Promise<OrganizationView> {
    if (actor.role === 'district_coordinator' && dto.districtCodes.some((d) => d !== actor.districtCode))
      throw new ForbiddenError('A district coordinator registers organisations of its own district only.');
    await this.assertDistrictsExist(dto.districtCodes);
    return this.accounts.insertOrganization(dto.name, dto.districtCodes, { actor, ip });
  }

  listDepartments(districtCode?: string): Promise<DepartmentView[]> {
    return this.accounts.listDepartments(districtCode);
  }

  listOrganizations(districtCode?: string): Promise<OrganizationView[]> {
    return this.accounts.listOrganizations(districtCode);
  }

  /** The districts the new user's scope lies in; `null` for a city-wide scope. Unknown references are 422. */
  private async districtsOfScope(dto: CreateUserDto): Promise<string[] | null> {
    if (dto.communityCode !== undefined) {
      const district = await this.accounts.districtOfCommunity(dto.communityCode);
      if (!district) throw new BusinessRuleError('UNKNOWN_COMMUNITY', `No community has the code ${dto.communityCode}.`);
      return [district];
    }
    if (dto.departmentId !== undefined) {
      const department = await this.accounts.findDepartment(dto.departmentId);
      if (!department) throw new BusinessRuleError('UNKNOWN_DEPARTMENT', `No department has the id ${dto.departmentId}.`);
      return department.districtCode ? [department.districtCode] : null;
    }
    if (dto.organizationId !== undefined) {
      const organization = await this.accounts.findOrganization(dto.organizationId);
      if (!organization) throw new BusinessRuleError('UNKNOWN_ORGANIZATION', `No organisation has the id ${dto.organizationId}.`);
      return organization.districtCodes;
    }
    if (dto.districtCode !== undefined) {
      await this.assertDistrictsExist([dto.districtCode]);
      return [dto.districtCode];
    }
    return null;
  }

  /**
   * The WHOLE scope must lie in the coordinator's district, as createOrganization
   * requires: an org_admin of an organisation that also serves another district
   * would accept orders and read volunteer phones there.
   */
  private assertInsideDistrict(actor: Actor, role: Role, scopeDistricts: string[] | null): void {
    const isInside =
      actor.districtCode !== null &&
      scopeDistricts !== null &&
      scopeDistricts.length > 0 &&
      scopeDistricts.every((d) => d === actor.districtCode);
    if (role === 'city_admin' || !isInside)
      throw new ForbiddenError('A district coordinator creates accounts inside its own district only.');
  }

  private async assertDistrictsExist(codes: string[]): Promise<void> {
    const found = new Set(await this.accounts.existingDistricts(codes));
    const unknown = codes.filter((c) => !found.has(c));
    if (unknown.length > 0) throw new BusinessRuleError('UNKNOWN_DISTRICT', `Unknown district codes: ${unknown.join(', ')}.`);
  }
}
