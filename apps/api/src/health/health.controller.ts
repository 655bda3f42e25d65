import { Public } from '@kepu/auth';
import { AppConfig } from '@kepu/config';
import { DependencyUnavailableError } from '@kepu/core';
import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, type HealthCheckResult, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { ProblemView } from '../problem.view';
import { RedisHealthIndicator } from './redis.health';

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly config: AppConfig,
  ) {}

  @Public()
  @Get()
  @ApiOkResponse({ description: '{ status: "ok", info: { database, redis } }' })
  @ApiServiceUnavailableResponse({ type: ProblemView, description: 'DEPENDENCY_UNAVAILABLE, with the failing checks under `error`' })
  async check(): Promise<HealthCheckResult> {
    try {
      const checks = [() => this.database.pingCheck('database', { timeout: 2000 })];
      // With the PostgreSQL queue backend nothing needs Redis, health included.
      if (this.config.queueBackend === 'redis') checks.push(() => this.redis.check('redis'));
      return await this.health.check(checks);
    } catch (error) {
      const details = (error as { getResponse?: () => unknown }).getResponse?.();
      const failed = Object.keys((details as { error?: Record<string, unknown> } | undefined)?.error ?? {});
      throw new DependencyUnavailableError(`Unavailable: ${failed.join(', ') || 'a dependency'}.`);
    }
  }
}
