import { type AuditContext, recordAudit } from '@kepu/auth';
import type { Actor, WeeklyWindow } from '@kepu/core';
import type { KeysetPosition } from '@kepu/http';
import { rowsOf, Sql } from '@kepu/db';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

export interface StoredDatedWindow {
  start: string;
  end: string;
}

export interface VolunteerRecord {
  id: string;
  userId: string | null;
  organizationId: string;
  displayName: string;
  phone: string;
  homeCommunityCode: string;
  homeSubdistrictCode: string;
  homeDistrictCode: string;
  skills: { topic: string; level: number }[];
  audiences: string[];
  formats: string[];
  languages: string[];
  availability: WeeklyWindow[];
  unavailable: StoredDatedWindow[];
  maxHoursPerWeek: number;
  isActive: boolean;
  createdAt: Date;
}

/** `createdAt` is the clock's time. */
export type NewVolunteer = Omit<VolunteerRecord, 'id' | 'userId' | 'isActive'>;

/** The optional login (role volunteer) created with the volunteer. */
export interface VolunteerLogin {
  username: string;
  passwordHash: string;
}

export type VolunteerPatch = Partial<Pick<VolunteerRecord, 'isActive' | 'availability' | 'unavailable' | 'maxHoursPerWeek' | 'skills' | 'audiences' | 'formats' | 'languages'>>;

interface VolunteerRow {
  id: string;
  user_id: string | null;
  organization_id: string;
  display_name: string;
  phone: string;
  home_community_code: string;
  home_subdistrict_code: string;
  home_district_code: string;
  skills: { topic: string; level: number }[];
  audiences: string[];
  formats: string[];
  languages: string[];
  availability: WeeklyWindow[];
  unavailable: StoredDatedWindow[];
  max_hours_per_week: number;
  is_active: boolean;
  created_at: Date;
}

const toRecord = (row: VolunteerRow): VolunteerRecord => ({
  id: row.id,
  userId: row.user_id,
  organizationId: row.organization_id,
  displayName: row.display_name,
  phone: row.phone,
  homeCommunityCode: row.home_community_code,
  homeSubdistrictCode: row.home_subdistrict_code,
  homeDistrictCode: row.home_district_code,
  skills: row.skills,
  audiences: row.audiences,
  formats: row.formats,
  languages: row.languages,
  availability: row.availability,
  unavailable: row.unavailable,
  maxHoursPerWeek: row.max_hours_per_week,
  isActive: row.is_active,
  createdAt: row.created_at,
});

const SELECT_VOLUNTEER = `
  SELECT v.id, v.user_id, v.organization_id, v.display_name, v.phone, v.home_community_code, v.home_subdistrict_code, v.home_district_code,
         v.audiences, v.formats, v.languages, v.availability, v.unavailable, v.max_hours_per_week::float8 AS max_hours_per_week, v.is_active, v.created_at,
         (SELECT coalesce(json_agg(json_build_object('topic', s.topic, 'level', s.level) ORDER BY s.topic), '[]')
          FROM volunteer_skills s WHERE s.volunteer_id = v.id) AS skills
  FROM volunteers v`;

/**
 * The volunteers an actor may see (DESIGN.md §2), as a predicate over `v`: its
 * organisation's admins, coordinators of a district the organisation serves,
 * the city, and the volunteer themself (any account with that profile, DESIGN.md §10).
 */
export function volunteerVisibleTo(actor: Actor, sql: Sql): string {
  const byRole = volunteerVisibleToRole(actor, sql);
  if (actor.volunteerId === null || byRole === 'TRUE') return byRole;
  const self = `v.id = ${sql.param(actor.volunteerId)}`;
  return byRole === 'FALSE' ? self : `(${byRole} OR ${self})`;
}

function volunteerVisibleToRole(actor: Actor, sql: Sql): string {
  switch (actor.role) {
    case 'city_admin':
      return 'TRUE';
    case 'org_admin':
      return `v.organization_id = ${sql.param(actor.organizationId)}`;
    case 'district_coordinator':
      return `v.organization_id IN (SELECT organization_id FROM organization_districts WHERE district_code = ${sql.param(actor.districtCode)})`;
    case 'volunteer':
    case 'resident':
    case 'community_staff':
    case 'department_staff':
      return 'FALSE';
  }
}

/** Thrown inside the insert transaction to roll it back when the username is taken. */
class UsernameTaken extends Error {}

@Injectable()
export class VolunteersRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async findOrganization(id: string): Promise<{ id: string; districtCodes: string[] } | null> {
    const rows = await this.dataSource.query<{ id: string; district_codes: string[] }[]>(
      `SELECT o.id, coalesce(array_agg(od.district_code) FILTER (WHERE od.district_code IS NOT NULL), '{}') AS district_codes
       FROM organizations o LEFT JOIN organization_districts od ON od.organization_id = o.id
       WHERE o.id = $1 GROUP BY o.id`,
      [id],
    );
    return rows[0] ? { id: rows[0].id, districtCodes: rows[0].district_codes } : null;
  }

  /**
   * The volunteer, its skills and (with `login`) its user, in one transaction:
   * the volunteer row first, then the user pointing at it. `null` when the
   * username is taken; then nothing was written. The audit entry commits with it.
   */
  async insert(volunteer: NewVolunteer, login: VolunteerLogin | undefined, audit: AuditContext): Promise<VolunteerRecord | null> {
    try {
      return await this.dataSource.transaction((manager) => this.insertIn(manager, volunteer, { login }, audit));
    } catch (error) {
      if (error instanceof UsernameTaken) return null;
      throw error;
    }
  }

  /**
   * The volunteer and its skills in the caller's transaction, owned by a new login
   * (`login`, role volunteer) or by an existing user (`userId`: an approved application,
   * DESIGN.md §10; volunteers.user_id is unique, so a user holds one profile at most).
   */
  async insertIn(manager: EntityManager, volunteer: NewVolunteer, owner: { login?: VolunteerLogin; userId?: string }, audit: AuditContext): Promise<VolunteerRecord> {
    const [row] = await manager.query<{ id: string }[]>(
      `WITH v AS (
         INSERT INTO volunteers (organization_id, display_name, phone, home_community_code, home_subdistrict_code, home_district_code,
           audiences, formats, languages, availability, unavailable, max_hours_per_week, created_at, user_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $14, $15)
         RETURNING id
       ),
       skills AS (
         INSERT INTO volunteer_skills (volunteer_id, topic, level)
         SELECT v.id, s.topic, s.level FROM v, jsonb_to_recordset($13::jsonb) AS s(topic text, level smallint)
       )
       SELECT id FROM v`,
      [
        volunteer.organizationId,
        volunteer.displayName,
        volunteer.phone,
        volunteer.homeCommunityCode,
        volunteer.homeSubdistrictCode,
        volunteer.homeDistrictCode,
        volunteer.audiences,
        volunteer.formats,
        volunteer.languages,
        JSON.stringify(volunteer.availability),
        JSON.stringify(volunteer.unavailable),
        volunteer.maxHoursPerWeek,
        JSON.stringify(volunteer.skills),
        volunteer.createdAt,
        owner.userId ?? null,
      ],
    );
    if (!row) throw new Error('volunteer insert returned no row');
    if (owner.login) {
      // The login is an account like any other: audited as one (user.created), beside the profile.
      const userId = await this.insertLogin(manager, row.id, volunteer, owner.login);
      await recordAudit(manager, audit, {
        action: 'user.created',
        targetType: 'user',
        targetId: userId,
        summary: { username: owner.login.username, role: 'volunteer', organizationId: volunteer.organizationId },
      });
    }
    await recordAudit(manager, audit, {
      action: 'volunteer.created',
      targetType: 'volunteer',
      targetId: row.id,
      summary: { organizationId: volunteer.organizationId, username: owner.login?.username ?? null, userId: owner.userId ?? null },
    });
    const record = await this.findIn(manager, row.id);
    if (!record) throw new Error('volunteer vanished inside its own transaction');
    return record;
  }

  /** The profile whose user is `userId` (DESIGN.md §10), or null. */
  async findByUser(userId: string): Promise<VolunteerRecord | null> {
    const rows = await this.dataSource.query<VolunteerRow[]>(`${SELECT_VOLUNTEER} WHERE v.user_id = $1`, [userId]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async findVisible(scope: Actor, id: string): Promise<VolunteerRecord | null> {
    const sql = new Sql();
    const rows = await this.dataSource.query<VolunteerRow[]>(`${SELECT_VOLUNTEER} WHERE v.id = ${sql.param(id)} AND ${volunteerVisibleTo(scope, sql)}`, sql.params);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** One page of an organisation's volunteers, newest first; limit + 1 rows to know whether more follow. */
  async listByOrganization(organizationId: string, limit: number, after?: KeysetPosition): Promise<VolunteerRecord[]> {
    const sql = new Sql();
    const where = [`v.organization_id = ${sql.param(organizationId)}`];
    if (after) where.push(`(v.created_at, v.id) < (${sql.param(after.at)}, ${sql.param(after.id)})`);
    const rows = await this.dataSource.query<VolunteerRow[]>(
      `${SELECT_VOLUNTEER} WHERE ${where.join(' AND ')} ORDER BY v.created_at DESC, v.id DESC LIMIT ${sql.param(limit + 1)}`,
      sql.params,
    );
    return rows.map(toRecord);
  }

  /**
   * Applies the patch (skills replaced as a whole) in one transaction and returns the volunteer
   * as it now is; audited (`volunteer.updated`, the fields changed, never their values but `isActive`).
   */
  async update(id: string, patch: VolunteerPatch, audit: AuditContext): Promise<VolunteerRecord | null> {
    return this.dataSource.transaction(async (manager) => {
      const sql = new Sql();
      const sets: string[] = [];
      if (patch.isActive !== undefined) sets.push(`is_active = ${sql.param(patch.isActive)}`);
      if (patch.availability !== undefined) sets.push(`availability = ${sql.param(JSON.stringify(patch.availability))}`);
      if (patch.unavailable !== undefined) sets.push(`unavailable = ${sql.param(JSON.stringify(patch.unavailable))}`);
      if (patch.maxHoursPerWeek !== undefined) sets.push(`max_hours_per_week = ${sql.param(patch.maxHoursPerWeek)}`);
      if (patch.audiences !== undefined) sets.push(`audiences = ${sql.param(patch.audiences)}`);
      if (patch.formats !== undefined) sets.push(`formats = ${sql.param(patch.formats)}`);
      if (patch.languages !== undefined) sets.push(`languages = ${sql.param(patch.languages)}`);
      // The row lock also orders two concurrent skill replacements.
      const target = sets.length > 0 ? `UPDATE volunteers SET ${sets.join(', ')} WHERE id = ${sql.param(id)} RETURNING id` : `SELECT id FROM volunteers WHERE id = ${sql.param(id)} FOR UPDATE`;
      const result = await manager.query<unknown>(target, sql.params);
      const rows = rowsOf<{ id: string }>(result);
      if (rows.length === 0) return null;
      if (patch.skills !== undefined) {
        await manager.query(`DELETE FROM volunteer_skills WHERE volunteer_id = $1`, [id]);
        await manager.query(
          `INSERT INTO volunteer_skills (volunteer_id, topic, level) SELECT $1, s.topic, s.level FROM jsonb_to_recordset($2::jsonb) AS s(topic text, level smallint)`,
          [id, JSON.stringify(patch.skills)],
        );
      }
      const fields = Object.entries(patch).filter(([, value]) => value !== undefined).map(([field]) => field);
      await recordAudit(manager, audit, {
        action: 'volunteer.updated',
        targetType: 'volunteer',
        targetId: id,
        summary: { fields, ...(patch.isActive !== undefined ? { isActive: patch.isActive } : {}) },
      });
      return this.findIn(manager, id);
    });
  }

  private async insertLogin(manager: EntityManager, volunteerId: string, volunteer: NewVolunteer, login: VolunteerLogin): Promise<string> {
    // The unique index on lower(username) decides, not a prior read: two requests for one name cannot both win.
    const result = await manager.query<unknown>(
      `WITH u AS (
         INSERT INTO users (username, password_hash, display_name, role, phone, organization_id, volunteer_id)
         VALUES ($1, $2, $3, 'volunteer', $4, $5, $6)
         ON CONFLICT ((lower(username))) DO NOTHING
         RETURNING id
       )
       UPDATE volunteers SET user_id = u.id FROM u WHERE volunteers.id = $6 RETURNING u.id`,
      [login.username, login.passwordHash, volunteer.displayName, volunteer.phone, volunteer.organizationId, volunteerId],
    );
    const rows = rowsOf<{ id: string }>(result);
    if (rows.length === 0) throw new UsernameTaken();
    return rows[0]?.id as string;
  }

  private async findIn(manager: EntityManager, id: string): Promise<VolunteerRecord | null> {
    const rows = await manager.query<VolunteerRow[]>(`${SELECT_VOLUNTEER} WHERE v.id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }
}
