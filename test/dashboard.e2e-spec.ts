import { EscalationsService } from '@kepu/orders';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { DASHBOARD_CSP } from '../apps/api/src/security-headers';
import { LAPTOP, launchChromium, openPage, overflowsHorizontally, PHONE, screenshot, signIn, tableRows, until, type WatchedPage } from './support/browser';
import { createVenue, createVolunteerWithLogin } from './support/fulfilment-world';
import { ADMIN, startTestApp, type TestApp } from './support/test-app';
import { startTestWorker, suitePrefix, type TestWorker } from './support/test-worker';
import { clearOfWindowEnd, waitFor } from './support/wait';
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
  /** The two orders of PENDING_COMMUNITY, still submitted, and the resident who filed them. */
  const pendingOrders: OrderJson[] = [];
  let pendingResident: Session;

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

    // Covered: two 海淀 communities in two subdistricts, one 朝阳 community, by events starting
    // in a couple of minutes: today in Beijing, inside the page's default period (ending today).
    await clearOfWindowEnd(86_400, 3 * 60_000, 8 * 3600_000);
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
    pendingResident = await login(t, 'resident-pending', 'Wang-dayi-2026');
    for (const body of [orderBody(PENDING_COMMUNITY), orderBody(PENDING_COMMUNITY, { topic: 'health', title: '老年人健康讲座' })])
      pendingOrders.push((await t.http().post('/orders').set(pendingResident.auth).send(body).expect(201)).body as OrderJson);

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
  }, 5 * 60_000);

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
    for (const path of ['/coverage/districts', `/coverage/districts/${HAIDIAN}`, `/coverage/districts/${HAIDIAN}/gaps`, `/coverage/districts/${HAIDIAN}/trend`, '/scorecards/departments'])
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

  it('shows the 三率 scorecards, sortable, as CSV; a district’s weekly coverage trend; and the gaps of one key population', async () => {
    const { page: p } = await page(LAPTOP);
    await signedIn(p, ADMIN);
    await p.waitForSelector('#scorecards[aria-busy="false"] #scorecard-table tbody tr');
    const departments = (await t.http().get('/scorecards/departments').set(w.admin.auth).expect(200)).body as { id: string; name: string; received: number; responseRate: number | null }[];
    expect(await p.textContent('#scorecards-title')).toBe('三率考核 · 全市职能部门');
    // Busiest first: 海淀区科协 received the two 海淀 orders and claimed both in time.
    let rows = await tableRows(p, '#scorecard-table');
    expect(rows).toHaveLength(departments.length);
    expect(rows[0]).toEqual(['海淀区科协', '2', '100.0%', '100.0%', '—', '—', '0']);
    expect(rows.find((r) => r[0] === '朝阳区科协')?.slice(0, 3)).toEqual(['朝阳区科协', '1', '100.0%']);
    expect(rows.find((r) => r[0] === '北京科学中心')).toEqual(['北京科学中心', '0', '—', '—', '—', '—', '—']);
    expect(await p.getAttribute('#scorecard-table th:nth-child(2)', 'aria-sort')).toBe('descending');

    // Sorting: by name A→Z, then Z→A; by response rate, nulls last either way.
    await p.click('button.sort[data-sort="name"]');
    rows = await tableRows(p, '#scorecard-table');
    expect(rows.map((r) => r[0])).toEqual(departments.map((d) => d.name).sort((a, b) => a.localeCompare(b, 'zh-CN')));
    expect(await p.getAttribute('#scorecard-table th:nth-child(1)', 'aria-sort')).toBe('ascending');
    await p.click('button.sort[data-sort="name"]');
    expect((await tableRows(p, '#scorecard-table')).map((r) => r[0])).toEqual(rows.map((r) => r[0]).reverse());
    await p.click('button.sort[data-sort="responseRate"]');
    const rates = (await tableRows(p, '#scorecard-table')).map((r) => r[2]);
    expect(rates.slice(0, 2)).toEqual(['100.0%', '100.0%']);
    expect(rates.slice(2).every((r) => r === '—')).toBe(true);
    await screenshot(p, 'city-admin-laptop-scorecards');

    const from = await p.inputValue('#from');
    const to = await p.inputValue('#to');
    const csv = await downloaded(p, 'scorecards', `三率_职能部门_${from}_${to}.csv`);
    expect(csv.trimEnd().split(/\r?\n/)).toHaveLength(1 + departments.length);
    expect(csv).toContain('海淀区科协');

    // Organisations instead.
    await p.selectOption('#scorecard-kind', 'organizations');
    await until(p, `document.querySelector('#scorecards-title').textContent === '三率考核 · 全市志愿服务组织'`);
    await p.waitForSelector('#scorecards[aria-busy="false"]');
    const organizations = (await tableRows(p, '#scorecard-table')).map((r) => r.slice(0, 3));
    expect(organizations).toContainEqual(['海淀科普志愿服务队', '2', '100.0%']);
    expect(organizations).toContainEqual(['朝阳科普志愿服务队', '1', '100.0%']);

    // 海淀: the weekly trend line ends with this week's two covered communities.
    await p.click(`#district-table tr[data-district-code="${HAIDIAN}"] button`);
    await settled(p);
    const trend = (await t.http().get(`/coverage/districts/${HAIDIAN}/trend`).set(w.admin.auth).expect(200)).body as { weeks: { coveredCommunities: number }[] };
    const line = await p.evaluate<{ type: string; data: number[]; labels: string[] }>(
      `(() => { const c = Chart.getChart('trend-chart'); return { type: c.config.type, data: c.data.datasets[0].data, labels: c.data.labels }; })()`,
    );
    expect(line.type).toBe('line');
    expect(line.data).toEqual(trend.weeks.map((wk) => wk.coveredCommunities));
    expect(line.data).toHaveLength(12);
    expect(line.data[11]).toBe(2);

    // Gaps of one key population: the delivered orders were for the elderly, so A1 is a gap for youth and not for the elderly.
    const gapCodes = () => p.evaluate<string[]>(`Array.from(document.querySelectorAll('#gap-table tbody tr'), (tr) => tr.dataset.communityCode)`);
    await p.selectOption('#gap-audience', 'youth');
    await until(p, `document.querySelector('#gaps-title').textContent === '青少年服务空白社区（近 90 天）'`);
    await settled(p);
    const youth = (await t.http().get(`/coverage/districts/${HAIDIAN}/gaps?audience=youth&days=90`).set(w.admin.auth).expect(200)).body as { items: GapRow[] };
    expect(await gapCodes()).toEqual(youth.items.map((g) => g.communityCode));
    expect(await gapCodes()).toContain(COMMUNITY_A1);
    await p.selectOption('#gap-audience', 'elderly');
    await until(p, `document.querySelector('#gaps-title').textContent === '老年人服务空白社区（近 90 天）'`);
    await settled(p);
    expect(await gapCodes()).not.toContain(COMMUNITY_A1);
    await screenshot(p, 'city-admin-laptop-trend-gaps');
    const elderlyCsv = await downloaded(p, 'gaps', '海淀区老年人服务空白社区_近90天.csv');
    expect(elderlyCsv).toContain(PENDING_COMMUNITY);
    expect(elderlyCsv).not.toContain(COMMUNITY_A1);
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
    // Its scorecards: the district's own and the city-wide departments only.
    expect(await p.textContent('#scorecards-title')).toBe('三率考核 · 海淀区职能部门');
    expect((await tableRows(p, '#scorecard-table')).map((r) => r[0]).sort()).toEqual(['北京科学中心', '海淀区卫健委', '海淀区科协'].sort());
    expect(await p.evaluate<number>(`Chart.getChart('trend-chart').data.datasets[0].data.length`)).toBe(12);
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

  it('signing out ends the session on the server too (POST /auth/logout): the refresh token the page held no longer works', async () => {
    const { page: p } = await page(LAPTOP);
    await signedIn(p, ADMIN);
    const refreshToken = await p.evaluate<string | undefined>(`JSON.parse(sessionStorage.getItem('kepu.dashboard.session')).refreshToken`);
    expect(refreshToken).toEqual(expect.any(String));
    const logout = p.waitForRequest((request) => request.url().endsWith('/auth/logout') && request.method() === 'POST');
    await p.click('#logout');
    await p.waitForSelector('#login:not([hidden])');
    expect(JSON.parse((await logout).postData() ?? '{}')).toEqual({ refreshToken });
    expect(await p.evaluate<number>('sessionStorage.length')).toBe(0);
    await waitFor(async () => (await t.http().post('/auth/refresh').send({ refreshToken })).status === 401, 5000, 'the refresh token revoked');
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

  // ---- the levers: the escalation worklist and broadcasts (API.md "Coordinators steering") ----
  // Last in the file: they add an urgent order, cancel one and send broadcasts, which the figures above must not see.

  interface EscalationJson {
    id: string;
    status: string;
    note: string | null;
    acknowledgedBy: string | null;
    order: { code: string; urgent: boolean };
  }
  interface BroadcastJson {
    id: string;
    title: string;
    status: string;
    recipients: number;
    delivered: number;
    failed: number;
    pending: number;
  }

  const itemIds = (p: Page) => p.evaluate<string[]>(`Array.from(document.querySelectorAll('#escalation-list > li'), (li) => li.dataset.id)`);
  const progressStats = (p: Page) =>
    p.evaluate<Record<string, string>>(`Object.fromEntries(Array.from(document.querySelectorAll('#broadcast-stats [data-stat]'), (d) => [d.dataset.stat, d.querySelector('dd').textContent]))`);
  const sent = (p: Page) => p.waitForRequest((request) => request.url().endsWith('/broadcasts') && request.method() === 'POST');

  it('a coordinator works the escalation list on a phone: urgent first, then oldest breach; acknowledges with a note; one resolved meanwhile is explained in Chinese', async () => {
    // Breaches as the SLA timer records them (EscalationsService.openForBreach), without waiting out a deadline:
    // the two PENDING_COMMUNITY orders, and an urgent order of A1 breached last.
    const urgent = (await t.http().post('/orders').set(w.staffA1.auth).send(orderBody(COMMUNITY_A1, { urgent: true, title: '暴雨防灾应急科普' })).expect(201)).body as OrderJson;
    const escalations = t.app.get(EscalationsService);
    const breach = (order: OrderJson, hoursAgo: number) =>
      escalations.openForBreach({ orderId: order.id, stage: 'dispatch', status: 'submitted', enteredSeq: 1, dueAt: new Date(Date.now() - hoursAgo * 3600_000), breachedAt: new Date(Date.now() - hoursAgo * 3600_000) });
    expect(await breach(pendingOrders[0]!, 3)).toBe(true);
    expect(await breach(pendingOrders[1]!, 2)).toBe(true);
    expect(await breach(urgent, 1)).toBe(true);
    const listed = ((await t.http().get('/escalations?status=open').set(w.coordHaidian.auth).expect(200)).body as { items: EscalationJson[] }).items;
    expect(listed.map((e) => e.order.code)).toEqual([urgent.code, pendingOrders[0]!.code, pendingOrders[1]!.code]);

    const { page: p } = await page(PHONE);
    await signedIn(p, { username: w.coordHaidian.username, password: `${w.coordHaidian.username}-pass-1` });
    await p.waitForSelector('#escalations[aria-busy="false"] #escalation-list > li');
    expect(await itemIds(p)).toEqual(listed.map((e) => e.id));
    expect(await p.textContent('#escalations-title')).toBe('超时预警 · 待处理（3 条）');
    const [first, second, third] = listed as [EscalationJson, EscalationJson, EscalationJson];
    expect(await p.textContent(`li[data-id="${first.id}"] .badge`)).toBe('紧急');
    expect(await p.locator(`li[data-id="${second.id}"] .badge`).count()).toBe(0);
    expect(await p.textContent(`li[data-id="${second.id}"] [data-stat="stage"] dd`)).toBe('派单超时');
    expect(await p.textContent(`li[data-id="${second.id}"] [data-stat="status"] dd`)).toBe('待处理');
    expect(await overflowsHorizontally(p)).toBe(false);

    // Acknowledge the oldest with a note: the card shows it at once, the API has it.
    await p.click(`li[data-id="${second.id}"] button.acknowledge`);
    await p.fill(`li[data-id="${second.id}"] textarea`, '已电话督促社区，今日派单');
    await p.click(`li[data-id="${second.id}"] form button[type=submit]`);
    await p.waitForSelector(`li[data-id="${second.id}"][data-status="acknowledged"]`);
    expect(await p.textContent(`li[data-id="${second.id}"] [data-stat="status"] dd`)).toBe('已确认');
    expect(await p.textContent(`li[data-id="${second.id}"] .note`)).toMatch(/已电话督促社区，今日派单$/);
    const acknowledged = ((await t.http().get('/escalations?status=acknowledged').set(w.admin.auth).expect(200)).body as { items: EscalationJson[] }).items;
    expect(acknowledged).toEqual([expect.objectContaining({ id: second.id, status: 'acknowledged', note: '已电话督促社区，今日派单', acknowledgedBy: w.coordHaidian.id })]);
    await screenshot(p, 'coordinator-phone-escalations');

    // The resident cancels the third order while the page still shows it open: acknowledging it is 409 ESCALATION_RESOLVED, said in Chinese.
    await t.http().post(`/orders/${pendingOrders[1]!.id}/cancel`).set(pendingResident.auth).send({ reason: '活动改期' }).expect(200);
    await p.click(`li[data-id="${third.id}"] button.acknowledge`);
    await p.click(`li[data-id="${third.id}"] form button[type=submit]`);
    await p.waitForSelector(`li[data-id="${third.id}"] .error:not(:empty)`);
    expect(await p.textContent(`li[data-id="${third.id}"] .error`)).toBe('该工单已离开超时环节，预警已自动解除，无需再确认。');
    expect(await p.getAttribute(`li[data-id="${third.id}"]`, 'data-status')).toBe('resolved');
    expect(await p.locator(`li[data-id="${third.id}"] button.acknowledge`).count()).toBe(0);

    // The filter: resolved ones, with when they resolved.
    await p.selectOption('#escalation-status', 'resolved');
    await until(p, `document.querySelector('#escalations-title').textContent === '超时预警 · 已解除（1 条）'`);
    expect(await itemIds(p)).toEqual([third.id]);
    expect(await p.textContent(`li[data-id="${third.id}"] .hint`)).toMatch(/预警自动解除。$/);
  });

  it('a city_admin sends a broadcast from the form, with a new Idempotency-Key each time, and watches its progress until nothing is pending', async () => {
    const { page: p } = await page(LAPTOP);
    await signedIn(p, ADMIN);
    await p.waitForSelector('#broadcasts:not([hidden])');
    // The 16 districts to choose from; none chosen is the whole city.
    expect(await p.locator('#broadcast-districts input[name="districtCodes"]').count()).toBe(16);
    await p.check(`#broadcast-districts input[value="${HAIDIAN}"]`);
    await p.check('#broadcast-urgent');
    await p.fill('#broadcast-title', '暴雨红色预警');
    await p.fill('#broadcast-body', '今夜有特大暴雨，请减少外出，社区活动顺延。');
    let request = sent(p);
    await p.click('#broadcast-send');
    const first = await request;
    expect(JSON.parse(first.postData() ?? '{}')).toEqual({
      title: '暴雨红色预警',
      body: '今夜有特大暴雨，请减少外出，社区活动顺延。',
      roles: ['resident', 'community_staff'],
      channels: ['in_app'],
      urgent: true,
      districtCodes: [HAIDIAN],
    });
    const firstKey = (await first.allHeaders())['idempotency-key'];
    expect(firstKey).toMatch(/^dashboard-[0-9a-f]{32}$/);

    // The worker fans it out; the page looks until nothing is pending, then lists it as done.
    await p.waitForSelector('#broadcast-progress[data-status="done"]');
    const id = (await p.getAttribute('#broadcast-progress', 'data-id'))!;
    const done = (await t.http().get(`/broadcasts/${id}`).set(w.admin.auth).expect(200)).body as BroadcastJson;
    expect(done).toMatchObject({ status: 'done', pending: 0, failed: 0 });
    expect(done.recipients).toBeGreaterThanOrEqual(6);
    expect(done.delivered).toBe(done.recipients);
    await until(p, `document.querySelector('#broadcast-stats [data-stat="pending"] dd').textContent === '0'`);
    expect(await progressStats(p)).toEqual({ recipients: String(done.recipients), delivered: String(done.recipients), failed: '0', pending: '0' });
    expect(await p.textContent('#broadcast-progress-title')).toBe('「暴雨红色预警」已发送完毕');
    expect(await p.evaluate<number[]>(`[document.querySelector('#broadcast-bar').value, document.querySelector('#broadcast-bar').max]`)).toEqual([done.recipients, done.recipients]);
    await until(p, `document.querySelector('#broadcast-table tbody tr')?.dataset.id === ${JSON.stringify(id)}`);
    await until(p, `document.querySelector('#broadcast-table tbody tr td:nth-child(3)').textContent === '已完成'`);
    expect((await tableRows(p, '#broadcast-table'))[0]).toEqual(['【紧急】暴雨红色预警', expect.any(String), '已完成', String(done.recipients), String(done.recipients), '0', '0']);
    await screenshot(p, 'city-admin-laptop-broadcasts');

    // A second send is another broadcast: another key. Empty fields are refused on the page, nothing sent.
    await p.click('#broadcast-send');
    expect(await p.textContent('#broadcast-error')).toBe('请填写标题。');
    await p.fill('#broadcast-title', '科普周活动通知');
    await p.fill('#broadcast-body', '下周起各社区开展科普周活动。');
    await p.uncheck('#broadcast-urgent');
    request = sent(p);
    await p.click('#broadcast-send');
    const secondKey = (await (await request).allHeaders())['idempotency-key'];
    expect(secondKey).toMatch(/^dashboard-[0-9a-f]{32}$/);
    expect(secondKey).not.toBe(firstKey);
    await until(p, `document.querySelector('#broadcast-progress-title').textContent === '「科普周活动通知」已发送完毕'`, 20_000);
    const list = ((await t.http().get('/broadcasts').set(w.admin.auth).expect(200)).body as { items: BroadcastJson[] }).items;
    expect(list.slice(0, 2).map((b) => b.title)).toEqual(['科普周活动通知', '暴雨红色预警']);
  });

  it('a coordinator broadcasts to its own district only; a send without an answer is retried with the same key; the hourly cap is said in Chinese', async () => {
    const { page: p } = await page(PHONE);
    await signedIn(p, { username: w.coordHaidian.username, password: `${w.coordHaidian.username}-pass-1` });
    await p.waitForSelector('#broadcasts:not([hidden])');
    expect(await p.isHidden('#broadcast-districts-field')).toBe(true);
    expect(await p.textContent('#broadcast-scope')).toBe('广播发送给海淀区内所选角色的用户；每小时最多发送 6 条。');
    await p.fill('#broadcast-title', '社区科普讲座提醒');
    await p.fill('#broadcast-body', '本周六上午在社区活动中心举办健康科普讲座。');

    // The network drops the first try: the same form sent again is the same send (same key), so it cannot go out twice.
    await p.route('**/broadcasts', (route) => (route.request().method() === 'POST' ? route.abort('connectionreset') : route.fallback()));
    let request = sent(p);
    await p.click('#broadcast-send');
    const lostKey = (await (await request).allHeaders())['idempotency-key'];
    await p.waitForSelector('#broadcast-error:not(:empty)');
    expect(await p.textContent('#broadcast-error')).toBe('无法连接服务器，请检查网络后重试。');
    await p.unroute('**/broadcasts');
    request = sent(p);
    await p.click('#broadcast-send');
    const sentRequest = await request;
    expect((await sentRequest.allHeaders())['idempotency-key']).toBe(lostKey);
    expect(JSON.parse(sentRequest.postData() ?? '{}')).not.toHaveProperty('districtCodes');
    await p.waitForSelector('#broadcast-progress[data-status="done"]');
    await until(p, `document.querySelector('#broadcast-stats [data-stat="pending"] dd').textContent === '0'`);
    const id = (await p.getAttribute('#broadcast-progress', 'data-id'))!;
    const done = (await t.http().get(`/broadcasts/${id}`).set(w.coordHaidian.auth).expect(200)).body as BroadcastJson;
    expect(done).toMatchObject({ title: '社区科普讲座提醒', status: 'done', pending: 0, delivered: done.recipients });
    expect(await progressStats(p)).toEqual({ recipients: String(done.recipients), delivered: String(done.recipients), failed: '0', pending: '0' });
    expect(await overflowsHorizontally(p)).toBe(false);
    await screenshot(p, 'coordinator-phone-broadcasts');

    // The API's 429 after BROADCASTS_PER_HOUR, answered by the browser itself (six real sends would take the test's hour).
    await p.route('**/broadcasts', (route) =>
      route.request().method() === 'POST'
        ? route.fulfill({ status: 429, contentType: 'application/problem+json', headers: { 'retry-after': '1800' }, body: JSON.stringify({ status: 429, code: 'RATE_LIMITED', detail: 'Too many' }) })
        : route.fallback(),
    );
    await p.fill('#broadcast-title', '再发一条');
    await p.fill('#broadcast-body', '测试上限。');
    await p.click('#broadcast-send');
    await p.waitForSelector('#broadcast-error:not(:empty)');
    expect(await p.textContent('#broadcast-error')).toBe('本小时可发送的广播已达上限，请 30 分钟后再试。');
  });

  it('hides the worklist and the broadcast form from other roles, and asks the API for neither', async () => {
    for (const who of [w.residentA1, w.deptHaidian, w.staffA1]) {
      const watched = await page(LAPTOP);
      await signIn(watched.page, t.url, who.username, `${who.username}-pass-1`);
      await watched.page.waitForSelector('#board-error:not(:empty)');
      expect(await watched.page.isHidden('#escalations')).toBe(true);
      expect(await watched.page.isHidden('#broadcasts')).toBe(true);
      expect(watched.requests.filter((url) => /\/(escalations|broadcasts)\b/.test(new URL(url).pathname))).toEqual([]);
    }
  });
});
