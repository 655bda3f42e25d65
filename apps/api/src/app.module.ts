import { RateLimitModule } from '@kepu/http';
import { AccountsModule } from '@kepu/accounts';
import { AuthModule, SignupModule } from '@kepu/auth';
import { AppConfig, ConfigModule, LOG_REDACT_PATHS } from '@kepu/config';
import { DbModule } from '@kepu/db';
import { EventsModule } from '@kepu/events';
import { BroadcastsModule, NotificationsModule } from '@kepu/notifications';
import { ClockModule, OrdersModule } from '@kepu/orders';
import { VolunteersModule } from '@kepu/volunteers';
import { Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import { AccountsController } from './accounts/accounts.controller';
import { AuditLogController } from './admin/audit-log.controller';
import { AuthController } from './auth/auth.controller';
import { BroadcastsController } from './broadcasts/broadcasts.controller';
import { SignupController } from './auth/signup.controller';
import { CoverageApiModule } from './coverage/coverage-api.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { EventsController } from './events/events.controller';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { NotificationsController } from './notifications/notifications.controller';
import { OrdersController } from './orders/orders.controller';
import { QueueBoardModule } from './queue-board/queue-board.module';
import { RegionsApiModule } from './regions/regions-api.module';
import { SteeringApiModule } from './steering/steering-api.module';
import { AssignmentsController } from './volunteers/assignments.controller';
import { CandidatesController } from './volunteers/candidates.controller';
import { FulfilmentController } from './volunteers/fulfilment.controller';
import { SchedulingController } from './volunteers/scheduling.controller';
import { VenuesController } from './volunteers/venues.controller';
import { VolunteerApplicationsController } from './volunteers/volunteer-applications.controller';
import { VolunteersController } from './volunteers/volunteers.controller';

@Module({
  imports: [
    ConfigModule,
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        // nestjs-pino's default route ('{/*splat}') matches nothing under NestJS 12 on Fastify: no request was logged.
        forRoutes: [{ path: '*path', method: RequestMethod.ALL }],
        pinoHttp: {
          level: config.logLevel,
          // the Fastify adapter assigned the id (app.factory.ts); reuse it
          genReqId: (req) => (req as { id?: string }).id ?? randomUUID(),
          // Tokens, passwords and phone numbers never reach the logs.
          redact: { paths: [...LOG_REDACT_PATHS], remove: true },
          // The queue board's sign-in link carries an access token in ?token=: never log it.
          serializers: {
            req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url.replace(/([?&]token=)[^&]*/gi, '$1[redacted]') }),
            // the status only: response headers carry Set-Cookie (the queue board's token) and nothing a reader needs
            res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
          },
          customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
        },
      }),
    }),
    DbModule,
    ClockModule.forRoot(),
    AuthModule,
    AccountsModule,
    OrdersModule,
    VolunteersModule,
    NotificationsModule,
    HealthModule,
    MetricsModule,
    QueueBoardModule,
    RegionsApiModule,
    CoverageApiModule,
    DashboardModule,
    RateLimitModule,
    SignupModule,
    SteeringApiModule,
    EventsModule,
    BroadcastsModule,
  ],
  controllers: [AuthController, AccountsController, OrdersController, NotificationsController, VolunteersController, VenuesController, CandidatesController, SchedulingController, AssignmentsController, FulfilmentController, AuditLogController, SignupController, VolunteerApplicationsController, EventsController, BroadcastsController],
})
export class AppModule {}
