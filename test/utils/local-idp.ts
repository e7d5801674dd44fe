/**
 * A real OpenID Connect provider for e2e tests: test/idp/idp.mjs (oidc-provider 9) in a child
 * process on 127.0.0.1, plus the "browser" half of the code flow done with plain HTTP (a cookie
 * jar and manual redirects). No mocks. oidc-provider is ESM-only and ts-jest compiles to CommonJS
 * (it rewrites `import()` to `require()`), so it has to run in its own process.
 *
 *   const idp = await startLocalIdp({ redirectUris: ['http://127.0.0.1/auth/oidc/callback'] });
 *   afterAll(() => idp.stop());
 *   const { refresh_token } = await idp.obtainOfflineToken('alice');
 *   const { status, body } = await idp.refresh(refresh_token);
 *
 * State (sessions, grants, tokens) is in the IdP's memory: restart() keeps the port and the
 * signing keys (JWKS) but forgets every token issued before it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { idpProfile } from './idp-profiles';

// From test/utils (ts-jest) or, compiled for the benchmarks, from dist/test/utils.
const IDP_SCRIPT = [join(__dirname, '..', 'idp', 'idp.mjs'), join(__dirname, '..', '..', '..', 'test', 'idp', 'idp.mjs')].find((p) =>
  existsSync(p),
)!;

export interface LocalIdpUser {
  username: string;
  password: string;
  sub: string;
  email?: string;
  name?: string;
  /** Sent as the `groups` claim (ID token, userinfo, access token). */
  groups?: string[];
}

export const DEFAULT_IDP_USERS: LocalIdpUser[] = [
  { username: 'alice', password: 'alice-password', sub: 'sub-alice', email: 'alice@example.test', name: 'Alice' },
  { username: 'bob', password: 'bob-password', sub: 'sub-bob', email: 'bob@example.test', name: 'Bob' },
];

export interface LocalIdpOptions {
  /** Default: any free port. restart() always reuses the port the IdP got. */
  port?: number;
  /** Id and secret of the default client (latchkey / latchkey-secret). */
  clientId?: string;
  clientSecret?: string;
  /** Extra clients (oidc-provider client metadata, snake_case), after the default one. */
  extraClients?: Record<string, unknown>[];
  /** Default ['http://127.0.0.1/callback']; loopback URIs match on any port (see loopbackAnyPort). */
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  /** Loopback redirect URIs match whatever their port (default true). */
  loopbackAnyPort?: boolean;
  users?: LocalIdpUser[];
  /** Resource indicator every access token is for, and the JWT `aud` (default: the resource). */
  resource?: string;
  audience?: string;
  /** Space-separated scopes of the resource server, i.e. those an access token can carry. */
  resourceScopes?: string;
  /** Seconds. Access tokens default to 60. */
  accessTokenTtl?: number;
  idTokenTtl?: number;
  refreshTokenTtl?: number;
  /** Rotate refresh tokens on every use (default false: offline tokens are stable). */
  rotateRefreshTokens?: boolean;
  /** Spec-strict ID tokens (profile/email claims only at userinfo). Default false. */
  conformIdTokenClaims?: boolean;
  /** Refresh tokens without offline_access too, bound to the IdP session (Keycloak-like). Default false. */
  onlineRefreshTokens?: boolean;
  /** Access tokens carry `auth_time` (the user's login time), as Keycloak's do. Default false. */
  accessTokenAuthTime?: boolean;
  /**
   * `resource` (default): the JWT `aud` is the resource (`audience`). `scope`: `aud` is the
   * token's scope string and the client is only in `client_id`, no `azp` (RFC 9068 style IdPs).
   */
  audienceStyle?: 'resource' | 'scope';
  /** RP-initiated logout redirects back only when the request carried a `state`. Default false. */
  logoutNeedsState?: boolean;
  /** Send `preferred_username` (default true); false: no such claim anywhere (ID token, userinfo). */
  preferredUsername?: boolean;
  /** Default 10 s. */
  startTimeoutMs?: number;
  /** Anything else for the child's environment (IDP_* variables, see idp.mjs). */
  env?: Record<string, string>;
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
}

export interface OfflineToken {
  refresh_token: string;
  access_token: string;
  id_token: string;
  expires_in: number;
  scope?: string;
}

/** Raw token endpoint answer: no throw on an OAuth error. */
export interface RawTokenResponse {
  status: number;
  /** Parsed JSON when the body is JSON, otherwise the text. */
  body: any;
}

export interface IdpStats {
  /** Token endpoint requests, all outcomes. */
  total: number;
  byGrantType: Record<string, number>;
  /** Token endpoint requests answered with a 4xx/5xx, by grant_type. */
  errorsByGrantType: Record<string, number>;
  revocation: number;
}

export interface LoginOptions {
  /** Default: the first configured redirect URI. */
  redirectUri?: string;
  /** Default 'openid'. NB: oidc-provider drops offline_access unless prompt includes consent. */
  scope?: string;
  /** S256 challenge; without it the IdP refuses the request (PKCE is required). */
  codeChallenge?: string;
  /** Default: random. */
  state?: string;
  nonce?: string;
  prompt?: string;
  clientId?: string;
  /** Keep the IdP session between calls (e.g. for prompt=none); default: a fresh jar. */
  jar?: CookieJar;
  /** Any other authorization request parameter (id_token_hint, max_age, resource, login_hint…). */
  extraParams?: Record<string, string>;
}

export type ClientAuth = 'client_secret_basic' | 'client_secret_post';

/** The login form came back with an error (wrong password): the IdP refused the credentials. */
export class IdpLoginRefusedError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`the IdP refused the login (HTTP ${status})`);
    this.name = 'IdpLoginRefusedError';
  }
}

// ---------------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------------

export function createPkce(): { codeVerifier: string; codeChallenge: string } {
  const codeVerifier = randomBytes(32).toString('base64url');
  const codeChallenge = createHash('sha256').update(codeVerifier).digest('base64url');
  return { codeVerifier, codeChallenge };
}

/** Decodes (does NOT verify) a compact JWS. */
export function decodeJwt(token: string): { header: Record<string, any>; payload: Record<string, any> } {
  const [h, p] = token.split('.');
  if (!h || !p) throw new Error('not a JWT');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
  };
}

function makeSigningJwks(): { keys: Record<string, unknown>[] } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' }) as Record<string, string>;
  const kid = createHash('sha256')
    .update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }))
    .digest('base64url');
  return { keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] };
}

/** A minimal cookie jar for one host: name + path, Max-Age/Expires, path matching. */
export class CookieJar {
  private readonly cookies = new Map<string, { name: string; value: string; path: string; expires?: number }>();

  store(setCookies: string[], requestUrl: URL): void {
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const dir = requestUrl.pathname.slice(0, requestUrl.pathname.lastIndexOf('/')) || '/';
      let path = dir;
      let expires: number | undefined;
      for (const attr of attrs) {
        const i = attr.indexOf('=');
        const key = (i === -1 ? attr : attr.slice(0, i)).trim().toLowerCase();
        const val = i === -1 ? '' : attr.slice(i + 1).trim();
        if (key === 'path' && val.startsWith('/')) path = val;
        else if (key === 'max-age') expires = Date.now() + Number(val) * 1000;
        else if (key === 'expires' && expires === undefined) expires = Date.parse(val);
      }
      const key = `${name}\u0000${path}`;
      if (expires !== undefined && expires <= Date.now()) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path, expires });
    }
  }

  header(url: URL): string | undefined {
    const now = Date.now();
    const matching = [...this.cookies.entries()]
      .filter(([key, c]) => {
        if (c.expires !== undefined && c.expires <= now) {
          this.cookies.delete(key);
          return false;
        }
        const p = url.pathname;
        return p === c.path || (p.startsWith(c.path) && (c.path.endsWith('/') || p[c.path.length] === '/'));
      })
      .map(([, c]) => c)
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length ? matching.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  clear(): void {
    this.cookies.clear();
  }
}

async function readBody(res: Response): Promise<any> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// ---------------------------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------------------------

export class LocalIdp {
  issuer = '';
  port = 0;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUris: string[];
  readonly resource: string;
  readonly audience: string;
  readonly users: LocalIdpUser[];
  /** The options it was started with (the run's IdP profile, then the suite's own). */
  readonly options: LocalIdpOptions;

  private child: ChildProcessWithoutNullStreams | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stderr = '';
  private readonly env: Record<string, string>;
  private readonly startTimeoutMs: number;

  /** Use startLocalIdp(). */
  constructor(suiteOptions: LocalIdpOptions = {}) {
    const options: LocalIdpOptions = { ...idpProfile().idp, ...suiteOptions };
    this.options = options;
    this.clientId = options.clientId ?? 'latchkey';
    this.clientSecret = options.clientSecret ?? 'latchkey-secret';
    this.redirectUris = options.redirectUris ?? ['http://127.0.0.1/callback'];
    this.resource = options.resource ?? 'urn:latchkey:api';
    this.audience = options.audience ?? this.resource;
    this.users = options.users ?? DEFAULT_IDP_USERS;
    this.port = options.port ?? 0;
    this.startTimeoutMs = options.startTimeoutMs ?? 10_000;

    const env: Record<string, string | undefined> = {
      IDP_CLIENTS: JSON.stringify([
        { client_id: this.clientId, client_secret: this.clientSecret },
        ...(options.extraClients ?? []),
      ]),
      IDP_REDIRECT_URIS: JSON.stringify(this.redirectUris),
      IDP_POST_LOGOUT_REDIRECT_URIS: options.postLogoutRedirectUris && JSON.stringify(options.postLogoutRedirectUris),
      IDP_LOOPBACK_ANY_PORT: options.loopbackAnyPort === false ? '0' : '1',
      IDP_USERS: JSON.stringify(this.users),
      IDP_RESOURCE: this.resource,
      IDP_AUDIENCE: this.audience,
      IDP_RESOURCE_SCOPES: options.resourceScopes,
      IDP_ACCESS_TOKEN_TTL: options.accessTokenTtl?.toString(),
      IDP_ID_TOKEN_TTL: options.idTokenTtl?.toString(),
      IDP_REFRESH_TOKEN_TTL: options.refreshTokenTtl?.toString(),
      IDP_ROTATE_REFRESH_TOKENS: options.rotateRefreshTokens ? '1' : '0',
      IDP_CONFORM_ID_TOKEN_CLAIMS: options.conformIdTokenClaims ? '1' : '0',
      IDP_ONLINE_REFRESH_TOKENS: options.onlineRefreshTokens ? '1' : '0',
      IDP_ACCESS_TOKEN_AUTH_TIME: options.accessTokenAuthTime ? '1' : '0',
      IDP_AUDIENCE_STYLE: options.audienceStyle ?? 'resource',
      IDP_LOGOUT_NEEDS_STATE: options.logoutNeedsState ? '1' : '0',
      IDP_PREFERRED_USERNAME: options.preferredUsername === false ? '0' : '1',
      // Same keys across restart(): tokens signed before a restart still verify against the JWKS.
      IDP_JWKS: JSON.stringify(makeSigningJwks()),
      IDP_COOKIE_KEYS: JSON.stringify([randomBytes(32).toString('base64url')]),
      IDP_EXIT_ON_STDIN_CLOSE: '1',
      ...options.env,
    };
    this.env = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get discoveryUrl(): string {
    return `${this.issuer}/.well-known/openid-configuration`;
  }

  get tokenEndpoint(): string {
    return `${this.issuer}/token`;
  }

  get jwksUri(): string {
    return `${this.issuer}/jwks`;
  }

  /** Starts the child process and waits for its "listening" line. */
  async start(): Promise<this> {
    if (this.child) throw new Error('local IdP already running');
    this.stderr = '';
    const child = spawn(process.execPath, [IDP_SCRIPT], {
      env: { ...process.env, ...this.env, IDP_PORT: String(this.port) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    // Neither the child nor its pipes keep this process alive: a suite that forgets stop() (or
    // whose beforeAll timed out) does not hang Jest, and the child exits by itself when its stdin
    // closes, i.e. when this process exits (IDP_EXIT_ON_STDIN_CLOSE).
    child.unref();
    for (const pipe of [child.stdin, child.stdout, child.stderr]) (pipe as unknown as Socket).unref();
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.exited.then(() => {
      if (this.child === child) this.child = undefined;
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-8192);
    });
    child.stdout.setEncoding('utf8');

    try {
      const line = await new Promise<string>((resolve, reject) => {
        let buffered = '';
        const timer = setTimeout(
          () => reject(new Error(`local IdP did not start within ${this.startTimeoutMs} ms`)),
          this.startTimeoutMs,
        );
        const onData = (chunk: string) => {
          buffered += chunk;
          const nl = buffered.indexOf('\n');
          if (nl !== -1) {
            cleanup();
            resolve(buffered.slice(0, nl));
          }
        };
        const onExit = (code: number | null, signal: string | null) => {
          cleanup();
          reject(new Error(`local IdP exited during start (code ${code}, signal ${signal})`));
        };
        const onError = (err: Error) => {
          cleanup();
          reject(err);
        };
        const cleanup = () => {
          clearTimeout(timer);
          child.stdout.off('data', onData);
          child.off('exit', onExit);
          child.off('error', onError);
          child.stdout.resume(); // keep draining whatever else it prints
        };
        child.stdout.on('data', onData);
        child.once('exit', onExit);
        child.once('error', onError);
      });
      const { issuer, port } = JSON.parse(line) as { issuer: string; port: number };
      this.issuer = issuer;
      this.port = port;
      return this;
    } catch (err) {
      await this.stop();
      const detail = this.stderr.trim();
      throw new Error(`${(err as Error).message}${detail ? `\n--- IdP stderr ---\n${detail}` : ''}`);
    }
  }

  /** SIGTERM, then waits for the exit (SIGKILL after 5 s). Safe to call twice. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return this.exited;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    this.child = undefined;
  }

  /**
   * Stops and starts again on the same port with the same signing keys. The in-memory state is
   * gone: sessions, grants, codes and refresh tokens issued before are unknown afterwards.
   */
  async restart(): Promise<this> {
    await this.stop();
    return this.start();
  }

  /** Last 8 KB of the child's stderr (oidc-provider's warnings, server_error traces). */
  get stderrTail(): string {
    return this.stderr;
  }

  // --- test control endpoints -------------------------------------------------------------

  private async control<T>(method: 'GET' | 'POST', path: string): Promise<T> {
    const res = await fetch(`${this.issuer}/__test/${path}`, { method });
    if (!res.ok) throw new Error(`IdP /__test/${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  stats(): Promise<IdpStats> {
    return this.control('GET', 'stats');
  }

  async resetStats(): Promise<void> {
    await this.control('POST', 'reset-stats');
  }

  /** Every token endpoint request waits `ms` first (0: none), until changed or restart(). */
  async setTokenDelay(ms: number): Promise<void> {
    await this.control('POST', `token-delay?ms=${ms}`);
  }
  /** Destroys every grant of `sub` (and its codes, access and refresh tokens). Returns how many. */
  async revokeGrants(sub: string): Promise<number> {
    const { revoked } = await this.control<{ revoked: number }>('POST', `revoke-grants?sub=${encodeURIComponent(sub)}`);
    return revoked;
  }

  /** Drops every IdP session: the next prompt=none request gets error=login_required. */
  async endSessions(): Promise<number> {
    const { ended } = await this.control<{ ended: number }>('POST', 'end-sessions');
    return ended;
  }

  async discovery(): Promise<Record<string, any>> {
    const res = await fetch(this.discoveryUrl);
    if (!res.ok) throw new Error(`discovery: HTTP ${res.status}`);
    return (await res.json()) as Record<string, any>;
  }

  async jwks(): Promise<{ keys: Record<string, any>[] }> {
    const res = await fetch(this.jwksUri);
    if (!res.ok) throw new Error(`jwks: HTTP ${res.status}`);
    return (await res.json()) as { keys: Record<string, any>[] };
  }

  /** The OIDC_<NAME>_* variables that configure this IdP as Latchkey provider `name`. */
  providerEnv(name: string, extra: { displayName?: string } = {}): Record<string, string> {
    const prefix = `OIDC_${name.toUpperCase().replace(/-/g, '_')}_`;
    return {
      [`${prefix}ISSUER`]: this.issuer,
      [`${prefix}CLIENT_ID`]: this.clientId,
      [`${prefix}CLIENT_SECRET`]: this.clientSecret,
      // An IdP that puts the scope string in `aud` has no audience to configure: the client_id claim names us.
      ...(this.options.audienceStyle === 'scope' ? {} : { [`${prefix}AUDIENCE`]: this.audience }),
      ...Object.fromEntries(Object.entries(idpProfile().provider).map(([key, value]) => [`${prefix}${key}`, value])),
      // oidc-provider's refresh (offline) tokens are opaque, not JWTs: they reach it only with this.
      [`${prefix}OPAQUE_OFFLINE_TOKENS`]: 'true',
      ...(extra.displayName ? { [`${prefix}DISPLAY_NAME`]: extra.displayName } : {}),
    };
  }

  newCookieJar(): CookieJar {
    return new CookieJar();
  }

  // --- the browser part of the code flow -------------------------------------------------

  authorizationUrl(options: Omit<LoginOptions, 'jar'> = {}): string {
    const url = new URL(`${this.issuer}/auth`);
    const params: Record<string, string | undefined> = {
      client_id: options.clientId ?? this.clientId,
      response_type: 'code',
      redirect_uri: options.redirectUri ?? this.redirectUris[0],
      scope: options.scope ?? 'openid',
      state: options.state ?? randomBytes(12).toString('base64url'),
      nonce: options.nonce,
      prompt: options.prompt,
      code_challenge: options.codeChallenge,
      code_challenge_method: options.codeChallenge ? 'S256' : undefined,
      ...options.extraParams,
    };
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
    return url.href;
  }

  /**
   * Plays the browser: opens the authorization URL, follows the IdP's redirects, submits the login
   * form (when the IdP shows it) and the automatic consent, and returns the final redirect to
   * redirectUri (with code & state & iss, or error=…) WITHOUT requesting it. Throws
   * IdpLoginRefusedError on wrong credentials and an Error on an IdP error page.
   */
  async login(username: string, password: string, options: LoginOptions = {}): Promise<string> {
    const jar = options.jar ?? new CookieJar();
    const redirectUri = new URL(options.redirectUri ?? this.redirectUris[0]);
    const isRedirectUri = (u: URL) =>
      u.origin === redirectUri.origin && u.pathname === redirectUri.pathname;

    let url = new URL(this.authorizationUrl(options));
    let init: RequestInit = { method: 'GET' };
    let loginPosted = false;
    for (let hop = 0; hop < 20; hop += 1) {
      const headers = new Headers(init.headers);
      const cookie = jar.header(url);
      if (cookie) headers.set('cookie', cookie);
      const res = await fetch(url, { ...init, headers, redirect: 'manual' });
      jar.store(res.headers.getSetCookie(), url);

      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel();
        const location = res.headers.get('location');
        if (!location) throw new Error(`IdP ${res.status} without Location at ${url.href}`);
        const next = new URL(location, url);
        if (isRedirectUri(next)) return next.href;
        url = next;
        init = { method: 'GET' };
        continue;
      }

      const body = await res.text();
      if (res.status === 401 && body.includes('id="login"')) throw new IdpLoginRefusedError(res.status, body);
      const form = /<form id="login" method="post" action="([^"]+)"/.exec(body);
      if (res.status === 200 && form) {
        if (loginPosted) throw new Error('IdP asked for the login twice');
        loginPosted = true;
        url = new URL(form[1].replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c))), url);
        init = {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ username, password }).toString(),
        };
        continue;
      }
      throw new Error(`unexpected IdP answer ${res.status} at ${url.href}: ${body.slice(0, 500)}`);
    }
    throw new Error('too many redirects at the IdP');
  }

  /**
   * RP-initiated logout as the browser does it: GET end_session_endpoint with the jar's session,
   * submit the confirmation form (xsrf, logout=yes) and return the final redirect (the
   * post_logout_redirect_uri with state, or the IdP's own "signed out" page) WITHOUT requesting it.
   * NB: oidc-provider revokes the grant of the logged-out session, except a grant whose code
   * carried offline_access (its refresh tokens outlive the session).
   */
  async logout(options: {
    jar: CookieJar;
    idTokenHint?: string;
    postLogoutRedirectUri?: string;
    state?: string;
    clientId?: string;
  }): Promise<string> {
    const url = new URL(`${this.issuer}/session/end`);
    const params: Record<string, string | undefined> = {
      id_token_hint: options.idTokenHint,
      post_logout_redirect_uri: options.postLogoutRedirectUri,
      state: options.state,
      client_id: options.clientId ?? (options.idTokenHint ? undefined : this.clientId),
    };
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);

    const send = async (target: URL, init: RequestInit) => {
      const headers = new Headers(init.headers);
      const cookie = options.jar.header(target);
      if (cookie) headers.set('cookie', cookie);
      const res = await fetch(target, { ...init, headers, redirect: 'manual' });
      options.jar.store(res.headers.getSetCookie(), target);
      return res;
    };

    const page = await send(url, { method: 'GET' });
    const html = await page.text();
    const action = /<form[^>]*method="post"[^>]*action="([^"]+)"/.exec(html);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html);
    if (page.status !== 200 || !action || !xsrf) {
      throw new Error(`unexpected end_session answer ${page.status}: ${html.slice(0, 500)}`);
    }
    const confirmUrl = new URL(action[1].replace(/&amp;/g, '&'), url);
    const confirm = await send(confirmUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf: xsrf[1], logout: 'yes' }).toString(),
    });
    await confirm.body?.cancel();
    const location = confirm.headers.get('location');
    if (confirm.status < 300 || confirm.status >= 400 || !location) {
      throw new Error(`unexpected end_session confirmation answer ${confirm.status}`);
    }
    return new URL(location, confirmUrl).href;
  }

  private tokenRequest(params: Record<string, string>, auth: ClientAuth = 'client_secret_basic') {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    const body = new URLSearchParams(params);
    if (auth === 'client_secret_basic') {
      const basic = `${encodeURIComponent(this.clientId)}:${encodeURIComponent(this.clientSecret)}`;
      headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
    } else {
      body.set('client_id', this.clientId);
      body.set('client_secret', this.clientSecret);
    }
    return fetch(this.tokenEndpoint, { method: 'POST', headers, body });
  }

  /** authorization_code grant; throws on an OAuth error. */
  async exchangeCode(
    code: string,
    redirectUri: string,
    codeVerifier: string,
    options: { auth?: ClientAuth } = {},
  ): Promise<TokenResponse> {
    const res = await this.tokenRequest(
      { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: codeVerifier },
      options.auth,
    );
    const body = await readBody(res);
    if (!res.ok) throw new Error(`code exchange failed: HTTP ${res.status} ${JSON.stringify(body)}`);
    return body as TokenResponse;
  }

  /**
   * Without preferred_username (profile no-username) users are named by email, so an offline
   * token is asked for with the `email` scope too, as such an IdP's users are told to.
   */
  private offlineScope(scope: string): string {
    return this.options.preferredUsername === false && !scope.split(' ').includes('email') ? `${scope} email` : scope;
  }

  /**
   * The full code flow with PKCE for `scope` (default 'openid offline_access', with prompt=consent,
   * which oidc-provider needs to keep offline_access) and the code exchange.
   */
  async obtainOfflineToken(
    username: string,
    options: { password?: string; scope?: string; redirectUri?: string; auth?: ClientAuth } = {},
  ): Promise<OfflineToken> {
    const password = options.password ?? this.users.find((u) => u.username === username)?.password;
    if (password === undefined) throw new Error(`no password known for ${username}`);
    const redirectUri = options.redirectUri ?? this.redirectUris[0];
    const { codeVerifier, codeChallenge } = createPkce();
    const state = randomBytes(12).toString('base64url');
    const location = new URL(
      await this.login(username, password, {
        redirectUri,
        scope: this.offlineScope(options.scope ?? 'openid offline_access'),
        prompt: 'consent',
        codeChallenge,
        state,
        nonce: randomBytes(12).toString('base64url'),
      }),
    );
    const code = location.searchParams.get('code');
    if (!code || location.searchParams.get('state') !== state) {
      throw new Error(`no code in the IdP redirect: ${location.href}`);
    }
    const tokens = await this.exchangeCode(code, redirectUri, codeVerifier, { auth: options.auth });
    if (!tokens.refresh_token || !tokens.id_token) {
      throw new Error(`the IdP issued no refresh/ID token: ${JSON.stringify(tokens)}`);
    }
    return {
      refresh_token: tokens.refresh_token,
      access_token: tokens.access_token,
      id_token: tokens.id_token,
      expires_in: tokens.expires_in,
      scope: tokens.scope,
    };
  }

  /** refresh_token grant; returns the raw answer (never throws on an OAuth error, only if unreachable). */
  async refresh(
    refreshToken: string,
    options: { auth?: ClientAuth; scope?: string; resource?: string } = {},
  ): Promise<RawTokenResponse> {
    const params: Record<string, string> = { grant_type: 'refresh_token', refresh_token: refreshToken };
    if (options.scope) params.scope = options.scope;
    if (options.resource) params.resource = options.resource;
    const res = await this.tokenRequest(params, options.auth);
    return { status: res.status, body: await readBody(res) };
  }
}

/** Starts a local IdP (see LocalIdpOptions); call stop() in afterAll. */
export async function startLocalIdp(options: LocalIdpOptions = {}): Promise<LocalIdp> {
  return new LocalIdp(options).start();
}
