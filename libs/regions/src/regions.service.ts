import { AppConfig } from '@kepu/config';
import { NotFoundError, ValidationError } from '@kepu/core';
import { Injectable } from '@nestjs/common';
import type { CommunityView, DistrictView, SubdistrictView } from './regions.dto';
import { RegionsRepository } from './regions.repository';

const DISTRICT_CODE = /^\d{6}$/;
const SUBDISTRICT_CODE = /^\d{9}$/;

function assertCode(code: string, pattern: RegExp, what: string): void {
  if (!pattern.test(code)) {
    throw new ValidationError(`"${code}" is not a ${what} code.`, [
      { field: 'code', message: `must be a ${pattern === DISTRICT_CODE ? 6 : 9}-digit ${what} code` },
    ]);
  }
}

/** Read-only region reference data of the configured province (REGION_PROVINCE). */
@Injectable()
export class RegionsService {
  constructor(
    private readonly regions: RegionsRepository,
    private readonly config: AppConfig,
  ) {}

  listDistricts(): Promise<DistrictView[]> {
    return this.regions.listDistricts(this.config.regionProvince);
  }

  async listSubdistricts(districtCode: string): Promise<SubdistrictView[]> {
    assertCode(districtCode, DISTRICT_CODE, 'district');
    const subdistricts = await this.regions.listSubdistricts(districtCode);
    if (!subdistricts) throw new NotFoundError(`District ${districtCode} not found.`);
    return subdistricts;
  }

  async listCommunities(subdistrictCode: string): Promise<CommunityView[]> {
    assertCode(subdistrictCode, SUBDISTRICT_CODE, 'subdistrict');
    const communities = await this.regions.listCommunities(subdistrictCode);
    if (!communities) throw new NotFoundError(`Subdistrict ${subdistrictCode} not found.`);
    return communities;
  }
}
