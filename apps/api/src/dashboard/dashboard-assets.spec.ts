import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CHART_JS_DIR, CHART_JS_FILE, DASHBOARD_PUBLIC_DIR } from './dashboard-page.service';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]));
}

const files = filesUnder(DASHBOARD_PUBLIC_DIR).map((path) => ({ name: relative(DASHBOARD_PUBLIC_DIR, path), text: readFileSync(path, 'utf8') }));
const html = readFileSync(join(DASHBOARD_PUBLIC_DIR, 'index.html'), 'utf8');

describe('dashboard assets', () => {
  it('are the page, its script modules and its style sheet', () => {
    expect(files.map((f) => f.name).sort()).toEqual(['assets/api.js', 'assets/dashboard.css', 'assets/dashboard.js', 'index.html']);
  });

  // Deployments may have no internet access: nothing may come from a CDN.
  it.each(files.map((f) => [f.name, f.text]))('%s names no external URL', (_name, text) => {
    expect(text.match(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s'"`)]*/gi) ?? []).toEqual([]);
  });

  // `script-src 'self'; style-src 'self'` must be enough for the page.
  it('has no inline script, style or event handler', () => {
    expect(html.match(/<script(?![^>]*\ssrc=)[^>]*>/gi) ?? []).toEqual([]);
    expect(html.match(/<style\b/gi) ?? []).toEqual([]);
    expect(html.match(/\sstyle=/gi) ?? []).toEqual([]);
    expect(html.match(/\son[a-z]+=/gi) ?? []).toEqual([]);
  });

  it('loads every script and style sheet from the same origin, by relative URL', () => {
    const urls = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    expect(urls).toEqual(['data:,', 'dashboard/assets/dashboard.css', 'dashboard/assets/vendor/chart.umd.min.js', 'dashboard/assets/dashboard.js']);
  });

  // Text from the API goes in through textContent, never parsed as HTML.
  it('never writes HTML from data', () => {
    for (const file of files.filter((f) => f.name.endsWith('.js'))) expect(file.text).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  it('finds the Chart.js UMD build in node_modules', () => {
    expect(existsSync(join(CHART_JS_DIR, CHART_JS_FILE))).toBe(true);
  });
});
