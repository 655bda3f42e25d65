import { type Actor, FixedClock, ForbiddenError, type Role, ValidationError } from '@kepu/core';
import type { OrdersService } from '@kepu/orders';
import type { CreateVenueDto } from './venues.dto';
import type { VenuesRepository } from './venues.repository';
import { VenuesService, venueOwner } from './venues.service';

const actor = (role: Role, scope: Partial<Actor> = {}): Actor => ({
  userId: 'u',
  role,
  communityCode: null,
  departmentId: null,
  organizationId: null,
  districtCode: null,
  volunteerId: null,
  ...scope,
});
const community = { code: '110108001001', subdistrictCode: '110108001', districtCode: '110108' };
const dto = (overrides: Partial<CreateVenueDto> = {}): CreateVenueDto => ({
  name: ' 活动室 ',
  communityCode: community.code,
  kind: 'community_room',
  capacity: 80,
  accessibility: ['wheelchair'],
  ...overrides,
});

describe('VenuesService', () => {
  const venues = { insert: jest.fn(), list: jest.fn() };
  const orders = { findCommunity: jest.fn() };
  const clock = new FixedClock(new Date('2026-11-03T02:00:00Z'));
  const service = new VenuesService(venues as unknown as VenuesRepository, orders as unknown as OrdersService, clock);

  beforeEach(() => {
    jest.resetAllMocks();
    orders.findCommunity.mockResolvedValue(community);
    venues.insert.mockImplementation(async (v: object) => ({ ...v, id: 'venue', createdAt: new Date() }));
  });

  it.each([
    [actor('community_staff', { communityCode: community.code }), { ownerType: 'community', ownerId: community.code }],
    [actor('department_staff', { departmentId: 'd' }), { ownerType: 'department', ownerId: 'd' }],
    [actor('org_admin', { organizationId: 'o' }), { ownerType: 'organization', ownerId: 'o' }],
    [actor('city_admin'), { ownerType: 'city', ownerId: null }],
    [actor('resident', { communityCode: community.code }), null],
    [actor('volunteer', { organizationId: 'o', volunteerId: 'v' }), null],
    [actor('district_coordinator', { districtCode: '110108' }), null],
  ])('%j registers as %j', (who, owner) => {
    expect(venueOwner(who)).toEqual(owner);
  });

  it('stores the owner, the place from the community and the creator', async () => {
    const view = await service.create(actor('org_admin', { organizationId: 'o' }), dto({ lat: 39.9, lng: 116.3 }));
    expect(venues.insert).toHaveBeenCalledWith(
      expect.objectContaining({ name: '活动室', ownerType: 'organization', ownerId: 'o', subdistrictCode: '110108001', districtCode: '110108', lat: 39.9, lng: 116.3, createdBy: 'u' }),
    );
    // The clock's time, not the wall clock's: a seed replaying the past registers venues then.
    expect(venues.insert).toHaveBeenCalledWith(expect.objectContaining({ createdAt: new Date('2026-11-03T02:00:00Z') }));
    expect(view).toMatchObject({ id: 'venue', ownerType: 'organization' });
  });

  it('community staff register in their own community only; others by role are 403', async () => {
    await expect(service.create(actor('community_staff', { communityCode: '110108002001' }), dto())).rejects.toBeInstanceOf(ForbiddenError);
    await expect(service.create(actor('resident', { communityCode: community.code }), dto())).rejects.toBeInstanceOf(ForbiddenError);
    expect(venues.insert).not.toHaveBeenCalled();
  });

  it('lat and lng come together; an unknown community is 422', async () => {
    await expect(service.create(actor('city_admin'), dto({ lat: 39.9 }))).rejects.toBeInstanceOf(ValidationError);
    orders.findCommunity.mockResolvedValueOnce(null);
    await expect(service.create(actor('city_admin'), dto())).rejects.toMatchObject({ code: 'UNKNOWN_COMMUNITY', status: 422 });
    expect(venues.insert).not.toHaveBeenCalled();
  });
});
