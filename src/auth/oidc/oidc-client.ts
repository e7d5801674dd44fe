import { Logger } from '@nestjs/common';
import { createPublicKey, type KeyObject } from 'node:crypto';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import { AppError, unauthorized } from '../../common/errors/app-error';
import { observeIdpExchange, type IdpExchangeOutcome } from '../../common/metrics/process-metrics';
import type { OidcProviderConfig } from '../../config/app.config';

export interface Discovery {
  issuer: string;
  token_endpoint: string;
  jwks_uri: string;
  authorization_endpoint?: string;
  end_session_endpoint?: string;
  userinfo_endpoint?: string;
  claims_supported?: unknown;
}

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

const ALGORITHMS: jwt.Algorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
const JWKS_REFETCH_MS = 30_000;

/** The IdP cannot be reached or failed (5xx, timeout): 503 with Retry-After, never 401. */
export function idpUnavailable(provider: string): AppError {
  return new AppError('SERVICE_UNAVAILABLE', `The identity provider "${provider}" is not reachable; retry shortly.`, {
    headers: { 'Retry-After': '10' },
  });
}

/**
 * Talks to one OpenID Connect provider over plain HTTPS (Node's fetch, bounded by a timeout):
 * discovery, its JWKS, and the refresh-token grant. Keeps the discovery document and the keys
 * in memory; an unknown `kid` refetches the keys (at most every 30 s), so IdP key rotation works.
 */
export class OidcClient {
  private readonly logger: Logger;
  private discovery?: Promise<Discovery>;
  private keys = new Map<string, KeyObject>();
  private keysFetchedAt = 0;
  /** Whether the missing username claim was reported (once per process). */
  private warnedNoUsername = false;

  constructor(
    readonly config: OidcProviderConfig,
    private readonly timeoutMs: number,
  ) {
    this.logger = new Logger(`OidcClient:${config.name}`);
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
    const endpoint = await this.discover().then((d) => d.end_session_endpoint, () => undefined);
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
    return this.discover();
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
    const { token_endpoint } = await this.discover();
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
      throw idpUnavailable(this.config.name);
    }
    if (res.status >= 500 || res.status === 429) {
      this.logger.warn(`token endpoint answered ${res.status}`);
      throw idpUnavailable(this.config.name);
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
    const { userinfo_endpoint } = await this.discover();
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
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload !== 'object') throw this.invalid('the access token is not a JWT');
    const key = await this.key(decoded.header.kid);
    const { issuer } = await this.discover();
    let claims: JwtPayload;
    try {
      claims = jwt.verify(token, key, { algorithms: ALGORITHMS, issuer }) as JwtPayload;
    } catch (error) {
      throw this.invalid((error as Error).message);
    }
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
    const decoded = jwt.decode(idToken, { complete: true });
    if (!decoded || typeof decoded.payload !== 'object') throw this.invalid('the ID token is not a JWT', 'ID');
    const key = await this.key(decoded.header.kid);
    const { issuer } = await this.discover();
    let claims: JwtPayload;
    try {
      claims = jwt.verify(idToken, key, { algorithms: ALGORITHMS, issuer, audience: this.config.clientId, nonce }) as JwtPayload;
    } catch (error) {
      throw this.invalid((error as Error).message, 'ID');
    }
    if (claims.azp !== undefined && claims.azp !== this.config.clientId) throw this.invalid(`azp ${String(claims.azp)}`, 'ID');
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') throw this.invalid('no sub or exp', 'ID');
    return claims as IdpAccessClaims;
  }

  private async key(kid: string | undefined): Promise<KeyObject> {
    const find = () => (kid ? this.keys.get(kid) : this.keys.size === 1 ? [...this.keys.values()][0] : undefined);
    let key = find();
    if (!key && Date.now() - this.keysFetchedAt > JWKS_REFETCH_MS) {
      await this.fetchKeys();
      key = find();
    }
    if (!key) throw this.invalid(`unknown signing key ${kid ?? '(none)'}`);
    return key;
  }

  private async fetchKeys(): Promise<void> {
    const { jwks_uri } = await this.discover();
    const jwks = await this.getJson<{ keys?: Array<Record<string, unknown>> }>(jwks_uri);
    const keys = new Map<string, KeyObject>();
    for (const jwk of jwks.keys ?? []) {
      if (jwk.use === 'enc' || typeof jwk.kty !== 'string') continue;
      try {
        keys.set(String(jwk.kid ?? ''), createPublicKey({ key: jwk as never, format: 'jwk' }));
      } catch {
        /* a key type Node cannot read: skip it */
      }
    }
    this.keys = keys;
    this.keysFetchedAt = Date.now();
  }

  private discover(): Promise<Discovery> {
    this.discovery ??= this.getJson<Discovery>(`${this.config.issuer}/.well-known/openid-configuration`).then(
      (doc) => {
        if (doc.issuer?.replace(/\/+$/, '') !== this.config.issuer || !doc.token_endpoint || !doc.jwks_uri) {
          throw new AppError('SERVICE_UNAVAILABLE', `The discovery document of "${this.config.name}" does not match its issuer.`);
        }
        // Said at boot (the readiness probe discovers every IdP): the claim usernames come from is not offered.
        if (Array.isArray(doc.claims_supported) && !doc.claims_supported.includes(this.config.usernameClaim)) {
          this.logger.warn(this.noUsernameClaim('does not list the'));
        }
        return doc;
      },
      (error: unknown) => {
        this.discovery = undefined; // try again next time
        throw error;
      },
    );
    return this.discovery;
  }

  private async getJson<T>(url: string): Promise<T> {
    try {
      const res = await fetch(url, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(this.timeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return (await res.json()) as T;
    } catch (error) {
      this.discovery = undefined;
      this.logger.warn(`GET ${url} failed: ${(error as Error).message}`);
      throw idpUnavailable(this.config.name);
    }
  }

  private invalid(reason: string, kind: 'access' | 'ID' = 'access'): AppError {
    this.logger.warn(`${kind} token from the IdP rejected: ${reason}`);
    return unauthorized('AUTH_INVALID_TOKEN', `The identity provider issued an ${kind} token Latchkey cannot accept.`);
  }
}
