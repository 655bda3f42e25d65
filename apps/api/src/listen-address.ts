import { DEV_ADMIN, type UsersService } from '@kepu/auth';
import { BlockList, isIP } from 'node:net';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** 127.0.0.0/8, ::1 (in any spelling, IPv4-mapped included) and `localhost`: reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const address = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (address === 'localhost') return true;
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The API would serve a published city_admin login to the network. */
export class UnsafeListenAddressError extends Error {
  constructor(host: string) {
    super(
      [
        `Refusing to listen on HOST=${host}: the account "${DEV_ADMIN.username}" still has the development password ` +
          `"${DEV_ADMIN.password}" that the README publishes, so anyone who reaches this address could sign in as it. Either`,
        `  - listen on this machine only: HOST=127.0.0.1 (the default outside production); or`,
        `  - change that password: psql "$DATABASE_URL" -c "UPDATE users SET password_hash = '<hash>' WHERE username = '${DEV_ADMIN.username}'",`,
        `    the hash from: node -e "require('./dist/libs/auth/src/password').hashPassword(process.argv[1]).then(console.log)" '<new password>'; or`,
        `  - on a new database, set BOOTSTRAP_ADMIN_USERNAME and BOOTSTRAP_ADMIN_PASSWORD before the first start, so no development admin is created.`,
      ].join('\n'),
    );
    this.name = 'UnsafeListenAddressError';
  }
}

/** Throws UnsafeListenAddressError for a non-loopback host while the development admin keeps its published password. */
export async function assertSafeListenAddress(host: string, users: Pick<UsersService, 'hasPublishedDevAdminPassword'>): Promise<void> {
  if (isLoopbackHost(host)) return;
  if (await users.hasPublishedDevAdminPassword()) throw new UnsafeListenAddressError(host);
}
