import { type Actor, BusinessRuleError, Clock, ConflictError, ForbiddenError, maskPhone, NotFoundError, ValidationError } from '@kepu/core';
import { decodeCursor, type Page, type PageQueryDto, toPage } from '@kepu/http';
import { OutboxService } from '@kepu/notifications';
import { OrdersService, Transactions } from '@kepu/orders';
import { Injectable } from '@nestjs/common';
import type {
  ApproveVolunteerApplicationDto,
  CreateVolunteerApplicationDto,
  ListVolunteerApplicationsQueryDto,
  RejectVolunteerApplicationDto,
  VolunteerApplicationPageView,
  VolunteerApplicationView,
} from './volunteer-applications.dto';
import { type ApplicationRecord, VolunteerApplicationsRepository } from './volunteer-applications.repository';
import { VolunteersRepository } from './volunteers.repository';
import { windowProblems } from './volunteers.service';

const DEFAULT_PAGE_SIZE = 20;
/** PostgreSQL's unique_violation: volunteers.user_id, one profile a user. */
const UNIQUE_VIOLATION = '23505';

const alreadyVolunteer = (): ConflictError => new ConflictError('ALREADY_VOLUNTEER', 'Your account already has a volunteer profile.');
const decided = (a: ApplicationRecord): ConflictError => new ConflictError('APPLICATION_STATE_CONFLICT', `The application is ${a.status}; only a pending one is decided.`);

export function toApplicationView(a: ApplicationRecord, viewer: Actor): VolunteerApplicationView {
  const canSeePhone = viewer.userId === a.userId || (viewer.role === 'org_admin' && viewer.organizationId === a.organizationId);
  return {
    id: a.id,
    status: a.status,
    organizationId: a.organizationId,
    organizationName: a.organizationName,
    userId: a.userId,
    displayName: a.displayName,
    phone: canSeePhone ? a.phone : maskPhone(a.phone),
    homeCommunityCode: a.homeCommunityCode,
    skills: a.skills,
    audiences: a.audiences,
    formats: a.formats,
    languages: a.languages,
    availability: a.availability,
    unavailable: a.unavailable,
    maxHoursPerWeek: a.maxHoursPerWeek,
    motivation: a.motivation,
    reason: a.reason,
    volunteerId: a.volunteerId,
    decidedAt: a.decidedAt?.toISOString() ?? null,
    createdAt: a.createdAt.toISOString(),
  };
}

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string } } | null;
  return e?.code === UNIQUE_VIOLATION || e?.driverError?.code === UNIQUE_VIOLATION;
}

/**
 * Residents (or any user) volunteering on their own (DESIGN.md §10): they apply to an
 * organisation serving their home district; its admins approve (the volunteer profile
 * is created from the application, on the applicant's own account) or reject with a reason.
 */
@Injectable()
export class VolunteerApplicationsService {
  constructor(
    private readonly applications: VolunteerApplicationsRepository,
    private readonly volunteers: VolunteersRepository,
    private readonly orders: OrdersService,
    private readonly transactions: Transactions,
    private readonly outbox: OutboxService,
    private readonly clock: Clock,
  ) {}

  async apply(actor: Actor, dto: CreateVolunteerApplicationDto): Promise<VolunteerApplicationView> {
    const problems = windowProblems(dto);
    if (problems.length > 0) throw new ValidationError(problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems);
    if (actor.volunteerId !== null) throw alreadyVolunteer();
    const organization = await this.applications.findOrganization(dto.organizationId);
    if (!organization) throw new BusinessRuleError('UNKNOWN_ORGANIZATION', `No organisation has the id ${dto.organizationId}.`);
    const community = await this.orders.findCommunity(dto.homeCommunityCode);
    if (!community) throw new BusinessRuleError('UNKNOWN_COMMUNITY', `No community has the code ${dto.homeCommunityCode}.`);
    if (!organization.districtCodes.includes(community.districtCode))
      throw new BusinessRuleError('ORGANIZATION_NOT_SERVING_DISTRICT', 'The organisation does not serve the district of your home community.');
    const created = await this.transactions.run(async (tx) => {
      const application = await this.applications.insertPending(tx, {
        userId: actor.userId,
        organizationId: organization.id,
        displayName: dto.displayName.trim(),
        phone: dto.phone,
        homeCommunityCode: community.code,
        skills: dto.skills.map((s) => ({ topic: s.topic, level: s.level })),
        audiences: dto.audiences,
        formats: dto.formats,
        languages: dto.languages ?? [],
        availability: dto.availability.map((w) => ({ weekday: w.weekday, start: w.start, end: w.end })),
        unavailable: (dto.unavailable ?? []).map((w) => ({ start: new Date(w.start).toISOString(), end: new Date(w.end).toISOString() })),
        maxHoursPerWeek: dto.maxHoursPerWeek,
        motivation: dto.motivation?.trim() || null,
        createdAt: this.clock.now(),
      });
      if (!application) return null;
      const admins = await this.applications.adminsOf(tx, organization.id);
      if (admins.length > 0)
        await this.outbox.append(tx, [
          {
            type: 'volunteer_application.submitted',
            orderId: null,
            payload: { userIds: admins, organizationName: organization.name, applicantName: application.displayName, applicationId: application.id },
          },
        ]);
      return application;
    });
    if (!created) throw new ConflictError('APPLICATION_PENDING', 'You already have a pending application; wait for its decision.');
    return toApplicationView(created, actor);
  }

  async listMine(actor: Actor, query: PageQueryDto): Promise<VolunteerApplicationPageView> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await this.applications.listByUser(actor.userId, limit, after);
    return this.page(rows, limit, actor);
  }

  /** 403 for roles that never see an organisation's applications; 404 for an organisation outside the caller's scope. */
  async listForOrganization(actor: Actor, organizationId: string, query: ListVolunteerApplicationsQueryDto): Promise<VolunteerApplicationPageView> {
    if (actor.role !== 'org_admin' && actor.role !== 'district_coordinator' && actor.role !== 'city_admin')
      throw new ForbiddenError('Only the organisation\'s admins and the coordinators in scope see its applications.');
    const organization = await this.applications.findOrganization(organizationId);
    const isInScope =
      organization !== null &&
      (actor.role === 'city_admin' ||
        (actor.role === 'org_admin' && actor.organizationId === organization.id) ||
        (actor.role === 'district_coordinator' && organization.districtCodes.includes(actor.districtCode ?? '')));
    if (!organization || !isInScope) throw new NotFoundError(`No organisation ${organizationId} is visible to you.`);
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await this.applications.listByOrganization(organization.id, query.status, limit, after);
    return this.page(rows, limit, actor);
  }

  /**
   * Approves: the volunteer profile is created from the application on the applicant's
   * own account, the application is marked, and the applicant is told, in one
   * transaction. The application row is locked first, so of racing approvals one wins
   * and the others see it decided (409).
   */
  async approve(actor: Actor, id: string, dto: ApproveVolunteerApplicationDto): Promise<VolunteerApplicationView> {
    const current = await this.decidable(actor, id);
    const community = await this.orders.findCommunity(current.homeCommunityCode);
    if (!community) throw new BusinessRuleError('UNKNOWN_COMMUNITY', `No community has the code ${current.homeCommunityCode}.`);
    const at = this.clock.now();
    try {
      const approved = await this.transactions.run(async (tx) => {
        const application = await this.applications.lockForDecision(tx, id);
        if (!application) throw new NotFoundError(`No application ${id}.`);
        if (application.status !== 'pending') throw decided(application);
        const volunteer = await this.volunteers.insertIn(
          tx,
          {
            organizationId: application.organizationId,
            displayName: application.displayName,
            phone: application.phone,
            homeCommunityCode: community.code,
            homeSubdistrictCode: community.subdistrictCode,
            homeDistrictCode: community.districtCode,
            // Self-declared levels are not trusted: the declared topics at level 1 unless the organisation sets them.
            skills: dto.skills?.map((s) => ({ topic: s.topic, level: s.level })) ?? application.skills.map((s) => ({ topic: s.topic, level: 1 })),
            audiences: application.audiences,
            formats: application.formats,
            languages: application.languages,
            availability: application.availability,
            unavailable: application.unavailable,
            maxHoursPerWeek: application.maxHoursPerWeek,
            createdAt: at,
          },
          { userId: application.userId },
          { actor, ip: null },
        );
        const marked = await this.applications.markDecided(tx, id, { status: 'approved', volunteerId: volunteer.id }, actor.userId, at);
        if (!marked) throw decided(application);
        await this.outbox.append(tx, [
          { type: 'volunteer_application.approved', orderId: null, payload: { userIds: [application.userId], organizationName: application.organizationName, applicationId: id } },
        ]);
        return marked;
      });
      return toApplicationView(approved, actor);
    } catch (error) {
      // The applicant got a profile meanwhile (volunteers.user_id is unique).
      if (isUniqueViolation(error)) throw alreadyVolunteer();
      throw error;
    }
  }

  async reject(actor: Actor, id: string, dto: RejectVolunteerApplicationDto): Promise<VolunteerApplicationView> {
    await this.decidable(actor, id);
    const reason = dto.reason.trim();
    const at = this.clock.now();
    const rejected = await this.transactions.run(async (tx) => {
      const application = await this.applications.lockForDecision(tx, id);
      if (!application) throw new NotFoundError(`No application ${id}.`);
      const marked = await this.applications.markDecided(tx, id, { status: 'rejected', reason }, actor.userId, at);
      if (!marked) throw decided(application);
      await this.outbox.append(tx, [
        { type: 'volunteer_application.rejected', orderId: null, payload: { userIds: [application.userId], organizationName: application.organizationName, reason, applicationId: id } },
      ]);
      return marked;
    });
    return toApplicationView(rejected, actor);
  }

  /** 404 outside scope; 403 for those who see it but are not the organisation's admins; 409 once decided. */
  private async decidable(actor: Actor, id: string): Promise<ApplicationRecord> {
    const application = await this.applications.findVisible(actor, id);
    if (!application) throw new NotFoundError(`No application ${id} is visible to you.`);
    if (actor.role !== 'org_admin' || actor.organizationId !== application.organizationId)
      throw new ForbiddenError('Only the organisation\'s admins decide its applications.');
    if (application.status !== 'pending') throw decided(application);
    return application;
  }

  private page(rows: ApplicationRecord[], limit: number, actor: Actor): Page<VolunteerApplicationView> {
    return toPage(rows, limit, (a) => ({ at: a.createdAt, id: a.id }), (a) => toApplicationView(a, actor));
  }
}
