import fastifyStatic from '@fastify/static';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const DASHBOARD_PATH = '/dashboard';

/**
 * The page's own files sit beside this module: in the source tree for the tests,
 * and in dist/ after `npm run build` (nest-cli.json copies `dashboard/public`).
 */
export const DASHBOARD_PUBLIC_DIR = join(__dirname, 'public');

/** Chart.js' UMD build, served straight from node_modules (a dependency, so also in the production image). */
export const CHART_JS_DIR = dirname(require.resolve('chart.js'));
export const CHART_JS_FILE = 'chart.umd.min.js';

/**
 * Mounts the page and its assets as plain Fastify routes, which the global
 * guard never sees: they are public, as API.md says; every data call the page
 * makes carries the bearer token of POST /auth/login.
 */
@Injectable()
export class DashboardPage implements OnModuleInit {
  private readonly html = readFileSync(join(DASHBOARD_PUBLIC_DIR, 'index.html'), 'utf8');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // An encapsulated context: Swagger registers @fastify/static too, so no reply decorations here.
    void fastify.register(async (page) => {
      page.get(DASHBOARD_PATH, async (_request, reply) =>
        reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache').send(this.html),
      );
      // The page loads its assets by relative URLs, which only resolve from /dashboard.
      page.get(`${DASHBOARD_PATH}/`, async (_request, reply) => reply.redirect(DASHBOARD_PATH, 301));
      await page.register(fastifyStatic, { root: join(DASHBOARD_PUBLIC_DIR, 'assets'), prefix: `${DASHBOARD_PATH}/assets/`, decorateReply: false });
      await page.register(fastifyStatic, {
        root: CHART_JS_DIR,
        prefix: `${DASHBOARD_PATH}/assets/vendor/`,
        decorateReply: false,
        allowedPath: (path) => path === `/${CHART_JS_FILE}` || path === `/${CHART_JS_FILE}.map`,
      });
    });
  }
}
