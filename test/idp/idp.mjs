/**
 * A real OpenID Connect provider (oidc-provider 9) on loopback, for e2e tests. Test-only: never
 * ship or expose it. oidc-provider is ESM-only, so Jest (ts-jest, CommonJS) cannot import it: start
 * this file as a child process (test/utils/local-idp.ts does) and read the one JSON line it prints
 * on stdout once it listens:
 *
 *   {"issuer":"http://127.0.0.1:PORT","port":PORT,"pid":PID}
 *
 * Standalone: `node test/idp/idp.mjs [port]`. Configuration, all optional, through the environment:
 *
 *   IDP_PORT                     port (argv[2] wins; default 0 = any free port)
 *   IDP_CLIENTS                  JSON list of client metadata (oidc-provider / RFC 7591 names).
 *                                Missing fields are filled in: grant_types authorization_code +
 *                                refresh_token, response_types code, token_endpoint_auth_method
 *                                client_secret_post (client_secret_basic is accepted too: oidc-provider
 *                                treats the two as one method), redirect/post-logout URIs below.
 *                                Default: one client `latchkey` / `latchkey-secret`.
 *   IDP_REDIRECT_URIS            JSON list, default ["http://127.0.0.1/callback"]
 *   IDP_POST_LOGOUT_REDIRECT_URIS JSON list, default ["http://127.0.0.1/"]
 *   IDP_LOOPBACK_ANY_PORT        "1" (default): a redirect URI on 127.0.0.1/localhost/[::1] matches a
 *                                registered one whatever its port (RFC 8252 §7.3 style, also for web
 *                                clients here), so a server on a random port needs no exact URI. "0": exact.
 *   IDP_USERS                    JSON list of {username, password, sub, email?, name?, groups?}. A user
 *                                with `groups` gets a `groups` claim (ID token, userinfo, access token),
 *                                as Keycloak's group mapper and Azure AD send it.
 *                                Default alice/alice-password (sub-alice), bob/bob-password (sub-bob).
 *   IDP_RESOURCE                 resource indicator every token is for by default (urn:latchkey:api)
 *   IDP_AUDIENCE                 `aud` of the JWT access tokens (default: IDP_RESOURCE)
 *   IDP_RESOURCE_SCOPES          scopes the resource server knows, i.e. the ones that can appear
 *                                in an access token's `scope` (default "openid profile email
 *                                offline_access api:read api:write")
 *   IDP_ACCESS_TOKEN_TTL         seconds, default 60 (small values such as 2 are fine)
 *   IDP_ID_TOKEN_TTL             seconds, default 3600
 *   IDP_REFRESH_TOKEN_TTL        seconds, default 14 days
 *   IDP_ROTATE_REFRESH_TOKENS    "1": every refresh_token grant returns a new refresh token and
 *                                consumes the old one (reuse of a consumed one revokes the whole
 *                                grant). Default "0": offline refresh tokens never rotate.
 *   IDP_ONLINE_REFRESH_TOKENS    "1": also issue refresh tokens without offline_access, bound to the
 *                                IdP session (as Keycloak does): once the session ends they fail
 *                                with invalid_grant. Default "0": refresh tokens only for offline_access.
 *   IDP_ACCESS_TOKEN_AUTH_TIME   "1": access tokens carry `auth_time`, the user's login time (as
 *                                Keycloak's do). Default "0".
 *   IDP_AUDIENCE_STYLE           "resource" (default): `aud` of access tokens is IDP_AUDIENCE. "scope": `aud`
 *                                is the token's scope string and the client is only in `client_id`
 *                                (RFC 9068), no `azp`, as some IdPs do.
 *   IDP_LOGOUT_NEEDS_STATE       "1": RP-initiated logout returns to post_logout_redirect_uri only
 *                                when the request carried a `state` (else it ends on the IdP's
 *                                own "logged out" page). Default "0".
 *   IDP_PREFERRED_USERNAME       "0": no `preferred_username` claim anywhere (ID token, userinfo),
 *                                as IdPs without usernames do. Default "1".
 *   IDP_CONFORM_ID_TOKEN_CLAIMS  "1": spec-strict, profile/email claims only at userinfo. Default "0":
 *                                they are in the ID token too (as most IdPs do).
 *   IDP_JWKS                     JSON {keys:[private JWKs]} signing keys; default: one RSA key made
 *                                at start (pass one to keep the JWKS across restarts)
 *   IDP_COOKIE_KEYS              JSON list of cookie signing keys (default random)
 *   IDP_EXIT_ON_STDIN_CLOSE      "1": exit when stdin closes (the parent died); the harness sets it
 *
 * Login: no devInteractions. GET /interaction/:uid shows a plain HTML form (username, password)
 * that POSTs urlencoded to /interaction/:uid/login; a wrong password re-renders it with status
 * 401. Consent is granted automatically (every requested OIDC and resource scope, including
 * offline_access), so a test drives the whole flow with plain HTTP, a cookie jar and redirects.
 * RP-initiated logout (/session/end) shows a plain form (hidden xsrf + logout=yes) to POST.
 *
 * Access tokens are always JWTs (RS256, typ at+jwt, kid from the JWKS) for IDP_RESOURCE with
 * aud = IDP_AUDIENCE: the resource is defaulted at the authorization request and reused by the
 * code and refresh_token grants (resource indicators). Such tokens are refused at userinfo.
 *
 * Test-only control endpoints (not OIDC) on the same origin:
 *   GET  /__test/stats                 token endpoint requests counted by grant_type
 *   POST /__test/reset-stats
 *   POST /__test/token-delay?ms=N      every token endpoint request waits N ms first (a slow IdP)
 *   POST /__test/revoke-grants?sub=S   destroy every grant of S and its tokens (refresh tokens
 *                                      then fail with invalid_grant) -> {"revoked":n}
 *   POST /__test/end-sessions          drop every IdP session (prompt=none -> login_required)
 *
 * State lives in process memory only (a small Map adapter, below): a restart forgets every
 * session, grant, code and token.
 */
import { generateKeyPairSync, randomBytes, createHash } from 'node:crypto';
import { createServer } from 'node:http';

import Provider, { errors } from 'oidc-provider';

// --------------------------------------------------------------------------------------------
// Configuration
// --------------------------------------------------------------------------------------------

function jsonEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new Error(`${name} is not valid JSON: ${err.message}`);
  }
}

function intEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
}

const flag = (name, fallback) => (process.env[name] ?? (fallback ? '1' : '0')) === '1';

const port = Number(process.argv[2] ?? process.env.IDP_PORT ?? 0);
const redirectUris = jsonEnv('IDP_REDIRECT_URIS', ['http://127.0.0.1/callback']);
const postLogoutRedirectUris = jsonEnv('IDP_POST_LOGOUT_REDIRECT_URIS', ['http://127.0.0.1/']);
const loopbackAnyPort = flag('IDP_LOOPBACK_ANY_PORT', true);
const clients = jsonEnv('IDP_CLIENTS', [{ client_id: 'latchkey', client_secret: 'latchkey-secret' }])
  .map((c) => ({
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
    redirect_uris: redirectUris,
    post_logout_redirect_uris: postLogoutRedirectUris,
    ...c,
  }));
const users = jsonEnv('IDP_USERS', [
  { username: 'alice', password: 'alice-password', sub: 'sub-alice', email: 'alice@example.test', name: 'Alice' },
  { username: 'bob', password: 'bob-password', sub: 'sub-bob', email: 'bob@example.test', name: 'Bob' },
]);
const resource = process.env.IDP_RESOURCE || 'urn:latchkey:api';
const audience = process.env.IDP_AUDIENCE || resource;
const resourceScopes = process.env.IDP_RESOURCE_SCOPES || 'openid profile email offline_access api:read api:write';
const accessTokenTTL = intEnv('IDP_ACCESS_TOKEN_TTL', 60);
const idTokenTTL = intEnv('IDP_ID_TOKEN_TTL', 3600);
const refreshTokenTTL = intEnv('IDP_REFRESH_TOKEN_TTL', 14 * 24 * 3600);
const rotateRefreshTokens = flag('IDP_ROTATE_REFRESH_TOKENS', false);
const conformIdTokenClaims = flag('IDP_CONFORM_ID_TOKEN_CLAIMS', false);
const onlineRefreshTokens = flag('IDP_ONLINE_REFRESH_TOKENS', false);
const accessTokenAuthTime = flag('IDP_ACCESS_TOKEN_AUTH_TIME', false);
const audienceStyle = process.env.IDP_AUDIENCE_STYLE || 'resource';
if (!['resource', 'scope'].includes(audienceStyle)) throw new Error('IDP_AUDIENCE_STYLE: resource or scope');
const logoutNeedsState = flag('IDP_LOGOUT_NEEDS_STATE', false);
const preferredUsername = flag('IDP_PREFERRED_USERNAME', true);
const cookieKeys = jsonEnv('IDP_COOKIE_KEYS', [randomBytes(32).toString('base64url')]);

function makeJwks() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  const thumbprint = createHash('sha256')
    .update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }))
    .digest('base64url');
  return { keys: [{ ...jwk, kid: thumbprint, alg: 'RS256', use: 'sig' }] };
}
const jwks = jsonEnv('IDP_JWKS', undefined) ?? makeJwks();

const usersBySub = new Map(users.map((u) => [u.sub, u]));
const usersByName = new Map(users.map((u) => [u.username, u]));

// --------------------------------------------------------------------------------------------
// In-memory adapter. Same semantics as oidc-provider's own MemoryAdapter, but a plain Map that
// can be enumerated (for /__test/revoke-grants and /__test/end-sessions) and has no LRU cap (the
// built-in one keeps 1000 entries and silently evicts older tokens under load).
// --------------------------------------------------------------------------------------------

const store = new Map(); // `${model}:${id}` -> { payload, expiresAt }
const grantable = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

function get(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return entry.payload;
}

class MapAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined;
    store.set(this.key(id), { payload, expiresAt });
    if (this.model === 'Session') store.set(`sessionUid:${payload.uid}`, { payload: id, expiresAt });
    if (payload.userCode) store.set(`userCode:${payload.userCode}`, { payload: id, expiresAt });
  }

  async find(id) {
    return get(this.key(id));
  }

  async findByUid(uid) {
    const id = get(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = get(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = get(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    const payload = get(this.key(id));
    store.delete(this.key(id));
    if (payload?.uid) store.delete(`sessionUid:${payload.uid}`);
  }

  async revokeByGrantId(grantId) {
    if (!grantable.has(this.model)) return;
    const prefix = `${this.model}:`;
    for (const [key, entry] of store) {
      if (key.startsWith(prefix) && entry.payload?.grantId === grantId) store.delete(key);
    }
  }
}

/** Every live stored payload of one model, as [id, payload]. */
function entriesOf(model) {
  const prefix = `${model}:`;
  const out = [];
  for (const key of [...store.keys()]) {
    if (!key.startsWith(prefix)) continue;
    const payload = get(key);
    if (payload) out.push([key.slice(prefix.length), payload]);
  }
  return out;
}

// --------------------------------------------------------------------------------------------
// Provider
// --------------------------------------------------------------------------------------------

function buildProvider(issuer) {
  const provider = new Provider(issuer, {
    adapter: MapAdapter,
    clients,
    jwks,
    cookies: { keys: cookieKeys },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    responseTypes: ['code'],
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: {
      openid: ['sub'],
      profile: preferredUsername ? ['preferred_username', 'name', 'groups'] : ['name', 'groups'],
      email: ['email', 'email_verified'],
    },
    conformIdTokenClaims,
    async findAccount(ctx, sub) {
      const user = usersBySub.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            ...(preferredUsername ? { preferred_username: user.username } : {}),
            name: user.name ?? user.username,
            email: user.email ?? `${user.username}@example.test`,
            email_verified: true,
            ...(user.groups ? { groups: user.groups } : {}),
          };
        },
      };
    },
    interactions: {
      url: (ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // A plain confirmation form (xsrf + logout=yes) that a test can submit without JS.
        async logoutSource(ctx, form) {
          ctx.body = `<!DOCTYPE html><html><head><title>Log out (test IdP)</title></head><body>
${form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>')}
<button type="submit" form="op.logoutForm">Log out</button></body></html>`;
        },
      },
      userinfo: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Authorization requests without `resource` get this one, so every code carries it...
        async defaultResource(ctx, client, oneOf) {
          return oneOf ?? resource;
        },
        // ...and the code and refresh_token grants use it without a `resource` parameter, so
        // the access tokens are always JWTs for `audience` (never opaque userinfo-only tokens).
        async useGrantedResource() {
          return true;
        },
        async getResourceServerInfo(ctx, indicator) {
          if (indicator !== resource) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
          return { scope: resourceScopes, audience, accessTokenTTL, accessTokenFormat: 'jwt' };
        },
      },
    },
    async issueRefreshToken(ctx, client, code) {
      return client.grantTypeAllowed('refresh_token') && (onlineRefreshTokens || code.scopes.has('offline_access'));
    },
    rotateRefreshToken: () => rotateRefreshTokens,
    // IDP_ACCESS_TOKEN_AUTH_TIME=1: access tokens carry `auth_time` (when the user logged in), as Keycloak's do.
    async extraTokenClaims(ctx, token) {
      const groups = usersBySub.get(token.accountId)?.groups;
      const extra = groups ? { groups } : {};
      if (!accessTokenAuthTime) return groups ? extra : undefined;
      const { RefreshToken, AuthorizationCode } = ctx.oidc.entities;
      const authTime = RefreshToken?.authTime ?? AuthorizationCode?.authTime;
      return typeof authTime === 'number' ? { ...extra, auth_time: authTime } : groups ? extra : undefined;
    },
    // IDP_AUDIENCE_STYLE=scope: `aud` is the scope string; `client_id` (always there) names the client.
    formats: {
      customizers: {
        async jwt(ctx, token, jwt) {
          if (audienceStyle === 'scope') {
            jwt.payload.aud = jwt.payload.scope ?? 'openid';
            delete jwt.payload.azp;
          }
        },
      },
    },
    ttl: {
      AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL ?? accessTokenTTL,
      AuthorizationCode: 60,
      ClientCredentials: accessTokenTTL,
      IdToken: idTokenTTL,
      RefreshToken: refreshTokenTTL,
      Grant: Math.max(refreshTokenTTL, 14 * 24 * 3600),
      Interaction: 600,
      Session: 24 * 3600,
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><title>IdP error</title><pre id="error">${escapeHtml(JSON.stringify(out))}</pre>`;
    },
  });

  // Loopback redirect URIs may use any port (see IDP_LOOPBACK_ANY_PORT).
  const loopback = new Set(['127.0.0.1', 'localhost', '[::1]']);
  const withoutPort = (uri) => {
    const url = URL.parse(uri);
    if (!url || url.protocol !== 'http:' || !loopback.has(url.hostname)) return undefined;
    url.port = '';
    return url.href;
  };
  const allowed = (value, registered) => {
    if (registered.includes(value)) return true;
    if (!loopbackAnyPort) return false;
    const bare = withoutPort(value);
    return bare !== undefined && registered.some((r) => withoutPort(r) === bare);
  };
  provider.Client.prototype.redirectUriAllowed = function redirectUriAllowed(value) {
    return allowed(value, this.redirectUris);
  };
  provider.Client.prototype.postLogoutRedirectUriAllowed = function postLogoutRedirectUriAllowed(value) {
    return allowed(value, this.postLogoutRedirectUris ?? []);
  };

  return provider;
}

// --------------------------------------------------------------------------------------------
// Interactions (login form, automatic consent) and test control endpoints, as Koa middleware
// in front of the provider.
// --------------------------------------------------------------------------------------------

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function loginPage(uid, error) {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Sign in (test IdP)</title></head>
<body>
<h1>Sign in</h1>
${error ? `<p id="error">${escapeHtml(error)}</p>` : ''}
<form id="login" method="post" action="/interaction/${escapeHtml(uid)}/login">
  <input name="username" autocomplete="username" autofocus>
  <input name="password" type="password" autocomplete="current-password">
  <button type="submit">Sign in</button>
</form>
</body></html>`;
}

const stats = { total: 0, byGrantType: {}, errorsByGrantType: {}, revocation: 0 };
/** Milliseconds every token endpoint request waits before it is handled (POST /__test/token-delay?ms=N). */
let tokenDelayMs = 0;
function resetStats() {
  stats.total = 0;
  stats.byGrantType = {};
  stats.errorsByGrantType = {};
  stats.revocation = 0;
}

function install(provider) {
  // Grant every requested scope (OIDC and resource scopes, offline_access included).
  async function autoConsent(ctx, interaction) {
    const { prompt: { details }, params, session, grantId } = interaction;
    const grant = (grantId && await provider.Grant.find(grantId))
      || new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const returnTo = await provider.interactionResult(
      ctx.req, ctx.res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true },
    );
    ctx.redirect(returnTo);
    ctx.status = 303;
  }

  provider.use(async (ctx, next) => {
    const { path, method } = ctx;

    // ---- count token endpoint requests (grant_type is read after the provider parsed the body)
    if (path === '/token' && method === 'POST') {
      if (tokenDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, tokenDelayMs));
      try {
        await next();
      } finally {
        const gt = ctx.oidc?.params?.grant_type ?? 'unknown';
        stats.total += 1;
        stats.byGrantType[gt] = (stats.byGrantType[gt] ?? 0) + 1;
        if (ctx.status >= 400) stats.errorsByGrantType[gt] = (stats.errorsByGrantType[gt] ?? 0) + 1;
      }
      return;
    }
    if (path === '/token/revocation' && method === 'POST') {
      stats.revocation += 1;
      return next();
    }

    // ---- IDP_LOGOUT_NEEDS_STATE=1: without a `state`, logout forgets where to return (ends on the IdP's page)
    if (logoutNeedsState && path === '/session/end' && method === 'GET' && !ctx.query.state && ctx.query.post_logout_redirect_uri) {
      const query = new URLSearchParams(ctx.querystring);
      query.delete('post_logout_redirect_uri');
      ctx.querystring = query.toString();
    }

    // ---- interactions
    const m = /^\/interaction\/([^/]+)(\/login)?$/.exec(path);
    if (m) {
      ctx.set('cache-control', 'no-store');
      try {
        const interaction = await provider.interactionDetails(ctx.req, ctx.res);
        if (interaction.uid !== m[1]) ctx.throw(400, 'interaction mismatch');
        if (!m[2] && method === 'GET') {
          if (interaction.prompt.name === 'consent') return await autoConsent(ctx, interaction);
          if (interaction.prompt.name !== 'login') ctx.throw(501, `prompt ${interaction.prompt.name}`);
          ctx.type = 'html';
          ctx.body = loginPage(interaction.uid);
          return undefined;
        }
        if (m[2] && method === 'POST') {
          if (interaction.prompt.name !== 'login') ctx.throw(400, 'not a login prompt');
          const form = await readForm(ctx.req);
          const user = usersByName.get(form.get('username') ?? '');
          if (!user || user.password !== form.get('password')) {
            ctx.status = 401;
            ctx.type = 'html';
            ctx.body = loginPage(interaction.uid, 'Invalid username or password.');
            return undefined;
          }
          const returnTo = await provider.interactionResult(ctx.req, ctx.res, {
            login: { accountId: user.sub, amr: ['pwd'], remember: true },
          }, { mergeWithLastSubmission: false });
          ctx.redirect(returnTo);
          ctx.status = 303;
          return undefined;
        }
        ctx.throw(405);
      } catch (err) {
        if (err.status) throw err;
        ctx.status = 400;
        ctx.type = 'text';
        ctx.body = `interaction failed: ${err.message}`;
      }
      return undefined;
    }

    // ---- test control endpoints
    if (path.startsWith('/__test/')) {
      ctx.set('cache-control', 'no-store');
      if (path === '/__test/stats' && method === 'GET') {
        ctx.body = stats;
        return undefined;
      }
      if (path === '/__test/reset-stats' && method === 'POST') {
        resetStats();
        ctx.body = stats;
        return undefined;
      }
      if (path === '/__test/token-delay' && method === 'POST') {
        const ms = Number(ctx.query.ms);
        if (!Number.isInteger(ms) || ms < 0 || ms > 60_000) ctx.throw(400, 'ms: 0 to 60000');
        tokenDelayMs = ms;
        ctx.body = { ms };
        return undefined;
      }
      if (path === '/__test/revoke-grants' && method === 'POST') {
        const sub = ctx.query.sub;
        if (typeof sub !== 'string' || !sub) ctx.throw(400, 'sub is required');
        let revoked = 0;
        for (const [grantId, grant] of entriesOf('Grant')) {
          if (grant.accountId !== sub) continue;
          await Promise.all([
            provider.AccessToken.revokeByGrantId(grantId),
            provider.RefreshToken.revokeByGrantId(grantId),
            provider.AuthorizationCode.revokeByGrantId(grantId),
            provider.Grant.adapter.destroy(grantId),
          ]);
          revoked += 1;
        }
        ctx.body = { revoked };
        return undefined;
      }
      if (path === '/__test/end-sessions' && method === 'POST') {
        let ended = 0;
        for (const [id] of entriesOf('Session')) {
          await provider.Session.adapter.destroy(id);
          ended += 1;
        }
        ctx.body = { ended };
        return undefined;
      }
      ctx.throw(404);
    }

    return next();
  });
}

// --------------------------------------------------------------------------------------------
// Start
// --------------------------------------------------------------------------------------------

const server = createServer();
server.on('error', (err) => {
  process.stderr.write(`idp: ${err.stack ?? err}\n`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => {
  const actualPort = server.address().port;
  const issuer = `http://127.0.0.1:${actualPort}`;
  const provider = buildProvider(issuer);
  provider.on('server_error', (ctx, err) => process.stderr.write(`idp server_error: ${err.stack}\n`));
  install(provider);
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer, port: actualPort, pid: process.pid })}\n`);
});

let stopping = false;
function shutdown() {
  if (stopping) return;
  stopping = true;
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (process.env.IDP_EXIT_ON_STDIN_CLOSE === '1') {
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.resume();
}
