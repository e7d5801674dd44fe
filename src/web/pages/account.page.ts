import { Body, Controller, Get, Param, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '../../common/http/api-docs';
import { ApiKeysService } from '../../api-keys/api-keys.service';
import { INHERIT, requestableScopes } from '../../api-keys/api-key-scopes';
import { ScopeCatalog } from '../../common/auth/scope-catalog';
import { AuditService } from '../../audit/audit.service';
import { BrowserSessionsService } from '../../auth/browser-sessions/browser-sessions.service';
import { credentialStatus } from '../../common/auth/credential-status';
import { CurrentPrincipal, RecentLogin, RequireScopes, SessionOnly } from '../../common/auth/decorators';
import { RateLimit } from '../../common/rate-limit';
import { sessionIdOf, type UserPrincipal } from '../../common/auth/principal';
import { API_PREFIX } from '../../common/http/base-url';
import type { LatchkeyRequest, LatchkeyReply } from '../../common/http/request-context';
import { AppConfig, InjectConfig } from '../../config/app.config';
import { SessionsService } from '../../sessions/sessions.service';
import { UsersService } from '../../users/users.service';
import { uuidOr404 } from '../../common/http/uuid-param.pipe';
import { CreateApiKeyFormDto, NoticeQueryDto } from '../dto/page-forms.dto';
import { CsrfFormDto } from '../../common/html/csrf-form.dto';
import { BrowserFormGuard } from '../../common/html/browser-form.guard';
import { html } from '../../common/html/html';
import { PageErrorsFilter } from '../../common/html/page-errors.filter';
import { PagesService } from '../../common/html/pages.service';
import { auditTable, leakAlerts, recentLeakReports } from '../audit-table';
import { badge, confirmButton, csrfField, device, expiryBadge, liveAndFolded, scopeList, when } from '../../common/html/view-helpers';
import { SendsSecret } from '../../common/http/sends-secret.decorator';

const NOTICES: Record<string, string> = {
  'key-revoked': 'API key revoked: it no longer works.',
  'session-revoked': 'Session revoked: that device is logged out.',
  'identity-linked': 'Account linked: you can now log in with it.',
  'identity-unlinked': 'Account unlinked: it no longer logs you in.',
};

const KEY_LIFETIMES: [string, string][] = [
  ['', 'Never expires'],
  [String(24 * 3600), '1 day'],
  [String(7 * 24 * 3600), '7 days'],
  [String(30 * 24 * 3600), '30 days'],
  [String(90 * 24 * 3600), '90 days'],
  [String(365 * 24 * 3600), '1 year'],
];

/**
 * `/account`: who I am, my sessions (revoke), my API keys (create: the secret is shown once, in
 * the response to the form's POST; revoke), "log out everywhere", my recent audit events. The
 * forms act for a browser login only (BrowserFormGuard), so each is CSRF-checked.
 */
@ApiExcludeController()
@UseFilters(PageErrorsFilter)
@Controller('account')
export class AccountPageController {
  constructor(
    private readonly pages: PagesService,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly apiKeys: ApiKeysService,
    private readonly audit: AuditService,
    private readonly browserSessions: BrowserSessionsService,
    @InjectConfig() private readonly config: AppConfig,
    private readonly scopeCatalog: ScopeCatalog,
  ) {}

  @Get()
  @RequireScopes('read:account')
  async show(
    @Query() query: NoticeQueryDto,
    @CurrentPrincipal() principal: UserPrincipal,
    @Req() req: LatchkeyRequest,
    @Res() res: LatchkeyReply,
  ): Promise<void> {
    const userId = principal.userId;
    const [identities, sessions, keys, events, leaks] = await Promise.all([
      this.users.identitiesOf(userId),
      this.sessions.listForUser(userId),
      this.apiKeys.listForUser(userId),
      this.audit.list({ involving: userId, limit: 15 }),
      this.audit.list(recentLeakReports({ userId }, new Date())),
    ]);
    const providers = this.config.oidc.providers;
    const display = (name: string) => providers.find((p) => p.name === name)?.displayName ?? name;
    const current = sessionIdOf(principal);
    const live = sessions.filter((s) => this.sessions.isLive(s));
    const now = new Date();
    const scopes = requestableScopes(principal.scopes, principal.roles).filter((s) => s !== INHERIT);
    const canCreate = principal.scopes.includes('create:apikeys');

    const who = html`<section class="card" id="who"><h2>Who you are</h2>
<p>Signed in as <strong id="username">${principal.username}</strong> (${principal.roles.join(', ')}).</p></section>`;

    // Offline tokens only from a provider where one of your accounts is linked (the callback checks it too).
    const linkedProviders = providers.filter((p) => identities.some((i) => i.provider === p.name));
    const identityRows = identities.map(
      (i) => html`<tr data-identity="${i.id}">
<td data-label="Provider">${display(i.provider)}</td>
<td data-label="Account"><span class="mono small">${i.subject}</span></td>
<td data-label="Linked">${when(i.createdAt)}</td>
<td data-label="Last login">${when(i.lastLoginAt, 'never')}</td>
<td data-label="">${confirmButton(req, `/account/identities/${i.id}/unlink`, 'Unlink', `Unlink this ${display(i.provider)} account? It will no longer log you in.`, 'Yes, unlink', `unlink-${i.id}`)}</td></tr>`,
    );
    const identitiesCard = html`<section class="card" id="identities"><h2>Linked accounts</h2>
${identities.length
  ? html`<table class="cards"><thead><tr><th>Provider</th><th>Account</th><th>Linked</th><th>Last login</th><th></th></tr></thead><tbody>${identityRows}</tbody></table>`
  : html`<p class="empty">No identity provider account is linked.</p>`}
${providers.length
  ? html`<div class="actions">${providers.map(
      (p) => html`<form method="post" action="/${API_PREFIX}/auth/provider/${p.name}/link" class="inline">${csrfField(req)}<button type="submit" class="secondary small" id="link-${p.name}">Link an account at ${p.displayName}</button></form>`,
    )}${linkedProviders.map(
      (p) => html`<a class="button secondary small" href="/${API_PREFIX}/auth/provider/${p.name}/offline-token">Get an offline token from ${p.displayName}</a>`,
    )}</div>
<p class="muted small">Linking asks you to log in at the provider, then to confirm. Whoever can log in to a linked account can log in here as you.</p>`
  : ''}</section>`;

    const sessionRows = live.map(
      (s) => html`<tr data-session="${s.id}">
<td data-label="Device">${device(s.userAgent)}${s.id === current ? html` <span class="badge current">this browser</span>` : ''}<div class="muted small">${s.idpProvider ? display(s.idpProvider) : s.authMethod}</div></td>
<td data-label="IP"><span class="mono">${s.ip ?? '—'}</span></td>
<td data-label="Created">${when(s.createdAt)}</td>
<td data-label="Last used">${when(s.lastRefreshedAt, 'not refreshed yet')}</td>
<td data-label="">${confirmButton(req, `/account/sessions/${s.id}/revoke`, 'Revoke', s.id === current ? 'Log this browser out?' : 'Log that device out?', 'Yes, revoke')}</td></tr>`,
    );
    const sessionsCard = html`<section class="card" id="sessions"><h2>Your sessions</h2>
${live.length
  ? html`<table class="cards"><thead><tr><th>Device</th><th>IP</th><th>Created</th><th>Last used</th><th></th></tr></thead><tbody>${sessionRows}</tbody></table>`
  : html`<p class="empty">No active sessions.</p>`}
<p class="muted small">"Last used" is the last refresh of the session (API clients refresh every few minutes; a browser session, when its IdP token is renewed).</p></section>`;

    const keyRow = (k: (typeof keys)[number]) => {
      const status = credentialStatus(k, now);
      const use = this.apiKeys.lastUse(k);
      return html`<tr data-key="${k.id}" data-first-eight="${k.firstEight}">
<td data-label="Note">${k.note ? k.note : html`<span class="muted">no note</span>`}<div class="mono small muted">lk_pat_${k.firstEight}…</div></td>
<td data-label="Scopes">${scopeList(k.scopes)}</td>
<td data-label="Created">${when(k.createdAt)}</td>
<td data-label="Last used">${when(use?.at, 'never')}${use?.ip ? html`<div class="mono small muted">${use.ip}</div>` : ''}</td>
<td data-label="Expires">${when(k.expiresAt, 'never')}</td>
<td data-label="Status">${badge(status)}${expiryBadge(k, now)}</td>
<td data-label="">${status === 'revoked' ? '' : confirmButton(req, `/account/api-keys/${k.id}/revoke`, 'Revoke', `Revoke the key lk_pat_${k.firstEight}…? Programs using it stop working.`, 'Yes, revoke', `revoke-key-${k.firstEight}`)}</td></tr>`;
    };
    const liveKeys = keys.filter((k) => credentialStatus(k, now) === 'active');
    const createKey = canCreate
      ? html`<form method="post" action="/account/api-keys" id="create-key">${csrfField(req)}<h3 class="small">New API key</h3>
<div class="row"><div class="field"><label for="note">Note (what it is for)</label><input type="text" id="note" name="note" maxlength="255" placeholder="e.g. laptop scripts"></div>
<div class="field"><label for="expires_in">Expires</label><select id="expires_in" name="expires_in">${KEY_LIFETIMES.map(
          ([value, label]) => html`<option value="${value}">${label}</option>`,
        )}</select></div>
<div><button type="submit" id="create-key-submit">Create key</button></div></div>
<details class="more"><summary>Restrict its scopes (default: everything you may do, now and later)</summary><div class="scopes">${scopes.map(
          (s) => html`<label title="${this.scopeCatalog.describe(s) ?? ''}"><input type="checkbox" name="scopes" value="${s}"> ${s} <span class="small muted">${this.scopeCatalog.describe(s) ?? ''}</span></label>`,
        )}</div></details></form>`
      : html`<p class="muted">Your roles do not allow creating API keys.</p>`;
    const keysCard = html`<section class="card" id="api-keys"><h2>Your API keys</h2>
${keys.length
  ? liveAndFolded(
      html`<tr><th>Note</th><th>Scopes</th><th>Created</th><th>Last used</th><th>Expires</th><th>Status</th><th></th></tr>`,
      liveKeys.map(keyRow),
      keys.filter((k) => !liveKeys.includes(k)).map(keyRow),
      'API keys',
      'inactive-keys',
    )
  : html`<p class="empty">You have no API keys yet.</p>`}
${createKey}</section>`;

    const everywhere = html`<section class="card" id="everywhere"><h2>Log out everywhere</h2>
<p>Ends every session of yours (this browser too) and revokes all your API keys at once: for a lost laptop or a leaked key.</p>
${confirmButton(req, '/account/revoke-all', 'Log out everywhere…', 'Really end every session and revoke every API key you have?', 'Yes, log out everywhere', 'revoke-all')}</section>`;

    const eventsCard = html`<section class="card" id="events"><h2>Your recent activity</h2>${auditTable(events.events)}</section>`;

    this.pages.send(res, 200, 'Your account', html`${leakAlerts(leaks.events)}${who}${identitiesCard}${sessionsCard}${keysCard}${everywhere}${eventsCard}`, {
      viewer: { principal, csrf: req.csrfToken ?? '' },
      nav: 'account',
      notice: query.done ? NOTICES[query.done] : undefined,
    });
  }

  /** Creates a key; its secret is in this response only (no redirect, never in a URL). */
  @Post('api-keys')
  @SendsSecret()
  @UseGuards(BrowserFormGuard)
  @RequireScopes('create:apikeys')
  @RateLimit('create')
  async createKey(
    @Body() body: CreateApiKeyFormDto,
    @CurrentPrincipal() principal: UserPrincipal,
    @Req() req: LatchkeyRequest,
    @Res() res: LatchkeyReply,
  ): Promise<void> {
    const { key, secret } = await this.apiKeys.create(principal, {
      scopes: body.scopes?.length ? body.scopes : null,
      expiresIn: body.expires_in,
      note: body.note?.trim() || null,
    });
    this.pages.secretOnce(
      res,
      'Your new API key',
      secret,
      html`<p>The key <strong>${key.note ?? `lk_pat_${key.firstEight}…`}</strong> (scopes: ${key.scopes.join(', ') || 'none'}; expires ${when(key.expiresAt, 'never')}) is ready.</p>`,
      html`<p class="muted">Send it as <code>Authorization: Apikey …</code>, for example:</p>
<p><code>curl -H 'Authorization: Apikey …' ${req.protocol}://${req.headers.host ?? 'localhost'}/${API_PREFIX}/auth/whoami</code></p>
<p><a class="button" href="/account" id="done">Done, back to your account</a></p>`,
      { viewer: { principal, csrf: req.csrfToken ?? '' }, nav: 'account', replaceUrl: '/account' },
    );
  }

  @Post('api-keys/:key/revoke')
  @UseGuards(BrowserFormGuard)
  @RequireScopes('revoke:apikeys')
  async revokeKey(
    @Param('key', uuidOr404('API_KEY_NOT_FOUND', 'No such API key.')) keyId: string,
    @Body() _body: CsrfFormDto,
    @CurrentPrincipal() principal: UserPrincipal,
    @Res() res: LatchkeyReply,
  ): Promise<void> {
    await this.apiKeys.revokeById(principal.userId, keyId);
    res.redirect('/account?done=key-revoked#api-keys', 303);
  }

  @Post('sessions/:session/revoke')
  @UseGuards(BrowserFormGuard)
  @RequireScopes('write:account')
  async revokeSession(
    @Param('session', uuidOr404('SESSION_NOT_FOUND', 'No such session.')) sessionId: string,
    @Body() _body: CsrfFormDto,
    @CurrentPrincipal() principal: UserPrincipal,
    @Res() res: LatchkeyReply,
  ): Promise<void> {
    await this.sessions.revokeOwn(principal.userId, sessionId);
    if (sessionId === sessionIdOf(principal)) {
      this.browserSessions.clearCookie(res);
      return res.redirect('/logout', 303);
    }
    res.redirect('/account?done=session-revoked#sessions', 303);
  }

  /** What `DELETE /api/v1/users/me/identities/{id}` does (same rules: recent login, not the last way to log in). */
  @Post('identities/:identity/unlink')
  @UseGuards(BrowserFormGuard)
  @SessionOnly()
  @RecentLogin()
  @RequireScopes('write:account')
  async unlinkIdentity(
    @Param('identity', uuidOr404('IDENTITY_NOT_FOUND', 'No such linked identity.')) identityId: string,
    @Body() _body: CsrfFormDto,
    @CurrentPrincipal() principal: UserPrincipal,
    @Res() res: LatchkeyReply,
  ): Promise<void> {
    await this.users.unlinkIdentity(principal.userId, identityId);
    res.redirect('/account?done=identity-unlinked#identities', 303);
  }

  /** What `POST /api/v1/users/me/revoke-all` does (same recent-login rule), then the cookie goes too. */
  @Post('revoke-all')
  @UseGuards(BrowserFormGuard)
  @SessionOnly()
  @RecentLogin()
  async revokeAll(@Body() _body: CsrfFormDto, @CurrentPrincipal() principal: UserPrincipal, @Res() res: LatchkeyReply): Promise<void> {
    const { revoked } = await this.users.revokeAll(principal.userId);
    this.browserSessions.clearCookie(res);
    const count = (n: number | undefined, one: string) => `${n ?? 0} ${one}${n === 1 ? '' : 's'}`;
    this.pages.send(
      res,
      200,
      'You are logged out everywhere',
      html`<p>Ended ${count(revoked.sessions, 'session')} and revoked ${count(revoked.api_keys, 'API key')}. Every access token you held stopped working too.</p>
<p><a class="button" href="/login" id="login-again">Log in again</a></p>`,
      { narrow: true },
    );
  }
}
