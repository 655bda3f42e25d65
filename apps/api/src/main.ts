import 'reflect-metadata';
import { UsersService } from '@kepu/auth';
import { AppConfig, ConfigError, listeningUrl, loadConfig, stopOnSignalsAndSupervisorLoss } from '@kepu/config';
import { Logger } from '@nestjs/common';
import { createApiApp } from './app.factory';
import { assertSafeListenAddress, UnsafeListenAddressError } from './listen-address';

async function bootstrap(): Promise<void> {
  // Fail fast on bad configuration, before anything connects.
  loadConfig();
  const app = await createApiApp();
  const config = app.get(AppConfig);
  if (config.isJwtSecretGenerated)
    new Logger('Bootstrap').warn('JWT_SECRET is not set: using a random one, so tokens die with this process. Set it outside development.');
  // Reachable from the network, the README's development admin would be anyone's city_admin.
  try {
    await assertSafeListenAddress(config.host, app.get(UsersService));
  } catch (error) {
    await app.close();
    throw error;
  }
  stopOnSignalsAndSupervisorLoss(app, { timeoutMs: config.shutdownTimeoutMs, log: (message) => new Logger('Bootstrap').log(message) });
  await app.listen({ port: config.port, host: config.host });
  // the bound port, which differs from PORT when PORT=0 (tests start it so)
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  new Logger('Bootstrap').log(`API listening on ${listeningUrl(config.host, port)} (docs at /docs)`);
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof ConfigError || error instanceof UnsafeListenAddressError ? error.message : error);
  process.exit(1);
});
