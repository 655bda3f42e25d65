'use strict';
// Self time by function (and by package) from a .cpuprofile:
//   node bench/support/summarise-profile.js FILE.cpuprofile [top=25]
const fs = require('node:fs');

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/support/summarise-profile.js FILE.cpuprofile [top]');
  process.exit(1);
}
const top = Number(topArg || 25);
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

// Sample counts per node, time per sample from the timeDeltas.
const counts = new Map();
for (const id of profile.samples) counts.set(id, (counts.get(id) || 0) + 1);
const totalUs = profile.endTime - profile.startTime;
const usPerSample = totalUs / profile.samples.length;

function where(url) {
  if (!url) return '(native/V8)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith('node:')) return 'node:internal';
  const d = /\/dist\/(.*)$/.exec(url);
  return d ? `app:${d[1].split('/').slice(0, 3).join('/')}` : url.replace(/^file:\/\//, '');
}

const fnSelf = new Map();
const pkgSelf = new Map();
for (const [id, count] of counts) {
  const n = byId.get(id);
  const cf = n.callFrame;
  const fn = `${cf.functionName || '(anonymous)'}  ${where(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
  fnSelf.set(fn, (fnSelf.get(fn) || 0) + count);
  const pkg = cf.url ? where(cf.url) : cf.functionName || '(native)';
  pkgSelf.set(pkg, (pkgSelf.get(pkg) || 0) + count);
}
const total = profile.samples.length;
const pct = (c) => `${((100 * c) / total).toFixed(1).padStart(5)}%`;
console.log(`${file}: ${(totalUs / 1e6).toFixed(1)}s, ${total} samples (${usPerSample.toFixed(0)} µs each)`);
console.log('\nself time by package / category:');
for (const [k, c] of [...pkgSelf].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${pct(c)}  ${k}`);
console.log(`\ntop ${top} functions by self time:`);
for (const [k, c] of [...fnSelf].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(c)}  ${k}`);
