import { AppConfig } from '@kepu/config';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Redis } from 'ioredis';

/** What the check needs of a Redis client: just CONFIG. */
export interface RedisConfigClient {
  config(subcommand: 'GET', parameter: string): Promise<unknown>;
}

export const SAFE_EVICTION_POLICY = 'noeviction';

/**
 * Reads Redis' maxmemory-policy and warns unless it is `noeviction`: under any
 * eviction policy Redis may drop BullMQ's keys when memory runs short, and jobs
 * (notifications, deliveries, timers) vanish without an error. Managed Redis
 * often disables CONFIG; then the policy cannot be read and only a note is logged.
 * Returns the policy, or null when it could not be read.
 */
export async function checkEvictionPolicy(client: RedisConfigClient, logger: Pick<Logger, 'warn' | 'log'>): Promise<string | null> {
  let policy: string | null;
  try {
    const reply = await client.config('GET', 'maxmemory-policy');
    // CONFIG GET answers [name, value] (RESP2) or { name: value } (RESP3).
    const value = Array.isArray(reply) ? reply[1] : (reply as Record<string, unknown> | null)?.['maxmemory-policy'];
    policy = typeof value === 'string' ? value : null;
  } catch (error) {
    logger.log(
      `Could not read Redis maxmemory-policy (${(error as Error).message}); make sure it is "${SAFE_EVICTION_POLICY}", or BullMQ may lose jobs.`,
    );
    return null;
  }
  if (policy === null) {
    logger.log(`Redis did not report maxmemory-policy; make sure it is "${SAFE_EVICTION_POLICY}", or BullMQ may lose jobs.`);
  } else if (policy !== SAFE_EVICTION_POLICY) {
    logger.warn(
      `Redis maxmemory-policy is "${policy}": under memory pressure Redis evicts keys and BullMQ silently loses jobs. ` +
        `Set it to "${SAFE_EVICTION_POLICY}" (maxmemory-policy ${SAFE_EVICTION_POLICY} in redis.conf, or CONFIG SET maxmemory-policy ${SAFE_EVICTION_POLICY}).`,
    );
  }
  return policy;
}

/** Runs the check once at worker start-up, Redis backend only, without delaying the start. */
@Injectable()
export class RedisPolicyCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('RedisPolicy');

  constructor(private readonly config: AppConfig) {}

  onApplicationBootstrap(): void {
    if (this.config.queueBackend !== 'redis') return;
    // Not awaited: a Redis that is down at start-up must not hold the worker back; the processors wait for it anyway.
    void this.run();
  }

  private async run(): Promise<void> {
    // One short-lived connection that neither queues commands nor reconnects.
    const client = new Redis(this.config.redisUrl, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 2000,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await checkEvictionPolicy(client, this.logger);
    } catch (error) {
      this.logger.log(`Could not check Redis maxmemory-policy: ${(error as Error).message}`);
    } finally {
      client.disconnect();
    }
  }
}
