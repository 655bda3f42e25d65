import { Sql } from '@kepu/db';
import type { KeysetPosition } from '@kepu/http';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { VenueOwnerType } from './venues.dto';

export interface VenueRecord {
  id: string;
  name: string;
  ownerType: VenueOwnerType;
  ownerId: string | null;
  communityCode: string;
  subdistrictCode: string;
  districtCode: string;
  kind: string;
  capacity: number;
  accessibility: string[];
  lat: number | null;
  lng: number | null;
  createdBy: string | null;
  createdAt: Date;
}

/** `createdAt` is the clock's time. */
export type NewVenue = Omit<VenueRecord, 'id'>;

export interface VenueFilters {
  communityCode?: string;
  districtCode?: string;
}

interface VenueRow {
  id: string;
  name: string;
  owner_type: VenueOwnerType;
  owner_id: string | null;
  community_code: string;
  subdistrict_code: string;
  district_code: string;
  kind: string;
  capacity: number;
  accessibility: string[];
  lat: number | null;
  lng: number | null;
  created_by: string | null;
  created_at: Date;
}

const toRecord = (row: VenueRow): VenueRecord => ({
  id: row.id,
  name: row.name,
  ownerType: row.owner_type,
  ownerId: row.owner_id,
  communityCode: row.community_code,
  subdistrictCode: row.subdistrict_code,
  districtCode: row.district_code,
  kind: row.kind,
  capacity: row.capacity,
  accessibility: row.accessibility,
  lat: row.lat,
  lng: row.lng,
  createdBy: row.created_by,
  createdAt: row.created_at,
});

const COLUMNS = 'id, name, owner_type, owner_id, community_code, subdistrict_code, district_code, kind, capacity, accessibility, lat, lng, created_by, created_at';

@Injectable()
export class VenuesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(venue: NewVenue): Promise<VenueRecord> {
    const [row] = await this.dataSource.query<VenueRow[]>(
      `INSERT INTO venues (name, owner_type, owner_id, community_code, subdistrict_code, district_code, kind, capacity, accessibility, lat, lng, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       RETURNING ${COLUMNS}`,
      [
        venue.name,
        venue.ownerType,
        venue.ownerId,
        venue.communityCode,
        venue.subdistrictCode,
        venue.districtCode,
        venue.kind,
        venue.capacity,
        venue.accessibility,
        venue.lat,
        venue.lng,
        venue.createdBy,
        venue.createdAt,
      ],
    );
    if (!row) throw new Error('venue insert returned no row');
    return toRecord(row);
  }

  /** One page newest first; limit + 1 rows to know whether more follow. */
  async list(filters: VenueFilters, limit: number, after?: KeysetPosition): Promise<VenueRecord[]> {
    const sql = new Sql();
    const where = ['TRUE'];
    if (filters.communityCode) where.push(`community_code = ${sql.param(filters.communityCode)}`);
    if (filters.districtCode) where.push(`district_code = ${sql.param(filters.districtCode)}`);
    if (after) where.push(`(created_at, id) < (${sql.param(after.at)}, ${sql.param(after.id)})`);
    const rows = await this.dataSource.query<VenueRow[]>(
      `SELECT ${COLUMNS} FROM venues WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ${sql.param(limit + 1)}`,
      sql.params,
    );
    return rows.map(toRecord);
  }
}
