import { ConfigModule } from '@kepu/config';
import { DbModule } from '@kepu/db';
import { Module } from '@nestjs/common';

/** The worker's composition root: queue processors join here as they are built. */
@Module({ imports: [ConfigModule, DbModule] })
export class WorkerModule {}
