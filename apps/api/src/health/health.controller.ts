import { Public } from '@kepu/auth';
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
  ) {}

  @Public()
  @Get()
  @ApiOkResponse({ description: '{ status: "ok", info: { database, redis } }' })
  @ApiServiceUnavailableResponse({ type: ProblemView, description: 'DEPENDENCY_UNAVAILABLE, with the failing checks under `error`' })
  async check(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.database.pingCheck('database', { timeout: 2000 }), () => this.redis.check('redis')]);
    } catch (error) {
      const details = (error as { getResponse?: () => unknown }).getResponse?.();
      const failed = Object.keys((details as { error?: Record<string, unknown> } | undefined)?.error ?? {});
      throw new DependencyUnavailableError(`Unavailable: ${failed.join(', ') || 'a dependency'}.`);
    }
  }
}
