import type { TestApp } from './test-app';

/**
 * `TestApp.close()` ends the assertion pool and at once drops the database
 * WITH (FORCE); a pooled connection still saying goodbye is then terminated by
 * the server, and a pool without an 'error' listener turns that into an
 * unhandled error in the Jest worker, failing whichever suite runs next there.
 * Query errors still reach their callers; only idle-client errors are dropped.
 */
export function quietTeardown(t: TestApp): void {
  t.db.on('error', () => undefined);
}
