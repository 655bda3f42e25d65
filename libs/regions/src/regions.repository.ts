import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { CommunityView, DistrictView, SubdistrictView } from './regions.dto';

/** Region reference data (NBS codes); counts are GROUP BYs over the district_code / subdistrict_code indexes. */
@Injectable()
export class RegionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  listDistricts(provinceCode: string): Promise<DistrictView[]> {
    return this.dataSource.query<DistrictView[]>(
      `WITH province_districts AS (SELECT code, name FROM districts WHERE province_code = $1),
            subdistrict_counts AS (
              SELECT district_code, count(*)::int AS n FROM subdistricts
              WHERE district_code IN (SELECT code FROM province_districts) GROUP BY district_code),
            community_counts AS (
              SELECT district_code, count(*)::int AS n FROM communities
              WHERE district_code IN (SELECT code FROM province_districts) GROUP BY district_code)
       SELECT d.code, d.name,
              coalesce(s.n, 0) AS "subdistrictCount",
              coalesce(c.n, 0) AS "communityCount"
       FROM province_districts d
       LEFT JOIN subdistrict_counts s ON s.district_code = d.code
       LEFT JOIN community_counts c ON c.district_code = d.code
       ORDER BY d.code`,
      [provinceCode],
    );
  }

  /** null when the district does not exist. */
  async listSubdistricts(districtCode: string): Promise<SubdistrictView[] | null> {
    const rows = await this.dataSource.query<SubdistrictView[]>(
      `SELECT s.code, s.name, s.district_code AS "districtCode", coalesce(c.n, 0) AS "communityCount"
       FROM subdistricts s
       LEFT JOIN (
         SELECT subdistrict_code, count(*)::int AS n FROM communities
         WHERE district_code = $1 GROUP BY subdistrict_code
       ) c ON c.subdistrict_code = s.code
       WHERE s.district_code = $1
       ORDER BY s.code`,
      [districtCode],
    );
    if (rows.length > 0) return rows;
    return (await this.exists('districts', districtCode)) ? [] : null;
  }

  /** null when the subdistrict does not exist. */
  async listCommunities(subdistrictCode: string): Promise<CommunityView[] | null> {
    const rows = await this.dataSource.query<CommunityView[]>(
      `SELECT code, name, subdistrict_code AS "subdistrictCode", district_code AS "districtCode"
       FROM communities WHERE subdistrict_code = $1 ORDER BY code`,
      [subdistrictCode],
    );
    if (rows.length > 0) return rows;
    return (await this.exists('subdistricts', subdistrictCode)) ? [] : null;
  }

  private async exists(table: 'districts' | 'subdistricts', code: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(`SELECT 1 FROM ${table} WHERE code = $1`, [code]);
    return rows.length > 0;
  }
}
