import { AuthHousekeepingModule } from '@kepu/auth';
import { AppConfig, ConfigModule, LOG_REDACT_PATHS } from '@kepu/config';
import { CoverageModule } from '@kepu/coverage';
import { DbModule } from '@kepu/db';
import { RateLimitModule } from '@kepu/http';
import { BroadcastsWorkerModule, NotificationsWorkerModule } from '@kepu/notifications';
import { ClockModule } from '@kepu/orders';
import { OrderFulfilmentModule } from '@kepu/volunteers';
import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { CoverageBootstrap } from './coverage-bootstrap';
import { Housekeeping } from './housekeeping';
import { BroadcastsProcessor } from './processors/broadcasts.processor';
import { CoverageProcessor } from './processors/coverage.processor';
import { DeliveriesProcessor } from './processors/deliveries.processor';
import { NotificationsProcessor } from './processors/notifications.processor';
import { TimersProcessor } from './processors/timers.processor';
import { RedisPolicyCheck } from './redis-policy.check';

/** The worker: outbox relay plus one processor per queue. It logs through pino as the API does: LOG_LEVEL, JSON lines, the same redaction. */
@Module({
  imports: [
    ConfigModule,
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({ pinoHttp: { level: config.logLevel, redact: { paths: [...LOG_REDACT_PATHS], remove: true } } }),
    }),
    DbModule, ClockModule.forRoot(), OrderFulfilmentModule, NotificationsWorkerModule, CoverageModule, AuthHousekeepingModule, RateLimitModule, BroadcastsWorkerModule],
  providers: [NotificationsProcessor, DeliveriesProcessor, TimersProcessor, CoverageProcessor, CoverageBootstrap, RedisPolicyCheck, Housekeeping, BroadcastsProcessor],
})
export class WorkerModule {}
