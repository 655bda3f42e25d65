// Self time by function (and by package) from a .cpuprofile, then total time (self and callees)
// of the functions of our code and of the frameworks' entry points:
//   node -r ./test/support/register-ts.js bench/support/summarise-profile.ts FILE.cpuprofile [top=25]
import fs from 'node:fs';
import type { Profiler } from 'node:inspector';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node -r ./test/support/register-ts.js bench/support/summarise-profile.ts FILE.cpuprofile [top]');
  process.exit(1);
}
const top = Number(topArg || 25);
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profiler.Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const samples = profile.samples ?? [];

// Sample counts per node, time per sample from the timeDeltas.
const counts = new Map<number, number>();
for (const id of samples) counts.set(id, (counts.get(id) || 0) + 1);
const totalUs = profile.endTime - profile.startTime;
const usPerSample = totalUs / samples.length;

function where(url: string): string {
  if (!url) return '(native/V8)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m?.[1]) return m[1];
  if (url.startsWith('node:')) return 'node:internal';
  const d = /\/dist\/(.*)$/.exec(url);
  return d?.[1] ? `app:${d[1].split('/').slice(0, 3).join('/')}` : url.replace(/^file:\/\//, '');
}

const fnSelf = new Map<string, number>();
const pkgSelf = new Map<string, number>();
for (const [id, count] of counts) {
  const n = byId.get(id);
  if (!n) continue;
  const cf = n.callFrame;
  const fn = `${cf.functionName || '(anonymous)'}  ${where(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
  fnSelf.set(fn, (fnSelf.get(fn) || 0) + count);
  const pkg = cf.url ? where(cf.url) : cf.functionName || '(native)';
  pkgSelf.set(pkg, (pkgSelf.get(pkg) || 0) + count);
}
const total = samples.length;
const pct = (c: number): string => `${((100 * c) / total).toFixed(1).padStart(5)}%`;
console.log(`${file}: ${(totalUs / 1e6).toFixed(1)}s, ${total} samples (${usPerSample.toFixed(0)} µs each)`);
console.log('\nself time by package / category:');
for (const [k, c] of [...pkgSelf].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${pct(c)}  ${k}`);
console.log(`\ntop ${top} functions by self time:`);
for (const [k, c] of [...fnSelf].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(c)}  ${k}`);

// Total (inclusive) time: a sample counts once for every distinct function on its stack.
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const fnTotal = new Map<string, number>();
for (const [id, count] of counts) {
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const cf = byId.get(at)?.callFrame;
    if (!cf || !cf.url) continue;
    seen.add(`${cf.functionName || '(anonymous)'}  ${where(cf.url)}:${cf.lineNumber + 1}`);
  }
  for (const fn of seen) fnTotal.set(fn, (fnTotal.get(fn) || 0) + count);
}
console.log(`\ntop ${top} functions by total time (self and callees), below the event loop's own entry points:`);
const entry = /^(processTicksAndRejections|listOnTimeout|processTimers|emit|onStreamRead|afterWriteDispatched|runMicrotasks|\(anonymous\)) /;
for (const [k, c] of [...fnTotal].filter(([k]) => !entry.test(k)).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(c)}  ${k}`);
