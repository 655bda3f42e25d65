import 'reflect-metadata';
import { ConfigError, loadConfig, stopOnSignalsAndSupervisorLoss } from '@kepu/config';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoLogger } from 'nestjs-pino';
import { WorkerModule } from './worker.module';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  // Nest's own lines (start-up, errors) and every Logger go through pino, as in the API.
  const app = await NestFactory.createApplicationContext(WorkerModule, { bufferLogs: true });
  app.useLogger(app.get(PinoLogger));
  const logger = new Logger('Worker');
  // Processors hold the event loop open once they exist; until then, stay up until told to stop.
  const keepAlive = setInterval(() => undefined, 60_000);
  stopOnSignalsAndSupervisorLoss(
    {
      close: async () => {
        clearInterval(keepAlive);
        await app.close();
      },
    },
    { timeoutMs: config.shutdownTimeoutMs, log: (message) => logger.log(message) },
  );
  logger.log(`worker started (pid ${process.pid})`);
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
