import { hashPassword } from '@kepu/auth';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { login } from './support/world';
import { ADMIN, startTestApp, type TestApp } from './support/test-app';
import { waitFor } from './support/wait';

describe('operations and reference data', () => {
  let t: TestApp;
  let auth: { Authorization: string };

  beforeAll(async () => {
    t = await startTestApp('operations');
    auth = (await login(t, ADMIN.username, ADMIN.password)).auth;
  });
  afterAll(() => t.close());

  it('reports database and Redis health without a token', async () => {
    const res = await t.http().get('/health').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, redis: { status: 'up' } } });
  });

  it('publishes an OpenAPI document with every endpoint and its error answers', async () => {
    const doc = (await t.http().get('/docs-json').expect(200)).body as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    expect(doc.openapi).toMatch(/^3\./);
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    for (const op of [
      'POST /auth/login',
      'GET /me',
      'POST /users',
      'POST /departments',
      'POST /organizations',
      'GET /regions/districts',
      'GET /regions/districts/{code}/subdistricts',
      'GET /regions/subdistricts/{code}/communities',
      'GET /catalog',
      'POST /orders',
      'GET /orders',
      'GET /orders/{id}',
      'GET /orders/{id}/events',
      ...['dispatch', 'reject', 'merge', 'claim', 'decline', 'offer', 'open', 'accept', 'release', 'cancel'].map((a) => `POST /orders/{id}/${a}`),
      'GET /health',
    ])
      expect(operations).toContain(op);
    expect(Object.keys(doc.paths['/orders/{id}/claim']?.post?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404', '409']));
    await t.http().get('/docs').expect(200);
  });

  it('serves Beijing: 16 districts, 349 subdistricts, 7,535 communities', async () => {
    const districts = (await t.http().get('/regions/districts').set(auth).expect(200)).body as { code: string; name: string; subdistrictCount: number; communityCount: number }[];
    expect(districts).toHaveLength(16);
    expect(districts.reduce((n, d) => n + d.subdistrictCount, 0)).toBe(349);
    expect(districts.reduce((n, d) => n + d.communityCount, 0)).toBe(7535);
    expect(districts.find((d) => d.code === '110108')?.name).toBe('海淀区');
    const subdistricts = (await t.http().get('/regions/districts/110108/subdistricts').set(auth).expect(200)).body as { code: string; districtCode: string }[];
    expect(subdistricts.every((s) => s.districtCode === '110108')).toBe(true);
    const communities = (await t.http().get('/regions/subdistricts/110108001/communities').set(auth).expect(200)).body as { code: string }[];
    expect(communities.map((c) => c.code)).toContain('110108001001');
    expect((await t.http().get('/regions/districts/999999/subdistricts').set(auth).expect(404)).body.code).toBe('NOT_FOUND');
    expect((await t.http().get('/regions/districts/abc/subdistricts').set(auth).expect(400)).body.code).toBe('VALIDATION_FAILED');
  });

  it('lists the catalogue codes of the contract', async () => {
    const catalog = (await t.http().get('/catalog').set(auth).expect(200)).body as Record<string, { code: string }[]>;
    expect(catalog.topics?.map((x) => x.code)).toEqual(
      expect.arrayContaining(['health', 'medicine_use', 'digital_skills', 'anti_fraud', 'emergency', 'fire_safety', 'food_safety', 'environment', 'agriculture', 'ai_frontier', 'astronomy', 'experiments', 'psychology']),
    );
    expect(catalog.audiences?.map((x) => x.code)).toEqual(['youth', 'farmers', 'workers', 'elderly', 'officials', 'new_economy_workers', 'general']);
    expect(catalog.formats?.map((x) => x.code)).toEqual(['lecture', 'workshop', 'science_show', 'exhibition', 'consultation', 'visit', 'online']);
  });

  it('answers every request with a request id, keeping a sane caller-supplied one', async () => {
    const own = await t.http().get('/health').set('X-Request-Id', 'trace-abc.123');
    expect(own.headers['x-request-id']).toBe('trace-abc.123');
    const generated = await t.http().get('/health');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('problem details for unknown routes and missing tokens', async () => {
    const missing = await t.http().get('/no-such-thing').set(auth).expect(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect(missing.body).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect((await t.http().get('/me').expect(401)).body.code).toBe('UNAUTHENTICATED');
  });
});

/**
 * `npm start` on a developer machine creates admin / kepu-admin-dev-1, published
 * in the README: the API, started as in production (its own process, main.ts),
 * must not serve it beyond loopback.
 */
describe('the listen address and the development admin', () => {
  const ROOT = path.resolve(__dirname, '..');
  let t: TestApp;
  let databaseUrl = '';
  const children: ChildProcess[] = [];

  /** main.ts from the sources; resolves with its exit code, or with its URL once it listens. */
  const startApi = async (host: string): Promise<{ code: number | null; url: string; output: string }> => {
    const child = spawn(process.execPath, ['-r', path.join(ROOT, 'test/support/register-ts.js'), 'apps/api/src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl, HOST: host, PORT: '0', LOG_LEVEL: 'info', FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    let code: number | null | undefined;
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (exitCode) => (code = exitCode));
    const url = await waitFor(() => (code !== undefined ? 'exited' : /API listening on (http:\/\/\S+:\d+)/.exec(output)?.[1]), 60_000, 'the API child to listen or exit', 50);
    // the exit event can come before the last output is read
    if (url === 'exited') await new Promise((resolve) => setTimeout(resolve, 100));
    return { code: code ?? null, url: url === 'exited' ? '' : url, output };
  };
  const setAdminPassword = async (password: string): Promise<void> => {
    await t.db.query(`UPDATE users SET password_hash = $1 WHERE username = $2`, [await hashPassword(password), ADMIN.username]);
  };

  beforeAll(async () => {
    t = await startTestApp('listen_address');
    databaseUrl = process.env.DATABASE_URL ?? '';
    await setAdminPassword('kepu-admin-dev-1');
  });
  afterAll(async () => {
    await Promise.all(
      children
        .filter((child) => child.exitCode === null && child.signalCode === null)
        .map((child) => {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          return exited;
        }),
    );
    await t.close();
  });

  it('refuses HOST=0.0.0.0 while admin has the published password, and says what to do', async () => {
    const { code, url, output } = await startApi('0.0.0.0');
    expect({ code, url }).toEqual({ code: 1, url: '' });
    expect(output).toContain('Refusing to listen on HOST=0.0.0.0');
    expect(output).toContain('kepu-admin-dev-1');
    expect(output).toMatch(/HOST=127\.0\.0\.1[\s\S]*change that password[\s\S]*BOOTSTRAP_ADMIN_USERNAME and BOOTSTRAP_ADMIN_PASSWORD/);
  });

  it('listens on HOST=127.0.0.1 with the same admin', async () => {
    const { url, output } = await startApi('127.0.0.1');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(output).not.toContain('Refusing');
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it('listens on HOST=0.0.0.0 once the password has changed', async () => {
    await setAdminPassword('a-changed-admin-pass-7');
    const { url } = await startApi('0.0.0.0');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });
});

describe('health when Redis is down', () => {
  let t: TestApp;
  beforeAll(async () => {
    // nothing listens on port 1: a closed port, answered at once
    t = await startTestApp('health_down', { REDIS_URL: 'redis://127.0.0.1:1' });
  });
  afterAll(() => t.close());

  it('answers 503 DEPENDENCY_UNAVAILABLE naming redis, with Retry-After', async () => {
    const res = await t.http().get('/health').expect(503);
    expect(res.body).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', status: 503 });
    expect(res.body.detail).toContain('redis');
    expect(res.headers['retry-after']).toBeDefined();
  });
});
