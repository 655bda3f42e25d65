import { runMigrations } from 'bullmq';
import { Client } from 'pg';

/** BullMQ's PostgreSQL backend keeps its own schema; a suite on QUEUE_BACKEND=postgres needs it before boot. */
export async function migrateQueueSchema(databaseUrl: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await runMigrations(client);
  } finally {
    await client.end();
  }
}
