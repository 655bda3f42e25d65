import { QUEUES } from '@kepu/notifications';
import { expectProblem } from './support/problem';
import { COMMUNITY_A1, login, type Session } from './support/world';
import { ADMIN, startTestApp, type TestApp } from './support/test-app';

const QUEUE_NAMES = Object.values(QUEUES);

/** The `kepu_admin=…` pair and its attributes from a Set-Cookie header. */
function boardCookie(setCookie: string | string[] | undefined): { pair: string; attributes: string[] } | undefined {
  const header = ([] as string[]).concat(setCookie ?? []).find((c) => c.startsWith('kepu_admin='));
  if (!header) return undefined;
  const [pair, ...attributes] = header.split(';').map((part) => part.trim());
  return { pair: pair as string, attributes };
}

describe('queue dashboard at /admin/queues (city_admin only)', () => {
  let t: TestApp;
  let admin: Session;
  let resident: Session;

  beforeAll(async () => {
    t = await startTestApp('queue_board');
    admin = await login(t, ADMIN.username, ADMIN.password);
    await t
      .http()
      .post('/users')
      .set(admin.auth)
      .send({ username: 'board-resident', password: 'board-resident-pass-1', displayName: 'Resident', role: 'resident', communityCode: COMMUNITY_A1 })
      .expect(201);
    resident = await login(t, 'board-resident', 'board-resident-pass-1');
  });
  afterAll(() => t.close());

  it('answers 401 problem details without a token, for the page and its API alike', async () => {
    expectProblem(await t.http().get('/admin/queues'), 401, 'UNAUTHENTICATED');
    expectProblem(await t.http().get('/admin/queues/api/queues'), 401, 'UNAUTHENTICATED');
    expectProblem(await t.http().put('/admin/queues/api/queues/pause'), 401, 'UNAUTHENTICATED');
    expectProblem(await t.http().get('/admin/queues').set('Authorization', 'Bearer not-a-token'), 401, 'UNAUTHENTICATED');
    expectProblem(await t.http().get('/admin/queues').set('Cookie', 'kepu_admin=not-a-token'), 401, 'UNAUTHENTICATED');
  });

  it('answers 403 FORBIDDEN to a valid token of another role', async () => {
    expectProblem(await t.http().get('/admin/queues').set(resident.auth), 403, 'FORBIDDEN');
    expectProblem(await t.http().get('/admin/queues/api/queues').set('Cookie', `kepu_admin=${resident.token}`), 403, 'FORBIDDEN');
  });

  it('serves the board to a city_admin bearer token', async () => {
    const page = await t.http().get('/admin/queues').set(admin.auth).expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('/admin/queues/');
    const api = await t.http().get('/admin/queues/api/queues').set(admin.auth).expect(200);
    expect((api.body as { queues: { name: string }[] }).queues.map((q) => q.name).sort()).toEqual([...QUEUE_NAMES].sort());
  });

  it('?token= sets an HttpOnly, SameSite=Strict cookie for the token lifetime and redirects without the token', async () => {
    const res = await t.http().get(`/admin/queues?token=${admin.token}`).expect(303);
    expect(res.headers.location).toBe('/admin/queues');
    const cookie = boardCookie(res.headers['set-cookie']);
    expect(cookie?.pair).toBe(`kepu_admin=${admin.token}`);
    expect(cookie?.attributes).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/admin/queues']));
    const maxAge = Number(cookie?.attributes.find((a) => a.startsWith('Max-Age='))?.slice('Max-Age='.length));
    // the access token's remaining life (ACCESS_TOKEN_TTL_SECONDS, 900 by default)
    expect(maxAge).toBeGreaterThan(800);
    expect(maxAge).toBeLessThanOrEqual(900);

    // The browser then opens the board and its API with the cookie alone.
    const page = await t.http().get('/admin/queues').set('Cookie', cookie?.pair ?? '').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const script = /src="(static\/js\/[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    await t.http().get(`/admin/queues/${script}`).set('Cookie', cookie?.pair ?? '').expect(200);
    expectProblem(await t.http().get(`/admin/queues/${script}`), 401, 'UNAUTHENTICATED');
    const api = await t.http().get('/admin/queues/api/queues?activeQueue=timers&status=latest&page=1&jobsPerPage=10').set('Cookie', cookie?.pair ?? '').expect(200);
    expect((api.body as { queues: { name: string }[] }).queues.map((q) => q.name).sort()).toEqual([...QUEUE_NAMES].sort());
  });

  it('keeps the rest of a deep link when it drops the token', async () => {
    const res = await t.http().get(`/admin/queues/queue/deliveries?status=failed&token=${admin.token}`).expect(303);
    expect(res.headers.location).toBe('/admin/queues/queue/deliveries?status=failed');
  });

  it('sets no cookie for a bad or non-admin ?token=', async () => {
    const bad = await t.http().get('/admin/queues?token=nope');
    expectProblem(bad, 401, 'UNAUTHENTICATED');
    expect(bad.headers['set-cookie']).toBeUndefined();
    const other = await t.http().get(`/admin/queues?token=${resident.token}`);
    expectProblem(other, 403, 'FORBIDDEN');
    expect(other.headers['set-cookie']).toBeUndefined();
  });

  it('is timed in /metrics by route template like every other route', async () => {
    const metrics = await t.http().get('/metrics').expect(200);
    expect(metrics.text).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/admin\/queues\/api\/queues"[^}]*\} \d+/);
  });

  it('leaves the rest of the API to the bearer guard: the cookie opens nothing outside the board', async () => {
    expectProblem(await t.http().get('/me').set('Cookie', `kepu_admin=${admin.token}`), 401, 'UNAUTHENTICATED');
  });
});
