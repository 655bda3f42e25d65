import type { AppConfig } from '@kepu/config';
import { NotFoundError, ValidationError } from '@kepu/core';
import type { RegionsRepository } from './regions.repository';
import { RegionsService } from './regions.service';

describe('RegionsService', () => {
  const repository = {
    listDistricts: jest.fn().mockResolvedValue([]),
    listSubdistricts: jest.fn(),
    listCommunities: jest.fn(),
  };
  const service = new RegionsService(repository as unknown as RegionsRepository, { regionProvince: '11' } as AppConfig);

  it('lists the districts of the configured province', async () => {
    await service.listDistricts();

    expect(repository.listDistricts).toHaveBeenCalledWith('11');
  });

  it.each(['11010', '1101011', 'abcdef', '110101 '])('rejects the malformed district code %p without a query', async (code) => {
    await expect(service.listSubdistricts(code)).rejects.toBeInstanceOf(ValidationError);
    expect(repository.listSubdistricts).not.toHaveBeenCalled();
  });

  it.each(['11010100', '110101001001'])('rejects the malformed subdistrict code %p', async (code) => {
    await expect(service.listCommunities(code)).rejects.toBeInstanceOf(ValidationError);
  });

  it('answers NOT_FOUND for an unknown district or subdistrict, and an empty list for an empty one', async () => {
    repository.listSubdistricts.mockResolvedValueOnce(null).mockResolvedValueOnce([]);
    repository.listCommunities.mockResolvedValueOnce(null);

    await expect(service.listSubdistricts('110199')).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.listSubdistricts('110101')).resolves.toEqual([]);
    await expect(service.listCommunities('110101999')).rejects.toBeInstanceOf(NotFoundError);
  });
});
