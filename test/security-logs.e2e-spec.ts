import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import request from 'supertest';
import { ADMIN, startTestApp, type TestApp } from './support/test-app';
import { waitFor } from './support/wait';
import { COMMUNITY_A1, orderBody } from './support/world';

const ROOT = path.resolve(__dirname, '..');
const PHONE = '13987654321';
const CONTACT_PHONE = '13611112222';
const PASSWORD = 'logged-staff-pass-7';

/**
 * The API as it runs in production, in its own process with logging on at
 * trace: whatever it prints for requests carrying credentials, tokens and phone
 * numbers must contain none of them.
 */
describe('logs carry no personal data or secrets', () => {
  let t: TestApp;
  let child: ChildProcess;
  let output = '';
  let url = '';

  beforeAll(async () => {
    t = await startTestApp('security-logs');
    child = spawn(process.execPath, ['-r', path.join(ROOT, 'test/support/register-ts.js'), 'apps/api/src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', LOG_LEVEL: 'trace', FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(
      () => {
        const match = /API listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match?.[1]) url = match[1];
        return url !== '';
      },
      60_000,
      'the API child to listen',
      50,
    );
  });
  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await t.close();
  });

  it('logs each request, but never a password, a token or a phone number', async () => {
    const http = () => request(url);
    const admin = (await http().post('/auth/login').send(ADMIN).expect(200)).body as { accessToken: string; refreshToken: string };
    const auth = { Authorization: `Bearer ${admin.accessToken}` };
    await http()
      .post('/users')
      .set(auth)
      .send({ username: 'logged.staff', password: PASSWORD, displayName: '记录', role: 'community_staff', communityCode: COMMUNITY_A1, phone: PHONE })
      .expect(201);
    const staff = (await http().post('/auth/login').send({ username: 'logged.staff', password: PASSWORD }).expect(200)).body as { accessToken: string; refreshToken: string };
    const renewed = (await http().post('/auth/refresh').send({ refreshToken: staff.refreshToken }).expect(200)).body as { accessToken: string; refreshToken: string };
    await http().get('/me').set('Authorization', `Bearer ${renewed.accessToken}`).expect(200);
    await http().post('/orders').set('Authorization', `Bearer ${renewed.accessToken}`).send(orderBody(COMMUNITY_A1, { contactPhone: CONTACT_PHONE })).expect(201);
    // refused requests are logged at warn, with their bodies still out of the log
    await http().post('/users').set(auth).send({ username: 'bad user', password: 'short', phone: PHONE, displayName: 'x', role: 'resident' }).expect(400);
    await http().post('/auth/login').send({ username: 'logged.staff', password: 'wrong-pass-12' }).expect(401);
    await http().get(`/admin/queues?token=${admin.accessToken}`).expect(303);
    await http().post('/auth/logout').send({ refreshToken: renewed.refreshToken }).expect(204);

    await waitFor(() => output.includes('"url":"/auth/logout"'), 10_000, 'the last request to be logged', 50);
    expect(output).toMatch(/"url":"\/users"/);
    expect(output).toMatch(/"statusCode":401/);
    const secrets = {
      phone: PHONE,
      contactPhone: CONTACT_PHONE,
      password: PASSWORD,
      adminPassword: ADMIN.password,
      adminAccessToken: admin.accessToken,
      adminRefreshToken: admin.refreshToken,
      accessToken: staff.accessToken,
      refreshToken: staff.refreshToken,
      renewedAccessToken: renewed.accessToken,
      renewedRefreshToken: renewed.refreshToken,
    };
    expect(Object.entries(secrets).filter(([, secret]) => output.includes(secret)).map(([name]) => name)).toEqual([]);
  });
});
