import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { KeyedHashes } from '../../common/auth/presented-secrets';
import type { UserPrincipal } from '../../common/auth/principal';
import { CacheCounts, CacheStats } from '../../common/cache/cache-stats';
import { TtlCache } from '../../common/cache/ttl-cache';
import { AppError } from '../../common/errors/app-error';
import { andThen, type MaybePromise } from '../../common/maybe-async';
import { AppConfig, InjectConfig } from '../../config/app.config';
import type { UserState } from '../../users/user-state.cache';
import { UsersService } from '../../users/users.service';
import { idpCredentialPrincipal, idpCredentialRefused, idpCredentialRevoked, issuedBeforeRevokeAll } from './idp-credentials';
import { OfflineTokenFloor } from './offline-token-grant.entity';
import { isSignedAccessTokenShape, jwtHints, type JwtHints } from './offline-token-shape';
import type { IdpAccessClaims, OidcClient } from './oidc-client';
import { OidcProviders } from './oidc-providers';

/** A verified IdP access token: whose it is, until when (its `exp`), and the user's epoch then. */
interface Verified {
  readonly userId: string;
  readonly provider: string;
  readonly epoch: number;
  readonly until: number;
}

const MAX_CACHED = 50_000;
const REFUSED_TTL_MS = 5 * 60_000;

/**
 * The IdP's own JWT access tokens as `Authorization: Bearer` (OIDC_<P>_ACCEPT_ACCESS_TOKENS=true),
 * for teams whose clients already hold one (Keycloak's, say). Verified here, never sent anywhere:
 * a public-key signature from the provider's JWKS (cached by OidcClient, refetched at most every
 * 30 s for an unknown `kid`, so key rotation works and a flood of made-up kids costs nothing),
 * issuer, `exp`/`nbf`, audience or client (OidcClient.isForUs), and that it is an access token:
 * `typ: at+jwt` (RFC 9068) or Keycloak's `typ: Bearer`, else a `scope`/`scp` claim; never an ID
 * token (`nonce`, `at_hash`, `typ: ID`) nor a refresh token. `(iss, sub)` maps to the user as a
 * login does (created on first sight). A verified token is cached under its keyed hash until its
 * `exp`: later requests cost no signature check and no I/O. A refused one is remembered for five
 * minutes.
 *
 * Revocation: such a token is the IdP's and lives until its `exp`. Revoke-all refuses it at once
 * (the user's epoch), and refuses one issued before it (`iat`/`auth_time` before the user's
 * floor, offline_token_floors) even when first seen later; disabling refuses it while disabled.
 */
@Injectable()
export class IdpAccessTokensService {
  private readonly logger = new Logger(IdpAccessTokensService.name);
  private readonly byIssuer: ReadonlyMap<string, OidcClient>;
  private readonly presented: KeyedHashes;
  private readonly verified = new Map<string, Verified>();
  private readonly inflight = new Map<string, Promise<Verified>>();
  private readonly refused = new TtlCache<true>(REFUSED_TTL_MS, 10_000);
  private readonly stats: CacheCounts = CacheStats.for('idp-access-token');

  constructor(
    providers: OidcProviders,
    @InjectConfig() config: AppConfig,
    private readonly users: UsersService,
    @InjectRepository(OfflineTokenFloor) private readonly floors: Repository<OfflineTokenFloor>,
  ) {
    this.byIssuer = new Map(providers.clients.filter((c) => c.config.acceptAccessTokens).map((c) => [c.config.issuer, c]));
    this.presented = new KeyedHashes(config.auth.tokenPepper);
  }

  get enabled(): boolean {
    return this.byIssuer.size > 0;
  }

  /**
   * Whether `token` is shaped like an access token of a provider that accepts them: a JWT signed
   * with a public-key algorithm whose `iss` is that provider's. No I/O, no verification.
   */
  accepts(token: string): boolean {
    if (this.byIssuer.size === 0 || !token.startsWith('eyJ')) return false;
    const hints = jwtHints(token);
    return !!hints?.iss && this.byIssuer.has(hints.iss) && isSignedAccessTokenShape(hints);
  }

  /** Synchronous when the token and its user are cached; a promise otherwise. */
  authenticate(token: string): MaybePromise<UserPrincipal> {
    const key = this.presented.of(token)!;
    const known = this.verified.get(key);
    if (known && known.until > Date.now()) {
      this.stats.hits++;
      return this.principalOf(key, known);
    }
    if (known) this.verified.delete(key);
    if (this.refused.get(key)) {
      this.stats.hits++;
      throw idpCredentialRefused();
    }
    this.stats.misses++;
    let flight = this.inflight.get(key);
    if (!flight) {
      flight = this.verify(key, token).finally(() => this.inflight.delete(key));
      this.inflight.set(key, flight);
    }
    return flight.then((verified) => this.principalOf(key, verified));
  }

  private async verify(key: string, token: string): Promise<Verified> {
    const hints = jwtHints(token);
    const client = this.byIssuer.get(hints?.iss ?? '');
    try {
      if (!client || !hints) throw idpCredentialRefused();
      const claims = await client.verifyAccessToken(token);
      const notAccess = notAnAccessToken(hints, claims);
      if (notAccess) {
        this.logger.warn(`a Bearer JWT from "${client.config.name}" was refused: ${notAccess}`);
        throw idpCredentialRefused();
      }
      const { name, issuer } = client.config;
      const user = await this.users.findOrCreateByIdentity(name, issuer, claims.sub, () => client.usernameFor(claims, { accessToken: token }), client.groupsOf(claims));
      const owner = await this.users.state(user.id);
      const issuedAt = typeof claims.auth_time === 'number' ? claims.auth_time : claims.iat;
      if (typeof issuedAt === 'number' && (await issuedBeforeRevokeAll(this.floors, user.id, issuedAt))) throw idpCredentialRevoked();
      const verified: Verified = { userId: user.id, provider: name, epoch: owner.epoch, until: claims.exp * 1000 };
      if (this.verified.size >= MAX_CACHED) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(key, verified);
      return verified;
    } catch (error) {
      if (error instanceof AppError && error.status === 401) this.refused.set(key, true);
      throw error;
    }
  }

  private principalOf(key: string, verified: Verified): MaybePromise<UserPrincipal> {
    return andThen(this.users.state(verified.userId), (owner) => this.ownedBy(key, verified, owner));
  }

  private ownedBy(key: string, verified: Verified, owner: UserState): UserPrincipal {
    return idpCredentialPrincipal(verified, owner, { type: 'idp_access_token', provider: verified.provider }, () => {
      this.verified.delete(key);
      this.refused.set(key, true);
    });
  }
}

/** Why a verified IdP JWT is not an access token (an ID or refresh token), or undefined when it is one. */
function notAnAccessToken(hints: JwtHints, claims: IdpAccessClaims): string | undefined {
  const headerTyp = (hints.headerTyp ?? '').toLowerCase();
  const typ = typeof claims.typ === 'string' ? claims.typ.toLowerCase() : undefined;
  if (typ !== undefined && typ !== 'bearer') return `typ ${String(claims.typ).slice(0, 32)}`;
  if (claims.nonce !== undefined || claims.at_hash !== undefined || claims.c_hash !== undefined) return 'an ID token';
  if (headerTyp === 'at+jwt' || headerTyp === 'application/at+jwt' || typ === 'bearer') return undefined;
  if (typeof claims.scope === 'string' || typeof claims.scp === 'string' || Array.isArray(claims.scp)) return undefined;
  return 'neither typed as an access token nor carrying a scope';
}
