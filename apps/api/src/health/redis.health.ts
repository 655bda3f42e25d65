import { AppConfig } from '@kepu/config';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Redis } from 'ioredis';

@Injectable()
export class RedisHealthIndicator implements OnModuleDestroy {
  private readonly client: Redis;

  constructor(
    config: AppConfig,
    private readonly indicators: HealthIndicatorService,
  ) {
    // No offline queue: while Redis is down a ping fails at once instead of waiting.
    this.client = new Redis(config.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 2000 });
    this.client.on('error', () => undefined);
  }

  check(key: string) {
    return this.indicators
      .check(key)
      .attempt(async () => {
        if (this.client.status === 'wait' || this.client.status === 'end') await this.client.connect();
        await this.client.ping();
      })
      .withTimeout(2000);
  }

  async onModuleDestroy(): Promise<void> {
    this.client.disconnect();
  }
}
