import { randomBytes } from 'node:crypto';
import { plainToInstance, Transform } from 'class-transformer';
import { IsArray, IsIn, IsInt, IsNumber, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync } from 'class-validator';

const toNumber = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));

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

  /** Token signing secret; generated per process outside production. */
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters' })
  jwtSecret: string;

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

  @IsOptional()
  @IsString()
  @MinLength(3)
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

  @IsOptional()
  @Matches(/^https?:\/\/.+/, { message: 'must be an http(s) URL' })
  notifyWebhookUrl?: string;

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

  /** How often the outbox relay looks for unpublished messages when no NOTIFY woke it. */
  @Transform(toNumber)
  @IsInt()
  @Min(50)
  outboxPollMs = 1000;

  /** Failed logins per username and address per minute before 429. */
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  loginRateLimitPerMinute = 10;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  logLevel = 'info';
}

/** Environment variable → AppConfig property. */
export const ENV_VARIABLES: Record<string, keyof AppConfig> = {
  NODE_ENV: 'nodeEnv',
  PORT: 'port',
  DATABASE_URL: 'databaseUrl',
  DATABASE_POOL_SIZE: 'databasePoolSize',
  REDIS_URL: 'redisUrl',
  QUEUE_BACKEND: 'queueBackend',
  JWT_SECRET: 'jwtSecret',
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
  NOTIFY_WEBHOOK_URL: 'notifyWebhookUrl',
  LOGIN_RATE_LIMIT_PER_MINUTE: 'loginRateLimitPerMinute',
  QUEUE_PREFIX: 'queuePrefix',
  DELIVERY_ATTEMPTS: 'deliveryAttempts',
  DELIVERY_BACKOFF_MS: 'deliveryBackoffMs',
  OUTBOX_POLL_MS: 'outboxPollMs',
  LOG_LEVEL: 'logLevel',
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
  if (!config.jwtSecret && config.nodeEnv !== 'production') {
    config.jwtSecret = randomBytes(32).toString('hex');
    config.isJwtSecretGenerated = true;
  }
  const problems = validateSync(config, { forbidUnknownValues: false });
  if (problems.length > 0) {
    const byProperty = new Map(Object.entries(ENV_VARIABLES).map(([variable, property]) => [property as string, variable]));
    const lines = problems.map((p) => {
      const variable = byProperty.get(p.property) ?? p.property;
      const messages = Object.values(p.constraints ?? {}).map((m) => m.replace(p.property, variable));
      return `  ${variable}: ${messages.join('; ')}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return config;
}

/** Nest's own logger levels for a LOG_LEVEL, for processes that log through Nest's console logger. */
export function nestLogLevels(level: AppConfig['logLevel']): ('fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose')[] | false {
  const order = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
  const upTo: Record<string, number> = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 };
  return level === 'silent' ? false : order.slice(0, (upTo[level] ?? 3) + 1);
}
