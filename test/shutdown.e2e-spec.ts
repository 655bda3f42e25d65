import { spawn } from 'node:child_process';
import path from 'node:path';
import { startTestApp, type TestApp } from './support/test-app';
import { spawnWorker, suitePrefix } from './support/test-worker';
import { waitFor } from './support/wait';

const ROOT = path.resolve(__dirname, '..');
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Stopping always finishes (issue: a worker with Redis unreachable never exited), and no process outlives `npm start`'s supervisor. */
describe('shutdown', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp('shutdown', { QUEUE_PREFIX: suitePrefix('shutdown') });
  }, 60_000);
  afterAll(() => t?.close());

  it('a worker whose Redis is unreachable exits on SIGTERM within SHUTDOWN_TIMEOUT_MS', async () => {
    const worker = await spawnWorker({ REDIS_URL: 'redis://127.0.0.1:1', SHUTDOWN_TIMEOUT_MS: '1500' });
    await worker.kill('SIGTERM');
    const { code } = await worker.exited;
    expect(worker.output()).toContain('SIGTERM: closing');
    // closed in time, or cut short by the deadline: either way it is gone
    expect([0, 1]).toContain(code);
  }, 60_000);

  it('a worker stops when the supervisor that started it is SIGKILLed', async () => {
    const script = [
      "const { spawnSupervised } = require('./apps/cli/src/supervisor');",
      "const child = spawnSupervised(['-r', './test/support/register-ts.js', 'apps/worker/src/main.ts']);",
      "console.log('CHILD ' + child.pid);",
      'setInterval(() => undefined, 1000);',
    ].join('\n');
    const supervisor = spawn(process.execPath, ['-r', './test/support/register-ts.js', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '5000', FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    supervisor.stdout.on('data', (d: Buffer) => (output += d.toString()));
    supervisor.stderr.on('data', (d: Buffer) => (output += d.toString()));
    let childPid = 0;
    try {
      await waitFor(() => output.includes('worker started'), 45_000, 'the supervised worker to start');
      childPid = Number(/CHILD (\d+)/.exec(output)?.[1]);
      expect(isAlive(childPid)).toBe(true);

      supervisor.kill('SIGKILL');
      await waitFor(() => !isAlive(childPid), 20_000, `worker ${childPid} to exit after its supervisor died (output: ${output.slice(-500)})`);
      expect(output).toContain('the supervisor went away: closing');
    } finally {
      if (supervisor.exitCode === null) supervisor.kill('SIGKILL');
      if (childPid && isAlive(childPid)) process.kill(childPid, 'SIGKILL');
    }
  }, 90_000);
});
