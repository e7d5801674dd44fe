import { loadLeakReportsConfig, type LeakReportsConfig } from './secret-scanning.config';
import { loadTrustedPublishingConfig, type TrustedPublishingConfig } from './trusted-publishing.config';
import { createHash, createSecretKey, KeyObject, randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError, LogLevelName, validateEnv } from './env.validation';
import { loadOidcConfig, type OidcConfig } from './oidc.config';
import { generateEs256Jwk, parseSigningKeys, tokenSigningConfig, type TokenSigningConfig } from './token-signing';

export interface SecretKey {
  /** Short public identifier carried in the JWT `kid` header. */
  readonly kid: string;
  readonly key: KeyObject;
}

/** See AppConfig.trustProxy. */
export type TrustProxy = false | string;

/** What TRUST_PROXY=true trusts: proxies on this host or on a private network. */
export const PRIVATE_PROXIES = 'loopback, linklocal, uniquelocal';

export type DatabaseConfig =
  | { readonly type: 'sqlite'; readonly path: string }
  | { readonly type: 'postgres'; readonly url: string; readonly schema?: string };

export interface AppConfig {
  readonly env: 'development' | 'production' | 'test';
  readonly port: number;
  readonly publicUrl?: string;
  /**
   * Fastify's `trustProxy` (proxy-addr): false (no proxy; the socket's address is the client's), or the list of
   * proxies whose X-Forwarded-* headers count (TRUST_PROXY=true: loopback, linklocal, uniquelocal).
   */
  readonly trustProxy: TrustProxy;
  readonly dataDir: string;
  readonly logLevel: LogLevelName;
  /** `json` (default in production and test) or `pretty` (default in development). */
  readonly logFormat: 'json' | 'pretty';
  /** What Prometheus sends as `Authorization: Bearer …` to /metrics; undefined: /metrics is off (404). */
  readonly metricsToken?: string;
  /** On SIGTERM, how long in-flight requests may take before their connections are cut (ms). */
  readonly shutdownGraceMs: number;
  readonly maxBodyBytes: number;
  readonly database: DatabaseConfig;
  /** Shared state between instances; undefined: every instance keeps its own caches. */
  readonly redis?: RedisConfig;
  readonly auth: AuthConfig;
  readonly plugins: PluginsConfig;
  readonly oidc: OidcConfig;
  readonly audit: AuditConfig;
  readonly leakReports: LeakReportsConfig;
  readonly trustedPublishing: TrustedPublishingConfig;
  readonly rateLimit: RateLimitConfig;
  readonly passwordHashing: PasswordHashingConfig;
}

/** Rate limits (RATE_LIMIT_*); counts are per RATE_LIMIT_WINDOW unless said otherwise. */
export interface RateLimitConfig {
  readonly enabled: boolean;
  /** Seconds; the fixed window of every per-IP / per-user / per-username count. */
  readonly window: number;
  readonly loginPerIp: number;
  readonly loginPerUsername: number;
  readonly refreshPerIp: number;
  readonly createPerUser: number;
  readonly publicPerIp: number;
  /** Failed logins for one username before every further attempt waits (1 s, doubling). */
  readonly loginFailures: number;
  /** Seconds after the latest failure that the failure count is kept. */
  readonly loginFailureWindow: number;
  /** Seconds; the longest wait after repeated failures. */
  readonly loginMaxDelay: number;
  /** Failed credential checks (any kind) per client address per window, then 429 on every route. */
  readonly authFailuresPerIp: number;
}

export interface PasswordHashingConfig {
  /** argon2 operations running at once in this process. */
  readonly concurrency: number;
  /** Operations waiting for a slot; beyond, 503 with Retry-After. */
  readonly queueLimit: number;
}

export interface RedisConfig {
  readonly url: string;
  /** Prepended to every key and channel, so several deployments can share one Redis. */
  readonly keyPrefix: string;
}

export interface AuditConfig {
  /** Audit events older than this many days are deleted by a periodic job. */
  readonly retentionDays: number;
  /** How many recent uses are kept per API key and per deploy token. */
  readonly usageLogSize: number;
}

export interface PluginsConfig {
  /**
   * Where plugin files live: `disk` (storageDir; several instances must share it) or `database`
   * (chunked in the database, which every instance reaches). Default: database with PostgreSQL.
   */
  readonly storage: 'disk' | 'database';
  /** Where uploaded plugin files live on disk (default DATA_DIR/plugins): the disk store, and the source of `storage:move-to-database`. */
  readonly storageDir: string;
  readonly maxUploadBytes: number;
  /** Longest lifetime a deploy token may be given, seconds; undefined = no limit (tokens may never expire). */
  readonly tokenMaxLifetime?: number;
  /** Longest overlap a rotation may grant the old secret, seconds. */
  readonly tokenMaxOverlap: number;
  /** How long an invitation to maintain a plugin can be accepted, seconds. */
  readonly invitationTtl: number;
}

export interface AuthConfig {
  /**
   * SECRET_KEYS: the first seals (IdP tokens, login state…) and, with ACCESS_TOKEN_ALGORITHM=HS256,
   * signs access tokens; every key opens and verifies (rotation).
   */
  readonly secretKeys: readonly SecretKey[];
  /** How access tokens are signed and verified (ES256 keys from SIGNING_KEYS by default). */
  readonly tokenSigning: TokenSigningConfig;
  /** The `aud` of access tokens (ACCESS_TOKEN_AUDIENCE; default: the issuer). */
  readonly accessTokenAudience: string;
  readonly tokenPepper: Buffer;
  readonly accessTokenMaxAge: number;
  readonly refreshTokenMaxAge: number;
  readonly sessionMaxAge: number;
  readonly refreshReuseGrace: number;
  /** A browser session (cookie) unused this many seconds is refused and revoked. */
  readonly browserSessionIdleTimeout: number;
  readonly maxSessionsPerUser: number;
  readonly userCacheTtl: number;
  readonly maxApiKeysPerUser: number;
  /** Seconds an API-key lookup is cached per instance (bounds revocation lag on *other* instances). */
  readonly credentialCacheTtl: number;
  /** An API key's last use is written at most this often (seconds); 0 writes every use. */
  readonly lastUsedInterval: number;
  /** Sensitive self-service actions need a login at most this many seconds old (0: any login). */
  readonly recentLoginMaxAge: number;
  readonly passwordProviderName: string;
  readonly issuer: string;
  /**
   * Seconds of history the revocation feed keeps (REVOCATION_FEED_RETENTION, default a day, never
   * less than ACCESS_TOKEN_MAX_AGE): a consumer whose cursor is older must re-sync (410).
   */
  readonly revocationFeedRetention: number;
  /** Where generated development secrets came from, for the boot log (never the secrets). */
  readonly secretsSource: 'env' | 'generated' | 'data-dir';
}

const MIN_SECRET_KEY_LENGTH = 32;

/**
 * Validates the environment and builds the typed configuration. Pure apart from the
 * development-only secrets file in the data directory.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const vars = validateEnv(env);
  const nodeEnv = vars.NODE_ENV ?? 'development';
  const dataDir = resolve(vars.DATA_DIR ?? './data');
  const secrets = resolveSecrets(vars, nodeEnv, dataDir);
  const issuer = vars.PUBLIC_URL?.replace(/\/+$/, '') ?? 'latchkey';

  return Object.freeze({
    env: nodeEnv,
    port: vars.PORT ?? 3000,
    publicUrl: vars.PUBLIC_URL?.replace(/\/+$/, ''),
    trustProxy: vars.TRUST_PROXY === true ? PRIVATE_PROXIES : (vars.TRUST_PROXY ?? false),
    dataDir,
    logLevel: vars.LOG_LEVEL ?? (nodeEnv === 'test' ? 'warn' : 'log'),
    logFormat: vars.LOG_FORMAT ?? (nodeEnv === 'development' ? 'pretty' : 'json'),
    metricsToken: vars.METRICS_TOKEN,
    shutdownGraceMs: vars.SHUTDOWN_GRACE_MS ?? 10_000,
    maxBodyBytes: vars.MAX_BODY_BYTES ?? 64 * 1024,
    database: parseDatabaseUrl(vars.DATABASE_URL, vars.DATABASE_SCHEMA, dataDir),
    redis: vars.REDIS_URL ? Object.freeze({ url: vars.REDIS_URL, keyPrefix: vars.REDIS_KEY_PREFIX ?? 'latchkey:' }) : undefined,
    oidc: loadOidcConfig(env, vars.PASSWORD_PROVIDER_NAME ?? 'local'),
    plugins: Object.freeze({
      storage: vars.PLUGIN_STORAGE ?? (databaseType(env) === 'postgres' ? 'database' : 'disk'),
      storageDir: resolve(vars.PLUGIN_STORAGE_DIR ?? join(dataDir, 'plugins')),
      maxUploadBytes: vars.MAX_UPLOAD_BYTES ?? 50 * 1024 * 1024,
      tokenMaxLifetime: vars.PLUGIN_TOKEN_MAX_LIFETIME,
      tokenMaxOverlap: vars.PLUGIN_TOKEN_MAX_OVERLAP ?? 7 * 24 * 3600,
      invitationTtl: vars.PLUGIN_INVITATION_TTL ?? 7 * 24 * 3600,
    }),
    rateLimit: loadRateLimits(vars, nodeEnv),
    passwordHashing: loadPasswordHashing(vars, nodeEnv, env),
    leakReports: loadLeakReportsConfig(vars.SECRET_SCANNING_KEYS),
    trustedPublishing: loadTrustedPublishingConfig(env, issuer, vars.PLUGIN_TOKEN_MAX_LIFETIME),
    audit: Object.freeze({
      retentionDays: vars.AUDIT_RETENTION_DAYS ?? 365,
      usageLogSize: vars.USAGE_LOG_SIZE ?? 100,
    }),
    auth: Object.freeze({
      secretKeys: secrets.secretKeys,
      tokenSigning: secrets.tokenSigning,
      accessTokenAudience: vars.ACCESS_TOKEN_AUDIENCE ?? issuer,
      tokenPepper: secrets.tokenPepper,
      accessTokenMaxAge: vars.ACCESS_TOKEN_MAX_AGE ?? 900,
      refreshTokenMaxAge: vars.REFRESH_TOKEN_MAX_AGE ?? 604_800,
      sessionMaxAge: vars.SESSION_MAX_AGE ?? 31_536_000,
      refreshReuseGrace: vars.REFRESH_REUSE_GRACE ?? 30,
      browserSessionIdleTimeout: vars.BROWSER_SESSION_IDLE_TIMEOUT ?? vars.REFRESH_TOKEN_MAX_AGE ?? 604_800,
      maxSessionsPerUser: vars.MAX_SESSIONS_PER_USER ?? 200,
      userCacheTtl: vars.USER_CACHE_TTL ?? 30,
      maxApiKeysPerUser: vars.MAX_API_KEYS_PER_USER ?? 100,
      credentialCacheTtl: vars.CREDENTIAL_CACHE_TTL ?? 10,
      lastUsedInterval: vars.LAST_USED_INTERVAL ?? 60,
      recentLoginMaxAge: vars.RECENT_LOGIN_MAX_AGE ?? 600,
      passwordProviderName: vars.PASSWORD_PROVIDER_NAME ?? 'local',
      issuer,
      revocationFeedRetention: Math.max(vars.REVOCATION_FEED_RETENTION ?? 86_400, vars.ACCESS_TOKEN_MAX_AGE ?? 900),
      secretsSource: secrets.source,
    }),
  });
}

/**
 * Rate-limit defaults are for a real deployment. Under NODE_ENV=test they default high instead,
 * so test suites that log in thousands of times from 127.0.0.1 are not throttled by accident;
 * a suite that tests the limits sets them explicitly.
 */
function loadRateLimits(vars: ReturnType<typeof validateEnv>, nodeEnv: string): RateLimitConfig {
  const test = nodeEnv === 'test';
  const high = 1_000_000;
  return Object.freeze({
    enabled: vars.RATE_LIMIT_ENABLED ?? true,
    window: vars.RATE_LIMIT_WINDOW ?? 60,
    loginPerIp: vars.RATE_LIMIT_LOGIN_PER_IP ?? (test ? high : 30),
    loginPerUsername: vars.RATE_LIMIT_LOGIN_PER_USERNAME ?? (test ? high : 10),
    refreshPerIp: vars.RATE_LIMIT_REFRESH_PER_IP ?? (test ? high : 120),
    createPerUser: vars.RATE_LIMIT_CREATE_PER_USER ?? (test ? high : 20),
    publicPerIp: vars.RATE_LIMIT_PUBLIC_PER_IP ?? (test ? high : 300),
    loginFailures: vars.RATE_LIMIT_LOGIN_FAILURES ?? (test ? high : 5),
    loginFailureWindow: vars.RATE_LIMIT_LOGIN_FAILURE_WINDOW ?? 900,
    loginMaxDelay: vars.RATE_LIMIT_LOGIN_MAX_DELAY ?? 900,
    authFailuresPerIp: vars.AUTH_FAILURES_PER_IP ?? (test ? high : 100),
  });
}

/**
 * By default hashing leaves one core to the event loop (measured on 2 cores, bench/README.md: two
 * concurrent argon2 threads made a JWT route's median 6x slower during a login flood, one kept it
 * within 1.4x) and one libuv thread to everything else that uses the pool (SQLite, file I/O,
 * DNS lookups). The queue holds ~0.3 s of work per slot (an argon2id check is ~10 ms of a core).
 */
function loadPasswordHashing(vars: ReturnType<typeof validateEnv>, nodeEnv: string, env: NodeJS.ProcessEnv): PasswordHashingConfig {
  const libuvPool = Number(env.UV_THREADPOOL_SIZE) || 4;
  const concurrency = vars.HASH_CONCURRENCY ?? Math.max(1, Math.min(availableParallelism() - 1, libuvPool - 1));
  return Object.freeze({
    concurrency,
    queueLimit: vars.HASH_QUEUE_LIMIT ?? (nodeEnv === 'test' ? 10_000 : Math.max(64, 32 * concurrency)),
  });
}

export function parseDatabaseUrl(url: string | undefined, schema: string | undefined, dataDir: string): DatabaseConfig {
  if (!url) return { type: 'sqlite', path: join(dataDir, 'latchkey.sqlite') };
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    return { type: 'sqlite', path: path === ':memory:' || isAbsolute(path) ? path : resolve(path) };
  }
  return { type: 'postgres', url, schema };
}

function resolveSecrets(
  vars: ReturnType<typeof validateEnv>,
  nodeEnv: string,
  dataDir: string,
): { secretKeys: SecretKey[]; tokenSigning: TokenSigningConfig; tokenPepper: Buffer; source: AuthConfig['secretsSource'] } {
  let { SECRET_KEYS: secretKeys, TOKEN_PEPPER: tokenPepper, SIGNING_KEYS: signingKeys } = vars;
  const algorithm = vars.ACCESS_TOKEN_ALGORITHM ?? 'ES256';
  const needSigningKeys = algorithm === 'ES256';
  let source: AuthConfig['secretsSource'] = 'env';
  if (!secretKeys || !tokenPepper || (needSigningKeys && !signingKeys)) {
    if (nodeEnv === 'production') {
      const missing = [
        !secretKeys && 'SECRET_KEYS',
        !tokenPepper && 'TOKEN_PEPPER',
        needSigningKeys && !signingKeys && 'SIGNING_KEYS (or ACCESS_TOKEN_ALGORITHM=HS256 to sign with SECRET_KEYS)',
      ].filter(Boolean);
      throw new ConfigError(`Invalid configuration:\n${missing.map((m) => `  ${m}: required when NODE_ENV=production`).join('\n')}`);
    }
    const stored = readOrCreateDevSecrets(dataDir);
    source = stored.created ? 'generated' : 'data-dir';
    secretKeys ??= stored.secretKeys;
    tokenPepper ??= stored.tokenPepper;
    signingKeys ??= stored.signingKeys;
  }
  const keys = secretKeys
    .split(';')
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
  if (keys.length === 0) {
    throw new ConfigError('Invalid configuration:\n  SECRET_KEYS=(hidden): needs at least one key');
  }
  const short = keys.findIndex((k) => k.length < MIN_SECRET_KEY_LENGTH);
  if (short >= 0) {
    throw new ConfigError(
      `Invalid configuration:\n  SECRET_KEYS=(hidden): key #${short + 1} is shorter than ${MIN_SECRET_KEY_LENGTH} characters`,
    );
  }
  if (nodeEnv === 'production') {
    if (keys.some(looksLikePlaceholder)) {
      throw new ConfigError('Invalid configuration:\n  SECRET_KEYS=(hidden): looks like a placeholder');
    }
    if (looksLikePlaceholder(tokenPepper)) {
      throw new ConfigError('Invalid configuration:\n  TOKEN_PEPPER=(hidden): looks like a placeholder');
    }
  }
  if (new Set(keys).size !== keys.length) {
    throw new ConfigError('Invalid configuration:\n  SECRET_KEYS=(hidden): the same key is listed twice');
  }
  const secret = keys.map((k) => ({ kid: keyId(k), key: createSecretKey(Buffer.from(k, 'utf8')) }));
  const hs256 = secret.map((k) => ({ kid: k.kid, alg: 'HS256' as const, signWith: k.key, verifyWith: k.key }));
  const es256 = signingKeys ? parseSigningKeys(signingKeys) : [];
  return {
    secretKeys: secret,
    tokenSigning: tokenSigningConfig(algorithm, es256, hs256),
    tokenPepper: Buffer.from(tokenPepper, 'utf8'),
    source,
  };
}

function looksLikePlaceholder(secret: string): boolean {
  return /change.?me|replace.?me|secret|example|placeholder|^(.)\1+$/i.test(secret);
}

/**
 * Loads `./.env` (if present) into `env` without overriding variables that are already set,
 * so the real environment always wins. Called by the server and CLI entry points only.
 */
export function loadDotEnv(env: NodeJS.ProcessEnv = process.env, file = '.env'): void {
  if (!existsSync(file)) return;
  const parsed = parseEnv(readFileSync(file, 'utf8'));
  for (const [key, value] of Object.entries(parsed)) if (env[key] === undefined) env[key] = value;
}

/** A short, stable, non-reversible identifier of a signing key. */
export function keyId(secret: string): string {
  return createHash('sha256').update('latchkey-kid\0').update(secret).digest('base64url').slice(0, 11);
}

interface DevSecrets {
  secretKeys: string;
  tokenPepper: string;
  signingKeys: string;
  created: boolean;
}

/**
 * Development and test secrets, generated once into DATA_DIR/secrets.json (0600). A file written
 * before ES256 signing existed gains a SIGNING_KEYS entry, once; its other secrets are kept.
 */
function readOrCreateDevSecrets(dataDir: string): DevSecrets {
  const file = join(dataDir, 'secrets.json');
  if (existsSync(file)) {
    let parsed: { SECRET_KEYS?: unknown; TOKEN_PEPPER?: unknown; SIGNING_KEYS?: unknown } | undefined;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as typeof parsed;
    } catch {
      /* the error below */
    }
    if (typeof parsed?.SECRET_KEYS !== 'string' || typeof parsed.TOKEN_PEPPER !== 'string') {
      throw new ConfigError(`Invalid configuration:\n  ${file}: unreadable; fix or delete it (sessions will be lost)`);
    }
    if (typeof parsed.SIGNING_KEYS === 'string') {
      return { secretKeys: parsed.SECRET_KEYS, tokenPepper: parsed.TOKEN_PEPPER, signingKeys: parsed.SIGNING_KEYS, created: false };
    }
    const upgraded = { ...parsed, SIGNING_KEYS: generateEs256Jwk() };
    writeSecretsFile(file, upgraded, 'replace');
    return { secretKeys: parsed.SECRET_KEYS, tokenPepper: parsed.TOKEN_PEPPER, signingKeys: upgraded.SIGNING_KEYS, created: false };
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secrets = {
    SECRET_KEYS: randomBytes(32).toString('base64url'),
    TOKEN_PEPPER: randomBytes(32).toString('base64url'),
    SIGNING_KEYS: generateEs256Jwk(),
  };
  writeSecretsFile(file, secrets, 'create');
  return { secretKeys: secrets.SECRET_KEYS, tokenPepper: secrets.TOKEN_PEPPER, signingKeys: secrets.SIGNING_KEYS, created: true };
}

/** Writes the secrets file for the service user only; a replacement goes through a renamed temporary file. */
function writeSecretsFile(file: string, secrets: object, mode: 'create' | 'replace'): void {
  const text = JSON.stringify(secrets, null, 2) + '\n';
  if (mode === 'create') {
    writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    return;
  }
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600, flag: 'w' });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

/**
 * Which database the environment selects, without validating anything else. Entity column
 * types depend on it (timestamptz/uuid on PostgreSQL, datetime/varchar on SQLite) and are fixed
 * when the entity classes load.
 */
export function databaseType(env: NodeJS.ProcessEnv = process.env): DatabaseConfig['type'] {
  return /^postgres(ql)?:\/\//.test(env.DATABASE_URL ?? '') ? 'postgres' : 'sqlite';
}
