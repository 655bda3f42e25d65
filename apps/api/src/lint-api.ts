/**
 * `npm run lint:api`: builds the OpenAPI document as the running API serves it
 * at /docs-json (the same modules and decorators, `createOpenApiDocument`), without
 * a server or a database (Nest's preview mode instantiates no provider), writes it
 * to a temporary file and runs Spectral over it with `.spectral.yaml`
 * (spectral:oas and the OWASP API Security Top 10 rules). Fails on any error.
 *
 *     node -r ./test/support/register-ts.js apps/api/src/lint-api.ts [--keep]
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AppModule } from './app.module';
import { createOpenApiDocument } from './openapi';

const ROOT = path.resolve(__dirname, '..', '..', '..');

async function main(): Promise<number> {
  const app = await NestFactory.create(AppModule, new FastifyAdapter(), { preview: true, logger: false, abortOnError: false });
  const document = createOpenApiDocument(app);
  await app.close();
  const dir = mkdtempSync(path.join(tmpdir(), 'kepu-openapi-'));
  const file = path.join(dir, 'openapi.json');
  writeFileSync(file, JSON.stringify(document, null, 2));
  const spectral = path.join(ROOT, 'node_modules', '@stoplight', 'spectral-cli', 'dist', 'index.js');
  const run = spawnSync(process.execPath, [spectral, 'lint', file, '--ruleset', path.join(ROOT, '.spectral.yaml'), '--fail-severity', 'error', ...process.argv.slice(2).filter((a) => a !== '--keep')], {
    stdio: 'inherit',
    cwd: ROOT,
  });
  if (process.argv.includes('--keep')) console.log(`document kept at ${file}`);
  else rmSync(dir, { recursive: true, force: true });
  return run.status ?? 1;
}

main().then(
  (status) => process.exit(status),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
