'use strict';
// What every benchmark needs: child processes (API, worker, reference servers)
// that log to their own file, stop with SIGTERM then SIGKILL and never outlive
// the run; JSON over HTTP on 127.0.0.1; a PostgreSQL client for setup and checks.
const { spawn } = require('node:child_process');
const { Client } = require('pg');
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

  /** Resolves once the child answers GET /health with one of `okStatuses`; fails if it exits first. */
  async function waitForHttp(name, child, port, timeoutMs, okStatuses = [200]) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!children.has(child)) throw new Error(`${name} exited before it served HTTP`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (okStatuses.includes(res.status)) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${name} did not answer on 127.0.0.1:${port} within ${timeoutMs / 1000}s`);
  }

  return { startChild, stopChild, killAllNow, waitForHttp, children };
}

async function httpRequest(port, method, urlPath, { token, body, timeoutMs = 10_000 } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

async function expectStatus(what, promise, statuses) {
  const res = await promise;
  if (!statuses.includes(res.status)) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
  return res.body;
}

async function withPg(url, fn) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Runs a benchmark's main(): every child it started is killed when main ends,
 * fails, or overruns `timeoutS` (exit 2), so no API or worker outlives the run.
 * @param {() => Promise<void>} main
 * @param {{ timeoutS: number, killAllNow: () => void }} options
 */
function runMain(main, { timeoutS, killAllNow }) {
  const deadline = setTimeout(() => {
    log(`timed out after ${timeoutS}s`);
    killAllNow();
    process.exit(2);
  }, timeoutS * 1000);
  deadline.unref();
  main().then(
    () => {
      killAllNow();
      process.exit(process.exitCode || 0);
    },
    (err) => {
      log(`failed: ${err && err.stack ? err.stack : err}`);
      killAllNow();
      process.exit(1);
    },
  );
}

module.exports = { createChildren, log, httpRequest, expectStatus, withPg, runMain };
