'use strict';
// Screenshots of the coordinators' page (/dashboard) of a running API, e.g. for the
// README after `npm run demo:seed`:
//
//   node bench/screenshot-dashboard.js --url http://127.0.0.1:3000 \
//     --username admin --password kepu-admin-dev-1 [--district 110108] [--out docs/dashboard] [--full-page]
//
// signs in, waits for the chart, opens --district (default: the first row, or the
// coordinator's own district) with its gap list, and writes
//   <out>-laptop.png           1366×900, the top of the page: the period and the chart
//   <out>-laptop-district.png  the district's section: figures, subdistricts, gap list
//   <out>-phone.png            390×844 at 2×, the top of the page
// (--full-page: the laptop and phone shots take the whole page). Needs Debian's
// chromium (or CHROMIUM_PATH).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const VIEWPORTS = { laptop: { width: 1366, height: 900 }, phone: { width: 390, height: 844 } };

function parseArgs(argv) {
  const options = { url: 'http://127.0.0.1:3000', username: 'admin', password: 'kepu-admin-dev-1', district: '', out: 'test-output/dashboard/dashboard', fullPage: false };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--full-page') {
      options.fullPage = true;
      i -= 1;
      continue;
    }
    const name = argv[i].replace(/^--/, '');
    if (!(name in options) || argv[i + 1] === undefined) throw new Error(`unknown or empty option ${argv[i]}; options: --url, --username, --password, --district, --out, --full-page`);
    options[name] = argv[i + 1];
  }
  options.url = options.url.replace(/\/+$/, '');
  return options;
}

async function shoot(browser, options, name, viewport) {
  // reduced motion: the page scrolls to an opened district at once, not smoothly under the camera
  const context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', reducedMotion: 'reduce', deviceScaleFactor: name === 'phone' ? 2 : 1 });
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
    const save = async (suffix, shoot) => {
      const file = `${options.out}-${suffix}.png`;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      await shoot(file);
      return file;
    };
    const files = [];
    if (name === 'laptop') files.push(await save('laptop-district', (file) => page.locator('#district').screenshot({ path: file })));
    await page.evaluate(() => window.scrollTo(0, 0));
    files.unshift(await save(name, (file) => page.screenshot({ path: file, fullPage: options.fullPage })));
    return files;
  } finally {
    await context.close();
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const executablePath = process.env.CHROMIUM_PATH || execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
  try {
    for (const [name, viewport] of Object.entries(VIEWPORTS)) for (const file of await shoot(browser, options, name, viewport)) console.log(`wrote ${file}`);
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
