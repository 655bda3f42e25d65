import type { Actor } from '@kepu/core';
import type { RegionsService } from '@kepu/regions';
import type { CoverageRepository } from './coverage.repository';
import { CoverageService } from './coverage.service';

const admin: Actor = { userId: 'u1', role: 'city_admin', communityCode: null, departmentId: null, organizationId: null, districtCode: null, volunteerId: null };
const coordinator: Actor = { ...admin, role: 'district_coordinator', districtCode: '110108' };
const now = new Date('2026-11-28T04:00:00Z');

function setup() {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const repository = {
    counters: jest.fn(async () => {
      await gate;
      return new Map([['110108', new Map([['orders', 3], ['s:submitted', 3]])]]);
    }),
    coveredCommunities: jest.fn(async () => new Map([['110108', 2]])),
  };
  const regions = {
    listDistricts: jest.fn(async () => [
      { code: '110105', name: '朝阳区', subdistrictCount: 1, communityCount: 10 },
      { code: '110108', name: '海淀区', subdistrictCount: 1, communityCount: 20 },
    ]),
    listSubdistricts: jest.fn(async () => []),
  };
  const service = new CoverageService(repository as unknown as CoverageRepository, regions as unknown as RegionsService);
  return { service, repository, regions, release };
}

describe('CoverageService', () => {
  it('identical concurrent requests share one computation; a later one computes again', async () => {
    const { service, repository, release } = setup();
    const first = service.districts(admin, {}, now);
    const second = service.districts(admin, {}, now);
    await new Promise((r) => setImmediate(r));
    release();
    const [a, b] = await Promise.all([first, second]);
    expect(a).toBe(b);
    expect(repository.counters).toHaveBeenCalledTimes(1);
    expect(a.find((r) => r.districtCode === '110108')).toMatchObject({ orders: 3, coveredCommunities: 2, coverage: 0.1, communities: 20 });
    await service.districts(admin, {}, now);
    expect(repository.counters).toHaveBeenCalledTimes(2);
  });

  it('does not share between scopes or periods', async () => {
    const { service, repository, release } = setup();
    release();
    await Promise.all([service.districts(admin, {}, now), service.districts(coordinator, {}, now), service.districts(admin, { to: '2026-11-01' }, now)]);
    expect(repository.counters).toHaveBeenCalledTimes(3);
    const own = await service.districts(coordinator, {}, now);
    expect(own.map((r) => r.districtCode)).toEqual(['110108']);
  });

  it('a coordinator asking for another district gets 404, an unknown district 404, a malformed code 400', async () => {
    const { service, release } = setup();
    release();
    await expect(service.district(coordinator, '110105', {}, now)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(service.district(admin, '110199', {}, now)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(service.gaps(admin, '1101', {}, false, now)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
