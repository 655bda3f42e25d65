import { QUEUES } from '@kepu/notifications';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { login } from './support/world';
import { ADMIN, startTestApp, type TestApp } from './support/test-app';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition → samples; enough of the format for these assertions. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key as string] = value as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

const find = (samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

const QUEUE_NAMES = Object.values(QUEUES);
const STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'];

describe('GET /metrics', () => {
  let t: TestApp;
  let auth: { Authorization: string };
  const scrape = async (): Promise<Sample[]> => {
    const res = await t.http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    return parseMetrics(res.text);
  };

  beforeAll(async () => {
    // Queues of their own, so the depths below are this suite's and nobody else's.
    t = await startTestApp('metrics', { QUEUE_PREFIX: `{kepu_test_metrics_${process.pid}}` });
    auth = (await login(t, ADMIN.username, ADMIN.password)).auth;
  });
  afterAll(async () => {
    await Promise.all(QUEUE_NAMES.map((name) => t.app.get<Queue>(getQueueToken(name)).obliterate({ force: true })));
    await t.close();
  });

  it('answers without a token, in Prometheus text, with the process metrics', async () => {
    const res = await t.http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(find(parseMetrics(res.text), 'process_cpu_user_seconds_total')).toHaveLength(1);
  });

  it('times requests by route template, never by raw URL', async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of ids) await t.http().get(`/orders/${id}`).set(auth).expect(404);
    await t.http().get(`/no-such-route/${ids[0]}`).expect(404);
    const res = await t.http().get('/metrics').expect(200);
    const samples = parseMetrics(res.text);
    const count = find(samples, 'http_request_duration_seconds_count', { method: 'GET', route: '/orders/:id', status_code: '404' });
    expect(count.map((s) => s.value)).toEqual([3]);
    expect(find(samples, 'http_request_duration_seconds_bucket', { route: '/orders/:id', le: '+Inf' })[0]?.value).toBe(3);
    expect(find(samples, 'http_request_duration_seconds_count', { route: 'unmatched', status_code: '404' })[0]?.value).toBeGreaterThanOrEqual(1);
    for (const id of ids) expect(res.text).not.toContain(id);
  });

  it('reports every queue by state, read from the queue at scrape time', async () => {
    const timers = t.app.get<Queue>(getQueueToken(QUEUES.timers));
    await timers.add('expire-due', { orderId: randomUUID() }, { delay: 3_600_000, jobId: `metrics-${randomUUID()}` });
    const samples = await scrape();
    for (const queue of QUEUE_NAMES) {
      expect(find(samples, 'kepu_queue_jobs', { queue }).map((s) => s.labels.state).sort()).toEqual([...STATES].sort());
      expect(find(samples, 'kepu_metrics_source_up', { source: `queue:${queue}` })[0]?.value).toBe(1);
    }
    expect(find(samples, 'kepu_queue_jobs', { queue: 'timers', state: 'delayed' })[0]?.value).toBe(1);
    expect(find(samples, 'kepu_queue_jobs', { queue: 'notifications', state: 'waiting' })[0]?.value).toBe(0);
  });

  it('reports the outbox backlog and deliveries by status from PostgreSQL', async () => {
    const { rows } = await t.db.query<{ id: string }>(`SELECT id FROM users WHERE username = $1`, [ADMIN.username]);
    const adminId = rows[0]?.id;
    await t.db.query(`INSERT INTO outbox (type, payload) VALUES ('metrics.test', '{}'), ('metrics.test', '{}')`);
    await t.db.query(`INSERT INTO outbox (type, payload, published_at) VALUES ('metrics.test', '{}', now())`);
    const delivery = (status: string) =>
      t.db.query(
        `INSERT INTO deliveries (user_id, source_id, channel, address, type, title, body, status) VALUES ($1, $2, 'sms', '13800000000', 't', 't', 't', $3)`,
        [adminId, randomUUID(), status],
      );
    await delivery('failed');
    await delivery('failed');
    await delivery('delivered');
    const backlog = Number((await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM outbox WHERE published_at IS NULL`)).rows[0]?.n);
    expect(backlog).toBeGreaterThanOrEqual(2);

    const samples = await scrape();
    expect(find(samples, 'kepu_outbox_backlog').map((s) => s.value)).toEqual([backlog]);
    const byStatus = Object.fromEntries(find(samples, 'kepu_deliveries').map((s) => [s.labels.status, s.value]));
    expect(byStatus).toEqual({ pending: 0, delivered: 1, failed: 2 });
  });

  it('is documented in the OpenAPI document as text/plain under operations', async () => {
    const doc = (await t.http().get('/docs-json').expect(200)).body as {
      paths: Record<string, { get?: { tags?: string[]; responses: Record<string, { content?: Record<string, unknown> }> } }>;
    };
    const operation = doc.paths['/metrics']?.get;
    expect(operation?.tags).toContain('operations');
    expect(Object.keys(operation?.responses['200']?.content ?? {})).toContain('text/plain');
  });
});

describe('GET /metrics while the queue backend is down', () => {
  let t: TestApp;
  beforeAll(async () => {
    // nothing listens on port 1
    t = await startTestApp('metrics_down', { REDIS_URL: 'redis://127.0.0.1:1' });
  });
  afterAll(() => t.close());

  it('still answers, skipping the queues and saying so', async () => {
    const started = Date.now();
    const res = await t.http().get('/metrics').expect(200);
    expect(Date.now() - started).toBeLessThan(5000);
    const samples = parseMetrics(res.text);
    expect(find(samples, 'kepu_queue_jobs')).toEqual([]);
    for (const queue of QUEUE_NAMES) expect(find(samples, 'kepu_metrics_source_up', { source: `queue:${queue}` })[0]?.value).toBe(0);
    expect(find(samples, 'kepu_outbox_backlog')).toHaveLength(1);
    expect(find(samples, 'kepu_metrics_source_up', { source: 'deliveries' })[0]?.value).toBe(1);
  });
});
