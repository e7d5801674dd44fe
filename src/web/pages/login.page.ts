import { Body, Controller, Get, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '../../common/http/api-docs';
import { Public } from '../../common/auth/decorators';
import { AppError } from '../../common/errors/app-error';
import { API_PREFIX } from '../../common/http/base-url';
import { DEFAULT_LANDING, isLocalPath } from '../../common/http/local-path';
import { clientIp, type LatchkeyRequest, type LatchkeyReply, prefersHtml } from '../../common/http/request-context';
import { RateLimit } from '../../common/rate-limit';
import { AppConfig, InjectConfig } from '../../config/app.config';
import { clientInfo } from '../../auth/auth.controller';
import { BrowserSessionsService } from '../../auth/browser-sessions/browser-sessions.service';
import { LoginAudit } from '../../auth/login-audit';
import { PasswordProvider } from '../../auth/providers/password.provider';
import { SessionsService } from '../../sessions/sessions.service';
import { LogoutQueryDto } from '../dto/logout-query.dto';
import { LoginFormDto, LoginQueryDto } from '../dto/page-forms.dto';
import { html } from '../../common/html/html';
import { PageErrorsFilter } from '../../common/html/page-errors.filter';
import { PagesService } from '../../common/html/pages.service';
import { assertCsrf, csrfField } from '../../common/html/view-helpers';

const providerLoginUrl = (provider: string, next: string) =>
  `/${API_PREFIX}/auth/provider/${encodeURIComponent(provider)}/authorize?next=${encodeURIComponent(next)}`;

/**
 * `/login` (username + password, or a button per configured IdP) and `/logout` (where a browser
 * lands after logging out, or when its IdP session has ended). A password login here opens a
 * browser session (the HttpOnly, SameSite=Lax `lk_session` cookie) through the same
 * PasswordProvider as the API's password grant: same rate limits, same single 401, same audit.
 */
@ApiExcludeController()
@UseFilters(PageErrorsFilter)
@Controller()
export class LoginPageController {
  constructor(
    private readonly pages: PagesService,
    private readonly password: PasswordProvider,
    private readonly browserSessions: BrowserSessionsService,
    private readonly sessions: SessionsService,
    private readonly loginAudit: LoginAudit,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Public()
  @Get('login')
  form(@Query() query: LoginQueryDto, @Req() req: LatchkeyRequest, @Res() res: LatchkeyReply): void {
    this.sendForm(req, res, 200, query.next ?? DEFAULT_LANDING);
  }

  @Public()
  @RateLimit('login')
  @Post('login')
  async login(@Body() body: LoginFormDto, @Req() req: LatchkeyRequest, @Res() res: LatchkeyReply): Promise<void> {
    const next = body.next && isLocalPath(body.next) ? body.next : DEFAULT_LANDING;
    try {
      assertCsrf(req, body.csrf);
      const user = await this.password.login(body.username, body.password, { ip: clientIp(req), requestId: req.id });
      const previous = await this.browserSessions.current(req);
      if (previous) await this.sessions.end(previous.id, 'logout');
      const session = await this.browserSessions.open(user, res, clientInfo(req));
      await this.loginAudit.succeeded(user, session.id, this.password.name, 'password');
      res.header('Cache-Control', 'no-store').redirect(next, 303);
    } catch (err) {
      // A person gets the form again with the reason; a script gets the JSON error.
      if (!(err instanceof AppError) || !prefersHtml(req)) throw err;
      const retry = err.options.headers?.['Retry-After'];
      this.sendForm(req, res, err.status, next, err.message, body.username, retry ? { 'Retry-After': retry } : undefined);
    }
  }

  /** Where a browser lands after logging out, or when its IdP session has ended. */
  @Public()
  @Get('logout')
  logout(@Query() query: LogoutQueryDto, @Req() req: LatchkeyRequest, @Res() res: LatchkeyReply): void {
    const providers = this.config.oidc.providers;
    const next = query.next ?? DEFAULT_LANDING;
    const chosen = providers.filter((p) => p.name === query.provider);
    const offered = chosen.length > 0 ? chosen : providers;
    const links = offered.map(
      (p) => html`<a class="button" href="${providerLoginUrl(p.name, next)}">Log in again with ${p.displayName}</a>`,
    );
    const expired = query.reason === 'expired';
    const title = expired ? 'Your session has expired' : 'You are logged out';
    const message = expired
      ? 'Your login at the identity provider has ended, so Latchkey ended this session too.'
      : this.browserSessions.returnedFromIdpLogout(req, res, query.state)
        ? 'Your Latchkey session has ended in this browser, and so has your login at the identity provider.'
        : 'Your Latchkey session has ended in this browser.';
    const passwordLink = html`<a class="button${links.length ? ' secondary' : ''}" id="login-again" href="/login?next=${encodeURIComponent(next)}">Log in${expired ? ' again' : ''}${links.length ? ' with a password' : ''}</a>`;
    this.pages.send(res, 200, title, html`<p>${message}</p><div class="stack">${links}${expired && chosen.length ? '' : passwordLink}</div>`, { narrow: true });
  }

  private sendForm(req: LatchkeyRequest, res: LatchkeyReply, status: number, next: string, error?: string, username?: string, headers?: Record<string, string>): void {
    const providers = this.config.oidc.providers;
    this.pages.send(
      res,
      status,
      'Log in to Latchkey',
      html`${error ? html`<p class="error" role="alert" id="login-error">${error}</p>` : ''}
<form method="post" action="/login" id="login-form">${csrfField(req)}<input type="hidden" name="next" value="${next}">
<div class="field"><label for="username">Username</label><input type="text" id="username" name="username" value="${username ?? ''}" autocomplete="username" autocapitalize="none" required${username ? '' : html` autofocus`}></div>
<div class="field"><label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required${username ? html` autofocus` : ''}></div>
<button type="submit">Log in</button></form>
${providers.length
  ? html`<p class="muted small or">Or log in with</p><div class="stack">${providers.map(
      (p) => html`<a class="button secondary" href="${providerLoginUrl(p.name, next)}">${p.displayName}</a>`,
    )}</div>`
  : ''}`,
      { narrow: true, headers },
    );
  }
}
