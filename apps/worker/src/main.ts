import 'reflect-metadata';
import { ConfigError, loadConfig, nestLogLevels } from '@kepu/config';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WorkerModule } from './worker.module';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger: nestLogLevels(config.logLevel) });
  const logger = new Logger('Worker');
  // Processors hold the event loop open once they exist; until then, stay up until told to stop.
  const keepAlive = setInterval(() => undefined, 60_000);
  let isStopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (isStopping) return;
    isStopping = true;
    logger.log(`${signal}: closing`);
    clearInterval(keepAlive);
    await app.close();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, (s) => void stop(s));
  logger.log(`worker started (pid ${process.pid})`);
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
