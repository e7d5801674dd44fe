import { Logger } from '@nestjs/common';
import type { JwtPayload } from 'jsonwebtoken';
import { InvalidIssuerToken, IssuerKeys, issuerUnavailable, type Discovery } from '../../common/auth/issuer-keys';
import { AppError, unauthorized } from '../../common/errors/app-error';
import { observeIdpExchange, type IdpExchangeOutcome } from '../../common/metrics/process-metrics';
import type { OidcProviderConfig } from '../../config/app.config';

/** What the IdP's token endpoint answers to a refresh grant. */
export interface RefreshResult {
  accessToken: string;
  /** A new refresh token, when the IdP rotates them. */
  refreshToken?: string;
  /** Most IdPs return a fresh ID token too: the place for profile claims. */
  idToken?: string;
  /** Seconds the access token lives, when the IdP says. */
  expiresIn?: number;
}

/** Verified claims of an IdP access or ID token. */
export interface IdpAccessClaims extends JwtPayload {
  sub: string;
  exp: number;
}

/** The OIDC errors of a `prompt=none` request that mean "the IdP session is gone" (OIDC Core §3.1.2.6). */
export const SESSION_GONE_ERRORS: ReadonlySet<string> = new Set([
  'login_required',
  'interaction_required',
  'consent_required',
  'account_selection_required',
]);

/**
 * Talks to one OpenID Connect provider over plain HTTPS (Node's fetch, bounded by a timeout):
 * discovery, its JWKS, and the refresh-token grant. Keeps the discovery document and the keys
 * in memory; an unknown `kid` refetches the keys (at most every 30 s), so IdP key rotation works.
 */
export class OidcClient {
  private readonly logger: Logger;
  private readonly issuerKeys: IssuerKeys;
  /** Whether the missing username claim was reported (once per process). */
  private warnedNoUsername = false;

  constructor(
    readonly config: OidcProviderConfig,
    private readonly timeoutMs: number,
  ) {
    this.logger = new Logger(`OidcClient:${config.name}`);
    this.issuerKeys = new IssuerKeys(config.issuer, {
      name: config.name,
      timeoutMs,
      checkDiscovery: (doc) => {
        if (!doc.token_endpoint) throw new AppError('SERVICE_UNAVAILABLE', `The discovery document of "${config.name}" has no token endpoint.`);
        // Said at boot (the readiness probe discovers every IdP): the claim usernames come from is not offered.
        if (Array.isArray(doc.claims_supported) && !doc.claims_supported.includes(config.usernameClaim)) {
          this.logger.warn(this.noUsernameClaim('does not list the'));
        }
      },
    });
  }

  /** Exchanges a refresh (e.g. offline) token. Refused → 401; IdP down → 503. */
  refresh(refreshToken: string): Promise<RefreshResult> {
    return this.tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  /** The authorization-code grant with the PKCE verifier. Refused → 401; IdP down → 503. */
  exchangeCode(code: string, redirectUri: string, codeVerifier: string): Promise<RefreshResult> {
    return this.tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: codeVerifier });
  }

  /**
   * RP-initiated logout: the IdP's end_session_endpoint with id_token_hint, client_id, where
   * to come back and a `state` (some IdPs return only when one is sent); undefined when the IdP
   * offers none. Never throws (logout must not fail).
   */
  async endSessionUrl(idTokenHint: string | undefined, postLogoutRedirectUri: string, state: string): Promise<string | undefined> {
    const endpoint = await this.issuerKeys.discovery().then((d) => d.end_session_endpoint, () => undefined);
    if (!endpoint) return undefined;
    const url = new URL(endpoint);
    if (idTokenHint) url.searchParams.set('id_token_hint', idTokenHint);
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri);
    url.searchParams.set('state', state);
    return url.href;
  }

  /** The discovery document (fetched once, refetched after a failure). */
  metadata(): Promise<Discovery> {
    return this.issuerKeys.discovery();
  }

  /** One token request, timed for `latchkey_idp_exchange_duration_seconds` (discovery included). */
  private async tokenRequest(grant: Record<string, string>): Promise<RefreshResult> {
    const started = performance.now();
    let outcome: IdpExchangeOutcome = 'unavailable';
    try {
      const result = await this.sendTokenRequest(grant);
      outcome = 'ok';
      return result;
    } catch (error) {
      if (error instanceof AppError && error.status === 401) outcome = 'refused';
      throw error;
    } finally {
      observeIdpExchange(this.config.name, grant.grant_type, outcome, (performance.now() - started) / 1000);
    }
  }

  private async sendTokenRequest(grant: Record<string, string>): Promise<RefreshResult> {
    const token_endpoint = (await this.issuerKeys.discovery()).token_endpoint!;
    // client_secret_post: every IdP we target accepts it (Keycloak, ORCID, oidc-provider).
    const body = new URLSearchParams({ ...grant, client_id: this.config.clientId, client_secret: this.config.clientSecret });
    let res: Response;
    try {
      res = await fetch(token_endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      this.logger.warn(`token endpoint unreachable: ${(error as Error).message}`);
      throw issuerUnavailable(this.config.name);
    }
    if (res.status >= 500 || res.status === 429) {
      this.logger.warn(`token endpoint answered ${res.status}`);
      throw issuerUnavailable(this.config.name);
    }
    const payload = (await res.json().catch(() => ({}))) as {
      access_token?: unknown;
      refresh_token?: unknown;
      id_token?: unknown;
      expires_in?: unknown;
      error?: unknown;
    };
    if (!res.ok || typeof payload.access_token !== 'string') {
      // 400 invalid_grant, 401/403 (some IdPs), or an empty body: the token or code is not good.
      const error = typeof payload.error === 'string' ? payload.error.slice(0, 64) : `HTTP ${res.status}`;
      this.logger.warn(`token endpoint refused a ${grant.grant_type} grant: ${error}`);
      throw unauthorized('AUTH_INVALID_TOKEN', 'The identity provider refused this token.');
    }
    const expiresIn = Number(payload.expires_in);
    return {
      accessToken: payload.access_token,
      refreshToken: typeof payload.refresh_token === 'string' ? payload.refresh_token : undefined,
      idToken: typeof payload.id_token === 'string' ? payload.id_token : undefined,
      expiresIn: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : undefined,
    };
  }

  /**
   * The username claim (OIDC_*_USERNAME_CLAIM) for a new user: from the access token when it
   * carries it (Keycloak), else from the ID token of the same answer (verified, same subject),
   * else from the userinfo endpoint. Best effort: undefined when none says.
   */
  async usernameFor(claims: IdpAccessClaims, result: RefreshResult): Promise<string | undefined> {
    const name = await this.findUsername(claims, result);
    if (name === undefined && !this.warnedNoUsername) {
      this.warnedNoUsername = true;
      this.logger.warn(`${this.noUsernameClaim('sent no')}; new users are named like "${this.config.name}-1a2b3c4d5e"`);
    }
    return name;
  }

  /** The user's groups from OIDC_<NAME>_GROUPS_CLAIM, when configured and the claim is a list (strings only, at most 100). */
  groupsOf(claims: Record<string, unknown>): string[] | undefined {
    const claim = this.config.groupsClaim;
    const value = claim ? claims[claim] : undefined;
    if (!Array.isArray(value)) return undefined;
    return value.filter((g): g is string => typeof g === 'string' && g.length > 0 && g.length <= 128).slice(0, 100);
  }

  /** What to tell an operator whose IdP lacks the username claim. */
  private noUsernameClaim(what: string): string {
    const setting = `OIDC_${this.config.name.toUpperCase().replace(/-/g, '_')}_USERNAME_CLAIM`;
    return `the identity provider "${this.config.name}" ${what} "${this.config.usernameClaim}" claim (${setting}): set ${setting} to a claim it sends, e.g. email (docs/oidc.md)`;
  }

  private async findUsername(claims: IdpAccessClaims, result: RefreshResult): Promise<string | undefined> {
    const claim = this.config.usernameClaim;
    if (typeof claims[claim] === 'string') return claims[claim] as string;
    if (result.idToken) {
      try {
        const id = await this.verifyIdToken(result.idToken);
        if (id.sub === claims.sub && typeof id[claim] === 'string') return id[claim] as string;
      } catch {
        /* fall through to userinfo */
      }
    }
    const accessToken = result.accessToken;
    const { userinfo_endpoint } = await this.issuerKeys.discovery();
    if (!userinfo_endpoint) return undefined;
    try {
      const res = await fetch(userinfo_endpoint, {
        headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const info = res.ok ? ((await res.json()) as Record<string, unknown>) : {};
      return typeof info[claim] === 'string' ? (info[claim] as string) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Verifies an access token from this IdP: signature (JWKS), issuer, audience, expiry. */
  async verifyAccessToken(token: string): Promise<IdpAccessClaims> {
    const claims = await this.verified(token, 'access');
    if (!this.isForUs(claims)) throw this.invalid(`audience ${[claims.aud ?? []].flat().join(',').slice(0, 200)}, client ${String(claims.client_id ?? claims.azp ?? '(none)').slice(0, 64)}`);
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') throw this.invalid('no sub or exp');
    return claims as IdpAccessClaims;
  }

  /**
   * Whether an access token is meant for Latchkey. With OIDC_<P>_AUDIENCE set, its `aud` must
   * name that audience (the RFC 9068 resource-server check). Without, the token must have been
   * issued to our client: `client_id` (RFC 9068), `azp` (OIDC, Keycloak) or `aud` names it. Some
   * IdPs put the scope string or their own API in `aud`, so `aud` alone cannot be required.
   */
  private isForUs(claims: JwtPayload): boolean {
    const audiences = [claims.aud ?? []].flat();
    if (this.config.audience) return audiences.includes(this.config.audience);
    const client = this.config.clientId;
    return claims.client_id === client || claims.azp === client || audiences.includes(client);
  }

  /**
   * Verifies an ID token: signature against the IdP's JWKS, issuer, audience = our client id,
   * `azp` when present, expiry (passport-openidconnect checks the claims but not the signature).
   */
  async verifyIdToken(idToken: string, nonce?: string): Promise<IdpAccessClaims> {
    const claims = await this.verified(idToken, 'ID', { audience: this.config.clientId, nonce });
    if (claims.azp !== undefined && claims.azp !== this.config.clientId) throw this.invalid(`azp ${String(claims.azp)}`, 'ID');
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') throw this.invalid('no sub or exp', 'ID');
    return claims as IdpAccessClaims;
  }

  /** Signature (the IdP's JWKS, refetched for an unknown `kid`), `iss`, expiry and the given checks. */
  private async verified(token: string, kind: 'access' | 'ID', options?: { audience: string; nonce?: string }): Promise<JwtPayload> {
    try {
      return await this.issuerKeys.verify(token, options);
    } catch (error) {
      if (error instanceof InvalidIssuerToken) throw this.invalid(error.message, kind);
      throw error;
    }
  }

  private invalid(reason: string, kind: 'access' | 'ID' = 'access'): AppError {
    this.logger.warn(`${kind} token from the IdP rejected: ${reason}`);
    return unauthorized('AUTH_INVALID_TOKEN', `The identity provider issued an ${kind} token Latchkey cannot accept.`);
  }
}
