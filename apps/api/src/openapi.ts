import { PUBLIC_EXTENSION } from '@kepu/auth';
import { type DocumentedParamPipe, RATE_LIMIT_EXTENSION } from '@kepu/http';
import type { INestApplication } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { ApiParam, DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { NEXT_CURSOR_EXTENSION } from './api-responses.decorator';
import { declareValidatorLimits } from './validator-limits';

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']>;
type Responses = Operation['responses'];
type Headers = NonNullable<Extract<Responses[string], { description: string }>['headers']>;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const PROBLEM = { $ref: '#/components/schemas/ProblemView' };
const problemContent = { 'application/problem+json': { schema: PROBLEM } };

/** Seconds, as Retry-After and RateLimit's reset give them. */
const seconds = { type: 'integer', format: 'int32', minimum: 0, maximum: 86_400 } as const;

const RETRY_AFTER: Headers = { 'Retry-After': { description: 'Seconds to wait before trying again', schema: seconds } };

/** The IETF draft RateLimit headers of a limited operation (libs/http @LimitedWrite). */
const RATE_LIMIT_HEADERS: Headers = {
  RateLimit: {
    description: 'The limit closest to running out: `limit=60, remaining=57, reset=1200` (reset in seconds)',
    schema: { type: 'string', maxLength: 100, pattern: '^limit=\\d+, remaining=\\d+, reset=\\d+$' },
  },
  'RateLimit-Policy': {
    description: 'Every limit of the operation: `60;w=3600` (writes per window of w seconds), comma-separated',
    schema: { type: 'string', maxLength: 200, pattern: '^\\d+;w=\\d+(, \\d+;w=\\d+)*$' },
  },
};

const NEXT_CURSOR: Headers = {
  'X-Next-Cursor': {
    description: 'The next page\'s cursor, when there is one: pass it as ?cursor=',
    schema: { type: 'string', maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' },
  },
};

export const BEARER_SCHEME = 'bearer';

/** The document's fixed parts: what it is, how to authenticate. */
export function openApiConfig(): Omit<OpenAPIObject, 'paths'> {
  return new DocumentBuilder()
    .setTitle('Kepu Dispatch API (科普派单)')
    .setDescription(
      'Residents order (群众点单), the community dispatches (社区派单), a government department takes the order (部门领单), ' +
        'a volunteer organisation fulfils it (志愿组织接单). Errors are RFC 9457 problem details with a stable `code`. ' +
        'Limited writes answer `RateLimit-Policy` and `RateLimit` (IETF draft), and past the limit 429 `RATE_LIMITED` with `Retry-After`.',
    )
    .setVersion('1.0')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          'The accessToken of POST /auth/login: a JWS (HS256 only, `alg: none` and other algorithms refused) conforming to RFC8725, valid ACCESS_TOKEN_TTL_SECONDS (15 minutes by default); renewed with the single-use refresh token.',
      },
      BEARER_SCHEME,
    )
    .build();
}

const isResponse = (value: unknown): value is { description: string; headers?: Headers; content?: unknown } =>
  typeof value === 'object' && value !== null && !('$ref' in value);

function addHeaders(response: unknown, headers: Headers): void {
  if (isResponse(response)) response.headers = { ...response.headers, ...headers };
}

/**
 * What every operation may answer, documented in one place so endpoints added
 * anywhere get it too: 500 and 429 problems everywhere (429 with Retry-After),
 * 401 wherever a token is needed, 400 wherever input is read; the RateLimit
 * headers on the answers of limited operations (their `x-kepu-rate-limit`
 * extension), X-Next-Cursor on paged arrays; the bearer scheme on every
 * operation but the public ones (@Public(), which have no bearer requirement).
 */
export function completeDocument(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method] as (Operation & Record<string, unknown>) | undefined;
      if (!operation) continue;
      const responses: Responses = operation.responses;
      // the global AuthGuard wants a bearer token everywhere but on @Public() routes
      const isPublic = operation[PUBLIC_EXTENSION] === true;
      operation.security = isPublic ? [] : [{ [BEARER_SCHEME]: [] }];
      if (!isPublic) responses['401'] ??= { description: 'UNAUTHENTICATED: no valid bearer token' };
      responses['400'] ??= { description: 'VALIDATION_FAILED: a malformed request (query, path, headers or body)' };
      const isLimited = operation[RATE_LIMIT_EXTENSION] !== undefined;
      responses['429'] ??= {
        description: isLimited ? 'RATE_LIMITED: past a limit of RateLimit-Policy' : 'RATE_LIMITED',
        content: problemContent,
      };
      addHeaders(responses['429'], { ...RETRY_AFTER, ...(isLimited ? RATE_LIMIT_HEADERS : {}) });
      responses['500'] ??= { description: 'INTERNAL_ERROR: a fault of the server, never with its details', content: problemContent };
      for (const [status, response] of Object.entries(responses)) {
        if (/^[45]/.test(status) && isResponse(response)) response.content ??= problemContent;
        if (isLimited && /^2/.test(status)) addHeaders(response, RATE_LIMIT_HEADERS);
        if (operation[NEXT_CURSOR_EXTENSION] && status === '200') addHeaders(response, NEXT_CURSOR);
      }
    }
  }
  document.servers = [{ url: '/', description: 'This deployment (local, staging or production alike: the host that serves this document)', 'x-internal': false } as never];
  // every tag the operations use, declared once
  const tags = new Set(Object.values(document.paths).flatMap((item) => METHODS.flatMap((m) => item[m]?.tags ?? [])));
  document.tags = [...tags].sort().map((name) => document.tags?.find((t) => t.name === name) ?? { name });
  closeRequestBodies(document);
  addCorsHeader(document);
  return document;
}

/**
 * Request bodies are closed: the validation pipe (whitelist, forbidNonWhitelisted)
 * refuses any property a DTO does not declare, so every object schema a request
 * body reaches says `additionalProperties: false`.
 */
function closeRequestBodies(document: OpenAPIObject): void {
  const schemas = (document.components?.schemas ?? {}) as Record<string, Record<string, unknown>>;
  const seen = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (typeof node !== 'object' || node === null) return;
    const schema = node as Record<string, unknown>;
    const ref = typeof schema.$ref === 'string' ? schema.$ref.replace('#/components/schemas/', '') : null;
    if (ref !== null) {
      if (seen.has(ref) || !schemas[ref]) return;
      seen.add(ref);
      return visit(schemas[ref]);
    }
    if (schema.type === 'object' && schema.properties !== undefined && schema.additionalProperties === undefined) schema.additionalProperties = false;
    Object.values(schema).forEach(visit);
  };
  for (const item of Object.values(document.paths)) for (const m of METHODS) visit(item[m]?.requestBody);
}

/** CORS: the origin header is sent to the configured origins only (CORS_ORIGINS; none by default). */
function addCorsHeader(document: OpenAPIObject): void {
  const cors: Headers = {
    'Access-Control-Allow-Origin': {
      description: 'Only when the request\'s Origin is one of CORS_ORIGINS (none by default): that origin',
      required: false,
      schema: { type: 'string', maxLength: 2048, pattern: '^https?://[^/\\s]+$' },
    },
  };
  for (const item of Object.values(document.paths))
    for (const m of METHODS) for (const response of Object.values(item[m]?.responses ?? {})) if (isResponse(response) && response.headers) addHeaders(response, cors);
}

/** Nest's metadata key of a handler's parameter decorators, and the type of @Param (RouteParamtypes.PARAM). */
const ROUTE_ARGS_METADATA = '__routeArguments__';
const ROUTE_PARAM = 5;

/**
 * Every path parameter whose pipe declares the schema it enforces (UuidParamPipe,
 * RegionCodeParamPipe: `openApiSchema`) is documented with that schema, on
 * whatever controller it appears: the document's bounds are the pipe's.
 */
const documented = new WeakSet<object>();
function declarePathParameterPipes(app: INestApplication): void {
  const modules = app.get(ModulesContainer);
  for (const module of modules.values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: never[]) => unknown) | null;
      if (!controller?.prototype) continue;
      for (const method of Object.getOwnPropertyNames(controller.prototype)) {
        const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, method) as Record<string, { data?: unknown; pipes?: unknown[] }> | undefined;
        for (const [key, arg] of Object.entries(args ?? {})) {
          if (Number(key.split(':')[0]) !== ROUTE_PARAM || typeof arg.data !== 'string') continue;
          const schema = (arg.pipes ?? [])
            .map((pipe) => (pipe as Partial<DocumentedParamPipe>).openApiSchema)
            .find((s): s is DocumentedParamPipe['openApiSchema'] => s !== undefined);
          const descriptor = Object.getOwnPropertyDescriptor(controller.prototype, method);
          if (!schema || !descriptor || documented.has(descriptor.value)) continue;
          documented.add(descriptor.value);
          ApiParam({ name: arg.data, required: true, schema: { ...schema } })(controller.prototype, method, descriptor);
        }
      }
    }
  }
}

/** The OpenAPI document of the app's routes (/docs-json serves it; `npm run lint:api` checks it). */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  declareValidatorLimits();
  declarePathParameterPipes(app);
  return completeDocument(SwaggerModule.createDocument(app, openApiConfig()));
}
