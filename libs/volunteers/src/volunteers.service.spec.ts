import { type Actor, ConflictError, FixedClock, ForbiddenError, NotFoundError, ValidationError } from '@kepu/core';
import type { OrdersService } from '@kepu/orders';
import type { CreateVolunteerDto } from './volunteers.dto';
import type { VolunteerRecord, VolunteersRepository } from './volunteers.repository';
import { toVolunteerView, VolunteersService, windowProblems } from './volunteers.service';

const ORG = '11111111-1111-4111-8111-111111111111';
const OTHER_ORG = '22222222-2222-4222-8222-222222222222';
const actor = (overrides: Partial<Actor> = {}): Actor => ({
  userId: 'u',
  role: 'org_admin',
  communityCode: null,
  departmentId: null,
  organizationId: ORG,
  districtCode: null,
  volunteerId: null,
  ...overrides,
});
const community = { code: '110108001001', subdistrictCode: '110108001', districtCode: '110108' };
const dto = (overrides: Partial<CreateVolunteerDto> = {}): CreateVolunteerDto => ({
  displayName: ' 张明 ',
  phone: '13912345678',
  homeCommunityCode: community.code,
  skills: [{ topic: 'anti_fraud', level: 3 }],
  audiences: ['elderly'],
  formats: ['lecture'],
  availability: [{ weekday: 6, start: '09:00', end: '12:00' }],
  unavailable: [{ start: '2027-02-10T00:00:00+08:00', end: '2027-02-11T00:00:00+08:00' }],
  maxHoursPerWeek: 8,
  ...overrides,
});
const record: VolunteerRecord = {
  id: 'v',
  userId: null,
  organizationId: ORG,
  displayName: '张明',
  phone: '13912345678',
  homeCommunityCode: community.code,
  homeSubdistrictCode: community.subdistrictCode,
  homeDistrictCode: community.districtCode,
  skills: [{ topic: 'anti_fraud', level: 3 }],
  audiences: ['elderly'],
  formats: ['lecture'],
  languages: [],
  availability: [{ weekday: 6, start: '09:00', end: '12:00' }],
  unavailable: [],
  maxHoursPerWeek: 8,
  isActive: true,
  createdAt: new Date('2026-11-28T00:00:00Z'),
};

describe('VolunteersService', () => {
  const volunteers = { findOrganization: jest.fn(), insert: jest.fn(), listByOrganization: jest.fn(), findVisible: jest.fn(), update: jest.fn() };
  const orders = { findCommunity: jest.fn() };
  const clock = new FixedClock(new Date('2026-11-03T02:00:00Z'));
  const service = new VolunteersService(volunteers as unknown as VolunteersRepository, orders as unknown as OrdersService, clock);

  beforeEach(() => {
    jest.resetAllMocks();
    volunteers.findOrganization.mockResolvedValue({ id: ORG, districtCodes: ['110108'] });
    volunteers.insert.mockResolvedValue(record);
    volunteers.listByOrganization.mockResolvedValue([record]);
    orders.findCommunity.mockResolvedValue(community);
  });

  it('stores the home subdistrict and district of the community, exceptions as UTC instants, no login without credentials', async () => {
    await service.create(actor(), ORG, dto());
    expect(volunteers.insert).toHaveBeenCalledWith(
      expect.objectContaining({
        organizationId: ORG,
        displayName: '张明',
        homeSubdistrictCode: '110108001',
        homeDistrictCode: '110108',
        languages: [],
        unavailable: [{ start: '2027-02-09T16:00:00.000Z', end: '2027-02-10T16:00:00.000Z' }],
      }),
      undefined,
      { actor: actor(), ip: null },
    );
  });

  it('hashes the password of the optional login; never stores it', async () => {
    await service.create(actor(), ORG, dto({ username: 'zhang.ming', password: 'pass-word-1' }));
    const login = volunteers.insert.mock.calls[0]?.[1] as { username: string; passwordHash: string };
    expect(login.username).toBe('zhang.ming');
    expect(login.passwordHash).toMatch(/^scrypt\$/);
    expect(JSON.stringify(volunteers.insert.mock.calls)).not.toContain('pass-word-1');
  });

  it.each([
    ['an org_admin of another organisation', actor({ organizationId: OTHER_ORG })],
    ['a district coordinator', actor({ role: 'district_coordinator', organizationId: null, districtCode: '110108' })],
  ])('%s may not register: 403 before anything is read', async (_case, who) => {
    await expect(service.create(who, ORG, dto())).rejects.toBeInstanceOf(ForbiddenError);
    expect(volunteers.findOrganization).not.toHaveBeenCalled();
  });

  it('an unknown organisation is 404 for the city admin', async () => {
    volunteers.findOrganization.mockResolvedValue(null);
    await expect(service.create(actor({ role: 'city_admin', organizationId: null }), ORG, dto())).rejects.toBeInstanceOf(NotFoundError);
  });

  it.each([
    ['only a username', { username: 'x.y' }, 'password'],
    ['only a password', { password: 'pass-word-1' }, 'username'],
    ['an availability window ending at its start', { availability: [{ weekday: 1, start: '10:00', end: '10:00' }] }, 'availability.0.end'],
  ])('%s is 400 naming %s, nothing inserted', async (_case, overrides, field) => {
    const error = await service.create(actor(), ORG, dto(overrides)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors?.map((e) => e.field)).toEqual([field]);
    expect(volunteers.insert).not.toHaveBeenCalled();
  });

  it('an unknown community is 422 UNKNOWN_COMMUNITY; a taken username 409 USERNAME_TAKEN', async () => {
    orders.findCommunity.mockResolvedValueOnce(null);
    await expect(service.create(actor(), ORG, dto())).rejects.toMatchObject({ code: 'UNKNOWN_COMMUNITY' });
    await expect(service.create(actor(), ORG, dto())).resolves.toMatchObject({ id: 'v' });
    volunteers.insert.mockResolvedValueOnce(null);
    const taken = await service.create(actor(), ORG, dto({ username: 'taken', password: 'pass-word-1' })).catch((e: unknown) => e);
    expect(taken).toBeInstanceOf(ConflictError);
    expect(taken).toMatchObject({ code: 'USERNAME_TAKEN' });
  });

  it.each([
    [actor(), 200],
    [actor({ role: 'city_admin', organizationId: null }), 200],
    [actor({ role: 'district_coordinator', organizationId: null, districtCode: '110108' }), 200],
    [actor({ role: 'district_coordinator', organizationId: null, districtCode: '110105' }), 403],
    [actor({ organizationId: OTHER_ORG }), 403],
  ])('listing as %j: %s', async (who, status) => {
    const result = service.list(who, ORG, {});
    if (status === 403) await expect(result).rejects.toBeInstanceOf(ForbiddenError);
    else await expect(result).resolves.toMatchObject({ items: [{ id: 'v' }], nextCursor: null });
  });

  it('shows the phone in full to the organisation\'s admins and the volunteer, masked to everyone else', () => {
    expect(toVolunteerView(record, actor()).phone).toBe('13912345678');
    expect(toVolunteerView(record, actor({ role: 'volunteer', volunteerId: 'v' })).phone).toBe('13912345678');
    expect(toVolunteerView(record, actor({ role: 'city_admin', organizationId: null })).phone).toBe('139****5678');
    expect(toVolunteerView(record, actor({ organizationId: OTHER_ORG })).phone).toBe('139****5678');
  });

  it('PATCH: 404 when not visible, 403 for those who only read it', async () => {
    volunteers.findVisible.mockResolvedValueOnce(null).mockResolvedValueOnce(record);
    await expect(service.update(actor(), 'v', { isActive: false })).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.update(actor({ role: 'district_coordinator', organizationId: null, districtCode: '110108' }), 'v', { isActive: false })).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    expect(volunteers.update).not.toHaveBeenCalled();
  });

  it('windowProblems: dated exceptions must end after they start', () => {
    expect(windowProblems({ unavailable: [{ start: '2027-01-01T10:00:00+08:00', end: '2027-01-01T02:00:00Z' }] })).toEqual([
      { field: 'unavailable.0.end', message: 'end must be after start' },
    ]);
    expect(windowProblems({ availability: [{ start: '00:00', end: '24:00' }] })).toEqual([]);
  });
});
