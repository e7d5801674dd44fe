import { Injectable, Logger } from '@nestjs/common';
import { SealedBox } from '../../../common/crypto/sealed-box';
import { AppError } from '../../../common/errors/app-error';
import { API_PREFIX, apiBase } from '../../../common/http/base-url';
import { AppConfig, InjectConfig } from '../../../config/app.config';
import type { IdpAccessClaims, OidcClient, RefreshResult } from '../oidc-client';
import { OidcProviders } from '../oidc-providers';
import { CookieStateStore } from './cookie-state.store';
import { PkceOpenIdConnectStrategy, type PkceAuthenticateOptions } from './pkce-openid-connect.strategy';
import { runStrategy } from './run-strategy';
import type { LatchkeyRequest } from '../../../common/http/request-context';

/** What a login is for; travels sealed in the state cookie and comes back with the callback. */
export interface LoginState {
  /**
   * api: show a Latchkey refresh token once; browser: set the session cookie; offline: show an
   * IdP offline token once (for an identity already linked to `userId`); device: ask for the
   * user code of a device-code login to approve; link: show the confirmation page of linking
   * the IdP account to `userId` (IdentityLinksService). No mode links anything by itself.
   */
  mode: 'api' | 'browser' | 'offline' | 'device' | 'link';
  /** Browser logins: the local path to return to. */
  next?: string;
  /** A `prompt=none` attempt to renew the browser session `sessionId`. */
  silent?: boolean;
  /**
   * The session being renewed (silent), or the login session that started an offline-token
   * request or a link (it must still be live, and for a link be this browser's, at the callback).
   */
  sessionId?: string;
  /** Offline-token requests and links: the user who asked (the IdP identity must be, or become, theirs). */
  userId?: string;
}

export interface CompletedLogin {
  client: OidcClient;
  /** The verified ID token's claims (signature, iss, aud, azp, exp, nonce). */
  claims: IdpAccessClaims;
  tokens: RefreshResult;
  state: LoginState;
}

/** The state cookie outlives no login: 10 minutes from the redirect to the IdP. */
const STATE_TTL_MS = 10 * 60 * 1000;

/**
 * The authorization-code flow against each configured IdP, through passport-openidconnect
 * (one PKCE-extended strategy per provider, built on first use from the IdP's discovery
 * document) and a sealed-cookie state store. Strategies run through `runStrategy`, so there is
 * no global passport instance and no express-session.
 */
@Injectable()
export class OidcLoginService {
  private readonly logger = new Logger(OidcLoginService.name);
  private readonly strategies = new Map<string, Promise<PkceOpenIdConnectStrategy>>();
  private readonly stateBox: SealedBox;
  private readonly stores = new Map<string, CookieStateStore>();

  constructor(
    private readonly providers: OidcProviders,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    this.stateBox = new SealedBox(config.auth.secretKeys, 'oidc-login-state');
    const secure = config.publicUrl?.startsWith('https:') ?? false;
    for (const client of providers.clients) {
      const name = client.config.name;
      this.stores.set(name, new CookieStateStore(this.stateBox, name, { path: providerPath(name), secure, ttlMs: STATE_TTL_MS }));
    }
  }

  /** Starts a login at `provider`; returns the IdP authorization URL (the state cookie is set on req.res). */
  async start(
    req: LatchkeyRequest,
    provider: string,
    state: LoginState,
    options: { offline?: boolean; prompt?: 'none' | 'consent' | 'login'; idTokenHint?: string } = {},
  ): Promise<string> {
    const client = this.providers.get(provider);
    const strategy = await this.strategy(client);
    const scopes = client.config.scopes.filter((s) => s !== 'openid');
    if (options.offline && !scopes.includes('offline_access')) scopes.push('offline_access');
    const outcome = await runStrategy(strategy, req, {
      callbackURL: this.callbackUrl(req, provider),
      scope: scopes,
      prompt: options.prompt,
      state: { ...state },
      idTokenHint: options.idTokenHint,
    } satisfies PkceAuthenticateOptions);
    if (outcome.type === 'redirect') return outcome.url;
    throw this.failure(outcome.type === 'error' ? outcome.error : undefined, provider);
  }

  /** Completes a login from the IdP's redirect (`?code&state`): verified identity, IdP tokens, app state. */
  async complete(req: LatchkeyRequest, provider: string): Promise<CompletedLogin> {
    const client = this.providers.get(provider);
    const strategy = await this.strategy(client);
    const outcome = await runStrategy(strategy, req, { callbackURL: this.callbackUrl(req, provider) });
    if (outcome.type === 'success') {
      const { claims, tokens } = outcome.user as { claims: IdpAccessClaims; tokens: RefreshResult };
      const state = ((outcome.info as { state?: LoginState } | undefined)?.state ?? { mode: 'api' }) as LoginState;
      return { client, claims, tokens, state };
    }
    if (outcome.type === 'fail') {
      const message = (outcome.challenge as { message?: string } | undefined)?.message ?? 'The login could not be completed.';
      this.logger.warn(`login at ${provider} refused: ${message}`);
      throw new AppError('EXTERNAL_LOGIN_FAILED', message);
    }
    throw this.failure(outcome.type === 'error' ? outcome.error : undefined, provider);
  }

  /**
   * The app state of a callback that carries an IdP error (`?error=…&state=…`), when its state
   * is genuine (the sealed cookie matches); undefined otherwise. passport-openidconnect answers
   * such callbacks before it reads the state, so this checks it the same way itself.
   */
  stateOfErrorCallback(req: LatchkeyRequest, provider: string): Promise<LoginState | undefined> {
    const store = this.stores.get(provider);
    if (!store) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      store.verify(req, req.query.state, (err, ctx, state) => {
        const { __pkce: _verifier, ...app } = (state ?? {}) as Record<string, unknown>;
        resolve(!err && ctx ? (app as unknown as LoginState) : undefined);
      });
    });
  }

  callbackUrl(req: LatchkeyRequest, provider: string): string {
    return `${apiBase(req, this.config.publicUrl, this.config.trustProxy)}/auth/provider/${provider}/code`;
  }

  private strategy(client: OidcClient): Promise<PkceOpenIdConnectStrategy> {
    const name = client.config.name;
    let strategy = this.strategies.get(name);
    if (!strategy) {
      strategy = this.build(client);
      this.strategies.set(name, strategy);
      strategy.catch(() => this.strategies.delete(name)); // the IdP was down: discover again next time
    }
    return strategy;
  }

  private async build(client: OidcClient): Promise<PkceOpenIdConnectStrategy> {
    const meta = await client.metadata();
    if (!meta.authorization_endpoint) {
      throw new AppError('SERVICE_UNAVAILABLE', `The identity provider "${client.config.name}" has no authorization endpoint.`);
    }
    // Arity 8 matters: passport-openidconnect picks the arguments by the verify function's length.
    const verify = (
      _issuer: string,
      _profile: unknown,
      _context: unknown,
      idToken: string,
      accessToken: string,
      refreshToken: string | undefined,
      params: { expires_in?: number },
      done: (err: unknown, user?: unknown) => void,
    ): void => {
      // The library checked iss/aud/azp/exp/nonce on the decoded token; the signature is ours to check.
      client.verifyIdToken(idToken).then(
        (claims) => done(null, { claims, tokens: { accessToken, refreshToken, idToken, expiresIn: params.expires_in } }),
        (error: unknown) => done(error),
      );
    };
    return new PkceOpenIdConnectStrategy(
      {
        issuer: meta.issuer,
        authorizationURL: meta.authorization_endpoint,
        tokenURL: meta.token_endpoint,
        userInfoURL: meta.userinfo_endpoint ?? '',
        clientID: client.config.clientId,
        clientSecret: client.config.clientSecret,
        callbackURL: '', // per request: the base URL depends on PUBLIC_URL or the request
        nonce: 'true',
        skipUserProfile: true,
        store: this.stores.get(client.config.name) as never,
      } as never,
      verify as never,
      (code, redirectUri, verifier) => client.exchangeCode(code, redirectUri, verifier),
    );
  }

  /** An error of the strategy as an AppError: the IdP's own (503, 401) or a failed login. */
  private failure(error: unknown, provider: string): AppError {
    const cause = (error as { oauthError?: unknown } | undefined)?.oauthError ?? error;
    if (cause instanceof AppError) return cause.status === 401 ? new AppError('EXTERNAL_LOGIN_FAILED', cause.message) : cause;
    this.logger.warn(`login at ${provider} failed: ${(cause as Error | undefined)?.message ?? 'unknown error'}`);
    return new AppError('EXTERNAL_LOGIN_FAILED', 'The identity provider did not complete the login. Start it again.');
  }
}

/** The routes of one provider (the state cookie's path). */
export function providerPath(provider: string): string {
  return `/${API_PREFIX}/auth/provider/${provider}/`;
}
