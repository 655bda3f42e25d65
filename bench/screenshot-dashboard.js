'use strict';
// Screenshots of the coordinators' page (/dashboard) of a running API, at laptop
// and phone width, e.g. for the README after `npm run demo:seed`:
//
//   node bench/screenshot-dashboard.js --url http://127.0.0.1:3000 \
//     --username admin --password kepu-admin-dev-1 [--district 110108] [--out docs/dashboard]
//
// signs in, waits for the chart, opens --district (default: the first row, or the
// coordinator's own district) with its gap list, and writes <out>-laptop.png and
// <out>-phone.png (full pages). Needs Debian's chromium (or CHROMIUM_PATH).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const VIEWPORTS = { laptop: { width: 1366, height: 900 }, phone: { width: 390, height: 844 } };

function parseArgs(argv) {
  const options = { url: 'http://127.0.0.1:3000', username: 'admin', password: 'kepu-admin-dev-1', district: '', out: 'test-output/dashboard/dashboard' };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in options) || argv[i + 1] === undefined) throw new Error(`unknown or empty option ${argv[i]}; options: ${Object.keys(options).join(', ')}`);
    options[name] = argv[i + 1];
  }
  options.url = options.url.replace(/\/+$/, '');
  return options;
}

async function shoot(browser, options, name, viewport) {
  const context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', deviceScaleFactor: name === 'phone' ? 2 : 1 });
  try {
    const page = await context.newPage();
    await page.goto(`${options.url}/dashboard`);
    await page.fill('#username', options.username);
    await page.fill('#password', options.password);
    await page.click('#login-form button[type=submit]');
    // the city view is busy until a coordinator's own district has opened too
    await page.waitForSelector('#city[aria-busy="false"] #district-table tbody tr, #login-error:not(:empty), #board-error:not(:empty)');
    const error = await page.$eval('#login-error', (e) => e.textContent) || (await page.$eval('#board-error', (e) => e.textContent));
    if (error) throw new Error(`the page says: ${error}`);
    const row = options.district ? `#district-table tr[data-district-code="${options.district}"]` : '#district-table tbody tr';
    if (await page.isHidden('#district')) await page.click(`${row} button`);
    await page.waitForSelector('#district:not([hidden]):not([aria-busy="true"])');
    await page.evaluate(() => window.scrollTo(0, 0));
    const file = `${options.out}-${name}.png`;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await page.screenshot({ path: file, fullPage: true });
    return file;
  } finally {
    await context.close();
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const executablePath = process.env.CHROMIUM_PATH || execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
  try {
    for (const [name, viewport] of Object.entries(VIEWPORTS)) console.log(`wrote ${await shoot(browser, options, name, viewport)}`);
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
