import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import { Strategy as PassportBase } from 'passport-strategy';
import { invalidCredential, latchkeyError, latchkeyUnavailable } from './errors';
import { type Introspection, LatchkeyClient, LatchkeyUnreachable } from './latchkey-client';
import { LATCHKEY_OPTIONS, type LatchkeyOptions } from './options';
import type { LatchkeyPrincipal } from './principal';
import { LatchkeyRevocations } from './revocations';

/** The claims of a Latchkey access token (RFC 9068 plus Latchkey's own). */
interface AccessClaims {
  sub: string;
  sid: string;
  preferred_username: string;
  roles: string[];
  groups?: string[];
  scp: string[];
  epoch: number;
  iss: string;
  aud?: string;
  exp: number;
}

const bearer = ExtractJwt.fromAuthHeaderAsBearerToken();
/** What passport-jwt fails with when there is no Bearer token; the introspection strategy says the same. */
export const NO_CREDENTIAL = 'No auth token';
const JWT_SHAPE = /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/;
/** Verified tokens remembered (their claims), until their `exp`. */
const VERIFIED_CACHE_SIZE = 5000;

/** `kid` from a JWT's header, without verifying anything. */
export function kidOf(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8')) as { kid?: unknown };
    return typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Latchkey's access tokens (`Authorization: Bearer <JWT>`), verified by `passport-jwt` with the
 * public key their `kid` names (fetched from Latchkey's JWKS and cached, so they keep verifying
 * while Latchkey is down), ES256 only, then `iss`, `aud` and the revocations the feed reported.
 * A token verified once is remembered until its `exp` (`fromCache`, which the guard asks first):
 * repeated requests cost no signature check and no passport run.
 */
@Injectable()
export class LatchkeyJwtStrategy extends PassportStrategy(JwtStrategy, 'latchkey-jwt') {
  private readonly verified = new Map<string, AccessClaims>();

  constructor(
    private readonly client: LatchkeyClient,
    private readonly revocations: LatchkeyRevocations,
    @Inject(LATCHKEY_OPTIONS) private readonly options: LatchkeyOptions,
  ) {
    super({
      jwtFromRequest: bearer,
      algorithms: ['ES256'],
      // A KeyObject, which jsonwebtoken takes (the typings say string | Buffer).
      secretOrKeyProvider: (_req: Request, token: string, done: (error: unknown, key?: string | Buffer) => void) => {
        const kid = kidOf(token);
        if (!kid) return done(new Error('no kid'));
        client.keyFor(kid).then(
          (key) => (key ? done(null, key as unknown as string) : done(new Error('unknown kid'))),
          (error: unknown) => done(error),
        );
      },
      passReqToCallback: true,
    });
  }

  /** The principal of a token verified before and not expired, or undefined (then passport runs). */
  fromCache(req: Request): LatchkeyPrincipal | undefined {
    const token = bearer(req);
    const claims = token ? this.verified.get(token) : undefined;
    if (!claims) return undefined;
    if (claims.exp * 1000 <= Date.now()) {
      this.verified.delete(token!);
      return undefined;
    }
    return this.principal(claims);
  }

  async validate(req: Request, claims: AccessClaims): Promise<LatchkeyPrincipal> {
    const { issuer } = await this.client.metadata();
    const audience = this.options.audience ?? issuer;
    if (claims.iss !== issuer || (claims.aud !== undefined && claims.aud !== audience) || !Array.isArray(claims.scp) || typeof claims.sid !== 'string') {
      throw invalidCredential();
    }
    const principal = this.principal(claims);
    const token = bearer(req)!;
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, claims);
    return principal;
  }

  private principal(claims: AccessClaims): LatchkeyPrincipal {
    const refusal = this.revocations.refusal(claims);
    if (refusal) throw invalidCredential(refusal);
    // A role taken away since the token was signed: its scopes cannot be told apart here, so the
    // client refreshes (Latchkey signs a token with what the user holds now).
    if (this.revocations.currentRoles(claims.sub, claims.roles).length !== claims.roles.length) {
      throw latchkeyError(401, 'AUTH_TOKEN_EXPIRED', "This token's roles have changed. Refresh token.");
    }
    return {
      kind: 'user',
      sub: claims.sub,
      username: claims.preferred_username,
      scopes: claims.scp,
      roles: claims.roles,
      groups: claims.groups ?? [],
      credential: 'access_token',
      sid: claims.sid,
    };
  }
}

/** A passport strategy that hands the presented credential to `verify` (the introspection below). */
class PresentedCredentialStrategy extends PassportBase {
  constructor(
    private readonly accept: (token: string) => boolean,
    private readonly verify: (token: string, done: (error: unknown, user?: unknown, info?: unknown) => void) => void,
  ) {
    super();
  }

  override authenticate(req: Request): void {
    const token = presented(req);
    if (!token) return this.fail(new Error(NO_CREDENTIAL), 401);
    if (!this.accept(token)) return this.fail(new Error('not for this strategy'), 401);
    this.verify(token, (error, user, info) =>
      error ? this.error(error as Error) : user ? this.success(user, info) : this.fail(info ?? new Error('inactive'), 401),
    );
  }
}

/** `Authorization: Apikey …` or `Bearer …`, else `?api_key=` (as Latchkey reads them). */
function presented(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (header) {
    const space = header.indexOf(' ');
    const scheme = header.slice(0, space).toLowerCase();
    if (space > 0 && (scheme === 'apikey' || scheme === 'bearer')) return header.slice(space + 1).trim() || undefined;
    return undefined;
  }
  const query = req.query?.api_key;
  return typeof query === 'string' && query ? query : undefined;
}

/**
 * Every other Latchkey credential (API keys, deploy tokens, IdP tokens), checked by Latchkey's
 * introspection endpoint (answers cached `introspectionCacheTtl` seconds, dropped when the feed
 * reports a revocation). Latchkey unreachable: 503, never 401. A JWT signed by one of Latchkey's
 * own keys is left to the JWT strategy (not sent here).
 */
@Injectable()
export class LatchkeyIntrospectionStrategy extends PassportStrategy(PresentedCredentialStrategy, 'latchkey-introspection') {
  constructor(private readonly client: LatchkeyClient) {
    super((token: string) => !(JWT_SHAPE.test(token) && client.knowsKid(kidOf(token) ?? '')));
  }

  async validate(token: string): Promise<LatchkeyPrincipal | false> {
    let answer: Introspection;
    try {
      answer = await this.client.introspect(token);
    } catch (error) {
      if (error instanceof LatchkeyUnreachable) throw latchkeyUnavailable();
      throw error;
    }
    if (!answer.active || !answer.sub) return false;
    const deploy = answer.token_type === 'deploy_token';
    return {
      kind: deploy ? 'plugin_token' : 'user',
      sub: answer.sub,
      username: answer.username ?? '',
      scopes: answer.scope ? answer.scope.split(' ') : [],
      roles: answer.roles ?? [],
      groups: answer.groups ?? [],
      credential: answer.token_type ?? 'unknown',
      ...(answer.sid ? { sid: answer.sid } : {}),
      ...(answer.plugin ? { plugin: answer.plugin } : {}),
      ...(answer.access_tags ? { accessTags: answer.access_tags } : {}),
    };
  }
}
