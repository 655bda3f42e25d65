import type { DataSource } from 'typeorm';
import { hashPassword } from './password';
import { UsersRepository } from './users.repository';

/**
 * The first city_admin, made by `db:setup` before any Nest context exists: written
 * by the users' own repository (the one writer of `users`), with its audit entry.
 * Null when the username belongs to another account already.
 */
export async function createFirstCityAdmin(dataSource: DataSource, username: string, password: string): Promise<{ id: string } | null> {
  const user = await new UsersRepository(dataSource).insert(
    {
      username,
      passwordHash: await hashPassword(password),
      displayName: 'City administrator',
      role: 'city_admin',
      phone: null,
      communityCode: null,
      departmentId: null,
      organizationId: null,
      districtCode: null,
    },
    { actor: null, ip: null },
  );
  return user ? { id: user.id } : null;
}
