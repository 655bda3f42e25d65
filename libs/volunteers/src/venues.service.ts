import { type Actor, BusinessRuleError, Clock, ForbiddenError, ValidationError } from '@kepu/core';
import { decodeCursor, type Page, toPage } from '@kepu/http';
import { OrdersService } from '@kepu/orders';
import { Injectable } from '@nestjs/common';
import type { CreateVenueDto, ListVenuesQueryDto, VenueOwnerType, VenuePageView, VenueView } from './venues.dto';
import { type VenueRecord, VenuesRepository } from './venues.repository';

const DEFAULT_PAGE_SIZE = 20;

export function toVenueView(v: VenueRecord): VenueView {
  return {
    id: v.id,
    name: v.name,
    ownerType: v.ownerType,
    ownerId: v.ownerId,
    communityCode: v.communityCode,
    subdistrictCode: v.subdistrictCode,
    districtCode: v.districtCode,
    kind: v.kind,
    capacity: v.capacity,
    accessibility: v.accessibility,
    lat: v.lat,
    lng: v.lng,
    createdAt: v.createdAt.toISOString(),
  };
}

/**
 * Who registers a venue, and as whose: community staff for their own community,
 * a department, an organisation, or the city (API.md). `null`: this role may not.
 */
export function venueOwner(actor: Actor): { ownerType: VenueOwnerType; ownerId: string | null } | null {
  switch (actor.role) {
    case 'community_staff':
      return { ownerType: 'community', ownerId: actor.communityCode };
    case 'department_staff':
      return { ownerType: 'department', ownerId: actor.departmentId };
    case 'org_admin':
      return { ownerType: 'organization', ownerId: actor.organizationId };
    case 'city_admin':
      return { ownerType: 'city', ownerId: null };
    case 'resident':
    case 'volunteer':
    case 'district_coordinator':
      return null;
  }
}

@Injectable()
export class VenuesService {
  constructor(
    private readonly venues: VenuesRepository,
    private readonly orders: OrdersService,
    private readonly clock: Clock,
  ) {}

  async create(actor: Actor, dto: CreateVenueDto): Promise<VenueView> {
    const owner = venueOwner(actor);
    if (!owner) throw new ForbiddenError('Community staff, departments, organisations and the city register venues.');
    if (actor.role === 'community_staff' && dto.communityCode !== actor.communityCode)
      throw new ForbiddenError('Community staff register venues of their own community only.');
    if ((dto.lat === undefined) !== (dto.lng === undefined)) {
      const field = dto.lat === undefined ? 'lat' : 'lng';
      throw new ValidationError(`${field}: lat and lng come together, or neither`, [{ field, message: 'lat and lng come together, or neither' }]);
    }
    const community = await this.orders.findCommunity(dto.communityCode);
    if (!community) throw new BusinessRuleError('UNKNOWN_COMMUNITY', `No community has the code ${dto.communityCode}.`);
    const venue = await this.venues.insert({
      name: dto.name.trim(),
      ...owner,
      communityCode: community.code,
      subdistrictCode: community.subdistrictCode,
      districtCode: community.districtCode,
      kind: dto.kind,
      capacity: dto.capacity,
      accessibility: dto.accessibility,
      lat: dto.lat ?? null,
      lng: dto.lng ?? null,
      createdBy: actor.userId,
      createdAt: this.clock.now(),
    });
    return toVenueView(venue);
  }

  /** Venues are shared places: any signed-in user may look them up. */
  async list(query: ListVenuesQueryDto): Promise<VenuePageView> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await this.venues.list({ communityCode: query.communityCode, districtCode: query.districtCode }, limit, after);
    const page: Page<VenueView> = toPage(rows, limit, (v) => ({ at: v.createdAt, id: v.id }), toVenueView);
    return page;
  }
}
