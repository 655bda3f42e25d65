import { AuthHousekeepingService } from '@kepu/auth';
import { AppConfig } from '@kepu/config';
import { RateLimitService } from '@kepu/http';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';

/**
 * Every HOUSEKEEPING_INTERVAL_SECONDS (and once at start) the worker deletes
 * what no longer counts: refresh tokens expired for a day, phone codes expired
 * for an hour, login-failure rows past their lock window, rate-limit counters of
 * windows that ended a day ago. Each sweep is a few idempotent DELETEs, so
 * several workers may run it; a failed sweep is logged and tried at the next tick.
 */
@Injectable()
export class Housekeeping implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Housekeeping');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly auth: AuthHousekeepingService,
    private readonly rateLimits: RateLimitService,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.config.housekeepingIntervalSeconds * 1000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One sweep; resolves with what it deleted. */
  async sweep(): Promise<{ refreshTokens: number; phoneCodes: number; loginFailures: number; rateLimitCounters: number }> {
    const auth = await this.auth.sweep();
    return { ...auth, rateLimitCounters: await this.rateLimits.purgeExpired() };
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.sweep().then(
      (deleted) => {
        if (Object.values(deleted).some((n) => n > 0)) this.logger.log(deleted, 'housekeeping: expired rows deleted');
      },
      (error: unknown) => this.logger.warn({ err: error }, 'housekeeping sweep failed; trying again at the next interval'),
    ).finally(() => {
      this.running = undefined;
    });
  }
}
