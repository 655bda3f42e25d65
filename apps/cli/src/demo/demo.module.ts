import { AccountsModule } from '@kepu/accounts';
import { SignupModule } from '@kepu/auth';
import { ConfigModule } from '@kepu/config';
import { FixedClock } from '@kepu/core';
import { DbModule } from '@kepu/db';
import { EventsModule } from '@kepu/events';
import { BroadcastsModule, BroadcastsWorkerModule } from '@kepu/notifications';
import { ClockModule, OrdersModule } from '@kepu/orders';
import { RegionsModule } from '@kepu/regions';
import { VolunteersModule } from '@kepu/volunteers';
import { type DynamicModule, type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

/**
 * What the demo seed writes through: the libraries' own modules, as the API composes
 * them, with a clock the seed sets to the time of each step of the month it replays;
 * plus the worker's broadcast fan-out, so the demo's broadcasts are delivered (in the
 * app) by the time the seed ends. That one needs the queues: Redis, as `npm start` does.
 */
@Module({})
export class DemoSeedModule {
  static withClock(clock: FixedClock): DynamicModule {
    return {
      module: DemoSeedModule,
      imports: [
        ConfigModule,
        DbModule,
        ClockModule.forRoot(clock),
        AccountsModule,
        SignupModule,
        RegionsModule,
        OrdersModule,
        VolunteersModule,
        EventsModule,
        BroadcastsModule,
        BroadcastsWorkerModule,
      ],
    };
  }
}

export interface DemoSeedContext {
  app: INestApplicationContext;
  /** The application's Clock: the seed moves it through the past month. */
  clock: FixedClock;
}

/** A Nest application context (no HTTP server) on the database of DATABASE_URL. */
export async function createDemoSeedContext(): Promise<DemoSeedContext> {
  const clock = new FixedClock(new Date());
  const app = await NestFactory.createApplicationContext(DemoSeedModule.withClock(clock), { logger: ['error', 'warn'] });
  return { app, clock };
}
