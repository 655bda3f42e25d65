import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { DASHBOARD_CSP } from '../apps/api/src/security-headers';
import { LAPTOP, launchChromium, openPage, overflowsHorizontally, PHONE, screenshot, signIn, tableRows, until, type WatchedPage } from './support/browser';
import { createVenue, createVolunteerWithLogin } from './support/fulfilment-world';
import { ADMIN, startTestApp, type TestApp } from './support/test-app';
import { startTestWorker, suitePrefix, type TestWorker } from './support/test-worker';
import { waitFor } from './support/wait';
import { CHAOYANG, COMMUNITY_A1, COMMUNITY_A2, COMMUNITY_B1, createWorld, HAIDIAN, login, orderBody, type OrderJson, type Session, type World } from './support/world';

/** A 海淀 community with two orders on their way and no service: first among the never-served. */
const PENDING_COMMUNITY = '110108001002';
const DAY_MS = 24 * 3600 * 1000;
const shanghaiDay = (offsetDays = 0) => new Date(Date.now() + 8 * 3600 * 1000 + offsetDays * DAY_MS).toISOString().slice(0, 10);

interface CoverageRow {
  districtCode: string;
  districtName: string;
  communities: number;
  coveredCommunities: number;
  coverage: number;
}
interface GapRow {
  communityCode: string;
  pendingOrders: number;
}

const percent = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;

describe('coordinators’ dashboard page', () => {
  let t: TestApp;
  let w: World;
  let worker: TestWorker;
  let browser: Browser;
  const opened: WatchedPage[] = [];

  /** The people of one community's side of the chain, from resident to organisation. */
  interface Chain {
    resident: Session;
    staff: Session;
    departmentId: string;
    department: Session;
    organizationId: string;
    organization: Session;
    communityCode: string;
  }

  /** An order taken through the whole lifecycle to `completed`, its event starting in a couple of minutes (today, Beijing time). */
  async function deliveredOrder(chain: Chain): Promise<void> {
    const start = new Date(Date.now() + 120_000);
    start.setUTCSeconds(0, 0);
    const end = new Date(start.getTime() + 3600 * 1000);
    const preferredWindows = [{ start: start.toISOString(), end: new Date(start.getTime() + 3 * 3600 * 1000).toISOString() }];
    const post = async (session: Session, path: string, body: object = {}) =>
      (await t.http().post(path).set(session.auth).send(body).expect((res) => expect([200, 201]).toContain(res.status))).body as OrderJson;
    const order = await post(chain.resident, '/orders', orderBody(chain.communityCode, { preferredWindows }));
    await post(chain.staff, `/orders/${order.id}/dispatch`, { departmentId: chain.departmentId });
    await post(chain.department, `/orders/${order.id}/claim`);
    await post(chain.department, `/orders/${order.id}/offer`, { organizationId: chain.organizationId });
    await post(chain.organization, `/orders/${order.id}/accept`);
    const volunteer = await createVolunteerWithLogin(t, { organizationId: chain.organizationId, homeCommunityCode: chain.communityCode });
    const venueId = await createVenue(t, { communityCode: chain.communityCode });
    await post(chain.organization, `/orders/${order.id}/schedule`, { start: start.toISOString(), end: end.toISOString(), venueId, volunteerIds: [volunteer.id] });
    const mine = (await t.http().get('/me/assignments').set(volunteer.session.auth).expect(200)).body as { id: string; orderId: string }[];
    await post(volunteer.session, `/assignments/${mine.find((a) => a.orderId === order.id)?.id}/confirm`);
    await post(volunteer.session, `/orders/${order.id}/check-in`);
    const completed = await post(chain.organization, `/orders/${order.id}/complete`, { attendance: 40, summary: '讲座顺利完成' });
    expect(completed.status).toBe('completed');
  }

  async function coverage(session: Session, path: string): Promise<unknown> {
    return (await t.http().get(`/coverage/${path}`).set(session.auth).expect(200)).body;
  }

  async function page(viewport: typeof LAPTOP): Promise<WatchedPage> {
    const watched = await openPage(browser, viewport);
    opened.push(watched);
    return watched;
  }

  /** Signed in and settled: the city view, and a coordinator's own district, are loaded. */
  async function signedIn(p: Page, session: { username: string; password: string }): Promise<void> {
    await signIn(p, t.url, session.username, session.password);
    await p.waitForSelector('#city[aria-busy="false"] #district-table tbody tr');
  }

  /** Clicks a table's CSV button and reads the file the browser saved. */
  async function downloaded(p: Page, table: string, filename: string): Promise<string> {
    const [download] = await Promise.all([p.waitForEvent('download'), p.click(`[data-csv="${table}"]`)]);
    expect(download.suggestedFilename()).toBe(filename);
    return readFileSync((await download.path())!, 'utf8');
  }

  const settled = (p: Page) => p.waitForSelector('#district:not([hidden])[aria-busy="false"]');

  beforeAll(async () => {
    t = await startTestApp('dashboard', { QUEUE_PREFIX: suitePrefix('dashboard'), OUTBOX_POLL_MS: '100' });
    worker = await startTestWorker();
    w = await createWorld(t);
    browser = await launchChromium();

    // Covered: two 海淀 communities in two subdistricts, one 朝阳 community.
    const haidian = { departmentId: w.departments.haidian, department: w.deptHaidian, organizationId: w.organizations.haidian, organization: w.orgHaidian };
    await deliveredOrder({ ...haidian, resident: w.residentA1, staff: w.staffA1, communityCode: COMMUNITY_A1 });
    await deliveredOrder({ ...haidian, resident: w.residentA2, staff: w.staffA2, communityCode: COMMUNITY_A2 });
    await deliveredOrder({
      resident: w.residentB1,
      staff: w.staffB1,
      departmentId: w.departments.chaoyang,
      department: w.deptChaoyang,
      organizationId: w.organizations.chaoyang,
      organization: w.orgChaoyang,
      communityCode: COMMUNITY_B1,
    });
    // Not covered, two orders pending.
    await t
      .http()
      .post('/users')
      .set(w.admin.auth)
      .send({ username: 'resident-pending', password: 'Wang-dayi-2026', displayName: '王大爷', role: 'resident', communityCode: PENDING_COMMUNITY })
      .expect(201);
    const resident = await login(t, 'resident-pending', 'Wang-dayi-2026');
    await t.http().post('/orders').set(resident.auth).send(orderBody(PENDING_COMMUNITY)).expect(201);
    await t.http().post('/orders').set(resident.auth).send(orderBody(PENDING_COMMUNITY, { topic: 'health', title: '老年人健康讲座' })).expect(201);

    // The rollups are the worker's: wait until the API shows all of it.
    await waitFor(
      async () => {
        const rows = (await coverage(w.admin, 'districts')) as CoverageRow[];
        const covered = Object.fromEntries(rows.map((r) => [r.districtCode, r.coveredCommunities]));
        const gaps = (await coverage(w.admin, `districts/${HAIDIAN}/gaps?days=90&limit=100`)) as { items: GapRow[] };
        return covered[HAIDIAN] === 2 && covered[CHAOYANG] === 1 && gaps.items.some((g) => g.communityCode === PENDING_COMMUNITY && g.pendingOrders === 2);
      },
      30_000,
      'the coverage rollups to show the delivered and pending orders',
      200,
    );
  });

  afterEach(async () => {
    // Every page: no request left the API's origin, the policy never refused anything, no script failed.
    for (const watched of opened.splice(0)) {
      const origins = new Set(watched.requests.filter((url) => !/^(data|blob):/.test(url)).map((url) => new URL(url).origin));
      expect([...origins]).toEqual([t.url]);
      expect(watched.problems).toEqual([]);
      await watched.close();
    }
  });

  afterAll(async () => {
    await browser?.close();
    await worker?.close();
    await t?.close();
  });

  it('serves the page and its assets to anyone, under a same-origin-only policy; the data needs a token', async () => {
    const html = await t.http().get('/dashboard').expect(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(html.text).toContain('lang="zh-CN"');
    for (const asset of ['dashboard.js', 'api.js', 'dashboard.css', 'vendor/chart.umd.min.js']) {
      const res = await t.http().get(`/dashboard/assets/${asset}`).expect(200);
      expect(res.headers['content-type']).toMatch(asset.endsWith('.css') ? /^text\/css/ : /javascript/);
    }
    await t.http().get('/dashboard/').expect(301).expect('location', '/dashboard');
    // Only Chart.js' UMD build leaves node_modules, and nothing outside the page's folder.
    await t.http().get('/dashboard/assets/vendor/chart.cjs').expect(404);
    for (const outside of ['/dashboard/assets/vendor/../../../package.json', '/dashboard/assets/%2e%2e/index.html', '/dashboard/assets/vendor/%2e%2e/package.json'])
      expect([403, 404]).toContain((await t.http().get(outside)).status);
    for (const path of ['/coverage/districts', `/coverage/districts/${HAIDIAN}`, `/coverage/districts/${HAIDIAN}/gaps`])
      expect((await t.http().get(path).expect(401)).body.code).toBe('UNAUTHENTICATED');
  });

  it('shows a city_admin the 16 districts as a chart and a table, a district’s subdistricts and its gap list', async () => {
    const { page: p } = await page(LAPTOP);
    await signedIn(p, ADMIN);
    const rows = (await coverage(w.admin, 'districts')) as CoverageRow[];
    const haidian = rows.find((r) => r.districtCode === HAIDIAN)!;
    const chaoyang = rows.find((r) => r.districtCode === CHAOYANG)!;
    expect(rows).toHaveLength(16);

    // The chart: one bar per district, in percent, coloured by level.
    const chart = await p.evaluate<{ labels: string[]; data: number[]; width: number }>(
      `(() => { const c = Chart.getChart('coverage-chart'); return { labels: c.data.labels, data: c.data.datasets[0].data, width: c.width }; })()`,
    );
    expect(chart.labels).toEqual(rows.map((r) => r.districtName));
    expect(chart.data[chart.labels.indexOf('海淀区')]).toBeCloseTo(haidian.coverage * 100, 1);
    expect(chart.width).toBeGreaterThan(600);
    expect(await p.textContent('#city-title')).toBe('各区社区覆盖率（16 个区）');

    // The table beside it carries the same numbers: 2 of 海淀's communities, 1 of 朝阳's.
    const table = await tableRows(p, '#district-table');
    expect(table).toHaveLength(16);
    expect(table.find((r) => r[0] === '海淀区')).toEqual(['海淀区', String(haidian.communities), '2', percent(haidian.coverage), '4', '0', '查看']);
    expect(table.find((r) => r[0] === '朝阳区')?.slice(0, 5)).toEqual(['朝阳区', String(chaoyang.communities), '1', percent(chaoyang.coverage), '1']);
    expect(table.filter((r) => r[2] === '0')).toHaveLength(14);
    await screenshot(p, 'city-admin-laptop-city');

    // Clicking 海淀's row of the chart (its bar is a sliver) opens the district.
    const bar = await p.evaluate<{ x: number; y: number }>(
      `(() => { const c = Chart.getChart('coverage-chart'); const b = c.getDatasetMeta(0).data[c.data.labels.indexOf('海淀区')]; return { x: (c.chartArea.left + c.chartArea.right) / 2, y: b.y }; })()`,
    );
    const box = (await p.locator('#coverage-chart').boundingBox())!;
    await p.mouse.click(box.x + bar.x, box.y + bar.y);
    await settled(p);
    expect(await p.textContent('#district-title')).toBe('海淀区 · 街道（乡镇）覆盖情况');
    const subdistricts = await tableRows(p, '#subdistrict-table');
    const detail = (await coverage(w.admin, `districts/${HAIDIAN}`)) as { subdistricts: unknown[] };
    expect(subdistricts).toHaveLength(detail.subdistricts.length);
    expect(subdistricts.filter((r) => r[2] === '1')).toHaveLength(2);
    expect(subdistricts.reduce((sum, r) => sum + Number(r[1]), 0)).toBe(haidian.communities);

    // The gap list: never-served communities first, pending orders shown, covered ones absent; 20 a page.
    let gaps = await tableRows(p, '#gap-table');
    expect(gaps).toHaveLength(20);
    const codes = await p.evaluate<string[]>(`Array.from(document.querySelectorAll('#gap-table tbody tr'), (tr) => tr.dataset.communityCode)`);
    expect(codes).not.toContain(COMMUNITY_A1);
    expect(codes).not.toContain(COMMUNITY_A2);
    expect(gaps.every((r) => r[2] === '从未服务' && r[3] === '—')).toBe(true);
    expect(gaps[codes.indexOf(PENDING_COMMUNITY)]?.[4]).toBe('2');
    expect(gaps.filter((r) => r[4] !== '0')).toHaveLength(1);
    await p.click('#gaps-more');
    await until(p, `document.querySelectorAll('#gap-table tbody tr').length === 40`);
    gaps = await tableRows(p, '#gap-table');
    expect(new Set(gaps.map((r) => r[0] + r[1])).size).toBe(40);
    await screenshot(p, 'city-admin-laptop-district');

    // Each table as CSV: fetched with the token, saved from a Blob.
    const from = await p.inputValue('#from');
    const to = await p.inputValue('#to');
    const gapsCsv = await downloaded(p, 'gaps', '海淀区服务空白社区_近90天.csv');
    expect(gapsCsv).toContain(PENDING_COMMUNITY);
    expect(gapsCsv).not.toContain(COMMUNITY_A1);
    expect(await downloaded(p, 'district', `海淀区覆盖率_${from}_${to}.csv`)).toContain('万寿路街道');
    expect((await downloaded(p, 'districts', `各区覆盖率_${from}_${to}.csv`)).trimEnd().split(/\r?\n/)).toHaveLength(17);
  });

  it('shows a district coordinator their own district only, opened, and fits a phone', async () => {
    const { page: p } = await page(PHONE);
    await signedIn(p, { username: w.coordHaidian.username, password: `${w.coordHaidian.username}-pass-1` });
    await settled(p);
    expect(await p.textContent('#who-name')).toBe('coord-haidian（区级协调员）');
    const table = await tableRows(p, '#district-table');
    expect(table.map((r) => r.slice(0, 3))).toEqual([['海淀区', expect.any(String), '2']]);
    expect(await p.textContent('#district-title')).toBe('海淀区 · 街道（乡镇）覆盖情况');
    expect((await tableRows(p, '#gap-table')).length).toBe(20);
    expect(await overflowsHorizontally(p)).toBe(false);
    await screenshot(p, 'coordinator-phone');
  });

  it('fits the city view and a district on a phone', async () => {
    const { page: p } = await page(PHONE);
    await signedIn(p, ADMIN);
    expect(await overflowsHorizontally(p)).toBe(false);
    await p.click(`#district-table tr[data-district-code="${CHAOYANG}"] button`);
    await settled(p);
    expect(await p.textContent('#district-title')).toBe('朝阳区 · 街道（乡镇）覆盖情况');
    expect(await overflowsHorizontally(p)).toBe(false);
    await screenshot(p, 'city-admin-phone');
  });

  it('reads a period from the pickers', async () => {
    const { page: p } = await page(LAPTOP);
    await signedIn(p, ADMIN);
    // A period that ended before today's deliveries covers nothing.
    await p.fill('#from', shanghaiDay(-60));
    await p.fill('#to', shanghaiDay(-30));
    await p.click('#period button[type=submit]');
    await until(p, `Chart.getChart('coverage-chart').data.datasets[0].data.every((v) => v === 0)`);
    expect((await tableRows(p, '#district-table')).every((r) => r[2] === '0')).toBe(true);
    // From after to: refused on the page, nothing asked.
    await p.fill('#from', shanghaiDay(0));
    await p.click('#period button[type=submit]');
    expect(await p.textContent('#board-error')).toBe('开始日期不能晚于结束日期。');
  });

  it('says in Chinese when the password is wrong, or the account is not a coordinator’s', async () => {
    const { page: p } = await page(LAPTOP);
    await signIn(p, t.url, ADMIN.username, 'not-the-password');
    await p.waitForSelector('#login-error:not(:empty)');
    expect(await p.textContent('#login-error')).toBe('用户名或密码错误。');
    expect(await p.isHidden('#board')).toBe(true);

    await signIn(p, t.url, w.residentA1.username, `${w.residentA1.username}-pass-1`);
    await p.waitForSelector('#board-error:not(:empty)');
    expect(await p.textContent('#board-error')).toBe('您的账号无权查看覆盖情况（仅限市级管理员和区级协调员）。');
  });

  // Faults the real API cannot be made to show on cue: answered by the browser itself.
  it('shows a failing API’s problem in Chinese, and sends an expired sign-in back to the form', async () => {
    const { page: p } = await page(LAPTOP);
    await p.route('**/coverage/districts?*', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/problem+json',
        headers: { 'retry-after': '5' },
        body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'Database down', code: 'DEPENDENCY_UNAVAILABLE' }),
      }),
    );
    await signIn(p, t.url, ADMIN.username, ADMIN.password);
    await p.waitForSelector('#board-error:not(:empty)');
    expect(await p.textContent('#board-error')).toBe('服务暂时不可用，请稍后重试。');

    await p.unroute('**/coverage/districts?*');
    await p.route('**/coverage/districts?*', (route) =>
      route.fulfill({ status: 401, contentType: 'application/problem+json', body: JSON.stringify({ status: 401, code: 'UNAUTHENTICATED', detail: 'Token expired' }) }),
    );
    await p.click('#period button[type=submit]');
    await p.waitForSelector('#login:not([hidden])');
    expect(await p.textContent('#login-error')).toBe('登录已失效，请重新登录。');
    expect(await p.evaluate<number>('sessionStorage.length')).toBe(0);
  });
});
