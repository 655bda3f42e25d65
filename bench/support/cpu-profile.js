'use strict';
// Preloaded into the API by bench/orders.bench.js (`node --require`) when
// BENCH_CPU_PROF_DIR is set: the first SIGUSR2 starts the V8 CPU profiler, the
// second stops it and writes <dir>/api-<pid>.cpuprofile. Unlike --cpu-prof this
// covers only the measured rounds and does not depend on how the app exits.
const fs = require('node:fs');
const path = require('node:path');
const inspector = require('node:inspector');

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  let running = false;
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 500 }, () => session.post('Profiler.start')));
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, result) => {
      if (err) return console.error('cpu-profile:', err.message);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `api-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
