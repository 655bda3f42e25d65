'use strict';
// Child processes of a benchmark (API, worker, reference servers): each logs to
// its own file, is stopped with SIGTERM then SIGKILL, and none outlives the run.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

function log(msg) {
  process.stderr.write(`[bench] ${msg}\n`);
}

/**
 * @param {{ root: string, logDir: string, env: NodeJS.ProcessEnv, appendLogs?: boolean, stopGraceMs?: number }} options
 */
function createChildren({ root, logDir, env, appendLogs = false, stopGraceMs = 8000 }) {
  const children = new Set();

  function startChild(name, args, extraEnv, { ipc = false } = {}) {
    fs.mkdirSync(logDir, { recursive: true });
    const out = fs.openSync(path.join(logDir, `${name}.log`), appendLogs ? 'a' : 'w');
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...env, ...extraEnv },
      stdio: ipc ? ['ignore', out, out, 'ipc'] : ['ignore', out, out],
    });
    fs.closeSync(out);
    child.benchName = name;
    children.add(child);
    child.on('exit', (code, signal) => {
      children.delete(child);
      if (!child.stopping) log(`${name} exited early (code ${code}, signal ${signal}); see ${path.relative(root, logDir)}/${name}.log`);
    });
    return child;
  }

  async function stopChild(child) {
    if (!children.has(child)) return;
    child.stopping = true;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
    await exited;
    clearTimeout(timer);
  }

  function killAllNow() {
    for (const child of children) {
      child.stopping = true;
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      log(`${signal}: stopping`);
      killAllNow();
      process.exit(130);
    });
  }

  return { startChild, stopChild, killAllNow, children };
}

module.exports = { createChildren, log };
