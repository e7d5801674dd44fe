import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { type AccessTokenAlgorithm, ConfigError } from './env.validation';

export type { AccessTokenAlgorithm };

/** A key that verifies access tokens, and signs them when it is the signing key. */
export interface TokenKey {
  /** Carried in the JWT `kid` header. */
  readonly kid: string;
  /** The only algorithm this key is used with: a token naming another one is refused (no confusion). */
  readonly alg: AccessTokenAlgorithm;
  /** Signs (private or secret key); undefined for a verification-only public key. */
  readonly signWith?: KeyObject;
  /** Verifies (public or secret key). */
  readonly verifyWith: KeyObject;
}

/** A public key as published at /.well-known/jwks.json (RFC 7517). */
export interface PublishedJwk {
  readonly kty: string;
  readonly crv: string;
  readonly x: string;
  readonly y: string;
  readonly kid: string;
  readonly alg: 'ES256';
  readonly use: 'sig';
}

export interface TokenSigningConfig {
  readonly algorithm: AccessTokenAlgorithm;
  /** The first of SIGNING_KEYS (ES256) or of SECRET_KEYS (HS256). */
  readonly signing: TokenKey;
  /**
   * Every key that verifies: all of SIGNING_KEYS, and all of SECRET_KEYS (HS256, so tokens signed
   * before a switch to ES256 keep verifying until they expire), by `kid`.
   */
  readonly verifying: ReadonlyMap<string, TokenKey>;
  /** The public parts of SIGNING_KEYS, in their order; never a secret key. */
  readonly published: readonly PublishedJwk[];
}

/**
 * Parses SIGNING_KEYS: `;`-separated ES256 keys (EC P-256), each a PEM (PKCS#8 or SEC1 private
 * key, or SPKI public key; `\n` may be written as the two characters `\` `n`) or a JWK as JSON.
 * The first signs and must be private; the others may be public only (a retired key whose tokens
 * still verify, or the next key, published before it signs). `kid`: the JWK's own `kid`, else its
 * RFC 7638 thumbprint.
 */
export function parseSigningKeys(value: string): TokenKey[] {
  const entries = value
    .split(';')
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
  if (entries.length === 0) throw invalid('needs at least one key');
  const keys = entries.map((entry, i) => parseOne(entry, i));
  if (!keys[0].signWith) throw invalid('key #1 signs, so it must be a private key');
  const kids = new Set(keys.map((k) => k.kid));
  if (kids.size !== keys.length) throw invalid('the same key (kid) is listed twice');
  return keys;
}

function parseOne(entry: string, index: number): TokenKey {
  const where = `key #${index + 1}`;
  let signWith: KeyObject | undefined;
  let verifyWith: KeyObject;
  let kid: string | undefined;
  try {
    if (entry.startsWith('{')) {
      const jwk = JSON.parse(entry) as JsonWebKey & { kid?: unknown };
      if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || !/^[\w.-]{1,64}$/.test(jwk.kid))) {
        throw invalid(`${where}: "kid" must be 1-64 letters, digits, "_", "." or "-"`);
      }
      kid = jwk.kid as string | undefined;
      if (jwk.d !== undefined) signWith = createPrivateKey({ key: jwk, format: 'jwk' });
      verifyWith = signWith ? createPublicKey(signWith) : createPublicKey({ key: jwk, format: 'jwk' });
    } else {
      const pem = entry.replace(/\\n/g, '\n');
      if (/-----BEGIN (EC |ENCRYPTED )?PRIVATE KEY-----/.test(pem)) signWith = createPrivateKey(pem);
      verifyWith = signWith ? createPublicKey(signWith) : createPublicKey(pem);
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw invalid(`${where} is neither a PEM key nor a JWK`);
  }
  const jwk = verifyWith.export({ format: 'jwk' });
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') throw invalid(`${where} is not an EC P-256 key (ES256)`);
  return { kid: kid ?? thumbprint(jwk), alg: 'ES256', signWith, verifyWith };
}

/** RFC 7638 JWK thumbprint of an EC public key (SHA-256, base64url). */
function thumbprint(jwk: JsonWebKey): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

/** The public JWK of an ES256 key, as /.well-known/jwks.json publishes it. */
export function publishedJwk(key: TokenKey): PublishedJwk {
  const { kty, crv, x, y } = key.verifyWith.export({ format: 'jwk' });
  return { kty: kty!, crv: crv!, x: x!, y: y!, kid: key.kid, alg: 'ES256', use: 'sig' };
}

/** A new ES256 private key as a one-line JWK (what SIGNING_KEYS takes, and secrets.json keeps). */
export function generateEs256Jwk(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return JSON.stringify(privateKey.export({ format: 'jwk' }));
}

export function tokenSigningConfig(
  algorithm: AccessTokenAlgorithm,
  signingKeys: readonly TokenKey[],
  secretKeys: readonly TokenKey[],
): TokenSigningConfig {
  const verifying = new Map<string, TokenKey>();
  for (const key of [...signingKeys, ...secretKeys]) {
    if (verifying.has(key.kid)) throw invalid(`two keys have the kid "${key.kid}"`);
    verifying.set(key.kid, key);
  }
  return Object.freeze({
    algorithm,
    signing: algorithm === 'ES256' ? signingKeys[0] : secretKeys[0],
    verifying,
    published: Object.freeze(signingKeys.map(publishedJwk)),
  });
}

function invalid(reason: string): ConfigError {
  return new ConfigError(`Invalid configuration:\n  SIGNING_KEYS=(hidden): ${reason}`);
}
