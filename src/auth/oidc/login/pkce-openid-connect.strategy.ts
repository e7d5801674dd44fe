import { createHash, randomBytes } from 'node:crypto';
import { Strategy as OpenIDConnectStrategy, type StrategyOptions } from 'passport-openidconnect';
import type { RefreshResult } from '../oidc-client';
import type { LatchkeyRequest } from '../../../common/http/request-context';

/** Where the extension keeps the PKCE verifier inside the login's app state (never sent to the IdP). */
const VERIFIER = '__pkce';

/** The token request, done by the caller (OidcClient: timeout, 503 when the IdP is down). */
export type CodeExchange = (code: string, redirectUri: string, codeVerifier: string) => Promise<RefreshResult>;

/** Per-request options of `authenticate()` this extension reads, besides the library's own. */
export interface PkceAuthenticateOptions {
  callbackURL: string;
  scope?: string[];
  prompt?: string;
  state?: Record<string, unknown>;
  /** Sent as `id_token_hint` (with `prompt=none`, some IdPs refuse a silent request without it). */
  idTokenHint?: string;
}

/** What passport-openidconnect keeps "protected"; the extension swaps them per request. */
interface StrategyInternals {
  _stateStore: {
    store(req: LatchkeyRequest, ctx: object, appState: unknown, meta: object, cb: (err: Error | null, handle?: string) => void): void;
    verify(req: LatchkeyRequest, handle: string, cb: (err: Error | null, ctx?: object | false, state?: unknown) => void): void;
  };
  _oauth2: {
    getOAuthAccessToken(
      code: string,
      params: Record<string, string>,
      cb: (err: unknown, accessToken?: string, refreshToken?: string, params?: Record<string, unknown>) => void,
    ): void;
  };
}

/**
 * passport-openidconnect 0.1.x with PKCE (RFC 7636, S256), and nothing else changed.
 * - Authorization request: a fresh `code_verifier` per login, its S256 `code_challenge` in the
 *   URL, the verifier itself in the login's app state (which the state store keeps; ours seals
 *   it in a cookie). `id_token_hint` can be given per request.
 * - Callback: the verifier comes back from the state store with the state, and the token request
 *   carries it. The token request goes through `exchangeCode` rather than the `oauth` package:
 *   same form post (`client_secret_post`), plus a timeout and the IdP-down handling of OidcClient.
 *
 * `authenticate()` runs on a per-request object (`Object.create(strategy)`, as passport does),
 * so the per-request swaps below never touch the shared strategy.
 */
export class PkceOpenIdConnectStrategy extends OpenIDConnectStrategy {
  constructor(
    options: StrategyOptions,
    verify: ConstructorParameters<typeof OpenIDConnectStrategy>[1],
    private readonly exchangeCode: CodeExchange,
  ) {
    super(options, verify);
  }

  override authorizationParams(options: PkceAuthenticateOptions): object {
    const verifier = randomBytes(32).toString('base64url');
    // The library reads options.state after this call and hands it to the state store.
    options.state = { ...options.state, [VERIFIER]: verifier };
    return {
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      ...(options.idTokenHint ? { id_token_hint: options.idTokenHint } : {}),
    };
  }

  /** `req` is Fastify's: passport-openidconnect reads only `query` (and the state store, its cookies). */
  override authenticate(passportReq: Parameters<OpenIDConnectStrategy['authenticate']>[0], options?: PkceAuthenticateOptions): void {
    const req = passportReq as unknown as LatchkeyRequest;
    if (req.query?.code && !req.query.error) {
      const self = this as unknown as StrategyInternals;
      const store = self._stateStore;
      let verifier: string | undefined;
      self._stateStore = {
        store: (...args) => store.store(...args),
        verify: (r, handle, cb) =>
          store.verify(r, handle, (err, ctx, state) => {
            const { [VERIFIER]: v, ...appState } = (state ?? {}) as Record<string, unknown>;
            verifier = typeof v === 'string' ? v : undefined;
            cb(err, ctx, ctx ? appState : state);
          }),
      };
      self._oauth2 = Object.create(self._oauth2, {
        getOAuthAccessToken: {
          value: (code: string, params: Record<string, string>, cb: Parameters<StrategyInternals['_oauth2']['getOAuthAccessToken']>[2]) => {
            if (!verifier) return cb(new Error('The login state holds no PKCE verifier.'));
            this.exchangeCode(code, params.redirect_uri, verifier).then(
              (r) => cb(null, r.accessToken, r.refreshToken, { id_token: r.idToken, expires_in: r.expiresIn }),
              (error: unknown) => cb(error),
            );
          },
        },
      });
    }
    super.authenticate(passportReq, options);
  }
}
