const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `predicate` until it returns true (or a truthy value, which is returned),
 * failing with `what` and the last error after `timeoutMs`.
 */
export async function waitFor<T>(
  predicate: () => Promise<T | false | null | undefined> | T | false | null | undefined,
  timeoutMs = 10_000,
  what = 'condition',
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}

export { sleep };

/**
 * Rate limits count in fixed windows aligned to the epoch (RateLimitService). A test
 * that counts hits in one window calls this first: when less than `marginMs` of the
 * current `windowSeconds` window is left, it waits for the next one, so its count is
 * not cut in two and its Retry-After is the window it means. `offsetMs` shifts the
 * windows, e.g. 8 h for days in Beijing time.
 */
export async function clearOfWindowEnd(windowSeconds: number, marginMs = 15_000, offsetMs = 0): Promise<void> {
  const windowMs = windowSeconds * 1000;
  const left = windowMs - ((Date.now() + offsetMs) % windowMs);
  if (left < marginMs) await sleep(left + 200);
}
