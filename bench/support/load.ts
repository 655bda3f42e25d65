import autocannon from 'autocannon';

export interface RecordedLoad {
  result: autocannon.Result;
  /** every response time in ms, so any percentile can be computed exactly */
  latencies: number[];
}

/** One request of a load, built per request (its own path, token, body). */
export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  token: string;
  body?: unknown;
}

/**
 * Load on 127.0.0.1:`port` for `durationS` with `connections`, each request built by
 * `next()`. autocannon reports p97.5 but not p95: every latency is kept and the
 * percentiles computed exactly.
 */
export function fireRecordingRequests(port: number, next: () => LoadRequest, durationS: number, connections: number): Promise<RecordedLoad> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}/health`,
        connections,
        duration: durationS,
        timeout: 10,
        requests: [
          {
            setupRequest: (req) => {
              const r = next();
              return {
                ...req,
                method: r.method,
                path: r.path,
                headers: { authorization: `Bearer ${r.token}`, ...(r.body === undefined ? {} : { 'content-type': 'application/json' }) },
                ...(r.body === undefined ? {} : { body: JSON.stringify(r.body) }),
              };
            },
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve({ result, latencies })),
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTimeMs: number) => latencies.push(responseTimeMs));
    instance.on('error', () => {});
  });
}

/**
 * GET load on 127.0.0.1:`port` for `durationS` with one token (the coverage, scorecard and
 * candidate benches). `urlPath` is a path, or a function giving each request its own path.
 */
export function fireRecording(
  port: number,
  urlPath: string | (() => string),
  token: string,
  durationS: number,
  connections: number,
): Promise<RecordedLoad> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}${typeof urlPath === 'function' ? '/coverage/districts' : urlPath}`,
        headers: { authorization: `Bearer ${token}` },
        connections,
        duration: durationS,
        timeout: 10,
        ...(typeof urlPath === 'function' ? { requests: [{ setupRequest: (req) => ({ ...req, path: urlPath() }) }] } : {}),
      },
      (err, result) => (err ? reject(err) : resolve({ result, latencies })),
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTimeMs: number) => latencies.push(responseTimeMs));
    instance.on('error', () => {});
  });
}
