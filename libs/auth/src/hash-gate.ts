import { DependencyUnavailableError } from '@kepu/core';

/**
 * A counting semaphore for password hashes: at most `concurrency` run at once in
 * this process, up to `queue` more wait their turn (first come, first served),
 * and any beyond are refused at once with 503 DEPENDENCY_UNAVAILABLE and
 * `Retry-After: 1`. scrypt takes ~50 ms of CPU and 16 MiB each: a burst of
 * logins must not take every core and the memory of the API.
 */
export class HashGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queue) throw new DependencyUnavailableError('Too many sign-ins at once; try again in a moment.', 1);
      // The slot is handed over by the finishing task (running stays counted), so no newcomer overtakes a waiter.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** Hashes running now, and waiting: for tests and metrics. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }
}
