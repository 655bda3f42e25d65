import { type ChildProcess, spawn } from 'node:child_process';

/**
 * Starts an app (API or worker) as `npm start`'s child. Its own process group:
 * a terminal's Ctrl-C reaches only the supervisor, which forwards it once (Nest
 * must not get both the terminal's signal and the forwarded one). An IPC
 * channel: when the supervisor dies, even by SIGKILL, the child sees the channel
 * close ('disconnect') and stops itself (stopOnSignalsAndSupervisorLoss) instead
 * of living on in its own group, holding the port and the connections.
 */
export function spawnSupervised(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; stdio?: 'inherit' | 'pipe' } = {}): ChildProcess {
  const out = options.stdio ?? 'inherit';
  return spawn(process.execPath, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', out, out, 'ipc'],
    detached: true,
  });
}
