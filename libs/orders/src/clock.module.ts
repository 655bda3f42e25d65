import { Clock, systemClock } from '@kepu/core';
import { type DynamicModule, Global, Module } from '@nestjs/common';

/**
 * Provides the Clock the order and fulfilment services stamp their writes with.
 * An app imports `ClockModule.forRoot()` (the wall clock) once; a seed replaying the
 * past imports `ClockModule.forRoot(new FixedClock(...))`, and a test may also
 * `overrideProvider(Clock)`.
 */
@Global()
@Module({})
export class ClockModule {
  static forRoot(clock: Clock = systemClock): DynamicModule {
    return { module: ClockModule, providers: [{ provide: Clock, useValue: clock }], exports: [Clock] };
  }
}
