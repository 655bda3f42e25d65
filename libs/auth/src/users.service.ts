import type { Actor } from '@kepu/core';
import { Injectable } from '@nestjs/common';
import { type AuditContext } from './audit-log';
import { hasPublishedDevAdminPassword } from './dev-admin';
import { type NewUser, UsersRepository } from './users.repository';
import { toUserView, type UserView } from './user.view';

/** Accounts of every role are written here, by the library that owns the users table. */
@Injectable()
export class UsersService {
  constructor(private readonly users: UsersRepository) {}

  /** The new user, or null when the username is taken; the audit entry commits with it. */
  async create(user: NewUser, audit: AuditContext): Promise<UserView | null> {
    const created = await this.users.insert(user, audit);
    return created ? toUserView(created) : null;
  }

  /**
   * The account as the API would see it after a login (its volunteer profile read as the
   * auth guard reads it), or null: for a CLI that acts as a known account (the demo seed).
   */
  async actorOf(username: string): Promise<(Actor & { username: string; displayName: string }) | null> {
    const user = await this.users.findByUsername(username);
    if (!user) return null;
    return {
      userId: user.id,
      username: user.username,
      displayName: user.displayName,
      role: user.role,
      communityCode: user.communityCode,
      departmentId: user.departmentId,
      organizationId: user.organizationId,
      districtCode: user.districtCode,
      volunteerId: await this.users.volunteerIdOf(user.id),
    };
  }

  /** Whether the account `admin` still signs in with the README's development password. */
  hasPublishedDevAdminPassword(): Promise<boolean> {
    return hasPublishedDevAdminPassword(this.users);
  }
}
