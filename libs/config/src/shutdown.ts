/** What a process closes when it stops: a Nest application or application context. */
export interface Closable {
  close(): Promise<void>;
}

export interface ShutdownOptions {
  /** SHUTDOWN_TIMEOUT_MS: past it the process exits whether or not closing finished. */
  timeoutMs: number;
  log: (message: string) => void;
  /** For tests; `process.exit` otherwise. */
  exit?: (code: number) => void;
}

/**
 * Stops the process on SIGINT/SIGTERM, and when the supervisor that started it
 * with an IPC channel (`npm start`) goes away — even by SIGKILL, which it cannot
 * forward: its children sit in their own process groups and would otherwise keep
 * the port and the connections. Closing gets `timeoutMs`: a dependency that is
 * down (Redis unreachable, BullMQ waiting on a connection) must not keep a
 * stopping process alive. Nothing is lost by cutting it short: unpublished outbox
 * rows stay in PostgreSQL, and a job held by this process is taken back by
 * BullMQ's stalled check (or rebuilt by the queue resync) and runs again.
 * Returns the stop function (also for tests).
 */
export function stopOnSignalsAndSupervisorLoss(app: Closable, options: ShutdownOptions): (reason: string) => Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let isStopping = false;
  const stop = async (reason: string): Promise<void> => {
    if (isStopping) return;
    isStopping = true;
    options.log(`${reason}: closing`);
    const deadline = setTimeout(() => {
      options.log(`still closing after ${options.timeoutMs} ms (SHUTDOWN_TIMEOUT_MS): exiting anyway; unfinished jobs run again`);
      exit(1);
    }, options.timeoutMs);
    deadline.unref();
    try {
      await app.close();
      clearTimeout(deadline);
      exit(0);
    } catch (error) {
      clearTimeout(deadline);
      options.log(`closing failed: ${error instanceof Error ? error.message : String(error)}`);
      exit(1);
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop(signal));
  if (process.send) process.on('disconnect', () => void stop('the supervisor went away'));
  return stop;
}
