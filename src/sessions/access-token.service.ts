import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import jwt, { TokenExpiredError } from 'jsonwebtoken';
import { AppConfig, InjectConfig } from '../config/app.config';
import type { TokenKey } from '../config/token-signing';
import { unauthorized } from '../common/errors/app-error';
import { TtlCache } from '../common/cache/ttl-cache';

/** RFC 9068's media type for JWT access tokens, in the `typ` header. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
/** The OAuth client every first-party Latchkey login is made through (RFC 9068 `client_id`). */
export const ACCESS_TOKEN_CLIENT_ID = 'latchkey';

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
  /** RFC 9068: ACCESS_TOKEN_AUDIENCE (default the issuer). Absent in tokens minted before it existed. */
  aud?: string;
  /** RFC 9068: the client the token was issued to. */
  client_id?: string;
  /** RFC 9068: `scp` as one space-separated string, for libraries that read `scope`. */
  scope?: string;
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
 * Signs and verifies access tokens with `jsonwebtoken` (the library under `@nestjs/jwt` and
 * `passport-jwt`, which other services use to check them): ES256 with the first of SIGNING_KEYS by
 * default (public keys at /.well-known/jwks.json), or HS256 with the first of SECRET_KEYS
 * (ACCESS_TOKEN_ALGORITHM=HS256). Every key of both lists verifies, each only with its own
 * algorithm, chosen by `kid`: rotation logs no one out, and tokens signed before a switch of
 * algorithm verify until they expire. Keys are `KeyObject`s (`jsonwebtoken` given a string secret
 * spends ~35x longer per call).
 */
@Injectable()
export class AccessTokenService {
  private readonly keysById: ReadonlyMap<string, TokenKey>;
  private readonly signing: TokenKey & { signWith: NonNullable<TokenKey['signWith']> };
  private readonly maxAge: number;
  private readonly issuer: string;
  private readonly audience: string;
  /**
   * Tokens verified lately → their claims, so a client that sends the same token on every
   * request pays the signature check (~10 µs HS256, ~100 µs ES256) and the JSON parsing once (an
   * entry serves until the token's `exp`; the revocation checks run on every request regardless).
   * Held in memory only, bounded (VERIFIED_CACHE_SIZE, oldest dropped first). Keyed by the
   * token's text, unlike the caches of long-lived secrets (`KeyedHashes`): an access token lives
   * minutes, and hashing it would cost a crypto call (~8 µs in the server) on every request.
   */
  private readonly verified = new TtlCache<AccessTokenClaims>(Infinity, VERIFIED_CACHE_SIZE);

  constructor(@InjectConfig() config: AppConfig) {
    const { signing, verifying } = config.auth.tokenSigning;
    if (!signing.signWith) throw new Error('The access-token signing key has no private part');
    this.signing = { ...signing, signWith: signing.signWith };
    this.keysById = verifying;
    this.maxAge = config.auth.accessTokenMaxAge;
    this.issuer = config.auth.issuer;
    this.audience = config.auth.accessTokenAudience;
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
      scope: subject.scp.join(' '),
      client_id: ACCESS_TOKEN_CLIENT_ID,
      iss: this.issuer,
      aud: this.audience,
      iat,
      exp: iat + this.maxAge,
      jti: randomBytes(12).toString('base64url'),
    };
    return jwt.sign(claims, this.signing.signWith, {
      algorithm: this.signing.alg,
      keyid: this.signing.kid,
      header: { alg: this.signing.alg, typ: ACCESS_TOKEN_TYP },
    });
  }

  /** True when the token names one of our keys (cheap: reads the header only). */
  isOwnKid(token: string): boolean {
    return this.verified.get(token) !== undefined || this.keysById.has(readHeader(token)?.kid ?? '');
  }

  /**
   * Verified claims, or a 401 that says whether the token expired or is simply not valid. The
   * library checks the signature with the key its `kid` names, pinned to that key's algorithm
   * (`none`, or HS256 under a public key's `kid`, fail there), then `exp`, `nbf` and `iss`; this
   * adds `aud` (when present: older tokens lack it) and the claim types.
   */
  verify(token: string): AccessTokenClaims {
    const known = this.verified.get(token);
    if (known) return known;
    const claims = this.check(token);
    this.verified.set(token, claims, claims.exp * 1000);
    return claims;
  }

  private check(token: string): AccessTokenClaims {
    const header = readHeader(token);
    const key = header && header.crit === undefined ? this.keysById.get(header.kid) : undefined;
    if (!key) throw invalid();
    let claims: unknown;
    try {
      claims = jwt.verify(token, key.verifyWith, { algorithms: [key.alg], issuer: this.issuer });
    } catch (err) {
      if (err instanceof TokenExpiredError) throw unauthorized('AUTH_TOKEN_EXPIRED', 'Access token has expired. Refresh token.');
      throw invalid();
    }
    if (!isAccessClaims(claims) || (claims.aud !== undefined && claims.aud !== this.audience)) throw invalid();
    // Shared by every request that sends this token: read-only from here on.
    for (const list of [claims.roles, claims.scp, claims.groups]) if (list) Object.freeze(list);
    return Object.freeze(claims);
  }
}

/**
 * Reads `kid` (to pick the key) and `crit` (RFC 7515 §4.1.11: we understand no extension, so a
 * token that names one is refused; `jsonwebtoken` does not look) from the JOSE header, without
 * verifying anything.
 */
function readHeader(token: string): { kid: string; crit: unknown } | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0 || dot > 512) return undefined;
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')) as { kid?: unknown; crit?: unknown } | null;
    return typeof header?.kid === 'string' ? { kid: header.kid, crit: header.crit } : undefined;
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
    typeof claims.exp === 'number' &&
    Array.isArray(claims.roles) &&
    (claims.groups === undefined || Array.isArray(claims.groups)) &&
    (claims.auth_time === undefined || typeof claims.auth_time === 'number') &&
    Array.isArray(claims.scp)
  );
}

function invalid() {
  return unauthorized('AUTH_INVALID_TOKEN', 'Could not validate credentials');
}
