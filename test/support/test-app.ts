import { hashPassword } from '@kepu/auth';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Pool } from 'pg';
import request from 'supertest';
import { createApiApp } from '../../apps/api/src/app.factory';
import { migrateQueueSchema } from './queue-schema';
import { createSuiteDatabase, dropDatabase } from './test-database';

export const ADMIN = { username: 'admin', password: 'admin-pass-1' };
export const TEST_JWT_SECRET = 'test-secret-0123456789abcdef-0123456789';

export interface TestApp {
  app: NestFastifyApplication;
  /** Base URL of the listening API, for supertest and raw parallel fetches. */
  url: string;
  http: () => ReturnType<typeof request>;
  /** Direct database access for assertions (row counts, events). */
  db: Pool;
  close: () => Promise<void>;
}

/**
 * Boots the real API on its own copy of the template database, listening on
 * an ephemeral port so parallel requests are real concurrent connections.
 */
export async function startTestApp(suite: string, env: Record<string, string> = {}): Promise<TestApp> {
  const databaseUrl = await createSuiteDatabase(suite);
  // BullMQ's PostgreSQL backend needs its schema before the API's queues connect.
  if (env.QUEUE_BACKEND === 'postgres') await migrateQueueSchema(databaseUrl);
  Object.assign(process.env, {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'silent',
    LOGIN_RATE_LIMIT_PER_MINUTE: '1000',
    LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE: '1000',
    // suites create many orders and claims as one user; test/limits.e2e-spec.ts sets its own limits
    WRITE_RATE_LIMIT_PER_HOUR: '100000',
    SLOT_CLAIMS_PER_ORDER_PER_DAY: '1000',
    ...env,
  });
  const db = new Pool({ connectionString: databaseUrl, max: 4 });
  // Teardown drops the database WITH (FORCE): an idle pooled client terminated then
  // must not become an unhandled error that fails the next suite in this worker.
  db.on('error', () => undefined);
  await db.query(`INSERT INTO users (username, password_hash, display_name, role) VALUES ($1, $2, 'City administrator', 'city_admin')`, [
    ADMIN.username,
    await hashPassword(ADMIN.password),
  ]);
  const app = await createApiApp({ logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const url = typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : '';
  return {
    app,
    url,
    http: () => request(url),
    db,
    close: async () => {
      await app.close();
      await db.end();
      await dropDatabase(databaseUrl);
    },
  };
}

export async function count(db: Pool, table: string, where = 'TRUE', params: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`, params);
  return Number(rows[0]?.n ?? 0);
}
