import type { Actor, Role } from '@kepu/core';
import { UserEntity } from '@kepu/db';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

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

  /** Inserts the user; `null` when the username is taken (checked by the unique index, not a prior read). */
  async insert(user: NewUser): Promise<UserEntity | null> {
    const rows = await this.dataSource.query<UserEntity[]>(
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
    const id = rows[0]?.id;
    return id ? this.findById(id) : null;
  }
}
