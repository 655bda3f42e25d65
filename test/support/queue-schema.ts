import { runMigrations } from 'bullmq';
import { withPgClient } from './pg-client';

/** BullMQ's PostgreSQL backend keeps its own schema; a suite on QUEUE_BACKEND=postgres needs it before boot. */
export async function migrateQueueSchema(databaseUrl: string): Promise<void> {
  await withPgClient(databaseUrl, (client) => runMigrations(client));
}
