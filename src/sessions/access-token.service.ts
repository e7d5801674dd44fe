import { Injectable } from '@nestjs/common';
import { createHmac, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { AppConfig, InjectConfig, SigningKey } from '../config/app.config';
import { unauthorized } from '../common/errors/app-error';
import { safeEqual } from '../common/auth/token-format';
import { TtlCache } from '../common/cache/ttl-cache';

export const ACCESS_TOKEN_ALGORITHM = 'HS256' as const;

/** Verified access tokens remembered per instance (a few MB at most: tokens are ~700 bytes). */
const VERIFIED_CACHE_SIZE = 2000;

/** Claims of a Latchkey access token. Times are Unix seconds. */
export interface AccessTokenClaims {
  type: 'access';
  sub: string;
  sub_typ: 'user';
  sid: string;
  preferred_username: string;
  roles: string[];
  /** Absent in tokens minted before groups existed; read as []. */
  groups?: string[];
  scp: string[];
  epoch: number;
  /**
   * When the interactive login that opened the session happened (OIDC Core's `auth_time`). A
   * refresh keeps it. Absent in tokens minted before it existed: they count as old logins.
   */
  auth_time?: number;
  iss: string;
  iat: number;
  exp: number;
  /** Unique per token, so two tokens minted in the same second differ. */
  jti: string;
}

export type AccessTokenSubject = Pick<
  AccessTokenClaims,
  'sub' | 'sid' | 'preferred_username' | 'roles' | 'groups' | 'scp' | 'epoch' | 'auth_time'
>;

/**
 * Signs and verifies access tokens: HS256 pinned, `kid` in the header, the first of
 * SECRET_KEYS signs and every key verifies (rotation without logging anyone out).
 * Keys are `KeyObject`s: `jsonwebtoken` given a string secret spends ~35x longer per sign.
 */
@Injectable()
export class AccessTokenService {
  private readonly keysById: Map<string, SigningKey>;
  private readonly signing: SigningKey;
  private readonly maxAge: number;
  private readonly issuer: string;
  /**
   * Tokens verified lately → their claims, so a client that sends the same token on every
   * request pays the signature check and the JSON parsing once (an entry serves until the
   * token's `exp`; the revocation checks run on every request regardless). Held in memory only,
   * bounded (VERIFIED_CACHE_SIZE, oldest dropped first). Keyed by the token's text, unlike the
   * caches of long-lived secrets (`KeyedHashes`): an access token lives minutes, and hashing it
   * would cost a crypto call (~8 µs in the server) on every request.
   */
  private readonly verified = new TtlCache<AccessTokenClaims>(Infinity, VERIFIED_CACHE_SIZE);

  constructor(@InjectConfig() config: AppConfig) {
    this.signing = config.auth.signingKeys[0];
    this.keysById = new Map(config.auth.signingKeys.map((k) => [k.kid, k]));
    this.maxAge = config.auth.accessTokenMaxAge;
    this.issuer = config.auth.issuer;
  }

  get lifetimeSeconds(): number {
    return this.maxAge;
  }

  sign(subject: AccessTokenSubject): string {
    const iat = Math.floor(Date.now() / 1000);
    const claims: AccessTokenClaims = {
      type: 'access',
      sub_typ: 'user',
      ...subject,
      iss: this.issuer,
      iat,
      exp: iat + this.maxAge,
      jti: randomBytes(12).toString('base64url'),
    };
    return jwt.sign(claims, this.signing.key, {
      algorithm: ACCESS_TOKEN_ALGORITHM,
      keyid: this.signing.kid,
    });
  }

  /** True when the token names one of our signing keys (cheap: reads the header only). */
  isOwnKid(token: string): boolean {
    return this.verified.get(token) !== undefined || this.keysById.has(readKid(token) ?? '');
  }

  /**
   * Verified claims, or a 401 that says whether the token expired or is simply not valid.
   * HS256 checked directly (HMAC over `header.payload`, compared with the signature as sent, so
   * only the one canonical encoding passes), then `exp`, `nbf`, `iss` and the claim types: what
   * `jsonwebtoken.verify` checks for these options, in a third of its time (~5 µs against ~15 µs
   * per token measured here; it runs on every request with an access token). Signing stays
   * with `jsonwebtoken`, and its tokens are what this accepts (access-token.service.spec.ts).
   */
  verify(token: string): AccessTokenClaims {
    const known = this.verified.get(token);
    if (known) return known;
    const claims = this.check(token);
    this.verified.set(token, claims, claims.exp * 1000);
    return claims;
  }

  private check(token: string): AccessTokenClaims {
    const first = token.indexOf('.');
    const second = token.indexOf('.', first + 1);
    if (first <= 0 || second < 0 || token.indexOf('.', second + 1) >= 0) throw invalid();
    const header = parseSegment(token.slice(0, first)) as { alg?: unknown; kid?: unknown; crit?: unknown } | undefined;
    if (!header || header.alg !== ACCESS_TOKEN_ALGORITHM || header.crit !== undefined || typeof header.kid !== 'string') throw invalid();
    const key = this.keysById.get(header.kid);
    if (!key) throw invalid();
    const expected = createHmac('sha256', key.key).update(token.slice(0, second)).digest('base64url');
    if (!safeEqual(expected, token.slice(second + 1))) throw invalid();
    const claims = parseSegment(token.slice(first + 1, second)) as Partial<AccessTokenClaims> & { nbf?: unknown };
    const now = Math.floor(Date.now() / 1000);
    if (!claims || typeof claims.exp !== 'number' || claims.iss !== this.issuer) throw invalid();
    if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > now)) throw invalid();
    if (now >= claims.exp) throw unauthorized('AUTH_TOKEN_EXPIRED', 'Access token has expired. Refresh token.');
    if (!isAccessClaims(claims)) throw invalid();
    // Shared by every request that sends this token: read-only from here on.
    for (const list of [claims.roles, claims.scp, claims.groups]) if (list) Object.freeze(list);
    return Object.freeze(claims);
  }
}

/** A JOSE segment's JSON object, or undefined when it is not one. */
function parseSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads `kid` from the JOSE header without verifying anything (to pick the key). */
function readKid(token: string): string | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0 || dot > 512) return undefined;
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')) as { kid?: unknown };
    return typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}

function isAccessClaims(c: unknown): c is AccessTokenClaims {
  const claims = c as Partial<AccessTokenClaims> | null;
  return (
    !!claims &&
    claims.type === 'access' &&
    typeof claims.sub === 'string' &&
    typeof claims.sid === 'string' &&
    typeof claims.epoch === 'number' &&
    Array.isArray(claims.roles) &&
    (claims.groups === undefined || Array.isArray(claims.groups)) &&
    (claims.auth_time === undefined || typeof claims.auth_time === 'number') &&
    Array.isArray(claims.scp)
  );
}

function invalid() {
  return unauthorized('AUTH_INVALID_TOKEN', 'Could not validate credentials');
}
