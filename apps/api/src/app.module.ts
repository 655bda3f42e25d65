import { AccountsModule } from '@kepu/accounts';
import { AuthModule } from '@kepu/auth';
import { AppConfig, ConfigModule } from '@kepu/config';
import { DbModule } from '@kepu/db';
import { NotificationsModule } from '@kepu/notifications';
import { OrdersModule } from '@kepu/orders';
import { VolunteersModule } from '@kepu/volunteers';
import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import { AccountsController } from './accounts/accounts.controller';
import { AuthController } from './auth/auth.controller';
import { CoverageApiModule } from './coverage/coverage-api.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { NotificationsController } from './notifications/notifications.controller';
import { OrdersController } from './orders/orders.controller';
import { QueueBoardModule } from './queue-board/queue-board.module';
import { RegionsApiModule } from './regions/regions-api.module';
import { AssignmentsController } from './volunteers/assignments.controller';
import { CandidatesController } from './volunteers/candidates.controller';
import { FulfilmentController } from './volunteers/fulfilment.controller';
import { SchedulingController } from './volunteers/scheduling.controller';
import { VenuesController } from './volunteers/venues.controller';
import { VolunteersController } from './volunteers/volunteers.controller';

@Module({
  imports: [
    ConfigModule,
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        pinoHttp: {
          level: config.logLevel,
          // the Fastify adapter assigned the id (app.factory.ts); reuse it
          genReqId: (req) => (req as { id?: string }).id ?? randomUUID(),
          // Tokens, passwords and phone numbers never reach the logs.
          redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.body', 'res.headers["set-cookie"]'], remove: true },
          // The queue board's sign-in link carries an access token in ?token=: never log it.
          serializers: {
            req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url.replace(/([?&]token=)[^&]*/gi, '$1[redacted]') }),
          },
          customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
        },
      }),
    }),
    DbModule,
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
  ],
  controllers: [AuthController, AccountsController, OrdersController, NotificationsController, VolunteersController, VenuesController, CandidatesController, SchedulingController, AssignmentsController, FulfilmentController],
})
export class AppModule {}
