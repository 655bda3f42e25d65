import type { Browser } from 'playwright-core';
import { DASHBOARD_CSP } from '../apps/api/src/dashboard/dashboard-page.service';
import { LAPTOP, launchChromium, openPage, signIn } from './support/browser';
import { ADMIN, startTestApp, type TestApp } from './support/test-app';
import { createWorld, type World } from './support/world';

describe('coordinators’ dashboard page', () => {
  let t: TestApp;
  let w: World;
  let browser: Browser;

  beforeAll(async () => {
    t = await startTestApp('dashboard');
    w = await createWorld(t);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('serves the page and its assets to anyone, under a same-origin-only policy; the data needs a token', async () => {
    const page = await t.http().get('/dashboard').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(page.text).toContain('lang="zh-CN"');
    for (const asset of ['dashboard.js', 'api.js', 'dashboard.css', 'vendor/chart.umd.min.js']) {
      const res = await t.http().get(`/dashboard/assets/${asset}`).expect(200);
      expect(res.headers['content-type']).toMatch(asset.endsWith('.css') ? /^text\/css/ : /javascript/);
    }
    await t.http().get('/dashboard/').expect(301).expect('location', '/dashboard');
    // Only Chart.js' UMD build leaves node_modules, and nothing outside the page's folder.
    await t.http().get('/dashboard/assets/vendor/chart.cjs').expect(404);
    for (const outside of ['/dashboard/assets/vendor/../../../package.json', '/dashboard/assets/%2e%2e/index.html', '/dashboard/assets/vendor/%2e%2e/package.json'])
      expect([403, 404]).toContain((await t.http().get(outside)).status);
    expect((await t.http().get('/coverage/districts').expect(401)).body.code).toBe('UNAUTHENTICATED');
  });

  it('says in Chinese when the password is wrong, or the account is not a coordinator’s', async () => {
    const { page, close } = await openPage(browser, LAPTOP);
    try {
      await signIn(page, t.url, ADMIN.username, 'not-the-password');
      await page.waitForSelector('#login-error:not(:empty)');
      expect(await page.textContent('#login-error')).toBe('用户名或密码错误。');
      expect(await page.isHidden('#board')).toBe(true);

      await signIn(page, t.url, w.residentA1.username, `${w.residentA1.username}-pass-1`);
      await page.waitForSelector('#board-error:not(:empty)');
      expect(await page.textContent('#board-error')).toBe('您的账号无权查看覆盖情况（仅限市级管理员和区级协调员）。');
    } finally {
      await close();
    }
  });

  it('shows a failing API’s problem in Chinese, and sends an expired sign-in back to the form', async () => {
    const { page, close } = await openPage(browser, LAPTOP);
    try {
      await page.route('**/coverage/districts?*', (route) =>
        route.fulfill({
          status: 503,
          contentType: 'application/problem+json',
          headers: { 'retry-after': '5' },
          body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'Database down', code: 'DEPENDENCY_UNAVAILABLE' }),
        }),
      );
      await signIn(page, t.url, ADMIN.username, ADMIN.password);
      await page.waitForSelector('#board-error:not(:empty)');
      expect(await page.textContent('#board-error')).toBe('服务暂时不可用，请稍后重试。');

      await page.unroute('**/coverage/districts?*');
      await page.route('**/coverage/districts?*', (route) =>
        route.fulfill({ status: 401, contentType: 'application/problem+json', body: JSON.stringify({ status: 401, code: 'UNAUTHENTICATED', detail: 'Token expired' }) }),
      );
      await page.click('#period button[type=submit]');
      await page.waitForSelector('#login:not([hidden])');
      expect(await page.textContent('#login-error')).toBe('登录已失效，请重新登录。');
      expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);
    } finally {
      await close();
    }
  });
});
