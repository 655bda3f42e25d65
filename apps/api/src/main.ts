import 'reflect-metadata';
import { AppConfig, ConfigError, loadConfig } from '@kepu/config';
import { Logger } from '@nestjs/common';
import { createApiApp } from './app.factory';

async function bootstrap(): Promise<void> {
  // Fail fast on bad configuration, before anything connects.
  loadConfig();
  const app = await createApiApp();
  const config = app.get(AppConfig);
  if (config.isJwtSecretGenerated)
    new Logger('Bootstrap').warn('JWT_SECRET is not set: using a random one, so tokens die with this process. Set it outside development.');
  await app.listen({ port: config.port, host: '0.0.0.0' });
  // the bound port, which differs from PORT when PORT=0 (tests start it so)
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  new Logger('Bootstrap').log(`API listening on http://127.0.0.1:${port} (docs at /docs)`);
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
