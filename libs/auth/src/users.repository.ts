import type { Actor, Role } from '@kepu/core';
import { UserEntity } from '@kepu/db';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
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

/** What the audit log keeps of a new account: who and where, never the password, phone or addresses. */
function auditSummaryOf(user: NewUser): Record<string, unknown> {
  const scope = { communityCode: user.communityCode, departmentId: user.departmentId, organizationId: user.organizationId, districtCode: user.districtCode };
  return { username: user.username, role: user.role, ...Object.fromEntries(Object.entries(scope).filter(([, value]) => value !== null)) };
}

export function actorOf(user: UserEntity): Actor {
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

  findByUsername(username: string): Promise<UserEntity | null> {
    return this.dataSource
      .getRepository(UserEntity)
      .createQueryBuilder('u')
      .where('lower(u.username) = lower(:username)', { username })
      .getOne();
  }

  findById(id: string): Promise<UserEntity | null> {
    return this.dataSource.getRepository(UserEntity).findOneBy({ id });
  }

  /**
   * Inserts the user and its audit entry in one transaction; `null` when the
   * username is taken (checked by the unique index, not a prior read).
   */
  async insert(user: NewUser, audit: AuditContext): Promise<UserEntity | null> {
    const id = await this.dataSource.transaction(async (manager) => {
      const [row] = await manager.query<{ id: string }[]>(
        `INSERT INTO users (username, password_hash, display_name, role, phone, community_code, department_id, organization_id, district_code, volunteer_id, email, wechat_open_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT ((lower(username))) DO NOTHING
         RETURNING id`,
        [
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
        ],
      );
      if (!row) return null;
      await recordAudit(manager, audit, { action: 'user.created', targetType: 'user', targetId: row.id, summary: auditSummaryOf(user) });
      return row.id;
    });
    return id ? this.findById(id) : null;
  }
}
