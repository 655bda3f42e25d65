import { hashPassword } from '@kepu/auth';
import { type Actor, BusinessRuleError, Clock, ConflictError, type FieldError, ForbiddenError, maskPhone, NotFoundError, toMinutes, ValidationError } from '@kepu/core';
import { decodeCursor, type Page, toPage } from '@kepu/http';
import { OrdersService } from '@kepu/orders';
import { Injectable } from '@nestjs/common';
import type { UpdateMyVolunteerProfileDto } from './volunteer-applications.dto';
import type { CreateVolunteerDto, ListVolunteersQueryDto, UpdateVolunteerDto, VolunteerPageView, VolunteerView } from './volunteers.dto';
import { type StoredDatedWindow, type VolunteerRecord, VolunteersRepository } from './volunteers.repository';

const DEFAULT_PAGE_SIZE = 20;

/** Field problems the DTO decorators cannot see: windows that end before they start. */
export function windowProblems(dto: { availability?: { start: string; end: string }[]; unavailable?: { start: string; end: string }[] }): FieldError[] {
  const problems: FieldError[] = [];
  (dto.availability ?? []).forEach((w, i) => {
    if (toMinutes(w.end) <= toMinutes(w.start)) problems.push({ field: `availability.${i}.end`, message: 'end must be after start' });
  });
  (dto.unavailable ?? []).forEach((w, i) => {
    if (!(new Date(w.end) > new Date(w.start))) problems.push({ field: `unavailable.${i}.end`, message: 'end must be after start' });
  });
  return problems;
}

const normalizeDated = (windows: { start: string; end: string }[] | undefined): StoredDatedWindow[] | undefined =>
  windows?.map((w) => ({ start: new Date(w.start).toISOString(), end: new Date(w.end).toISOString() }));

/** Personal data: the number in full for the organisation's admins and the volunteer, masked for everyone else. */
export function toVolunteerView(v: VolunteerRecord, viewer: Actor): VolunteerView {
  const canSeePhone = (viewer.role === 'org_admin' && viewer.organizationId === v.organizationId) || viewer.volunteerId === v.id;
  return {
    id: v.id,
    userId: v.userId,
    organizationId: v.organizationId,
    displayName: v.displayName,
    phone: canSeePhone ? v.phone : maskPhone(v.phone),
    homeCommunityCode: v.homeCommunityCode,
    homeSubdistrictCode: v.homeSubdistrictCode,
    homeDistrictCode: v.homeDistrictCode,
    skills: v.skills,
    audiences: v.audiences,
    formats: v.formats,
    languages: v.languages,
    availability: v.availability,
    unavailable: v.unavailable,
    maxHoursPerWeek: v.maxHoursPerWeek,
    isActive: v.isActive,
    createdAt: v.createdAt.toISOString(),
  };
}

@Injectable()
export class VolunteersService {
  constructor(
    private readonly volunteers: VolunteersRepository,
    private readonly orders: OrdersService,
    private readonly clock: Clock,
  ) {}

  async create(actor: Actor, organizationId: string, dto: CreateVolunteerDto, ip: string | null = null): Promise<VolunteerView> {
    if (!this.manages(actor, organizationId)) throw new ForbiddenError('Only the organisation\'s admins register its volunteers.');
    if (!(await this.volunteers.findOrganization(organizationId))) throw new NotFoundError(`No organisation ${organizationId}.`);
    const problems = windowProblems(dto);
    if ((dto.username === undefined) !== (dto.password === undefined))
      problems.push({ field: dto.username === undefined ? 'username' : 'password', message: 'username and password come together, or neither' });
    if (problems.length > 0) throw new ValidationError(problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems);
    const community = await this.orders.findCommunity(dto.homeCommunityCode);
    if (!community) throw new BusinessRuleError('UNKNOWN_COMMUNITY', `No community has the code ${dto.homeCommunityCode}.`);

    const login = dto.username !== undefined && dto.password !== undefined ? { username: dto.username, passwordHash: await hashPassword(dto.password) } : undefined;
    const record = await this.volunteers.insert(
      {
        organizationId,
        displayName: dto.displayName.trim(),
        phone: dto.phone,
        homeCommunityCode: community.code,
        homeSubdistrictCode: community.subdistrictCode,
        homeDistrictCode: community.districtCode,
        skills: dto.skills.map((s) => ({ topic: s.topic, level: s.level })),
        audiences: dto.audiences,
        formats: dto.formats,
        languages: dto.languages ?? [],
        availability: dto.availability.map((w) => ({ weekday: w.weekday, start: w.start, end: w.end })),
        unavailable: normalizeDated(dto.unavailable) ?? [],
        maxHoursPerWeek: dto.maxHoursPerWeek,
        createdAt: this.clock.now(),
      },
      login,
      { actor, ip },
    );
    if (!record) throw new ConflictError('USERNAME_TAKEN', `The username ${dto.username} is taken.`);
    return toVolunteerView(record, actor);
  }

  async list(actor: Actor, organizationId: string, query: ListVolunteersQueryDto): Promise<VolunteerPageView> {
    const organization = await this.volunteers.findOrganization(organizationId);
    if (!organization) throw new NotFoundError(`No organisation ${organizationId}.`);
    const isCoordinatorOfIt = actor.role === 'district_coordinator' && organization.districtCodes.includes(actor.districtCode ?? '');
    if (!this.manages(actor, organizationId) && !isCoordinatorOfIt)
      throw new ForbiddenError('Only the organisation\'s admins and the coordinators of a district it serves list its volunteers.');
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await this.volunteers.listByOrganization(organizationId, limit, after);
    const page: Page<VolunteerView> = toPage(rows, limit, (v) => ({ at: v.createdAt, id: v.id }), (v) => toVolunteerView(v, actor));
    return page;
  }

  /** 404 outside scope; 403 for those who see the volunteer but do not manage its organisation. */
  async update(actor: Actor, id: string, dto: UpdateVolunteerDto, ip: string | null = null): Promise<VolunteerView> {
    const current = await this.volunteers.findVisible(actor, id);
    if (!current) throw new NotFoundError(`No volunteer ${id} is visible to you.`);
    if (!this.manages(actor, current.organizationId)) throw new ForbiddenError('Only the organisation\'s admins change its volunteers.');
    const problems = windowProblems(dto);
    if (problems.length > 0) throw new ValidationError(problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems);
    const updated = await this.volunteers.update(id, {
      isActive: dto.isActive,
      availability: dto.availability?.map((w) => ({ weekday: w.weekday, start: w.start, end: w.end })),
      unavailable: normalizeDated(dto.unavailable),
      maxHoursPerWeek: dto.maxHoursPerWeek,
      skills: dto.skills?.map((s) => ({ topic: s.topic, level: s.level })),
    }, { actor, ip });
    if (!updated) throw new NotFoundError(`No volunteer ${id}.`);
    return toVolunteerView(updated, actor);
  }

  /** GET /me/volunteer-profile: the caller's own profile, whatever its role (DESIGN.md §10); 404 without one. */
  async myProfile(actor: Actor): Promise<VolunteerView> {
    const profile = await this.volunteers.findByUser(actor.userId);
    if (!profile) throw new NotFoundError('Your account has no volunteer profile; apply at POST /volunteer-applications.');
    return toVolunteerView(profile, actor);
  }

  /**
   * PATCH /me/volunteer-profile: the volunteer's own availability, cap, audiences, formats,
   * languages and pause; skills stay with the organisation. The write goes to the volunteers
   * table, whose triggers bump the organisation's candidate-cache version in the same transaction.
   */
  async updateMyProfile(actor: Actor, dto: UpdateMyVolunteerProfileDto, ip: string | null = null): Promise<VolunteerView> {
    const problems = windowProblems(dto);
    if (problems.length > 0) throw new ValidationError(problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems);
    const profile = await this.volunteers.findByUser(actor.userId);
    if (!profile) throw new NotFoundError('Your account has no volunteer profile; apply at POST /volunteer-applications.');
    const updated = await this.volunteers.update(profile.id, {
      isActive: dto.isActive,
      availability: dto.availability?.map((w) => ({ weekday: w.weekday, start: w.start, end: w.end })),
      maxHoursPerWeek: dto.maxHoursPerWeek,
      audiences: dto.audiences,
      formats: dto.formats,
      languages: dto.languages,
    }, { actor, ip });
    if (!updated) throw new NotFoundError('Your volunteer profile is gone.');
    return toVolunteerView(updated, actor);
  }

  private manages(actor: Actor, organizationId: string): boolean {
    return actor.role === 'city_admin' || (actor.role === 'org_admin' && actor.organizationId === organizationId);
  }
}
