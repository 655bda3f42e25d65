'use strict';
// Screenshots of the coordinators' page (/dashboard) of a running API, for the README,
// after `npm run demo:seed` and with a worker running (README "Coordinators' dashboard"):
//
//   node bench/screenshot-dashboard.js --url http://127.0.0.1:3000 [--out docs/screenshots] [--district 110108] [--act]
//     [--username city.admin --password kepu-demo-1] [--coordinator haidian.coordinator --coordinator-password kepu-demo-1]
//
// Signs in as the city admin at laptop width (1366×900) and writes, each clipped to one
// section of the page (at most --max-height px tall, so every PNG stays small):
//   <out>/city-laptop.png          the coverage of the 16 districts
//   <out>/escalations-laptop.png   the escalation worklist
//   <out>/scorecards-laptop.png    the 三率 scorecards
//   <out>/district-laptop.png      --district drilled down: figures and subdistricts
//   <out>/trend-gaps-laptop.png    its weekly coverage trend and gap list
//   <out>/broadcasts-laptop.png    the broadcast form, a broadcast's progress, the recent ones
// then as the district coordinator at phone width (390×844):
//   <out>/coordinator-phone.png    the top of the page
//   <out>/escalations-phone.png    the worklist
//   <out>/broadcasts-phone.png     the broadcast form and progress
// With --act it also acts through the page, as a coordinator would, so the shots show it:
// the coordinator acknowledges its oldest open escalation with a note and sends a broadcast
// to its district; the city admin sends one to --district (both urgent, in-app only, and
// waited for until nothing is pending; each counts against BROADCASTS_PER_HOUR). Needs
// Debian's chromium (or CHROMIUM_PATH) and a CJK font (fonts-wqy-microhei).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const LAPTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };

function parseArgs(argv) {
  const options = {
    url: 'http://127.0.0.1:3000',
    username: 'city.admin',
    password: 'kepu-demo-1',
    coordinator: 'haidian.coordinator',
    'coordinator-password': 'kepu-demo-1',
    district: '110108',
    out: 'test-output/dashboard',
    'max-height': '1000',
    act: false,
  };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--act') {
      options.act = true;
      i -= 1;
      continue;
    }
    const name = argv[i].replace(/^--/, '');
    if (!(name in options) || name === 'act' || argv[i + 1] === undefined) throw new Error(`unknown or empty option ${argv[i]}; options: ${Object.keys(options).map((k) => `--${k}`).join(', ')}`);
    options[name] = argv[i + 1];
  }
  options.url = options.url.replace(/\/+$/, '');
  options.maxHeight = Number(options['max-height']);
  return options;
}

/** Polls an expression in the page (the page's CSP refuses the string form of waitForFunction). */
async function until(page, predicate, arg, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate(predicate, arg))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function signIn(page, options, username, password) {
  await page.goto(`${options.url}/dashboard`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('#login-form button[type=submit]');
  // the city view is busy until a coordinator's own district has opened too
  await page.waitForSelector('#city[aria-busy="false"] #district-table tbody tr, #login-error:not(:empty), #board-error:not(:empty)');
  const error = (await page.$eval('#login-error', (e) => e.textContent)) || (await page.$eval('#board-error', (e) => e.textContent));
  if (error) throw new Error(`the page says, for ${username}: ${error}`);
  await page.waitForSelector('#escalations[aria-busy="false"]');
}

/** One section of the page, from its top (or from the element `from` inside it), at most maxHeight px tall. */
async function shootSection(page, selector, file, maxHeight, from = selector) {
  const section = page.locator(selector);
  await page.locator(from).scrollIntoViewIfNeeded();
  const box = await section.boundingBox();
  const top = await page.locator(from).boundingBox();
  const scroll = await page.evaluate(() => ({ x: window.scrollX, y: window.scrollY }));
  const height = Math.min(box.y + box.height - top.y, maxHeight);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: true, clip: { x: box.x + scroll.x, y: top.y + scroll.y, width: box.width, height } });
  return file;
}

/** Sends a broadcast through the form and waits until the page shows nothing pending. */
async function broadcast(page, { title, body, districtCode }) {
  if (districtCode) await page.check(`#broadcast-districts input[value="${districtCode}"]`);
  await page.check('#broadcast-urgent');
  await page.fill('#broadcast-title', title);
  await page.fill('#broadcast-body', body);
  await page.click('#broadcast-send');
  await page.waitForSelector('#broadcast-progress:not([hidden]), #broadcast-error:not(:empty)');
  const error = await page.$eval('#broadcast-error', (e) => e.textContent);
  if (error) throw new Error(`the page says: ${error}`);
  await until(page, () => document.querySelector('#broadcast-progress-title').textContent.endsWith('已发送完毕'), undefined, 'the broadcast to be sent', 120_000);
  await until(page, (t) => document.querySelector('#broadcast-table tbody tr td')?.textContent.endsWith(t), title, 'the broadcast in the recent list');
}

async function asCityAdmin(browser, options) {
  const context = await browser.newContext({ viewport: LAPTOP, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', reducedMotion: 'reduce' });
  const files = [];
  try {
    const page = await context.newPage();
    await signIn(page, options, options.username, options.password);
    await page.waitForSelector('#scorecards[aria-busy="false"] #scorecard-table tbody tr');
    const out = (name) => path.join(options.out, `${name}.png`);
    files.push(await shootSection(page, '#city', out('city-laptop'), options.maxHeight));
    files.push(await shootSection(page, '#escalations', out('escalations-laptop'), options.maxHeight));
    files.push(await shootSection(page, '#scorecards', out('scorecards-laptop'), options.maxHeight));
    await page.click(`#district-table tr[data-district-code="${options.district}"] button`);
    await page.waitForSelector('#district:not([hidden])[aria-busy="false"] #gap-table tbody tr');
    files.push(await shootSection(page, '#district', out('district-laptop'), options.maxHeight));
    files.push(await shootSection(page, '#district', out('trend-gaps-laptop'), options.maxHeight, '#district .trend-head'));
    if (options.act) await broadcast(page, { title: '暴雨蓝色预警', body: '今夜至明晨有大到暴雨，各社区户外科普活动顺延，请居民减少外出。', districtCode: options.district });
    files.push(await shootSection(page, '#broadcasts', out('broadcasts-laptop'), options.maxHeight));
  } finally {
    await context.close();
  }
  return files;
}

async function asCoordinator(browser, options) {
  const context = await browser.newContext({ viewport: PHONE, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', reducedMotion: 'reduce', isMobile: true, hasTouch: true });
  const files = [];
  try {
    const page = await context.newPage();
    await signIn(page, options, options.coordinator, options['coordinator-password']);
    const out = (name) => path.join(options.out, `${name}.png`);
    if (options.act) {
      // The oldest ordinary open breach: acknowledged with a note, as a coordinator does after a phone call.
      const item = page.locator('#escalation-list > li[data-status="open"]:not(.urgent)').first();
      if ((await item.count()) > 0) {
        await item.locator('button.acknowledge').click();
        await item.locator('textarea').fill('已电话联系区科协，今日内领单');
        await item.locator('form button[type=submit]').click();
        await page.waitForSelector('#escalation-list > li[data-status="acknowledged"]');
      }
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    fs.mkdirSync(options.out, { recursive: true });
    await page.screenshot({ path: out('coordinator-phone') });
    files.push(out('coordinator-phone'));
    files.push(await shootSection(page, '#escalations', out('escalations-phone'), options.maxHeight + 200));
    if (options.act) await broadcast(page, { title: '周末社区科普讲座', body: '本周六上午九点，各社区活动中心举办防灾减灾科普讲座，欢迎居民参加。' });
    files.push(await shootSection(page, '#broadcasts', out('broadcasts-phone'), options.maxHeight + 400));
  } finally {
    await context.close();
  }
  return files;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const executablePath = process.env.CHROMIUM_PATH || execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
  try {
    for (const file of [...(await asCoordinator(browser, options)), ...(await asCityAdmin(browser, options))]) console.log(`wrote ${file} (${Math.round(fs.statSync(file).size / 1024)} KB)`);
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
