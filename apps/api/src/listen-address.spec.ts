import { hashPassword, UsersService } from '@kepu/auth';
import { assertSafeListenAddress, isLoopbackHost, UnsafeListenAddressError } from './listen-address';

describe('isLoopbackHost', () => {
  it.each(['127.0.0.1', '127.1.2.3', '127.255.255.254', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST'])(
    '%s is loopback',
    (host) => expect(isLoopbackHost(host)).toBe(true),
  );

  it.each(['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', '128.0.0.1', '126.255.255.255', '::2', '::ffff:10.0.0.1', 'example.org', 'localhost.example.org', 'my-laptop'])(
    '%s is not loopback',
    (host) => expect(isLoopbackHost(host)).toBe(false),
  );
});

describe('assertSafeListenAddress', () => {
  const lookup = (passwordHash: string | null) => ({
    findByUsername: jest.fn(async (username: string) => (passwordHash !== null && username === 'admin' ? ({ passwordHash } as never) : null)),
  });
  const usersWith = (passwordHash: string | null) => new UsersService(lookup(passwordHash) as never);

  it('refuses a non-loopback host while admin has the published development password, saying what to do', async () => {
    const attempt = assertSafeListenAddress('0.0.0.0', usersWith(await hashPassword('kepu-admin-dev-1')));
    await expect(attempt).rejects.toThrow(UnsafeListenAddressError);
    await expect(attempt).rejects.toThrow(/HOST=0\.0\.0\.0.*kepu-admin-dev-1[\s\S]*HOST=127\.0\.0\.1[\s\S]*change that password[\s\S]*BOOTSTRAP_ADMIN_PASSWORD/);
  });

  it('allows a non-loopback host once the password changed or without an admin', async () => {
    await expect(assertSafeListenAddress('0.0.0.0', usersWith(await hashPassword('another-admin-pass-9')))).resolves.toBeUndefined();
    await expect(assertSafeListenAddress('0.0.0.0', usersWith(null))).resolves.toBeUndefined();
  });

  it('allows loopback without looking at the accounts', async () => {
    const repository = lookup(await hashPassword('kepu-admin-dev-1'));
    await expect(assertSafeListenAddress('127.0.0.1', new UsersService(repository as never))).resolves.toBeUndefined();
    expect(repository.findByUsername).not.toHaveBeenCalled();
  });
});
