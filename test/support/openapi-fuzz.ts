import fc from 'fast-check';

/**
 * Requests generated from the service's own OpenAPI document (/docs-json): for
 * every operation, bodies, path and query parameters that are valid by the
 * schema, valid then mutated, or hostile outright (wrong types, huge strings,
 * unicode and control characters, extreme numbers, SQL- and script-like text,
 * missing and extra fields, malformed JSON, wrong content types), sent with the
 * tokens of several roles or none. Nothing here names an operation: whatever the
 * document lists is fuzzed.
 */

export interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  example?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  nullable?: boolean;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
}

interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

interface OpenApiOperation {
  operationId?: string;
  parameters?: OpenApiParameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, Schema> };
}

export interface Operation {
  /** `POST /orders/{id}/claim`: the key of the summary. */
  key: string;
  method: string;
  path: string;
  pathParams: OpenApiParameter[];
  queryParams: OpenApiParameter[];
  headerParams: OpenApiParameter[];
  body: Schema | undefined;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

export function operationsOf(doc: OpenApiDocument): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const params = op.parameters ?? [];
      // Path parameters the document forgot are still in the template: fuzz them too.
      const declared = new Set(params.filter((p) => p.in === 'path').map((p) => p.name));
      const implicit = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '').filter((n) => !declared.has(n));
      ops.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        pathParams: [...params.filter((p) => p.in === 'path'), ...implicit.map((name) => ({ name, in: 'path' as const, required: true, schema: { type: 'string' } }))],
        queryParams: params.filter((p) => p.in === 'query'),
        // Response headers documented as parameters (X-Next-Cursor) are harmless to send too.
        headerParams: params.filter((p) => p.in === 'header'),
        body: op.requestBody?.content?.['application/json']?.schema,
      });
    }
  return ops;
}

/** What the generators draw real values from, so some requests reach deep into the handlers. */
export interface FuzzPools {
  /** Real ids by resource (`orders`, `venues`, `volunteers`, `assignments`, …). */
  ids: Record<string, string[]>;
  /** Real region codes by level (`community`, `subdistrict`, `district`). */
  codes: Record<string, string[]>;
  /** Authorization header values by label (`none` maps to undefined). */
  auth: Record<string, string | undefined>;
  /** Labels drawn more often than the others (weight 1): real sessions, so valid bodies get past the guard. */
  authWeights?: Record<string, number>;
}

// ---------------------------------------------------------------- hostile values

const CONTROL = fc.constantFrom('\u0000', '\u0001', '\u0007', '\b', '\t', '\n', '\r', '\u000b', '\u001b', '\u007f', '\u0085', '\u2028', '\u2029', '\uFEFF', '\u200B', '\u202E');

export const hostileStrings = [
  '',
  ' ',
  '   \t ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  'x\uDFFFy',
  '\uFFFF',
  '𠮷野家',
  '👩‍👩‍👧‍👦',
  'Ａｂｃ１２３',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '1e400',
  '0x1F',
  'true',
  '[]',
  '{}',
  "' OR '1'='1",
  "'; DROP TABLE orders; --",
  '" OR ""="',
  '1; SELECT pg_sleep(0) --',
  "admin'--",
  '$1',
  '\\',
  '%',
  '%00',
  '%zz',
  '_%_',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  '{{7*7}}',
  '${7*7}',
  '../../../../etc/passwd',
  '=cmd|\' /C calc\'!A0',
  '\r\nSet-Cookie: a=1',
  '00000000-0000-0000-0000-000000000000',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
  '2027-02-30T09:00:00+08:00',
  '2027-03-14T09:00:00',
  '2027-03-14',
  '0000-01-01T00:00:00Z',
  '1969-12-31T23:59:59Z',
  '9999-12-31T23:59:59+14:00',
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00.000Z',
  '25:61',
  '24:00',
  '110108001001',
  '110108',
  '999999999999',
];

const hugeString = fc
  .tuple(fc.constantFrom(201, 2001, 5001, 70_000, 300_000), fc.constantFrom('x', '汉', '\u0000', '🚀', "'", '<'))
  .map(([n, c]) => c.repeat(n));

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...hostileStrings), weight: 5 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }), weight: 2 },
  { arbitrary: fc.string({ unit: CONTROL, minLength: 1, maxLength: 10 }), weight: 1 },
  { arbitrary: hugeString, weight: 1 },
);

export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(-1, 0, -0, 0.5, 1.5, -2147483649, 2147483648, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1e308, -1e308, 5e-324),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Nested arrays or objects deep enough to find recursion limits. */
const deeplyNested = fc.tuple(fc.constantFrom(50, 200), fc.boolean()).map(([depth, isArray]) => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = isArray ? [v] : { a: v };
  return v;
});

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: hostileString, weight: 6 },
  { arbitrary: hostileNumber, weight: 3 },
  { arbitrary: fc.boolean(), weight: 1 },
  { arbitrary: fc.constant(null), weight: 2 },
  { arbitrary: fc.constantFrom([], {}, [null], [''], [{}], { '': '' }), weight: 2 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 2 },
  { arbitrary: fc.array(hostileString, { maxLength: 30 }), weight: 1 },
  { arbitrary: fc.constant(Array.from({ length: 2000 }, (_, i) => i)), weight: 1 },
  { arbitrary: deeplyNested, weight: 1 },
);

// ---------------------------------------------------------------- valid values from schemas

const DAY_MS = 24 * 3600 * 1000;

/** ISO 8601 with +08:00, `days` from now at a whole hour: future, past and far-future instants. */
const instant = fc
  .tuple(fc.oneof({ arbitrary: fc.integer({ min: 1, max: 170 }), weight: 4 }, { arbitrary: fc.integer({ min: -30, max: 400 }), weight: 1 }), fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 30))
  .map(([days, hour, minute]) => {
  const d = new Date(Date.now() + days * DAY_MS);
  d.setUTCHours(hour, minute, 0, 0);
  return `${new Date(d.getTime() + 8 * 3600 * 1000).toISOString().slice(0, 19)}+08:00`;
});

const ISO_LIKE = /^\d{4}-\d{2}-\d{2}T/;
const TIME_OF_DAY = /^\d{2}:\d{2}$/;
const TIME_NAMES = new Set(['start', 'end', 'from', 'to', 'at', 'since', 'until', 'before', 'after']);

export function resolve(doc: OpenApiDocument, schema: Schema | undefined): Schema {
  let s = schema ?? {};
  for (let i = 0; s.$ref && i < 20; i++) s = doc.components?.schemas?.[s.$ref.replace('#/components/schemas/', '')] ?? {};
  if (s.allOf) return s.allOf.reduce<Schema>((acc, part) => ({ ...acc, ...resolve(doc, part) }), { ...s, allOf: undefined });
  const alternatives = s.oneOf ?? s.anyOf;
  if (alternatives?.[0]) return resolve(doc, alternatives[0]);
  return s;
}

/** `volunteerIds` → `volunteers`, `primaryOrderId` → `orders`, `communityCode` → `community`. */
function poolFor(name: string, pools: FuzzPools, kind: 'ids' | 'codes'): string[] {
  const lower = name.toLowerCase();
  const table = pools[kind];
  const match = Object.keys(table).find((k) => lower.includes(k.replace(/s$/, '')));
  if (match) return table[match] ?? [];
  return kind === 'ids' ? Object.values(table).flat() : [];
}

/** A value the schema accepts (as far as a schema can say), drawing ids and codes from the real pools by field name. */
export function validValue(doc: OpenApiDocument, schemaIn: Schema | undefined, name: string, pools: FuzzPools, depth = 0): fc.Arbitrary<unknown> {
  const schema = resolve(doc, schemaIn);
  if (schema.enum && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  const type = schema.type ?? (schema.properties ? 'object' : schema.items ? 'array' : 'string');
  switch (type) {
    case 'string': {
      if (schema.format === 'uuid' || /Ids?$/.test(name)) {
        const ids = poolFor(name, pools, 'ids');
        return ids.length > 0 ? fc.oneof({ arbitrary: fc.constantFrom(...ids), weight: 4 }, { arbitrary: fc.uuid(), weight: 1 }) : fc.uuid();
      }
      if (/Codes?$/.test(name)) {
        const codes = poolFor(name, pools, 'codes');
        if (codes.length > 0) return fc.constantFrom(...codes);
      }
      // Cursors are base64url of `createdAt|id`: well-formed ones with instants at the edges of what JavaScript and PostgreSQL hold.
      if (name === 'cursor')
        return fc
          .tuple(fc.constantFrom(new Date().toISOString(), '1970-01-01T00:00:00.000Z', '0000-01-01T00:00:00.000Z', '+275760-09-13T00:00:00.000Z', '-271821-04-20T00:00:00.000Z', '2026-02-30T00:00:00Z', 'x'), fc.uuid())
          .map(([at, id]) => Buffer.from(`${at}|${id}`, 'utf8').toString('base64url'));
      const example = typeof schema.example === 'string' ? schema.example : undefined;
      if (example && TIME_OF_DAY.test(example))
        return fc.tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom('00', '30')).map(([h, m]) => `${String(h).padStart(2, '0')}:${m}`);
      if ((example && ISO_LIKE.test(example)) || TIME_NAMES.has(name)) return instant;
      if (/password/i.test(name)) return fc.stringMatching(/^[a-z]{6,12}\d{2}$/);
      if (/phone/i.test(name)) return fc.stringMatching(/^1[3-9]\d{9}$/);
      if (/email/i.test(name)) return fc.emailAddress();
      if (schema.pattern) {
        try {
          return fc.stringMatching(new RegExp(schema.pattern));
        } catch {
          // a pattern JavaScript cannot compile: fall through to plain text
        }
      }
      const text = fc.string({ unit: 'grapheme', minLength: Math.max(1, schema.minLength ?? 1), maxLength: Math.min(schema.maxLength ?? 40, 40) });
      return example ? fc.oneof(fc.constant(example), text) : text;
    }
    case 'number':
    case 'integer': {
      const min = Math.ceil(schema.minimum ?? 1);
      const max = Math.floor(schema.maximum ?? Math.max(min, 100));
      const ints = fc.integer({ min, max: Math.max(min, max) });
      if (type === 'integer' || (schema.minimum !== undefined && Number.isInteger(schema.minimum) && schema.minimum >= 1)) return ints;
      // OpenAPI says "number" for integers too (class-validator's @IsInt is not in the schema): mostly whole numbers.
      const halves = fc.double({ min: schema.minimum ?? 0, max: schema.maximum ?? 100, noNaN: true }).map((x) => Math.max(schema.minimum ?? 0, Math.round(x * 2) / 2));
      return fc.oneof({ arbitrary: ints, weight: 4 }, { arbitrary: halves, weight: 1 });
    }
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const item = validValue(doc, schema.items, name.replace(/s$/, ''), pools, depth + 1);
      const minLength = schema.minItems ?? 0;
      // Unique items (codes, ids; objects by their first field, e.g. a skill's topic): the DTOs refuse repeats.
      const selector = (v: unknown) => JSON.stringify(v && typeof v === 'object' && !Array.isArray(v) ? Object.values(v)[0] : v);
      return fc.uniqueArray(item, { minLength, maxLength: Math.max(minLength, Math.min(schema.maxItems ?? 3, 3)), selector });
    }
    case 'object': {
      if (depth > 6 || !schema.properties) return fc.constant({});
      const required = new Set(schema.required ?? []);
      const props = Object.fromEntries(Object.entries(schema.properties).map(([k, s]) => [k, validValue(doc, s, k, pools, depth + 1)]));
      const record = fc.record(props, { requiredKeys: [...required].filter((k) => k in props) });
      // A time range (start, end as instants): mostly an end 1–4 hours after the start, as a real client sends.
      const startExample = String(resolve(doc, schema.properties.start).example ?? '');
      if (schema.properties.start && schema.properties.end && !TIME_OF_DAY.test(startExample))
        return fc.oneof(
          record,
          fc.tuple(record, instant, fc.integer({ min: 1, max: 4 })).map(([r, from, hours]) => {
            const to = new Date(new Date(from).getTime() + hours * 3600 * 1000);
            return { ...(r as object), start: from, end: `${new Date(to.getTime() + 8 * 3600 * 1000).toISOString().slice(0, 19)}+08:00` };
          }),
        );
      return record;
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

// ---------------------------------------------------------------- mutations

type Path = (string | number)[];

function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  // Deeply nested hostile values are leaves here: the point is their depth, not their parts.
  if (out.length > 500 || prefix.length > 8) return out;
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...prefix, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
  return out;
}

/** A copy of `root` with the containers along `path` copied (the rest shared), `update` applied to the last one. */
function setAt(root: unknown, path: Path, update: (parent: Record<string | number, unknown>, key: string | number) => void): unknown {
  if (path.length === 0) return root;
  const copyOf = (v: unknown) => (Array.isArray(v) ? [...(v as unknown[])] : { ...(v as object) }) as Record<string | number, unknown>;
  const copy = copyOf(root);
  let parent = copy;
  for (const key of path.slice(0, -1)) {
    const child = copyOf(parent[key]);
    parent[key] = child;
    parent = child;
  }
  update(parent, path[path.length - 1] as string | number);
  return copy;
}

const EXTRA_KEYS = ['isAdmin', 'role', 'status', 'version', 'id', 'requesterId', 'organizationId', 'constructor', 'toString', '', ' ', '$where', 'a.b', '汉字', 'x'.repeat(300)];

/** One to three changes to a valid value: a part replaced by a hostile value, a field removed, or an unknown field added. */
export function mutated(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.gen().map((g) => {
    let value = g(() => valid);
    const times = g(fc.integer, { min: 1, max: 3 });
    for (let i = 0; i < times; i++) {
      const paths = pathsOf(value);
      const path = paths[g(fc.integer, { min: 0, max: paths.length - 1 })] ?? [];
      const kind = g(fc.constantFrom, 'replace', 'replace', 'remove', 'extra');
      if (path.length === 0 || kind === 'replace') {
        const replacement = g(() => hostileValue);
        value = path.length === 0 ? replacement : setAt(value, path, (parent, key) => void (parent[key] = replacement));
      } else if (kind === 'remove') {
        value = setAt(value, path, (parent, key) => {
          if (Array.isArray(parent)) parent.splice(Number(key), 1);
          else delete parent[key];
        });
      } else {
        const key = g(() => fc.oneof(fc.constantFrom(...EXTRA_KEYS), fc.string({ maxLength: 12 })));
        const extra = g(() => hostileValue);
        const target = [...path];
        const here = target.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], value);
        if (here && typeof here === 'object' && !Array.isArray(here)) value = setAt(value, [...target, key], (parent, k) => void (parent[k] = extra));
        else value = setAt(value, path, (parent, k) => void (parent[k] = extra));
      }
    }
    return value;
  });
}

// ---------------------------------------------------------------- whole requests

export interface FuzzRequest {
  op: Operation;
  /** How the body was made: valid, mutated, hostile, malformed, wrong-type, none. */
  bodyKind: string;
  authLabel: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

const MALFORMED_JSON = [
  '{',
  '}',
  '{"a":',
  '[1,2',
  '{"title": "x",}',
  "{'topic': 'health'}",
  '{"a": 1}garbage',
  '{"a": NaN}',
  '{"a": Infinity}',
  '{"a": undefined}',
  '{"a": 01}',
  '{"a": 1e999999}',
  '{"a": "\\ud800"}',
  '{"a": "\\u0000"}',
  '{"a": "\\x41"}',
  '\u0000',
  '\uFEFF{}',
  '{"__proto__": {"polluted": true}}',
  '{"constructor": {"prototype": {"polluted": true}}}',
  '{"topic": "health", "topic": 123}',
  '"just a string"',
  '123',
  'null',
  'true',
  '[]',
  ' ',
  '/* comment */ {}',
  '{"a":1}\n{"b":2}',
];

const WRONG_CONTENT_TYPES: [string, string][] = [
  ['text/plain', 'hello'],
  ['text/plain', '{"topic":"health"}'],
  ['application/x-www-form-urlencoded', 'topic=health&expectedAttendance=60'],
  ['multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--xyz--\r\n'],
  ['application/xml', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'],
  ['application/json; charset=utf-16', '{}'],
  ['application/json; charset=latin1', '{"a":"\u00e9"}'],
  ['application/octet-stream', '\u0000\u0001\u0002'],
  ['application/problem+json', '{}'],
  ['application/json-patch+json', '[{"op":"replace","path":"/status","value":"completed"}]'],
  ['APPLICATION/JSON', '{}'],
  ['application/json;;;', '{}'],
  ['*/*', '{}'],
  ['', '{}'],
];

/** Encodes a path segment or query value; a lone surrogate becomes invalid UTF-8 percent-escapes instead of throwing. */
function encode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return [...value].map((ch) => (/[\uD800-\uDFFF]/.test(ch) ? '%ED%A0%80' : encodeURIComponent(ch))).join('');
  }
}

/** Header values must be ISO-8859-1 without CR, LF or NUL for fetch to send them at all. */
const headerSafe = (s: string) => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?').slice(0, 8000);

const RAW_SEGMENTS = ['%', '%zz', '%00', '%2e%2e', '%2F', '%C0%AF', '%ED%A0%80', '..%2F..%2Fetc', ';', '*', 'undefined', 'null'];

function pathValue(op: Operation, name: string, pools: FuzzPools): fc.Arbitrary<string> {
  // `/orders/{id}` draws from orders, `/assignments/{id}` from assignments, `{code}` after `districts` from districts.
  const segments = op.path.split('/');
  const before = segments[segments.indexOf(`{${name}}`) - 1] ?? '';
  const isCode = /code/i.test(name);
  const real = isCode ? poolFor(before, pools, 'codes') : (pools.ids[before] ?? []);
  const anyReal = isCode ? Object.values(pools.codes).flat() : Object.values(pools.ids).flat();
  const choices: { arbitrary: fc.Arbitrary<string>; weight: number }[] = [
    { arbitrary: isCode ? fc.stringMatching(/^\d{1,12}$/) : fc.uuid(), weight: 2 },
    { arbitrary: fc.uuid().map((u) => u.toUpperCase()), weight: 1 },
    { arbitrary: hostileString.map(encode), weight: 2 },
    { arbitrary: fc.constantFrom(...RAW_SEGMENTS), weight: 1 },
  ];
  if (real.length > 0) choices.push({ arbitrary: fc.constantFrom(...real), weight: 6 });
  if (anyReal.length > 0) choices.push({ arbitrary: fc.constantFrom(...anyReal), weight: 1 });
  return fc.oneof(...choices);
}

function queryString(doc: OpenApiDocument, op: Operation, pools: FuzzPools): fc.Arbitrary<string> {
  // Every parameter left out or valid, so the request reaches the database.
  const valid = (p: OpenApiParameter) =>
    fc.oneof(fc.constant<string[]>([]), validValue(doc, p.schema, p.name, pools).map((v) => [`${p.name}=${encode(String(v))}`]));
  const one = (p: OpenApiParameter) =>
    fc.oneof(
      { arbitrary: fc.constant<string[]>([]), weight: 3 },
      { arbitrary: validValue(doc, p.schema, p.name, pools).map((v) => [`${p.name}=${encode(String(v))}`]), weight: 3 },
      { arbitrary: hostileString.filter((s) => s.length < 5000).map((v) => [`${p.name}=${encode(v)}`]), weight: 2 },
      // repeated: Fastify hands the handler an array
      { arbitrary: fc.tuple(hostileString.filter((s) => s.length < 100), hostileString.filter((s) => s.length < 100)).map(([a, b]) => [`${p.name}=${encode(a)}`, `${p.name}=${encode(b)}`]), weight: 1 },
      { arbitrary: fc.constantFrom([`${p.name}`], [`${p.name}=`], [`${p.name}[]=1`], [`${p.name}[a]=1`], [`${p.name}=%`], [`${p.name}=%ED%A0%80`]), weight: 1 },
    );
  const extra = fc.oneof(
    { arbitrary: fc.constant<string[]>([]), weight: 6 },
    { arbitrary: fc.tuple(fc.constantFrom('x', 'role', '__proto__', 'constructor[prototype][a]', 'limit', 'status', ''), hostileString.filter((s) => s.length < 100)).map(([k, v]) => [`${encode(k)}=${encode(v)}`]), weight: 1 },
  );
  const params = fc.oneof(fc.tuple(...op.queryParams.map(valid)), fc.tuple(...op.queryParams.map(one)));
  return fc.tuple(params, extra).map(([parts, more]) => {
    const all = [...parts.flat(), ...more];
    return all.length > 0 ? `?${all.join('&')}` : '';
  });
}

function bodyFor(doc: OpenApiDocument, op: Operation, pools: FuzzPools): fc.Arbitrary<{ kind: string; contentType?: string; text?: string }> {
  const json = (kind: string) => (v: unknown) => ({ kind, contentType: 'application/json', text: JSON.stringify(v) ?? 'null' });
  const valid = op.body ? validValue(doc, op.body, 'body', pools) : fc.constant({});
  return fc.oneof(
    { arbitrary: valid.map(json('valid')), weight: op.body ? 3 : 1 },
    { arbitrary: mutated(valid).map(json('mutated')), weight: op.body ? 5 : 1 },
    { arbitrary: hostileValue.map(json('hostile')), weight: 1 },
    {
      arbitrary: fc.oneof(
        fc.constantFrom(...MALFORMED_JSON),
        // nesting deeper than any value above: as text, JSON.stringify would overflow first
        fc.tuple(fc.constantFrom(1000, 10_000, 50_000), fc.constantFrom(['[', ']'], ['{"a":', '}'])).map(([n, [open, close]]) => `${(open as string).repeat(n)}1${(close as string).repeat(n)}`),
        fc.tuple(valid, fc.nat()).map(([v, n]) => {
          const text = JSON.stringify(v) ?? '';
          return text.slice(0, text.length > 1 ? n % (text.length - 1) : 0);
        }),
      ).map((text) => ({ kind: 'malformed', contentType: 'application/json', text })),
      weight: 1,
    },
    { arbitrary: fc.constantFrom(...WRONG_CONTENT_TYPES).map(([contentType, text]) => ({ kind: 'wrong-type', contentType, text })), weight: 1 },
    { arbitrary: fc.constantFrom({ kind: 'none' }, { kind: 'none', contentType: 'application/json' }), weight: 1 },
  );
}

export function requestFor(doc: OpenApiDocument, op: Operation, pools: FuzzPools): fc.Arbitrary<FuzzRequest> {
  const pathArb = fc.tuple(...op.pathParams.map((p) => pathValue(op, p.name, pools))).map((values) => {
    let path = op.path;
    op.pathParams.forEach((p, i) => (path = path.replace(`{${p.name}}`, values[i] ?? '')));
    return path;
  });
  const headerArbs = op.headerParams.map((p) =>
    fc.option(
      fc.oneof(validValue(doc, p.schema, p.name, pools).map(String), fc.uuid(), hostileString.map(headerSafe)).map((v) => [p.name, v] as const),
      { nil: undefined },
    ),
  );
  const accept = fc.constantFrom(undefined, undefined, undefined, 'application/json', 'text/csv', '*/*', 'application/xml', 'text/csv;q=0.1, application/json');
  const isGet = op.method === 'GET';
  return fc
    .record({
      path: pathArb,
      query: queryString(doc, op, pools),
      authLabel: fc.oneof(...Object.keys(pools.auth).map((label) => ({ arbitrary: fc.constant(label), weight: pools.authWeights?.[label] ?? 1 }))),
      body: isGet ? fc.constant({ kind: 'none' } as { kind: string; contentType?: string; text?: string }) : bodyFor(doc, op, pools),
      headers: fc.tuple(...headerArbs),
      accept,
    })
    .map(({ path, query, authLabel, body, headers, accept }) => {
      const h: Record<string, string> = {};
      const auth = pools.auth[authLabel];
      if (auth !== undefined) h.authorization = auth;
      if (body.contentType !== undefined) h['content-type'] = body.contentType;
      if (accept) h.accept = accept;
      for (const entry of headers) if (entry) h[entry[0].toLowerCase()] = headerSafe(entry[1]);
      return { op, bodyKind: body.kind, authLabel, method: op.method, url: `${path}${query}`, headers: h, body: body.text };
    });
}

// ---------------------------------------------------------------- the route table

/**
 * The routes Fastify serves, from `printRoutes()`'s tree (each line's segment is
 * appended to its parent's), as `METHOD /path/{param}`.
 */
export function routesFromTree(tree: string): string[] {
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (.*?) \(([^)]*)\)$/.exec(line) ?? /^((?:[│ ] {3})*)[├└]── (.*)$/.exec(line);
    if (!m) continue;
    const depth = (m[1] ?? '').length / 4;
    stack.length = depth;
    const segment = m[2] ?? '';
    stack.push(segment);
    if (m[3] === undefined) continue;
    const path = stack.join('').replace(/:(\w+)/g, '{$1}');
    for (const method of m[3].split(',').map((s) => s.trim())) if (method !== 'HEAD' && method !== 'OPTIONS') routes.push(`${method} ${path}`);
  }
  return [...new Set(routes)].sort();
}
