import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { waitFor } from './wait';

/** Screenshots and other artefacts a person may want to look at after a run (git-ignored). */
export const TEST_OUTPUT_DIR = join(__dirname, '..', '..', 'test-output');

export const LAPTOP = { width: 1366, height: 900 };
export const PHONE = { width: 375, height: 812 };

/**
 * Debian's chromium (installed by .ci/run when missing) driven by playwright-core,
 * which brings no browser of its own; CHROMIUM_PATH points at another binary.
 * `--no-sandbox` because the tests run as root.
 */
export function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH || execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
}

export interface WatchedPage {
  page: Page;
  /** Every URL the page asked for, in order. */
  requests: string[];
  /** Content-Security-Policy violations and uncaught errors the page reported. */
  problems: string[];
  close: () => Promise<void>;
}

/** A fresh context (own sessionStorage) at a viewport, in Chinese, recording what the page does. */
export async function openPage(browser: Browser, viewport: { width: number; height: number }): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', reducedMotion: 'reduce', acceptDownloads: true });
  const page = await context.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  return { page, requests, problems, close: () => context.close() };
}

export async function signIn(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/dashboard`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('#login-form button[type=submit]');
}

// The expressions below run in the page; the tests compile without the DOM's types, so they are strings.

/** The text of every body row of a table, cell by cell. */
export function tableRows(page: Page, selector: string): Promise<string[][]> {
  return page.evaluate<string[][]>(
    `Array.from(document.querySelectorAll(${JSON.stringify(`${selector} tbody tr`)}), (row) => Array.from(row.querySelectorAll('td'), (td) => td.textContent.trim()))`,
  );
}

/**
 * Waits until an expression is true in the page. Not page.waitForFunction: its
 * string form evaluates with `new Function`, which the page's policy refuses.
 */
export function until(page: Page, expression: string, timeoutMs = 10_000): Promise<boolean> {
  return waitFor(() => page.evaluate<boolean>(expression), timeoutMs, expression, 50);
}

/** True when the document is wider than the viewport, i.e. the page scrolls sideways. */
export function overflowsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate<boolean>('document.documentElement.scrollWidth > window.innerWidth');
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = join(TEST_OUTPUT_DIR, 'dashboard');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
