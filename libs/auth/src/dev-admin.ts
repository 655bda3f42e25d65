import { verifyPassword } from './password';
import type { UsersRepository } from './users.repository';

/**
 * A fixed first login on a developer machine, so `npm ci && npm start` is
 * enough; never in production. The README publishes it.
 */
export const DEV_ADMIN = { username: 'admin', password: 'kepu-admin-dev-1' };

/** Whether an account `admin` still signs in with the published development password. */
export type UserLookup = Pick<UsersRepository, 'findByUsername'>;

export async function hasPublishedDevAdminPassword(users: UserLookup): Promise<boolean> {
  const user = await users.findByUsername(DEV_ADMIN.username);
  return user !== null && (await verifyPassword(DEV_ADMIN.password, user.passwordHash));
}
