import { ApiErrors } from '../../../common/errors/api-errors.decorator';
import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiFoundResponse, ApiOperation, ApiTags } from '../../../common/http/api-docs';
import { CurrentPrincipal, Public, RequireScopes, SessionOnly } from '../../../common/auth/decorators';
import { RateLimit } from '../../../common/rate-limit';
import { sessionIdOf, type UserPrincipal } from '../../../common/auth/principal';
import { AppError } from '../../../common/errors/app-error';
import { isBrowserNavigation } from '../../../common/errors/all-exceptions.filter';
import { API_PREFIX, apiBase } from '../../../common/http/base-url';
import { CsrfTokens } from '../../../common/http/csrf-tokens';
import { DEFAULT_LANDING, isLocalPath } from '../../../common/http/local-path';
import type { LatchkeyRequest, LatchkeyReply } from '../../../common/http/request-context';
import { AppConfig, InjectConfig } from '../../../config/app.config';
import { SessionsService } from '../../../sessions/sessions.service';
import type { User } from '../../../users/user.entity';
import { assertCanLogIn, UsersService } from '../../../users/users.service';
import { html } from '../../../common/html/html';
import { PagesService } from '../../../common/html/pages.service';
import { BrowserSessionsService } from '../../browser-sessions/browser-sessions.service';
import { clientInfo } from '../../auth.controller';
import { DeviceLoginsService } from '../device/device-logins.service';
import { sendUserCodeForm } from '../device/device-pages';
import { SESSION_GONE_ERRORS } from '../oidc-client';
import { OidcProviders } from '../oidc-providers';
import { AuthorizeQueryDto } from './dto/authorize-query.dto';
import { IdentityLinksService } from './identity-links.service';
import { CompletedLogin, type LoginState, OidcLoginService } from './oidc-login.service';
import { LoginAudit } from '../../login-audit';
import { SendsSecret } from '../../../common/http/sends-secret.decorator';

/**
 * Login through an external OpenID Connect provider (Tiled contract §6.2): authorization code
 * flow with state, nonce and PKCE S256. One callback serves five purposes, chosen when the
 * login starts and carried in the sealed state:
 * - API users (no `next`): a page that shows a Latchkey refresh token once (JSON for non-browsers);
 * - browser users (`next=/path`): a browser session cookie, then back to `next`;
 * - offline tokens (`/offline-token`): a page that shows the IdP's offline refresh token once,
 *   only when the IdP account is already linked to the user who asked;
 * - device-code logins (`device=1`, the `tiled login` of DeviceLoginController): a page asking
 *   for the code the program shows, the identity kept meanwhile in a sealed cookie;
 * - links (`POST …/link`, IdentityLinkController): the page confirming the link, which links nothing yet.
 * An IdP login finds or creates the user of its (issuer, subject), never another user: linking
 * an IdP account to an existing user is the explicit, confirmed act of IdentityLinksService.
 */
@ApiTags('auth')
@Controller('auth/provider/:provider')
export class OidcLoginController {
  constructor(
    private readonly providers: OidcProviders,
    private readonly login: OidcLoginService,
    private readonly browserSessions: BrowserSessionsService,
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    private readonly pages: PagesService,
    private readonly loginAudit: LoginAudit,
    private readonly deviceLogins: DeviceLoginsService,
    private readonly csrf: CsrfTokens,
    private readonly links: IdentityLinksService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * Redirects to the IdP. `next` makes it a browser login; `prompt=none` renews the browser
   * session silently; `device=1` approves a device-code login.
   */
  @Public()
  @RateLimit('public')
  @Get('authorize')
  @ApiFoundResponse({ description: 'Redirect to the identity provider' })
  @ApiOperation({ summary: 'Log in through an identity provider: redirects to it', description: 'Authorization code flow with PKCE. Without `next`, the callback shows a Latchkey refresh token once (API users); with `next=/path`, it sets a browser session and returns there; `prompt=none` renews a browser session silently; `device=1` approves a device-code login.' })
  @ApiErrors('PROVIDER_NOT_FOUND')
  async authorize(
    @Param('provider') provider: string,
    @Query() query: AuthorizeQueryDto,
    @Req() req: LatchkeyRequest,
    @Res() res: LatchkeyReply,
  ): Promise<void> {
    try {
      await this.startLogin(provider, query, req, res);
    } catch (err) {
      // The IdP cannot be reached (e.g. never since boot): a browser gets a page it can retry from, scripts JSON.
      if (!(err instanceof AppError) || err.status !== 503 || !isBrowserNavigation(req)) throw err;
      this.pages.error(res, 503, 'The identity provider is not reachable', err.message, { href: req.url, label: 'Try again' }, { headers: pageHeaders(err) });
    }
  }

  private async startLogin(provider: string, query: AuthorizeQueryDto, req: LatchkeyRequest, res: LatchkeyReply): Promise<void> {
    this.providers.get(provider);
    if (query.device) return redirect(res, await this.login.start(req, provider, { mode: 'device' }));
    if (query.prompt === 'none') {
      const session = await this.browserSessions.current(req);
      if (session?.idpProvider === provider) {
        const url = await this.login.start(
          req,
          provider,
          { mode: 'browser', next: query.next ?? DEFAULT_LANDING, silent: true, sessionId: session.id },
          { prompt: 'none', idTokenHint: this.browserSessions.idTokenOf(session) },
        );
        return redirect(res, url);
      }
      // Nothing to renew: an ordinary (interactive) login.
    }
    const state = query.next ? { mode: 'browser' as const, next: query.next } : { mode: 'api' as const };
    redirect(res, await this.login.start(req, provider, state));
  }

  /**
   * Asks the IdP for an offline token (scope offline_access, with consent) for the logged-in
   * user. Needs an interactive login (browser session or access token), never an API key or a
   * deploy token. The callback shows the token only when the IdP account that logs in there is
   * already linked to this user and the login session that asked is still live; it links nothing.
   */
  @Get('offline-token')
  @SessionOnly()
  @RequireScopes('write:account')
  @ApiOperation({ summary: 'Get an offline token from the identity provider, for an IdP account already linked to you' })
  @ApiFoundResponse({ description: 'Redirect to the identity provider; the callback shows the offline token once' })
  @ApiErrors('PROVIDER_NOT_FOUND')
  async offlineToken(
    @Param('provider') provider: string,
    @CurrentPrincipal() principal: UserPrincipal,
    @Req() req: LatchkeyRequest,
    @Res() res: LatchkeyReply,
  ): Promise<void> {
    const state = { mode: 'offline' as const, userId: principal.userId, sessionId: sessionIdOf(principal) };
    const url = await this.login.start(req, provider, state, { offline: true, prompt: 'consent' });
    redirect(res, url);
  }

  /** The IdP's redirect back (`?code&state`, or `?error&state`). */
  @Public()
  @RateLimit('public')
  @Get('code')
  @SendsSecret() // refresh token (API login) or offline token page
  @ApiExcludeEndpoint()
  async code(@Param('provider') provider: string, @Req() req: LatchkeyRequest, @Res() res: LatchkeyReply): Promise<void> {
    let mode: LoginState['mode'] | undefined;
    try {
      this.providers.get(provider);
      const { code, state, error } = req.query;
      for (const [name, value] of Object.entries({ code, state, error })) {
        if (value !== undefined && (typeof value !== 'string' || value.length > 4096)) {
          throw new AppError('BAD_REQUEST', `The ${name} parameter must be given once, as a string.`);
        }
      }
      if (error !== undefined) return await this.idpError(provider, String(error), req, res);
      if (code === undefined) throw new AppError('EXTERNAL_LOGIN_FAILED', 'The identity provider sent no authorization code.');
      const login = await this.login.complete(req, provider);
      mode = login.state.mode;
      if (login.state.mode === 'link') return await this.links.review(login, req, res);
      if (login.state.mode === 'offline') return await this.showOfflineToken(login, res);
      const user = await this.userOf(login);
      switch (login.state.mode) {
        case 'browser':
          return await this.finishBrowserLogin(login, user, req, res);
        case 'device':
          return this.askForUserCode(login, user, req, res);
        default:
          return await this.finishApiLogin(login, user, req, res);
      }
    } catch (err) {
      if (err instanceof AppError && err.status === 401 && mode !== 'link' && mode !== 'offline') {
        await this.loginAudit.failed(provider.slice(0, 64), 'oidc', err.code);
      }
      if (!(err instanceof AppError) || !isBrowserNavigation(req)) throw err;
      if (mode === 'link' || mode === 'offline') {
        const title = mode === 'link' ? 'The account was not linked' : 'No offline token';
        return this.pages.error(res, err.status, title, err.message, { href: '/account', label: 'Back to your account' }, { headers: pageHeaders(err) });
      }
      this.pages.error(
        res,
        err.status,
        err.status === 503 ? 'The identity provider is not reachable' : 'Login failed',
        err.message,
        { href: `/${API_PREFIX}/auth/provider/${encodeURIComponent(provider)}/authorize`, label: 'Try again' },
        { headers: pageHeaders(err) },
      );
    }
  }

  /** An `error=` callback: a failed silent renewal ends the session; anything else is a failed login. */
  private async idpError(provider: string, error: string, req: LatchkeyRequest, res: LatchkeyReply): Promise<void> {
    const state = await this.login.stateOfErrorCallback(req, provider);
    if (state?.silent && state.sessionId && SESSION_GONE_ERRORS.has(error)) {
      const session = await this.sessions.findWithIdpTokens(state.sessionId);
      if (session) await this.browserSessions.end(session, res, 'idp_session_ended');
      else this.browserSessions.clearCookie(res);
      const next = isLocalPath(state.next) ? `&next=${encodeURIComponent(state.next)}` : '';
      return redirect(res, `/logout?reason=expired&provider=${encodeURIComponent(provider)}${next}`, 303);
    }
    const code = error.replace(/[^\w.-]/g, '').slice(0, 64);
    throw new AppError('EXTERNAL_LOGIN_FAILED', `The identity provider did not log you in (${code || 'error'}).`);
  }

  /**
   * The Latchkey user of the IdP identity: found or created by (issuer, subject), and active.
   * A service principal's identity is refused (403 SERVICE_PRINCIPAL_NO_LOGIN).
   */
  private async userOf({ client, claims, tokens }: CompletedLogin): Promise<User> {
    const { name, issuer } = client.config;
    const user = await this.users.findOrCreateByIdentity(name, issuer, claims.sub, () => client.usernameFor(claims, tokens), client.groupsOf(claims));
    if (user.status !== 'active') throw new AppError('AUTH_USER_INACTIVE', 'This account is disabled.');
    return user;
  }

  private async finishBrowserLogin(login: CompletedLogin, user: User, req: LatchkeyRequest, res: LatchkeyReply): Promise<void> {
    const provider = login.client.config.name;
    const next = isLocalPath(login.state.next) ? login.state.next : DEFAULT_LANDING;
    const previous = login.state.silent && login.state.sessionId
      ? await this.sessions.findWithIdpTokens(login.state.sessionId)
      : await this.browserSessions.current(req);
    if (login.state.silent && previous && this.sessions.isLive(previous) && previous.userId === user.id) {
      await this.browserSessions.renew(previous, login.tokens);
      return redirect(res, next, 303);
    }
    if (previous) await this.sessions.end(previous.id, 'logout');
    const session = await this.browserSessions.open(user, res, clientInfo(req), { provider, tokens: login.tokens });
    await this.loginAudit.succeeded(user, session.id, provider, 'oidc-browser');
    redirect(res, next, 303);
  }

  private async finishApiLogin(login: CompletedLogin, user: User, req: LatchkeyRequest, res: LatchkeyReply): Promise<void> {
    const provider = login.client.config.name;
    const { session, tokens } = await this.sessions.open(user, 'oidc', clientInfo(req), provider);
    await this.loginAudit.succeeded(user, session.id, provider, 'oidc-api');
    const body = { ...tokens, identity: { id: login.claims.sub, provider }, principal: user.id.replace(/-/g, '') };
    if (!isBrowserNavigation(req)) {
      res.header('Cache-Control', 'no-store').send(body);
      return;
    }
    const base = apiBase(req, this.config.publicUrl, this.config.trustProxy);
    this.pages.secretOnce(
      res,
      'Your Latchkey refresh token',
      tokens.refresh_token,
      html`<p>You are logged in as <strong>${user.username}</strong> through ${login.client.config.displayName}.
This refresh token lets a program (a script, the Tiled client) open this session. It is good for
${Math.round(tokens.refresh_token_expires_in / 3600)} hours and changes every time it is used.</p>`,
      html`<p class="muted">Exchange it for an access token:</p>
<p><code>curl -X POST ${base}/auth/session/refresh -H 'Content-Type: application/json' -d '{"refresh_token":"…"}'</code></p>`,
    );
  }

  /**
   * A device-code login: remember whom the IdP logged in (sealed cookie), then ask for the
   * program's code, with a new CSRF token (one planted before this login does not fit the form).
   */
  private askForUserCode(login: CompletedLogin, user: User, req: LatchkeyRequest, res: LatchkeyReply): void {
    const { name: provider, displayName } = login.client.config;
    this.deviceLogins.rememberApprover(res, provider, { userId: user.id, subject: login.claims.sub });
    const csrf = this.csrf.rotate(req, res);
    sendUserCodeForm(this.pages, res, { status: 200, provider, displayName, username: user.username, csrf });
  }

  /**
   * The offline token, shown once: only while the login session that asked is live, and only
   * when the IdP account that logged in is already linked to the user who asked. Otherwise 401/
   * 403 and nothing is shown (the IdP's token is dropped) and nothing is linked.
   */
  private async showOfflineToken(login: CompletedLogin, res: LatchkeyReply): Promise<void> {
    const { displayName, issuer } = login.client.config;
    const { userId, sessionId } = login.state;
    const session = sessionId ? await this.sessions.findWithIdpTokens(sessionId) : null;
    if (!userId || !session || !this.sessions.isLive(session) || session.userId !== userId) {
      throw new AppError('SESSION_EXPIRED', 'The login that asked for this offline token has ended. Log in again, then retry.');
    }
    const user = await this.users.getById(userId);
    if (user.status !== 'active') throw new AppError('AUTH_USER_INACTIVE', 'This account is disabled.');
    assertCanLogIn(user);
    const identity = await this.users.findIdentity(issuer, login.claims.sub);
    if (identity?.userId !== userId) {
      throw new AppError(
        'IDENTITY_NOT_LINKED',
        `The ${displayName} account you logged in with is not linked to your Latchkey account, so no offline token was issued. Link it from your account page first.`,
      );
    }
    if (!login.tokens.refreshToken) {
      throw new AppError(
        'EXTERNAL_LOGIN_FAILED',
        `${displayName} issued no offline token. Ask its administrator to allow the offline_access scope for this client.`,
      );
    }
    this.pages.secretOnce(
      res,
      `Your ${displayName} offline token`,
      login.tokens.refreshToken,
      html`<p>An offline token from ${displayName}. Use it as a Bearer token on every Latchkey API call; it keeps
working until you revoke it at ${displayName} (it does not end when you log out).</p>`,
      html`<p><code>curl -H 'Authorization: Bearer …' …/api/v1/auth/whoami</code></p>
<p class="muted">Latchkey does not keep it: it exchanges it at ${displayName} when you use it.</p>`,
    );
  }
}

/** An error's headers for its HTML page (`Retry-After` of a 503), without the API's `WWW-Authenticate`. */
function pageHeaders(err: AppError): Record<string, string> {
  const { 'WWW-Authenticate': _challenge, ...headers } = err.options.headers ?? {};
  return headers;
}

function redirect(res: LatchkeyReply, url: string, status = 302): void {
  res.header('Cache-Control', 'no-store').redirect(url, status);
}
