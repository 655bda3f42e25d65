import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import { type AppConfig, loadConfig } from '@kepu/config';
import { clientErrorHandler, createValidationPipe, depthLimitedJsonParser, frameworkErrorHandler, ProblemDetailsFilter } from '@kepu/http';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { createOpenApiDocument } from './openapi';
import { ALLOWED_HEADERS, contentSecurityPolicyFor, EXPOSED_HEADERS } from './security-headers';

const REQUEST_ID = /^[\w.-]{1,100}$/;

/** Builds the HTTP application the same way for `main.ts` and the end-to-end tests. */
export async function createApiApp(options: { logger?: boolean } = {}): Promise<NestFastifyApplication> {
  const config = loadConfig();
  const adapter = new FastifyAdapter({
    // Larger bodies are refused before they are read: 413 PAYLOAD_TOO_LARGE.
    bodyLimit: config.bodyLimitBytes,
    trustProxy: trustProxyOf(config.trustProxy),
    // A caller's X-Request-Id is kept so one id follows a request across services.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // Refusals Fastify and Node answer before any route runs are problem details too.
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  });
  const fastify = adapter.getInstance();
  fastify.addHook('onRequest', async (request, reply) => {
    if (!REQUEST_ID.test(request.id)) (request as { id: string }).id = randomUUID();
    // pino-http logs the raw request: hand it the same id
    (request.raw as { id?: string }).id = request.id;
    void reply.header('x-request-id', request.id);
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, adapter, {
    bufferLogs: options.logger !== false,
    logger: options.logger === false ? false : undefined,
    abortOnError: false,
  });
  if (options.logger !== false) app.useLogger(app.get(Logger));
  await registerSecurityHeaders(app, config);
  // Fastify's JSON parser behind a nesting limit: deep bodies overflow the validation pipe's stack.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser('application/json', { bodyLimit: config.bodyLimitBytes }, depthLimitedJsonParser((request, body, done) => parseJson(request as never, body as never, done)));
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter());
  setUpOpenApi(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

/** TRUST_PROXY as Fastify takes it. */
export function trustProxyOf(value: string): boolean | string[] {
  if (value === 'true' || value === 'false') return value === 'true';
  return value.split(',').map((address) => address.trim());
}

/**
 * Helmet's headers on every answer (nosniff, frame denial, no referrer,
 * same-origin resource policy, HSTS when configured), a Content-Security-Policy
 * chosen per route (security-headers.ts), and CORS for the configured origins
 * only: with none configured, browsers on other origins get no access at all.
 */
async function registerSecurityHeaders(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: false,
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    hsts: config.hstsMaxAgeSeconds > 0 ? { maxAge: config.hstsMaxAgeSeconds, includeSubDomains: true } : false,
  });
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (request, reply) => {
      void reply.header('content-security-policy', contentSecurityPolicyFor(request.url));
    });
  await app.register(fastifyCors, {
    origin: config.corsOrigins.length > 0 ? config.corsOrigins : false,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  });
}

function setUpOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => createOpenApiDocument(app), { jsonDocumentUrl: 'docs-json' });
}
