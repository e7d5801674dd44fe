import Fastify from 'fastify';
import { createHttpAdapterOptions } from '../app.setup';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, loadDotEnv } from './configuration';

const KEY = 'k'.repeat(40);
const PEPPER = 'p'.repeat(40);
const base = (extra: Record<string, string> = {}) => ({ SECRET_KEYS: KEY, TOKEN_PEPPER: PEPPER, DATA_DIR: tmp(), ...extra });
const tmp = () => mkdtempSync(join(tmpdir(), 'lk-config-'));

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(base());
    expect(c.port).toBe(3000);
    expect(c.auth).toMatchObject({
      accessTokenMaxAge: 900,
      refreshTokenMaxAge: 604800,
      sessionMaxAge: 31536000,
      refreshReuseGrace: 30,
      passwordProviderName: 'local',
    });
    expect(c.database.type).toBe('sqlite');
  });

  it('browser sessions idle out after REFRESH_TOKEN_MAX_AGE unless BROWSER_SESSION_IDLE_TIMEOUT says otherwise', () => {
    expect(loadConfig(base()).auth.browserSessionIdleTimeout).toBe(604800);
    expect(loadConfig(base({ REFRESH_TOKEN_MAX_AGE: '3600' })).auth.browserSessionIdleTimeout).toBe(3600);
    expect(loadConfig(base({ REFRESH_TOKEN_MAX_AGE: '3600', BROWSER_SESSION_IDLE_TIMEOUT: '900' })).auth.browserSessionIdleTimeout).toBe(900);
    expect(() => loadConfig(base({ BROWSER_SESSION_IDLE_TIMEOUT: '59' }))).toThrow(/BROWSER_SESSION_IDLE_TIMEOUT/);
  });

  it.each([
    ['PORT', 'eighty'],
    ['ACCESS_TOKEN_MAX_AGE', '-5'],
    ['REFRESH_TOKEN_MAX_AGE', '1.5'],
    ['SESSION_MAX_AGE', 'forever'],
    ['PUBLIC_URL', 'not a url'],
    ['DATABASE_URL', 'mysql://x'],
    ['LOG_LEVEL', 'chatty'],
    ['NODE_ENV', 'staging'],
    ['TOKEN_PEPPER', 'short'],
    ['PASSWORD_PROVIDER_NAME', 'Has Spaces'],
    ['TRUST_PROXY', 'maybe'],
    ['USER_CACHE_TTL', '99999'],
  ])('refuses %s=%s with a message naming the variable', (name, value) => {
    expect(() => loadConfig(base({ [name]: value }))).toThrow(new RegExp(`^Invalid configuration:\\n.*${name}`, 's'));
  });

  it('never echoes a secret in the error', () => {
    expect(() => loadConfig(base({ TOKEN_PEPPER: 'tiny-secret' }))).toThrow(/TOKEN_PEPPER=\(hidden\)/);
    expect(() => loadConfig(base({ TOKEN_PEPPER: 'tiny-secret' }))).not.toThrow(/tiny-secret/);
  });

  it('splits SECRET_KEYS on ";" (first signs) and refuses short or duplicate keys', () => {
    const c = loadConfig(base({ SECRET_KEYS: `${'a'.repeat(32)};${'b'.repeat(32)}` }));
    expect(c.auth.secretKeys).toHaveLength(2);
    expect(c.auth.secretKeys[0].kid).not.toBe(c.auth.secretKeys[1].kid);
    expect(() => loadConfig(base({ SECRET_KEYS: 'short' }))).toThrow(/SECRET_KEYS.*shorter than 32/s);
    expect(() => loadConfig(base({ SECRET_KEYS: `${KEY};${KEY}` }))).toThrow(/SECRET_KEYS.*twice/s);
  });

  it('requires SECRET_KEYS and TOKEN_PEPPER in production, and refuses placeholders there', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: tmp() })).toThrow(/SECRET_KEYS: required.*\n  TOKEN_PEPPER: required.*\n  SIGNING_KEYS \(or ACCESS_TOKEN_ALGORITHM=HS256 to sign with SECRET_KEYS\): required/s);
    const prod = { NODE_ENV: 'production', DATA_DIR: tmp(), ACCESS_TOKEN_ALGORITHM: 'HS256' };
    expect(() => loadConfig({ ...prod, SECRET_KEYS: 'change-me-change-me-change-me-change-me', TOKEN_PEPPER: PEPPER.replace(/p/g, 'q') + 'x' })).toThrow(/SECRET_KEYS=\(hidden\): looks like a placeholder/);
    expect(() => loadConfig({ ...prod, SECRET_KEYS: 'Zk3'.repeat(12), TOKEN_PEPPER: 'x'.repeat(40) })).toThrow(/TOKEN_PEPPER=\(hidden\): looks like a placeholder/);
    expect(loadConfig({ ...prod, SECRET_KEYS: 'Zk3'.repeat(12), TOKEN_PEPPER: 'Qw7e'.repeat(10) }).env).toBe('production');
  });

  it('signs ES256 by default: production needs SIGNING_KEYS (or HS256 chosen), and it is never generated there', () => {
    const prod = { NODE_ENV: 'production', DATA_DIR: tmp(), SECRET_KEYS: 'Zk3'.repeat(12), TOKEN_PEPPER: 'Qw7e'.repeat(10) };
    expect(() => loadConfig(prod)).toThrow(/^Invalid configuration:\n  SIGNING_KEYS \(or ACCESS_TOKEN_ALGORITHM=HS256 to sign with SECRET_KEYS\): required when NODE_ENV=production$/);
    expect(existsSync(join(prod.DATA_DIR, 'secrets.json'))).toBe(false);
    expect(loadConfig({ ...prod, ACCESS_TOKEN_ALGORITHM: 'HS256' }).auth.tokenSigning.algorithm).toBe('HS256');
    expect(() => loadConfig({ ...prod, ACCESS_TOKEN_ALGORITHM: 'RS256' })).toThrow(/ACCESS_TOKEN_ALGORITHM must be one of: ES256, HS256/);
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const es = loadConfig({ ...prod, SIGNING_KEYS: JSON.stringify({ ...jwk, kid: 'prod-2026' }) });
    expect(es.auth.tokenSigning).toMatchObject({ algorithm: 'ES256', signing: { kid: 'prod-2026', alg: 'ES256' } });
    expect(es.auth.tokenSigning.published).toEqual([expect.objectContaining({ kid: 'prod-2026', alg: 'ES256', use: 'sig' })]);
    // Every SECRET_KEYS key still verifies (HS256 tokens minted before the switch), none is published.
    expect([...es.auth.tokenSigning.verifying.values()].map((k) => k.alg)).toEqual(['ES256', 'HS256']);
    expect(() => loadConfig({ ...prod, SIGNING_KEYS: JSON.stringify({ ...jwk, kid: 'bad kid!' }) })).toThrow(/SIGNING_KEYS=\(hidden\): key #1: "kid" must be/);
  });

  it('reads TRUST_PROXY strictly: a true/false word, or a list of proxy addresses, CIDRs and names', () => {
    expect(loadConfig(base({ TRUST_PROXY: 'yes' })).trustProxy).toBe('loopback, linklocal, uniquelocal');
    expect(loadConfig(base({ TRUST_PROXY: '0' })).trustProxy).toBe(false);
    expect(loadConfig(base({})).trustProxy).toBe(false);
    expect(loadConfig(base({ TRUST_PROXY: '10.0.0.5,10.1.0.0/16' })).trustProxy).toBe('10.0.0.5, 10.1.0.0/16');
    expect(loadConfig(base({ TRUST_PROXY: 'loopback' })).trustProxy).toBe('loopback');
    expect(loadConfig(base({ TRUST_PROXY: ' fd00::/8 , 192.168.0.0/255.255.0.0, ::1 ' })).trustProxy).toBe('fd00::/8, 192.168.0.0/255.255.0.0, ::1');
  });

  it.each(['10.0.0.300', '10.0.0.0/33', 'fd00::/129', 'proxy.example', '10.0.0.5,', '10.0.0.5,,10.0.0.6', 'localhost', '10.0.0.0/16/1', 'fe80::1%eth0'])(
    'refuses TRUST_PROXY=%s at boot with a message that says what it takes',
    (value) => {
      expect(() => loadConfig(base({ TRUST_PROXY: value }))).toThrow(/TRUST_PROXY=.*comma-separated list of proxy addresses/s);
    },
  );

  it('hands Fastify only TRUST_PROXY values its `trustProxy` option accepts', () => {
    for (const value of ['true', 'loopback', '10.0.0.5,10.1.0.0/16', 'fd00::/8, 192.168.0.0/255.255.0.0, ::1', '::ffff:10.0.0.1']) {
      const config = loadConfig(base({ TRUST_PROXY: value }));
      expect(() => Fastify({ trustProxy: createHttpAdapterOptions(config).trustProxy })).not.toThrow();
    }
  });

  it('in development generates secrets once into DATA_DIR/secrets.json (mode 0600) and reuses them', () => {
    const dir = tmp();
    const first = loadConfig({ DATA_DIR: dir });
    const file = join(dir, 'secrets.json');
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.auth.secretsSource).toBe('generated');
    const second = loadConfig({ DATA_DIR: dir });
    expect(second.auth.secretsSource).toBe('data-dir');
    expect(second.auth.secretKeys[0].kid).toBe(first.auth.secretKeys[0].kid);
    expect(second.auth.tokenPepper.equals(first.auth.tokenPepper)).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toHaveProperty('TOKEN_PEPPER');
    expect(second.auth.tokenSigning.signing.kid).toBe(first.auth.tokenSigning.signing.kid);
  });

  it('adds an ES256 signing key, once, to a secrets file written before ES256 existed, keeping its other secrets', () => {
    const dir = tmp();
    const file = join(dir, 'secrets.json');
    writeFileSync(file, JSON.stringify({ SECRET_KEYS: KEY, TOKEN_PEPPER: PEPPER }), { mode: 0o600 });
    const upgraded = loadConfig({ DATA_DIR: dir });
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    expect(stored).toMatchObject({ SECRET_KEYS: KEY, TOKEN_PEPPER: PEPPER, SIGNING_KEYS: expect.stringMatching(/^\{"/) });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(upgraded.auth.secretKeys[0].kid).toBe(loadConfig(base()).auth.secretKeys[0].kid);
    expect(loadConfig({ DATA_DIR: dir }).auth.tokenSigning.signing.kid).toBe(upgraded.auth.tokenSigning.signing.kid);
  });

  it("reads SECRET_SCANNING_KEYS as GitHub publishes them, and stops on anything but ECDSA P-256 keys", () => {
    expect(loadConfig(base()).leakReports.githubKeys.size).toBe(0);
    const pem = (curve: string) => generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const doc = (key: string) => JSON.stringify({ public_keys: [{ key_identifier: 'k1', key, is_current: true }] });
    expect([...loadConfig(base({ SECRET_SCANNING_KEYS: doc(pem('P-256')) })).leakReports.githubKeys.keys()]).toEqual(['k1']);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    for (const [value, message] of [
      ['not json', /not JSON/],
      ['{"public_keys":[]}', /no "public_keys"/],
      ['{"public_keys":[{"key":"x"}]}', /key_identifier/],
      [doc('-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----'), /not a PEM public key/],
      [doc(pem('P-384')), /not an ECDSA P-256 key/],
      [doc(rsa), /not an ECDSA P-256 key/],
    ] as const) {
      expect(() => loadConfig(base({ SECRET_SCANNING_KEYS: value }))).toThrow(message);
    }
  });

  it('keeps plugin files in the database with PostgreSQL and on disk with SQLite, unless PLUGIN_STORAGE says', () => {
    expect(loadConfig(base()).plugins.storage).toBe('disk');
    expect(loadConfig(base({ DATABASE_URL: 'postgres://db.example/latchkey' })).plugins.storage).toBe('database');
    expect(loadConfig(base({ DATABASE_URL: 'postgres://db.example/latchkey', PLUGIN_STORAGE: 'disk' })).plugins.storage).toBe('disk');
    expect(loadConfig(base({ PLUGIN_STORAGE: 'database' })).plugins.storage).toBe('database');
    expect(() => loadConfig(base({ PLUGIN_STORAGE: 's3' }))).toThrow(/PLUGIN_STORAGE must be disk or database/);
  });

  it('reads DATABASE_URL as PostgreSQL or an SQLite path', () => {
    expect(loadConfig(base({ DATABASE_URL: 'postgres://u@h:5432/db', DATABASE_SCHEMA: 'lk' })).database).toEqual({
      type: 'postgres',
      url: 'postgres://u@h:5432/db',
      schema: 'lk',
    });
    expect(loadConfig(base({ DATABASE_URL: 'sqlite:/tmp/x.sqlite' })).database).toEqual({ type: 'sqlite', path: '/tmp/x.sqlite' });
  });
});

describe('OIDC provider configuration', () => {
  it('reads OIDC_PROVIDERS and each provider\'s variables', () => {
    const c = loadConfig(
      base({
        OIDC_PROVIDERS: 'keycloak, orcid',
        OIDC_KEYCLOAK_ISSUER: 'https://sso.example.test/realms/lab/',
        OIDC_KEYCLOAK_CLIENT_ID: 'latchkey',
        OIDC_KEYCLOAK_CLIENT_SECRET: 's3cret',
        OIDC_ORCID_ISSUER: 'https://orcid.org',
        OIDC_ORCID_CLIENT_ID: 'APP-1',
        OIDC_ORCID_CLIENT_SECRET: 'x',
        OIDC_ORCID_USERNAME_CLAIM: 'sub',
      }),
    );
    expect(c.oidc.providers.map((p) => [p.name, p.issuer, p.usernameClaim])).toEqual([
      ['keycloak', 'https://sso.example.test/realms/lab', 'preferred_username'],
      ['orcid', 'https://orcid.org', 'sub'],
    ]);
    expect(loadConfig(base()).oidc.providers).toEqual([]);
  });

  it('refuses an incomplete provider, naming each missing variable and hiding secrets', () => {
    const attempt = () => loadConfig(base({ OIDC_PROVIDERS: 'keycloak', OIDC_KEYCLOAK_ISSUER: 'not a url', OIDC_KEYCLOAK_CLIENT_SECRET: 'topsecret' }));
    expect(attempt).toThrow(/OIDC_KEYCLOAK_ISSUER: required, an http\(s\) URL/);
    expect(attempt).toThrow(/OIDC_KEYCLOAK_CLIENT_ID: required/);
    expect(attempt).not.toThrow(/topsecret/);
    expect(() => loadConfig(base({ OIDC_PROVIDERS: 'local' }))).toThrow(/used twice/);
    expect(() => loadConfig(base({ OIDC_PROVIDERS: 'Bad Name' }))).toThrow(/OIDC_PROVIDERS/);
  });
});

describe('loadDotEnv', () => {
  it('fills in variables from .env without overriding the real environment', () => {
    const dir = tmp();
    const file = join(dir, '.env');
    writeFileSync(file, 'PORT=4000\nLOG_LEVEL=debug\n# comment\nPUBLIC_URL="https://auth.example.test"\n');
    const env: NodeJS.ProcessEnv = { PORT: '5000' };
    loadDotEnv(env, file);
    expect(env).toEqual({ PORT: '5000', LOG_LEVEL: 'debug', PUBLIC_URL: 'https://auth.example.test' });
    loadDotEnv(env, join(dir, 'missing.env'));
  });
});
