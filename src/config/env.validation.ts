import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateBy,
  ValidateIf,
  validateSync,
  type ValidationOptions,
} from 'class-validator';
import { isIP } from 'node:net';

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off', ''];
/** Strict: anything but a known true/false word stays a string and fails @IsBoolean. */
const toBool = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  return TRUE.includes(v) ? true : FALSE.includes(v) ? false : value;
};
/**
 * TRUST_PROXY: a true/false word, or a comma-separated list of the proxies to trust (addresses,
 * CIDRs, IPv4 address/netmask, or proxy-addr's names loopback, linklocal, uniquelocal). The list is
 * only checked here and handed to Fastify (`trustProxy`, proxy-addr) as written.
 */
const toTrustProxy = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (TRUE.includes(v)) return true;
  if (FALSE.includes(v)) return false;
  return value
    .split(',')
    .map((entry) => entry.trim())
    .join(', ');
};
const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];
/** One entry of a TRUST_PROXY list, as proxy-addr accepts it. */
export function isTrustedProxyEntry(entry: string): boolean {
  if (PROXY_NAMES.includes(entry)) return true;
  const [address, range, ...rest] = entry.split('/');
  const family = isIP(address);
  if (!family || rest.length > 0 || address.includes('%')) return false;
  if (range === undefined) return true;
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(range) === 4; // IPv4 netmask, e.g. 10.0.0.0/255.255.0.0
}
const IsTrustedProxyList = (options: ValidationOptions) =>
  ValidateBy(
    { name: 'isTrustedProxyList', validator: { validate: (v: unknown) => typeof v === 'string' && v.split(', ').every(isTrustedProxyEntry) } },
    options,
  );
const blankToUndefined = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/** What access tokens may be signed with (ACCESS_TOKEN_ALGORITHM; src/config/token-signing.ts). */
export const ACCESS_TOKEN_ALGORITHMS = ['ES256', 'HS256'] as const;
export type AccessTokenAlgorithm = (typeof ACCESS_TOKEN_ALGORITHMS)[number];

/**
 * Every environment variable Latchkey reads, with its rules. The only class that looks at
 * process.env (through `validateEnv`); everything else receives typed config.
 */
export class EnvironmentVariables {
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV?: 'development' | 'production' | 'test';

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT?: number;

  @Transform(blankToUndefined)
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  PUBLIC_URL?: string;

  @Transform(toTrustProxy)
  @IsOptional()
  @ValidateIf((o: EnvironmentVariables) => typeof o.TRUST_PROXY !== 'boolean')
  @IsTrustedProxyList({
    message:
      'TRUST_PROXY must be true or false (1/0, yes/no, on/off), or a comma-separated list of proxy addresses, ' +
      'CIDRs (10.1.0.0/16, fd00::/8) and the names loopback, linklocal, uniquelocal',
  })
  TRUST_PROXY?: boolean | string;

  @Transform(blankToUndefined)
  @IsOptional()
  @IsString()
  DATA_DIR?: string;

  @Transform(blankToUndefined)
  @IsOptional()
  @Matches(/^(postgres(ql)?:\/\/.+|sqlite:.+)$/, {
    message: 'DATABASE_URL must be postgres://user@host:port/db or sqlite:<path>',
  })
  DATABASE_URL?: string;

  @Transform(blankToUndefined)
  @IsOptional()
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'DATABASE_SCHEMA must be a lower-case SQL identifier' })
  DATABASE_SCHEMA?: string;

  @Transform(blankToUndefined)
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  @Transform(blankToUndefined)
  @IsOptional()
  @Matches(/^[\w:.-]{1,64}$/, { message: 'REDIS_KEY_PREFIX must be 1-64 letters, digits, "_", ":", "." or "-"' })
  REDIS_KEY_PREFIX?: string;

  @Transform(blankToUndefined)
  @IsOptional()
  @IsString()
  SECRET_KEYS?: string;

  /** ES256 keys, PEM or JWK, `;`-separated: the first signs access tokens, all verify (token-signing.ts). */
  @Transform(blankToUndefined)
  @IsOptional()
  @IsString()
  SIGNING_KEYS?: string;

  @Transform(blankToUndefined)
  @IsOptional()
  @IsIn(ACCESS_TOKEN_ALGORITHMS, { message: `ACCESS_TOKEN_ALGORITHM must be one of: ${ACCESS_TOKEN_ALGORITHMS.join(', ')}` })
  ACCESS_TOKEN_ALGORITHM?: AccessTokenAlgorithm;

  /** The `aud` claim of access tokens (RFC 9068); default: the issuer (PUBLIC_URL, else "latchkey"). */
  @Transform(blankToUndefined)
  @IsOptional()
  @Matches(/^[\x21-\x7e]{1,256}$/, { message: 'ACCESS_TOKEN_AUDIENCE must be 1-256 visible ASCII characters' })
  ACCESS_TOKEN_AUDIENCE?: string;

  @Transform(blankToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'TOKEN_PEPPER must be at least 32 characters' })
  TOKEN_PEPPER?: string;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  ACCESS_TOKEN_MAX_AGE?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  REFRESH_TOKEN_MAX_AGE?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  SESSION_MAX_AGE?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(600)
  REFRESH_REUSE_GRACE?: number;

  /** Idle timeout of browser sessions (seconds); default REFRESH_TOKEN_MAX_AGE. */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(60)
  BROWSER_SESSION_IDLE_TIMEOUT?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  MAX_SESSIONS_PER_USER?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(3600)
  USER_CACHE_TTL?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  MAX_API_KEYS_PER_USER?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(3600)
  CREDENTIAL_CACHE_TTL?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(3600)
  LAST_USED_INTERVAL?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(86_400)
  RECENT_LOGIN_MAX_AGE?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(36_500)
  AUDIT_RETENTION_DAYS?: number;

  /** Seconds of revocation-feed history kept (at least ACCESS_TOKEN_MAX_AGE is kept whatever this says). */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(90 * 24 * 3600)
  REVOCATION_FEED_RETENTION?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000)
  USAGE_LOG_SIZE?: number;

  /** GitHub's secret-scanning public keys, as https://api.github.com/meta/public_keys/secret_scanning returns them. */
  @Transform(blankToUndefined)
  @IsOptional()
  @IsString()
  SECRET_SCANNING_KEYS?: string;

  /** Where plugin files live: `disk` (PLUGIN_STORAGE_DIR) or `database`; default database with PostgreSQL, disk with SQLite. */
  @Transform(blankToUndefined)
  @IsOptional()
  @IsIn(['disk', 'database'], { message: 'PLUGIN_STORAGE must be disk or database' })
  PLUGIN_STORAGE?: 'disk' | 'database';

  @Transform(blankToUndefined)
  @IsOptional()
  @IsString()
  PLUGIN_STORAGE_DIR?: string;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10 * 1024 * 1024 * 1024)
  MAX_UPLOAD_BYTES?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  PLUGIN_TOKEN_MAX_LIFETIME?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(30 * 24 * 3600)
  PLUGIN_TOKEN_MAX_OVERLAP?: number;

  /** How long an invitation to maintain a plugin can be accepted, seconds (default 7 days). */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(365 * 24 * 3600)
  PLUGIN_INVITATION_TTL?: number;

  @Transform(blankToUndefined)
  @IsOptional()
  @Matches(/^[a-z0-9][a-z0-9_-]{0,62}$/, {
    message: 'PASSWORD_PROVIDER_NAME must be lower-case letters, digits, "-" or "_"',
  })
  PASSWORD_PROVIDER_NAME?: string;

  @Transform(blankToUndefined)
  @IsOptional()
  @IsIn(LOG_LEVELS)
  LOG_LEVEL?: LogLevelName;

  /** json (one object per line) or pretty (for a terminal); see configuration.ts for the default. */
  @Transform(blankToUndefined)
  @IsOptional()
  @IsIn(['json', 'pretty'])
  LOG_FORMAT?: 'json' | 'pretty';

  /** Bearer token Prometheus sends to /metrics; unset: /metrics answers 404. */
  @Transform(blankToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'METRICS_TOKEN must be at least 32 characters' })
  @Matches(/^[\x21-\x7e]+$/, { message: 'METRICS_TOKEN must be visible ASCII characters (no spaces)' })
  METRICS_TOKEN?: string;

  /** On SIGTERM: how long in-flight requests may still take before their connections are cut. */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(600_000)
  SHUTDOWN_GRACE_MS?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1024)
  @Max(10 * 1024 * 1024)
  MAX_BODY_BYTES?: number;

  // Rate limits and password hashing (README "Configuration"; defaults in configuration.ts).
  @Transform(toBool)
  @IsOptional()
  @IsBoolean({ message: 'RATE_LIMIT_ENABLED must be true or false (1/0, yes/no, on/off)' })
  RATE_LIMIT_ENABLED?: boolean;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(86_400)
  RATE_LIMIT_WINDOW?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  RATE_LIMIT_LOGIN_PER_IP?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  RATE_LIMIT_LOGIN_PER_USERNAME?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  RATE_LIMIT_REFRESH_PER_IP?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  RATE_LIMIT_CREATE_PER_USER?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  RATE_LIMIT_PUBLIC_PER_IP?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  RATE_LIMIT_LOGIN_FAILURES?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  AUTH_FAILURES_PER_IP?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(86_400)
  RATE_LIMIT_LOGIN_FAILURE_WINDOW?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(86_400)
  RATE_LIMIT_LOGIN_MAX_DELAY?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1024)
  HASH_CONCURRENCY?: number;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  HASH_QUEUE_LIMIT?: number;
}

/** Validates the environment; throws one Error that names every offending variable. */
export function validateEnv(env: NodeJS.ProcessEnv): EnvironmentVariables {
  const parsed = plainToInstance(EnvironmentVariables, { ...env }, { excludeExtraneousValues: false });
  const errors = validateSync(parsed, { skipMissingProperties: false, whitelist: false });
  if (errors.length > 0) {
    const lines = errors.map((e) => {
      const secret = e.property.includes('SECRET') || e.property.includes('PEPPER') || e.property === 'METRICS_TOKEN';
      const shown = secret ? '(hidden)' : JSON.stringify(e.value);
      return `  ${e.property}=${shown}: ${Object.values(e.constraints ?? {}).join('; ')}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
