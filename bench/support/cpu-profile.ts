// Preloaded into the API by bench/orders.bench.ts (`node --require`) when
// BENCH_CPU_PROF_DIR is set. Over the IPC channel, 'cpu-profile:start' starts the
// V8 CPU profiler and 'cpu-profile:stop' writes <dir>/api-<pid>.cpuprofile and
// answers 'cpu-profile:written'. Unlike --cpu-prof this covers only the measured
// rounds and does not depend on how the app exits; unlike a signal it cannot
// collide with Nest's shutdown hooks (which listen to SIGUSR2 among others).
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';

const dir = process.env.BENCH_CPU_PROF_DIR;
const send = process.send?.bind(process);
if (dir && send) {
  const session = new inspector.Session();
  session.connect();
  process.on('message', (message) => {
    if (message === 'cpu-profile:start') {
      session.post('Profiler.enable', () =>
        session.post('Profiler.setSamplingInterval', { interval: 500 }, () => session.post('Profiler.start')),
      );
    } else if (message === 'cpu-profile:stop') {
      session.post('Profiler.stop', (err, result) => {
        if (err) {
          console.error('cpu-profile:', err.message);
        } else {
          fs.mkdirSync(dir, { recursive: true });
          fs.writeFileSync(path.join(dir, `api-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
        }
        send('cpu-profile:written');
      });
    }
  });
  // The channel must not keep the app alive on its own.
  process.channel?.unref();
}
