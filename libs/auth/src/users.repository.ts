import { type Actor, ConflictError, maskPhone, type Role } from '@kepu/core';
import { preparedQuery, rowsOf, Sql } from '@kepu/db';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { type AuditContext } from './audit-log';
import { recordAudit } from './audit-log.repository';

export interface NewUser {
  username: string;
  passwordHash: string;
  displayName: string;
  role: Role;
  phone: string | null;
  email?: string | null;
  wechatOpenId?: string | null;
  communityCode: string | null;
  departmentId: string | null;
  organizationId: string | null;
  districtCode: string | null;
  volunteerId?: string | null;
}

/** A user as the services see it; `passwordHash` never leaves libs/auth. */
export interface UserRecord {
  id: string;
  username: string;
  passwordHash: string;
  displayName: string;
  role: Role;
  phone: string | null;
  email: string | null;
  wechatOpenId: string | null;
  communityCode: string | null;
  departmentId: string | null;
  organizationId: string | null;
  districtCode: string | null;
  volunteerId: string | null;
  isActive: boolean;
  createdAt: Date;
}

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  display_name: string;
  role: Role;
  phone: string | null;
  email: string | null;
  wechat_open_id: string | null;
  community_code: string | null;
  department_id: string | null;
  organization_id: string | null;
  district_code: string | null;
  volunteer_id: string | null;
  is_active: boolean;
  created_at: Date;
}

// The volunteer profile is the one whose user_id is this user (DESIGN.md §10): a resident approved
// by an organisation has one at once, whatever users.volunteer_id or an older token say.
const USER_COLUMNS = `id, username, password_hash, display_name, role, phone, email, wechat_open_id,
  community_code, department_id, organization_id, district_code,
  coalesce((SELECT v.id FROM volunteers v WHERE v.user_id = users.id), volunteer_id) AS volunteer_id, is_active, created_at`;

const toRecord = (row: UserRow): UserRecord => ({
  id: row.id,
  username: row.username,
  passwordHash: row.password_hash,
  displayName: row.display_name,
  role: row.role,
  phone: row.phone,
  email: row.email,
  wechatOpenId: row.wechat_open_id,
  communityCode: row.community_code,
  departmentId: row.department_id,
  organizationId: row.organization_id,
  districtCode: row.district_code,
  volunteerId: row.volunteer_id,
  isActive: row.is_active,
  createdAt: row.created_at,
});

/** What the audit log keeps of a new account: who and where, never the password, phone or addresses. */
function auditSummaryOf(user: NewUser): Record<string, unknown> {
  const scope = { communityCode: user.communityCode, departmentId: user.departmentId, organizationId: user.organizationId, districtCode: user.districtCode };
  return { username: auditedUsername(user.username, user.phone), role: user.role, ...Object.fromEntries(Object.entries(scope).filter(([, value]) => value !== null)) };
}

/** A resident's username defaults to its phone number: the audit log then shows it masked. */
function auditedUsername(username: string, phone: string | null): string {
  return /^\+?\d{6,15}$/.test(username) || username === phone ? maskPhone(username) : username;
}

export function actorOf(user: UserRecord): Actor {
  return {
    userId: user.id,
    role: user.role,
    communityCode: user.communityCode,
    departmentId: user.departmentId,
    organizationId: user.organizationId,
    districtCode: user.districtCode,
    volunteerId: user.volunteerId,
  };
}

@Injectable()
export class UsersRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async findByUsername(username: string): Promise<UserRecord | null> {
    const sql = new Sql();
    const rows = await this.dataSource.query<UserRow[]>(`SELECT ${USER_COLUMNS} FROM users WHERE lower(username) = lower(${sql.param(username)})`, sql.params);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async findById(id: string): Promise<UserRecord | null> {
    const sql = new Sql();
    const rows = await this.dataSource.query<UserRow[]>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ${sql.param(id)}`, sql.params);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** The user's volunteer profile, if any: read on every request, so an approval counts at once. */
  /** Read by the guard on every authenticated request: prepared, so it is planned once per connection. */
  async volunteerIdOf(userId: string): Promise<string | null> {
    const rows = await preparedQuery<{ id: string }>(this.dataSource, 'kepu_volunteer_id_of', `SELECT id FROM volunteers WHERE user_id = $1`, [userId]);
    return rows[0]?.id ?? null;
  }

  /**
   * Inserts the user and its audit entry in one transaction; `null` when the
   * username is taken (checked by the unique index, not a prior read).
   */
  async insert(user: NewUser, audit: AuditContext): Promise<UserRecord | null> {
    return this.dataSource.transaction((manager) => this.insertIn(manager, user, audit, 'user.created'));
  }

  /**
   * The same in the caller's transaction. A resident whose phone another
   * resident holds (users_resident_phone_key) is 409 PHONE_TAKEN; the
   * transaction is then aborted, as the error tells the caller.
   */
  async insertIn(manager: EntityManager, user: NewUser, audit: AuditContext, action: 'user.created' | 'user.registered'): Promise<UserRecord | null> {
    const sql = new Sql();
    const values = [
      user.username,
      user.passwordHash,
      user.displayName,
      user.role,
      user.phone,
      user.communityCode,
      user.departmentId,
      user.organizationId,
      user.districtCode,
      user.volunteerId ?? null,
      user.email ?? null,
      user.wechatOpenId ?? null,
    ].map((value) => sql.param(value));
    const result = await manager
      .query(
        `INSERT INTO users (username, password_hash, display_name, role, phone, community_code, department_id, organization_id, district_code, volunteer_id, email, wechat_open_id)
         VALUES (${values.join(', ')})
         ON CONFLICT ((lower(username))) DO NOTHING
         RETURNING ${USER_COLUMNS}`,
        sql.params,
      )
      .catch(rethrowPhoneTaken);
    const [row] = rowsOf<UserRow>(result);
    if (!row) return null;
    const record = toRecord(row);
    // A resident signing up is the actor of its own registration.
    const context = action === 'user.registered' ? { ...audit, actor: actorOf(record) } : audit;
    await recordAudit(manager, context, { action, targetType: 'user', targetId: row.id, summary: auditSummaryOf(user) });
    return record;
  }

  /** Serialises sign-ups and phone changes to one number until the transaction ends. */
  async lockPhone(manager: EntityManager, phone: string): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('users.phone:' || $1, 0))`, [phone]);
  }

  /** The account holding this phone, if any (any role). */
  async phoneHolder(manager: EntityManager, phone: string): Promise<string | null> {
    const [row] = await manager.query<{ id: string }[]>(`SELECT id FROM users WHERE phone = $1 LIMIT 1`, [phone]);
    return row?.id ?? null;
  }

  async setPhone(manager: EntityManager, id: string, phone: string): Promise<UserRecord | null> {
    const result = await manager
      .query(`WITH u AS (UPDATE users SET phone = $2 WHERE id = $1 RETURNING ${USER_COLUMNS}) SELECT * FROM u`, [id, phone])
      .catch(rethrowPhoneTaken);
    const [row] = rowsOf<UserRow>(result);
    return row ? toRecord(row) : null;
  }

  /** The audit entry of a phone change, by the account itself; never the number. */
  async recordPhoneChange(manager: EntityManager, user: UserRecord, ip: string | null): Promise<void> {
    await recordAudit(manager, { actor: actorOf(user), ip }, { action: 'user.phone_changed', targetType: 'user', targetId: user.id, summary: { username: auditedUsername(user.username, user.phone) } });
  }

  /** Sets the contact addresses given (null clears one, undefined leaves it). */
  async updateContact(id: string, contact: { email?: string | null; wechatOpenId?: string | null }): Promise<UserRecord | null> {
    const sql = new Sql();
    const sets: string[] = [];
    if (contact.email !== undefined) sets.push(`email = ${sql.param(contact.email)}`);
    if (contact.wechatOpenId !== undefined) sets.push(`wechat_open_id = ${sql.param(contact.wechatOpenId)}`);
    if (sets.length === 0) return this.findById(id);
    const rows = rowsOf<UserRow>(
      await this.dataSource.query(`WITH u AS (UPDATE users SET ${sets.join(', ')} WHERE id = ${sql.param(id)} RETURNING ${USER_COLUMNS}) SELECT * FROM u`, sql.params),
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async communityExists(code: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(`SELECT 1 FROM communities WHERE code = $1`, [code]);
    return rows.length > 0;
  }
}

/** Another resident holds the phone: the unique index decided a race the advisory lock did not cover. */
function rethrowPhoneTaken(error: unknown): never {
  const { code, constraint } = ((error as { driverError?: { code?: string; constraint?: string } }).driverError ?? {});
  if (code === '23505' && constraint === 'users_resident_phone_key') throw new ConflictError('PHONE_TAKEN', 'Another account has this phone number.');
  throw error;
}
