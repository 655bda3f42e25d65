import { createHmac, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { plainToInstance, Transform } from 'class-transformer';
import { IsArray, IsIn, IsInt, IsNumber, IsOptional, IsString, Matches, Max, Min, MinLength, ValidateBy, validateSync, type ValidationOptions } from 'class-validator';

const toNumber = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));

/** At least `min` bytes in UTF-8: a signing key's strength is its bytes, not its characters. */
const MinBytes = (min: number, options?: ValidationOptions): PropertyDecorator =>
  ValidateBy({ name: 'minBytes', validator: { validate: (value: unknown) => typeof value === 'string' && Buffer.byteLength(value, 'utf8') >= min } }, {
    message: `must be at least ${min} bytes (e.g. openssl rand -hex 32)`,
    ...options,
  });

/**
 * Every environment variable the platform reads, validated once at start-up.
 * Nothing else reads `process.env`.
 */
export class AppConfig {
  /** `production` refuses defaults that are unsafe outside a developer machine. */
  @IsIn(['development', 'test', 'production'])
  nodeEnv: 'development' | 'test' | 'production' = 'development';

  /** API port. */
  @Transform(toNumber)
  @IsInt()
  @Min(0)
  @Max(65535)
  port = 3000;

  /**
   * Address the API listens on: loopback by default on a developer machine, whose
   * first start creates an admin with a published password; every interface in
   * production (containers). Set in loadConfig from NODE_ENV when absent.
   */
  @IsString()
  @Matches(/^[\w.:-]{1,253}$/, { message: 'must be a host name or an IP address, e.g. 127.0.0.1 or 0.0.0.0' })
  host: string;

  /** PostgreSQL connection URL. */
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// URL' })
  databaseUrl = 'postgres://postgres@127.0.0.1:5432/kepu';

  /** Connections per process. */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  @Max(500)
  databasePoolSize = 20;

  /** Redis URL for the queues. */
  @Matches(/^rediss?:\/\/.+/, { message: 'must be a redis:// URL' })
  redisUrl = 'redis://127.0.0.1:6379';

  @IsIn(['redis', 'postgres'])
  queueBackend: 'redis' | 'postgres' = 'redis';

  /** Token signing secret (HS256: at least 32 bytes, the hash's size); generated per process outside production. */
  @IsString()
  @MinBytes(32)
  jwtSecret: string;

  /**
   * Secret of the rotating check-in codes shown at a venue (verified hours); derived
   * from JWT_SECRET when not set. Changing it makes the codes on display invalid.
   */
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters' })
  checkInCodeSecret: string;

  /** Whether `jwtSecret` was generated because none was configured. */
  isJwtSecretGenerated = false;

  /** Access token lifetime: short, because a refresh token renews it (POST /auth/refresh). */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  @Max(24 * 3600)
  accessTokenTtlSeconds = 900;

  /** Refresh token lifetime; each use rotates it. */
  @Transform(toNumber)
  @IsInt()
  @Min(60)
  @Max(90 * 24 * 3600)
  refreshTokenTtlSeconds = 7 * 24 * 3600;

  /**
   * Absolute lifetime of a login's session: refreshing never takes it past this
   * many seconds after the login (each refresh token's own lifetime is cut to it).
   */
  @Transform(toNumber)
  @IsInt()
  @Min(60)
  @Max(365 * 24 * 3600)
  sessionMaxAgeSeconds = 30 * 24 * 3600;

  /** Consecutive failed logins for one username before it is locked. */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  @Max(100)
  loginLockoutThreshold = 5;

  /** How long a locked username stays locked. */
  @Transform(toNumber)
  @IsNumber()
  @Min(0.01)
  @Max(24 * 60)
  loginLockoutMinutes = 15;

  /** Browser origins allowed to call the API cross-origin; empty: none. */
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.split(',').map((o) => o.trim()).filter((o) => o.length > 0) : value,
  )
  @IsArray()
  @Matches(/^https?:\/\/[^/\s]+$/, { each: true, message: 'each origin must be scheme://host[:port], without a path' })
  corsOrigins: string[] = [];

  /** Largest request body accepted; larger ones are refused with 413. */
  @Transform(toNumber)
  @IsInt()
  @Min(1024)
  @Max(50 * 1024 * 1024)
  bodyLimitBytes = 100 * 1024;

  /**
   * Whose X-Forwarded-For / X-Forwarded-Proto to believe: \`false\` (nobody: a
   * client could otherwise claim any address and slip past per-address limits),
   * \`true\` (anyone), or comma-separated proxy addresses / CIDRs.
   */
  @Matches(/^(true|false|[\d.:a-fA-F/]+(\s*,\s*[\d.:a-fA-F/]+)*)$/, {
    message: 'must be true, false or comma-separated addresses / CIDRs',
  })
  trustProxy = 'false';

  /** Strict-Transport-Security max-age; 0 sends none (set it when the API is served over HTTPS). */
  @Transform(toNumber)
  @IsInt()
  @Min(0)
  hstsMaxAgeSeconds = 0;

  /** As any username (POST /users): login accepts no other. */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{3,64}$/, { message: 'must be 3–64 letters, digits, dots, dashes or underscores' })
  bootstrapAdminUsername?: string;

  /** Checked against the password policy of libs/core when the admin is created (database-setup.ts). */
  @IsOptional()
  @IsString()
  bootstrapAdminPassword?: string;

  /** Province whose regions are imported (NBS code, 2 digits). */
  @Matches(/^\d{2}$/, { message: 'must be a 2-digit province code' })
  regionProvince = '11';

  @Transform(toNumber)
  @IsNumber()
  @Min(0.0001)
  slaDispatchHours = 24;

  @Transform(toNumber)
  @IsNumber()
  @Min(0.0001)
  slaClaimHours = 48;

  @Transform(toNumber)
  @IsNumber()
  @Min(0.0001)
  slaAcceptHours = 72;

  @Transform(toNumber)
  @IsNumber()
  @Min(0.0001)
  slaScheduleHours = 72;

  /** An urgent order's stage deadlines are this share of the normal ones (应急科普). */
  @Transform(toNumber)
  @IsNumber()
  @Min(0.01)
  @Max(1)
  slaUrgentFactor = 0.25;

  /** In production only https:// (checked in loadConfig): the messages carry phone numbers and codes. */
  @IsOptional()
  @Matches(/^https?:\/\/.+/, { message: 'must be an http(s) URL' })
  notifyWebhookUrl?: string;

  /**
   * Key of the webhook's signature: every call carries
   * `X-Kepu-Signature: sha256=<hex HMAC-SHA256 of the raw body>`. Required in
   * production when NOTIFY_WEBHOOK_URL is set.
   */
  @IsOptional()
  @IsString()
  @MinBytes(32)
  notifyWebhookSecret?: string;

  /**
   * Prefix of every queue key. Hash-tagged by default ({kepu}) so all of a
   * deployment's queues land on one Redis Cluster slot, as BullMQ requires.
   */
  @Matches(/^[\w{}.-]{1,50}$/, { message: 'must be 1–50 letters, digits, braces, dots or dashes' })
  queuePrefix = '{kepu}';

  /** Attempts of an external delivery (sms, email, wechat) before it is marked failed. */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  @Max(20)
  deliveryAttempts = 5;

  /** First retry delay of a delivery; doubles each attempt. */
  @Transform(toNumber)
  @IsInt()
  @Min(10)
  deliveryBackoffMs = 2000;

  /**
   * Fan-out jobs (one outbox message each: its notifications and, for an order's
   * status, its stage timers) one worker runs at once. Each holds a database
   * connection for two statements at a time, so keep it at or below DATABASE_POOL_SIZE.
   */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  @Max(200)
  notificationsConcurrency = 10;

  /**
   * A worker starts a refresh of the coverage and scorecard rollups at most this often:
   * the coverage jobs that arrive meanwhile go in the next refresh together. A refresh
   * after a quiet spell starts at once; 0 starts each as soon as the previous one ends.
   */
  @Transform(toNumber)
  @IsInt()
  @Min(0)
  @Max(10_000)
  coverageRefreshIntervalMs = 200;

  /** How often the outbox relay looks for unpublished messages when no NOTIFY woke it. */
  @Transform(toNumber)
  @IsInt()
  @Min(50)
  outboxPollMs = 1000;

  /** How long a stopping API or worker may take to close; past it the process exits anyway (jobs it held run again). */
  @Transform(toNumber)
  @IsInt()
  @Min(100)
  shutdownTimeoutMs = 10_000;

  /** Failed logins per username and address per minute before 429. */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  loginRateLimitPerMinute = 10;

  /**
   * Failed logins one client address may make a minute, whatever the usernames
   * (password spraying), shared by every API process; then 429 RATE_LIMITED.
   */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  loginFailuresPerAddressPerMinute = 30;

  /**
   * Password hashes (scrypt, ~50 ms of CPU and 16 MiB each) one API process
   * computes at once for logins; further logins wait in a bounded queue
   * (LOGIN_HASH_QUEUE), past which they are 503 DEPENDENCY_UNAVAILABLE with Retry-After.
   */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  @Max(64)
  loginHashConcurrency = 4;

  /** Logins that may wait for a password hash slot in one API process before 503. */
  @Transform(toNumber)
  @IsInt()
  @Min(0)
  @Max(10_000)
  loginHashQueue = 32;

  /**
   * Event sign-ups one API process holds waiting per event: they queue in memory and are
   * decided in batches under the event's row lock, one database connection per event at a
   * time; past this many waiting, a sign-up is 503 DEPENDENCY_UNAVAILABLE with Retry-After.
   */
  @Transform(toNumber)
  @IsInt()
  @Min(0)
  @Max(100_000)
  signupQueuePerEvent = 1000;

  /** How long a sign-up / phone-change SMS code stays valid. */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  @Max(3600)
  phoneCodeTtlSeconds = 300;

  /** SMS codes one client address may request an hour (each phone also gets at most 1 a minute, 5 an hour). */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  phoneCodesPerAddressPerHour = 30;

  /** Broadcasts one sender may have accepted an hour (refused attempts and idempotent repeats do not count). */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  @Max(10000)
  broadcastsPerHour = 6;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  logLevel = 'info';

  /** How often the worker sweeps expired refresh tokens, phone codes, old login failures and rate-limit counters. */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  @Max(24 * 3600)
  housekeepingIntervalSeconds = 3600;

  /** Writes one user may make an hour on each route marked @LimitedWrite (libs/http), unless WRITE_RATE_LIMITS names the route. */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  writeRateLimitPerHour = 60;

  /** Per-route hourly limits overriding WRITE_RATE_LIMIT_PER_HOUR: `orders.create=30,slots.claim=20`. */
  @IsString()
  @Matches(/^$|^[a-z][\w.-]{0,63}=\d{1,7}(\s*,\s*[a-z][\w.-]{0,63}=\d{1,7})*$/, { message: 'must be route=limit pairs separated by commas, e.g. orders.create=30,slots.claim=20' })
  writeRateLimits = '';

  /** Slot claims one volunteer may make on one order a day (caps claim/withdraw cycles). */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  @Max(1000)
  slotClaimsPerOrderPerDay = 5;

  /** WRITE_RATE_LIMITS as a map, route name → hourly limit. */
  get writeRateLimitOverrides(): ReadonlyMap<string, number> {
    const pairs = this.writeRateLimits
      .split(',')
      .map((pair) => pair.trim())
      .filter((pair) => pair.length > 0)
      .map((pair) => pair.split('=') as [string, string]);
    return new Map(pairs.map(([name, limit]) => [name.trim(), Number(limit)]));
  }
}

/** Environment variable → AppConfig property. */
export const ENV_VARIABLES: Record<string, keyof AppConfig> = {
  NODE_ENV: 'nodeEnv',
  PORT: 'port',
  HOST: 'host',
  DATABASE_URL: 'databaseUrl',
  DATABASE_POOL_SIZE: 'databasePoolSize',
  REDIS_URL: 'redisUrl',
  QUEUE_BACKEND: 'queueBackend',
  JWT_SECRET: 'jwtSecret',
  CHECK_IN_CODE_SECRET: 'checkInCodeSecret',
  ACCESS_TOKEN_TTL_SECONDS: 'accessTokenTtlSeconds',
  REFRESH_TOKEN_TTL_SECONDS: 'refreshTokenTtlSeconds',
  LOGIN_LOCKOUT_THRESHOLD: 'loginLockoutThreshold',
  LOGIN_LOCKOUT_MINUTES: 'loginLockoutMinutes',
  CORS_ORIGINS: 'corsOrigins',
  BODY_LIMIT_BYTES: 'bodyLimitBytes',
  HSTS_MAX_AGE_SECONDS: 'hstsMaxAgeSeconds',
  TRUST_PROXY: 'trustProxy',
  BOOTSTRAP_ADMIN_USERNAME: 'bootstrapAdminUsername',
  BOOTSTRAP_ADMIN_PASSWORD: 'bootstrapAdminPassword',
  REGION_PROVINCE: 'regionProvince',
  SLA_DISPATCH_HOURS: 'slaDispatchHours',
  SLA_CLAIM_HOURS: 'slaClaimHours',
  SLA_ACCEPT_HOURS: 'slaAcceptHours',
  SLA_SCHEDULE_HOURS: 'slaScheduleHours',
  SLA_URGENT_FACTOR: 'slaUrgentFactor',
  NOTIFY_WEBHOOK_URL: 'notifyWebhookUrl',
  LOGIN_RATE_LIMIT_PER_MINUTE: 'loginRateLimitPerMinute',
  PHONE_CODE_TTL_SECONDS: 'phoneCodeTtlSeconds',
  PHONE_CODES_PER_ADDRESS_PER_HOUR: 'phoneCodesPerAddressPerHour',
  BROADCASTS_PER_HOUR: 'broadcastsPerHour',
  QUEUE_PREFIX: 'queuePrefix',
  DELIVERY_ATTEMPTS: 'deliveryAttempts',
  DELIVERY_BACKOFF_MS: 'deliveryBackoffMs',
  OUTBOX_POLL_MS: 'outboxPollMs',
  NOTIFICATIONS_CONCURRENCY: 'notificationsConcurrency',
  COVERAGE_REFRESH_INTERVAL_MS: 'coverageRefreshIntervalMs',
  SHUTDOWN_TIMEOUT_MS: 'shutdownTimeoutMs',
  LOG_LEVEL: 'logLevel',
  SESSION_MAX_AGE_SECONDS: 'sessionMaxAgeSeconds',
  LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE: 'loginFailuresPerAddressPerMinute',
  LOGIN_HASH_CONCURRENCY: 'loginHashConcurrency',
  LOGIN_HASH_QUEUE: 'loginHashQueue',
  SIGNUP_QUEUE_PER_EVENT: 'signupQueuePerEvent',
  NOTIFY_WEBHOOK_SECRET: 'notifyWebhookSecret',
  HOUSEKEEPING_INTERVAL_SECONDS: 'housekeepingIntervalSeconds',

  WRITE_RATE_LIMIT_PER_HOUR: 'writeRateLimitPerHour',
  WRITE_RATE_LIMITS: 'writeRateLimits',
  SLOT_CLAIMS_PER_ORDER_PER_DAY: 'slotClaimsPerOrderPerDay',
};

export class ConfigError extends Error {}

/** Reads and validates the environment; throws a ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const plain: Record<string, unknown> = {};
  for (const [variable, property] of Object.entries(ENV_VARIABLES)) {
    const value = env[variable];
    if (value !== undefined && value !== '') plain[property] = value;
  }
  const config = plainToInstance(AppConfig, plain);
  config.host ??= config.nodeEnv === 'production' ? '0.0.0.0' : '127.0.0.1';
  if (!config.jwtSecret && config.nodeEnv !== 'production') {
    config.jwtSecret = randomBytes(32).toString('hex');
    config.isJwtSecretGenerated = true;
  }
  // A secret of its own by default, derived one way from the JWT secret (a check-in code reveals nothing about it).
  if (!config.checkInCodeSecret && config.jwtSecret) config.checkInCodeSecret = createHmac('sha256', config.jwtSecret).update('kepu:check-in-codes').digest('hex');
  const problems = validateSync(config, { forbidUnknownValues: false });
  const byProperty = new Map(Object.entries(ENV_VARIABLES).map(([variable, property]) => [property as string, variable]));
  const lines = problems.map((p) => {
    const variable = byProperty.get(p.property) ?? p.property;
    const messages = Object.values(p.constraints ?? {}).map((m) => m.replace(p.property, variable));
    return `  ${variable}: ${messages.join('; ')}`;
  });
  if (config.nodeEnv === 'production' && config.notifyWebhookUrl) {
    // The messages carry phone numbers and sign-up codes: never in clear text, never unsigned.
    if (!/^https:\/\//i.test(config.notifyWebhookUrl)) lines.push('  NOTIFY_WEBHOOK_URL: must be an https:// URL in production');
    if (!config.notifyWebhookSecret) lines.push('  NOTIFY_WEBHOOK_SECRET: is required in production with NOTIFY_WEBHOOK_URL (the webhook calls are signed with it)');
  }
  if (lines.length > 0) throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  return config;
}

/**
 * Never in a log line, in the API or the worker: credentials, tokens, phone numbers
 * and contact addresses, wherever a logged object carries them (a request, an error's
 * SQL parameters and PostgreSQL's detail, which quotes key values; a payload one level
 * down). One list, given to pino's `redact` by both processes.
 */
export const LOG_REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.body',
  'res.headers["set-cookie"]',
  'err.parameters',
  'err.driverError',
  'err.detail',
  ...['password', 'passwordHash', 'accessToken', 'refreshToken', 'token', 'phone', 'contactPhone', 'to', 'address'].flatMap((key) => [key, `*.${key}`]),
];

/** Nest's own logger levels for a LOG_LEVEL, for processes that log through Nest's console logger. */
export function nestLogLevels(level: AppConfig['logLevel']): ('fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose')[] | false {
  const order = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
  const upTo: Record<string, number> = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 };
  return level === 'silent' ? false : order.slice(0, (upTo[level] ?? 3) + 1);
}

/** The API's URL from this machine for a HOST and port: a wildcard address (0.0.0.0, ::) is reached on 127.0.0.1. */
export function listeningUrl(host: string, port: number): string {
  const address = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${isIP(address) === 6 ? `[${address}]` : address}:${port}`;
}
