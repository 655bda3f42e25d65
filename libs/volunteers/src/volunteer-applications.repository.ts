import type { Actor, WeeklyWindow } from '@kepu/core';
import { rowsOf, Sql } from '@kepu/db';
import type { KeysetPosition } from '@kepu/http';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { ApplicationStatus } from './volunteer-applications.dto';
import type { StoredDatedWindow } from './volunteers.repository';

export interface ApplicationRecord {
  id: string;
  userId: string;
  organizationId: string;
  organizationName: string;
  status: ApplicationStatus;
  displayName: string;
  phone: string;
  homeCommunityCode: string;
  skills: { topic: string; level: number }[];
  audiences: string[];
  formats: string[];
  languages: string[];
  availability: WeeklyWindow[];
  unavailable: StoredDatedWindow[];
  maxHoursPerWeek: number;
  motivation: string | null;
  reason: string | null;
  volunteerId: string | null;
  decidedAt: Date | null;
  createdAt: Date;
}

export type NewApplication = Omit<ApplicationRecord, 'id' | 'organizationName' | 'status' | 'reason' | 'volunteerId' | 'decidedAt'>;

interface ApplicationRow {
  id: string;
  user_id: string;
  organization_id: string;
  organization_name: string;
  status: ApplicationStatus;
  display_name: string;
  phone: string;
  home_community_code: string;
  skills: { topic: string; level: number }[];
  audiences: string[];
  formats: string[];
  languages: string[];
  availability: WeeklyWindow[];
  unavailable: StoredDatedWindow[];
  max_hours_per_week: number;
  motivation: string | null;
  reason: string | null;
  volunteer_id: string | null;
  decided_at: Date | null;
  created_at: Date;
}

const toRecord = (row: ApplicationRow): ApplicationRecord => ({
  id: row.id,
  userId: row.user_id,
  organizationId: row.organization_id,
  organizationName: row.organization_name,
  status: row.status,
  displayName: row.display_name,
  phone: row.phone,
  homeCommunityCode: row.home_community_code,
  skills: row.skills,
  audiences: row.audiences,
  formats: row.formats,
  languages: row.languages,
  availability: row.availability,
  unavailable: row.unavailable,
  maxHoursPerWeek: row.max_hours_per_week,
  motivation: row.motivation,
  reason: row.reason,
  volunteerId: row.volunteer_id,
  decidedAt: row.decided_at,
  createdAt: row.created_at,
});

const SELECT_APPLICATION = `
  SELECT a.id, a.user_id, a.organization_id, o.name AS organization_name, a.status, a.display_name, a.phone, a.home_community_code,
         a.skills, a.audiences, a.formats, a.languages, a.availability, a.unavailable, a.max_hours_per_week::float8 AS max_hours_per_week,
         a.motivation, a.reason, a.volunteer_id, a.decided_at, a.created_at
  FROM volunteer_applications a JOIN organizations o ON o.id = a.organization_id`;

/**
 * The applications an actor may see, as a predicate over `a`: the applicant's own,
 * the organisation's admins, coordinators of a district it serves, the city.
 */
export function applicationVisibleTo(actor: Actor, sql: Sql): string {
  // Built only where used: a parameter the statement does not use has no type and fails it.
  const own = (): string => `a.user_id = ${sql.param(actor.userId)}`;
  switch (actor.role) {
    case 'city_admin':
      return 'TRUE';
    case 'org_admin':
      return `(a.organization_id = ${sql.param(actor.organizationId)} OR ${own()})`;
    case 'district_coordinator':
      return `(a.organization_id IN (SELECT organization_id FROM organization_districts WHERE district_code = ${sql.param(actor.districtCode)}) OR ${own()})`;
    case 'resident':
    case 'community_staff':
    case 'department_staff':
    case 'volunteer':
      return own();
  }
}

/** Applications to volunteer (DESIGN.md §10); libs/volunteers alone writes them. */
@Injectable()
export class VolunteerApplicationsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async findOrganization(id: string): Promise<{ id: string; name: string; districtCodes: string[] } | null> {
    const rows = await this.dataSource.query<{ id: string; name: string; district_codes: string[] }[]>(
      `SELECT o.id, o.name, coalesce(array_agg(od.district_code) FILTER (WHERE od.district_code IS NOT NULL), '{}') AS district_codes
       FROM organizations o LEFT JOIN organization_districts od ON od.organization_id = o.id
       WHERE o.id = $1 GROUP BY o.id`,
      [id],
    );
    return rows[0] ? { id: rows[0].id, name: rows[0].name, districtCodes: rows[0].district_codes } : null;
  }

  /** The organisation's active admins: who is told of a new application. */
  async adminsOf(manager: EntityManager, organizationId: string): Promise<string[]> {
    const rows = await manager.query<{ id: string }[]>(
      `SELECT id FROM users WHERE role = 'org_admin' AND organization_id = $1 AND is_active ORDER BY id`,
      [organizationId],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Inserts a pending application; null when the user already has a pending one (the
   * partial unique index decides, so of parallel applications exactly one is written).
   */
  async insertPending(manager: EntityManager, application: NewApplication): Promise<ApplicationRecord | null> {
    const rows = rowsOf<{ id: string }>(
      await manager.query(
        `INSERT INTO volunteer_applications (user_id, organization_id, display_name, phone, home_community_code, skills, audiences, formats, languages,
           availability, unavailable, max_hours_per_week, motivation, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (user_id) WHERE status = 'pending' DO NOTHING
         RETURNING id`,
        [
          application.userId,
          application.organizationId,
          application.displayName,
          application.phone,
          application.homeCommunityCode,
          JSON.stringify(application.skills),
          application.audiences,
          application.formats,
          application.languages,
          JSON.stringify(application.availability),
          JSON.stringify(application.unavailable),
          application.maxHoursPerWeek,
          application.motivation,
          application.createdAt,
        ],
      ),
    );
    return rows[0] ? this.findIn(manager, rows[0].id) : null;
  }

  async findVisible(scope: Actor, id: string): Promise<ApplicationRecord | null> {
    const sql = new Sql();
    const rows = await this.dataSource.query<ApplicationRow[]>(`${SELECT_APPLICATION} WHERE a.id = ${sql.param(id)} AND ${applicationVisibleTo(scope, sql)}`, sql.params);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** The application, locked for a decision in the caller's transaction: a second decider waits, then sees it decided. */
  async lockForDecision(manager: EntityManager, id: string): Promise<ApplicationRecord | null> {
    await manager.query(`SELECT id FROM volunteer_applications WHERE id = $1 FOR UPDATE`, [id]);
    return this.findIn(manager, id);
  }

  async markDecided(
    manager: EntityManager,
    id: string,
    decision: { status: 'approved'; volunteerId: string } | { status: 'rejected'; reason: string },
    decidedBy: string,
    at: Date,
  ): Promise<ApplicationRecord | null> {
    const rows = rowsOf<{ id: string }>(
      await manager.query(
        `UPDATE volunteer_applications SET status = $2, volunteer_id = $3, reason = $4, decided_by = $5, decided_at = $6
         WHERE id = $1 AND status = 'pending' RETURNING id`,
        [id, decision.status, decision.status === 'approved' ? decision.volunteerId : null, decision.status === 'rejected' ? decision.reason : null, decidedBy, at],
      ),
    );
    return rows[0] ? this.findIn(manager, id) : null;
  }

  /** One page, newest first: the user's own applications. */
  async listByUser(userId: string, limit: number, after?: KeysetPosition): Promise<ApplicationRecord[]> {
    return this.list(`a.user_id`, userId, undefined, limit, after);
  }

  /** One page, newest first: an organisation's applications, optionally of one status. */
  async listByOrganization(organizationId: string, status: ApplicationStatus | undefined, limit: number, after?: KeysetPosition): Promise<ApplicationRecord[]> {
    return this.list(`a.organization_id`, organizationId, status, limit, after);
  }

  private async list(column: 'a.user_id' | 'a.organization_id', id: string, status: ApplicationStatus | undefined, limit: number, after?: KeysetPosition): Promise<ApplicationRecord[]> {
    const sql = new Sql();
    const where = [`${column} = ${sql.param(id)}`];
    if (status) where.push(`a.status = ${sql.param(status)}`);
    if (after) where.push(`(a.created_at, a.id) < (${sql.param(after.at)}, ${sql.param(after.id)})`);
    const rows = await this.dataSource.query<ApplicationRow[]>(
      `${SELECT_APPLICATION} WHERE ${where.join(' AND ')} ORDER BY a.created_at DESC, a.id DESC LIMIT ${sql.param(limit + 1)}`,
      sql.params,
    );
    return rows.map(toRecord);
  }

  private async findIn(manager: EntityManager, id: string): Promise<ApplicationRecord | null> {
    const rows = await manager.query<ApplicationRow[]>(`${SELECT_APPLICATION} WHERE a.id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }
}
