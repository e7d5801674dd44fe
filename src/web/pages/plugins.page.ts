import { Body, Controller, Get, Param, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '../../common/http/api-docs';
import { credentialStatus } from '../../common/auth/credential-status';
import { Clock } from '../../common/clock';
import { CurrentPrincipal, RequireScopes } from '../../common/auth/decorators';
import type { UserPrincipal } from '../../common/auth/principal';
import type { LatchkeyRequest, LatchkeyReply } from '../../common/http/request-context';
import { RateLimit } from '../../common/rate-limit';
import { AppConfig, InjectConfig } from '../../config/app.config';
import { PluginTokensService } from '../../plugin-tokens/plugin-tokens.service';
import type { PluginToken } from '../../plugin-tokens/plugin-token.entity';
import type { Plugin } from '../../plugins/plugin.entity';
import type { PluginInvitation } from '../../plugins/plugin-invitation.entity';
import { PluginInvitationsService } from '../../plugins/plugin-invitations.service';
import { PluginVersionsService } from '../../plugins/plugin-versions.service';
import { PluginsService } from '../../plugins/plugins.service';
import type { CiClaimLayout, TrustedIssuerConfig } from '../../config/trusted-publishing.config';
import { PUBLISHER_SHAPES } from '../../trusted-publishing/ci-claims';
import type { TrustedPublisher } from '../../trusted-publishing/trusted-publisher.entity';
import { lifetimeInWords, TrustedPublishingService } from '../../trusted-publishing/trusted-publishing.service';
import { BrowserFormGuard } from '../../common/html/browser-form.guard';
import { AddTrustedPublisherFormDto, CreateDeployTokenFormDto, CreatePluginFormDto, InviteMaintainerFormDto, NoticeQueryDto, RenameDeployTokenFormDto, RotateDeployTokenFormDto } from '../dto/page-forms.dto';
import { CsrfFormDto } from '../../common/html/csrf-form.dto';
import { html, SafeHtml } from '../../common/html/html';
import { PageErrorsFilter } from '../../common/html/page-errors.filter';
import { PagesService, type Viewer } from '../../common/html/pages.service';
import { AuditService } from '../../audit/audit.service';
import { leakAlerts, recentLeakReports } from '../audit-table';
import { badge, confirmButton, csrfField, expiryBadge, liveAndFolded, when } from '../../common/html/view-helpers';
import { deployTokenExpiresSoon } from '../../plugin-tokens/dto/plugin-token.dto';
import { SendsSecret } from '../../common/http/sends-secret.decorator';
import { API_PREFIX } from '../../common/http/base-url';
import { PACKAGE_NAME, PACKAGE_NAME_MAX } from '../../plugins/plugins.service';

const NOTICES: Record<string, string> = {
  'plugin-created': 'Plugin created: you are its maintainer. Make a deploy token for its CI below, or invite other maintainers.',
  'token-renamed': 'Description saved.',
  'token-revoked': 'Deploy token revoked: neither its secret nor an earlier one works any more.',
  // The same text for every username: the page does not tell whether such a user exists.
  invited: 'Invitation sent. The user becomes a maintainer once they accept it on their Plugins page.',
  'invitation-revoked': 'Invitation revoked: it can no longer be accepted.',
  'invitation-accepted': 'Invitation accepted: you are now a maintainer of this plugin.',
  'invitation-declined': 'Invitation declined.',
  'publisher-added': 'Trusted publisher added: its CI jobs can now exchange their ID token for a short-lived deploy token of this plugin.',
  'publisher-removed': 'Trusted publisher removed: its jobs get no more deploy tokens, and those it got that still worked are revoked.',
};


const TOKEN_LIFETIMES: [string, string][] = [
  ['', 'Never expires'],
  [String(30 * 24 * 3600), '30 days'],
  [String(90 * 24 * 3600), '90 days'],
  [String(365 * 24 * 3600), '1 year'],
  [String(2 * 365 * 24 * 3600), '2 years'],
];

const OVERLAPS: [number, string][] = [
  [0, 'Old secret stops now'],
  [60, 'Old secret works 1 more minute'],
  [3600, 'Old secret works 1 more hour'],
  [24 * 3600, 'Old secret works 1 more day'],
  [7 * 24 * 3600, 'Old secret works 1 more week'],
];

/**
 * `/plugins` (the plugins I maintain, and my pending invitations to maintain others, with Accept
 * and Decline) and `/plugins/{package}/tokens`: every deploy token of the plugin, whoever made it
 * (rename in place, rotate with an overlap, revoke), a form to create one (the secret is shown
 * once, in the POST's response), the maintainers with the pending invitations and a form to
 * invite someone, the trusted publishers (CI workflows that get short-lived deploy tokens
 * without a stored secret) with a form to add one, and the plugin's versions with their uploader. Maintainers only
 * (PluginsService.getMaintained), as the API routes.
 */
@ApiExcludeController()
@UseFilters(PageErrorsFilter)
@Controller()
export class PluginsPageController {
  constructor(
    private readonly pages: PagesService,
    private readonly plugins: PluginsService,
    private readonly invitations: PluginInvitationsService,
    private readonly versions: PluginVersionsService,
    private readonly tokens: PluginTokensService,
    private readonly publishing: TrustedPublishingService,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Get('plugins')
  @RequireScopes('read:plugins')
  async list(@Query() query: NoticeQueryDto, @CurrentPrincipal() principal: UserPrincipal, @Req() req: LatchkeyRequest, @Res() res: LatchkeyReply): Promise<void> {
    const [mine, counts, invited] = await Promise.all([
      this.plugins.maintainedBy(principal.userId),
      this.tokens.countsByPlugin(),
      this.invitations.mine(principal.userId),
    ]);
    const rows = mine.map((p) => {
      const c = counts.get(p.id);
      return html`<tr data-plugin="${p.name}"><td data-label="Plugin"><a href="/plugins/${encodeURIComponent(p.name)}/tokens"><strong>${p.displayName}</strong></a><div class="mono small muted">${p.name}</div></td>
<td data-label="Deploy tokens">${c ? html`${c.active} active${c.expired ? `, ${c.expired} expired` : ''}${c.revoked ? `, ${c.revoked} revoked` : ''}` : html`<span class="muted">none</span>`}</td>
<td data-label="Created">${when(p.createdAt)}</td>
<td data-label=""><div class="actions"><a class="button secondary small" href="/plugins/${encodeURIComponent(p.name)}/tokens">Manage tokens</a>
<a class="button secondary small" href="/plugins/${encodeURIComponent(p.name)}/tokens#invite-maintainer">Invite a maintainer</a></div></td></tr>`;
    });
    const invitationRows = invited.map(
      (i) => html`<tr data-invitation="${i.id}"><td data-label="Plugin"><strong>${i.plugin!.displayName}</strong><div class="mono small muted">${i.plugin!.name}</div></td>
<td data-label="Invited by">${i.invitedBy?.username ?? 'a former user'}</td><td data-label="Expires">${when(i.expiresAt)}</td>
<td data-label=""><div class="actions"><form method="post" action="/plugin-invitations/${i.id}/accept" class="inline">${csrfField(req)}<button type="submit" class="small" id="accept-${i.plugin!.name}">Accept</button></form>
<form method="post" action="/plugin-invitations/${i.id}/decline" class="inline">${csrfField(req)}<button type="submit" class="secondary small" id="decline-${i.plugin!.name}">Decline</button></form></div></td></tr>`,
    );
    const invitationsCard = invited.length
      ? html`<section class="card" id="invitations"><h2>Invitations for you</h2><p class="muted">Accepting makes you a maintainer: you can then manage the plugin's deploy tokens, maintainers and releases.</p>
<table class="cards"><thead><tr><th>Plugin</th><th>Invited by</th><th>Expires</th><th></th></tr></thead><tbody>${invitationRows}</tbody></table></section>`
      : '';
    this.pages.send(
      res,
      200,
      'Your plugins',
      html`${invitationsCard}<section class="card"><h2>Plugins you maintain</h2>${mine.length
        ? html`<table class="cards"><thead><tr><th>Plugin</th><th>Deploy tokens</th><th>Created</th><th></th></tr></thead><tbody>${rows}</tbody></table>`
        : html`<p class="empty">You maintain no plugin yet. Create one below, or ask a maintainer to invite you.</p>`}
${principal.scopes.includes('write:plugins') ? createPluginForm(req) : ''}</section>`,
      { viewer: viewerOf(principal, req), nav: 'plugins', notice: query.done ? NOTICES[query.done] : undefined },
    );
  }

  /** Creates a plugin (the caller its first maintainer), as `POST /api/v1/plugins`, and opens its page. */
  @Post('plugins')
  @UseGuards(BrowserFormGuard)
  @RequireScopes('write:plugins')
  @RateLimit('create')
  async createPlugin(@Body() body: CreatePluginFormDto, @CurrentPrincipal() principal: UserPrincipal, @Res() res: LatchkeyReply): Promise<void> {
    const plugin = await this.plugins.create(principal, body.name, body.display_name?.trim() || undefined);
    res.redirect(`${tokensPath(plugin)}?done=plugin-created`, 303);
  }

  /** The invitee accepts (becomes a maintainer) and lands on the plugin's page. */
  @Post('plugin-invitations/:invitation/accept')
  @UseGuards(BrowserFormGuard)
  @RequireScopes('write:plugins')
  async accept(@Param('invitation') id: string, @Body() _body: CsrfFormDto, @CurrentPrincipal() principal: UserPrincipal, @Res() res: LatchkeyReply): Promise<void> {
    const invitation = await this.invitations.accept(id, principal);
    res.redirect(`${tokensPath(invitation.plugin!)}?done=invitation-accepted#maintainers`, 303);
  }

  @Post('plugin-invitations/:invitation/decline')
  @UseGuards(BrowserFormGuard)
  @RequireScopes('write:plugins')
  async decline(@Param('invitation') id: string, @Body() _body: CsrfFormDto, @CurrentPrincipal() principal: UserPrincipal, @Res() res: LatchkeyReply): Promise<void> {
    await this.invitations.decline(id, principal);
    res.redirect('/plugins?done=invitation-declined', 303);
  }

  /** Invites a username; the same answer whether or not such a user exists. */
  @Post('plugins/:plugin/invitations')
  @UseGuards(BrowserFormGuard)
  @RequireScopes('write:plugins')
  @RateLimit('create')
  async invite(
    @Param('plugin') name: string,
    @Body() body: InviteMaintainerFormDto,
    @CurrentPrincipal() principal: UserPrincipal,
    @Res() res: LatchkeyReply,
  ): Promise<void> {
    const plugin = await this.plugins.getMaintained(name, principal);
    await this.invitations.invite(plugin, body.username, principal);
    res.redirect(`${tokensPath(plugin)}?done=invited#maintainers`, 303);
  }

  @Post('plugins/:plugin/invitations/:invitation/revoke')
  @UseGuards(BrowserFormGuard)
  @RequireScopes('write:plugins')
  async revokeInvitation(
    @Param('plugin') name: string,
    @Param('invitation') id: string,
    @Body() _body: CsrfFormDto,
    @CurrentPrincipal() principal: UserPrincipal,
    @Res() res: LatchkeyReply,
  ): Promise<void> {
    const plugin = await this.plugins.getMaintained(name, principal);
    await this.invitations.revoke(plugin, id, principal);
    res.redirect(`${tokensPath(plugin)}?done=invitation-revoked#maintainers`, 303);
  }

  @Get('plugins/:plugin/tokens')
  @RequireScopes('write:plugins')
  async show(
    @Param('plugin') name: string,
    @Query() query: NoticeQueryDto,
    @CurrentPrincipal() principal: UserPrincipal,
    @Req() req: LatchkeyRequest,
    @Res() res: LatchkeyReply,
  ): Promise<void> {
    const plugin = await this.plugins.getMaintained(name, principal);
    const now = this.clock.now();
    const [tokens, publishers, versions, { maintainers }, pending, leaks] = await Promise.all([
      this.tokens.list(plugin),
      this.publishing.list(plugin),
      this.versions.list(plugin),
      this.plugins.getWithMaintainers(plugin.name),
      this.invitations.pendingFor(plugin),
      this.audit.list(recentLeakReports({ pluginId: plugin.id }, now)),
    ]);
    const base = tokensPath(plugin);
    const overlaps = OVERLAPS.filter(([s]) => s <= this.config.plugins.tokenMaxOverlap);

    const live = tokens.filter((t) => credentialStatus(t, now) === 'active');
    const row = (t: PluginToken) => this.tokenRow(req, plugin, t, now, overlaps);
    const tokensCard = html`<section class="card" id="tokens"><h2>Deploy tokens</h2>
${tokens.length
  ? liveAndFolded(
      html`<tr><th>Description</th><th>Created</th><th>Last used</th><th>Expires</th><th>Status</th><th></th></tr>`,
      live.map(row),
      tokens.filter((t) => !live.includes(t)).map(row),
      'deploy tokens',
      'inactive-tokens',
    )
  : html`<p class="empty">No deploy tokens yet.</p>`}
<form method="post" action="${base}" id="create-token">${csrfField(req)}<h3 class="small">New deploy token</h3>
<div class="row"><div class="field"><label for="description">Description (where it is used)</label><input type="text" id="description" name="description" maxlength="200" required placeholder="e.g. github action"></div>
<div class="field"><label for="expires_in">Expires</label><select id="expires_in" name="expires_in">${TOKEN_LIFETIMES.map(([v, l]) => html`<option value="${v}">${l}</option>`)}</select></div>
<div><button type="submit" id="create-token-submit">Create token</button></div></div></form></section>`;

    // The API's download route: it takes this browser session like any credential (a GET: no CSRF form).
    const download = (version: string) => `/${API_PREFIX}/plugins/${encodeURIComponent(plugin.name)}/versions/${encodeURIComponent(version)}/download`;
    const versionRows = versions.map(
      (v) => html`<tr data-version="${v.version}"><td data-label="Version"><strong class="mono">${v.version}</strong><div class="small muted">${v.filename}</div></td>
<td data-label="Uploaded by">${v.uploadedBy}</td><td data-label="Uploaded">${when(v.createdAt)}</td><td data-label="Size">${formatSize(v.size)}</td>
<td data-label=""><a class="button secondary small" href="${download(v.version)}" download="${v.filename}">Download</a></td></tr>`,
    );
    const versionsCard = html`<section class="card" id="versions"><h2>Versions</h2>${versions.length
      ? html`<table class="cards"><thead><tr><th>Version</th><th>Uploaded by</th><th>Uploaded</th><th>Size</th><th></th></tr></thead><tbody>${versionRows}</tbody></table>`
      : html`<p class="empty">No version uploaded yet.</p>`}</section>`;

    const publishersCard = this.publishersCard(req, plugin, publishers);
    const maintainersCard = this.maintainersCard(req, plugin, maintainers.map((u) => u.username), pending);

    this.pages.send(res, 200, `${plugin.displayName}: deploy tokens`, html`${leakAlerts(leaks.events)}${tokensCard}${publishersCard}${maintainersCard}${versionsCard}`, {
      viewer: viewerOf(principal, req),
      nav: 'plugins',
      notice: query.done ? NOTICES[query.done] : undefined,
    });
  }

  /** Creates a token; its secret is in this response only. */
  @Post('plugins/:plugin/tokens')
  @SendsSecret()
  @UseGuards(BrowserFormGuard)
  @RequireScopes('write:plugins')
  @RateLimit('create')
  async create(
    @Param('plugin') name: string,
    @Body() body: CreateDeployTokenFormDto,
    @CurrentPrincipal() principal: UserPrincipal,
    @Req() req: LatchkeyRequest,
    @Res() res: LatchkeyReply,
  ): Promise<void> {
    const plugin = await this.plugins.getMaintained(name, principal);
    const { token, secret } = await this.tokens.create(plugin, principal, body.description.trim() || body.description, body.expires_in);
    this.showSecret(res, req, principal, plugin, 'Your new deploy token', secret, html`<p>The deploy token <strong>${token.description}</strong> for ${plugin.displayName} is ready (expires ${when(token.expiresAt, 'never')}).</p>`);
  }

  @Post('plugins/:plugin/tokens/:token/description')
  @UseGuards(BrowserFormGuard)
  @RequireScopes('write:plugins')
  async rename(
    @Param('plugin') name: string,
    @Param('token') id: string,
    @Body() body: RenameDeployTokenFormDto,
    @CurrentPrincipal() principal: UserPrincipal,
    @Res() res: LatchkeyReply,
  ): Promise<void> {
    const plugin = await this.plugins.getMaintained(name, principal);
    await this.tokens.describe(plugin, id, body.description, principal);
    res.redirect(`${tokensPath(plugin)}?done=token-renamed#tokens`, 303);
  }

  /** A new secret for the same token (shown once here); the old one works for the chosen overlap. */
  @Post('plugins/:plugin/tokens/:token/rotate')
  @SendsSecret()
  @UseGuards(BrowserFormGuard)
  @RequireScopes('write:plugins')
  @RateLimit('create')
  async rotate(
    @Param('plugin') name: string,
    @Param('token') id: string,
    @Body() body: RotateDeployTokenFormDto,
    @CurrentPrincipal() principal: UserPrincipal,
    @Req() req: LatchkeyRequest,
    @Res() res: LatchkeyReply,
  ): Promise<void> {
    const plugin = await this.plugins.getMaintained(name, principal);
    const { token, secret } = await this.tokens.rotate(plugin, id, body.overlap_seconds, principal);
    const until = token.previousValidUntil && body.overlap_seconds > 0 ? html`The old secret keeps working until ${when(token.previousValidUntil)}.` : 'The old secret no longer works.';
    this.showSecret(res, req, principal, plugin, 'New secret for a deploy token', secret, html`<p>The deploy token <strong>${token.description}</strong> of ${plugin.displayName} has a new secret. ${until} Put the new one in your CI secret store.</p>`);
  }

  @Post('plugins/:plugin/tokens/:token/revoke')
  @UseGuards(BrowserFormGuard)
  @RequireScopes('write:plugins')
  async revoke(
    @Param('plugin') name: string,
    @Param('token') id: string,
    @Body() _body: CsrfFormDto,
    @CurrentPrincipal() principal: UserPrincipal,
    @Res() res: LatchkeyReply,
  ): Promise<void> {
    const plugin = await this.plugins.getMaintained(name, principal);
    await this.tokens.revoke(plugin, id, principal);
    res.redirect(`${tokensPath(plugin)}?done=token-revoked#tokens`, 303);
  }

  /** Trusts a CI workflow, as `POST /api/v1/plugins/{package}/trusted-publishers`; a bad or duplicate one is a 422 or 409 page. */
  @Post('plugins/:plugin/trusted-publishers')
  @UseGuards(BrowserFormGuard)
  @RequireScopes('write:plugins')
  @RateLimit('create')
  async addPublisher(
    @Param('plugin') name: string,
    @Body() body: AddTrustedPublisherFormDto,
    @CurrentPrincipal() principal: UserPrincipal,
    @Res() res: LatchkeyReply,
  ): Promise<void> {
    const plugin = await this.plugins.getMaintained(name, principal);
    await this.publishing.add(plugin, { issuer: body.issuer, repository: body.repository.trim(), workflow: body.workflow.trim(), environment: body.environment, ref: body.ref }, principal);
    res.redirect(`${tokensPath(plugin)}?done=publisher-added#trusted-publishers`, 303);
  }

  /** Stops trusting a publisher; the deploy tokens it got that still work are revoked (TrustedPublishingService.remove). */
  @Post('plugins/:plugin/trusted-publishers/:publisher/remove')
  @UseGuards(BrowserFormGuard)
  @RequireScopes('write:plugins')
  async removePublisher(
    @Param('plugin') name: string,
    @Param('publisher') id: string,
    @Body() _body: CsrfFormDto,
    @CurrentPrincipal() principal: UserPrincipal,
    @Res() res: LatchkeyReply,
  ): Promise<void> {
    const plugin = await this.plugins.getMaintained(name, principal);
    await this.publishing.remove(plugin, id);
    res.redirect(`${tokensPath(plugin)}?done=publisher-removed#trusted-publishers`, 303);
  }

  /**
   * The trusted publishers (each with Remove) and the form to add one, with one CI choice per
   * configured issuer; with no issuer configured (TRUSTED_PUBLISHING_ISSUERS=none), a note that
   * trusted publishing is off instead of the form.
   */
  private publishersCard(req: LatchkeyRequest, plugin: Plugin, publishers: TrustedPublisher[]): SafeHtml {
    const base = `/plugins/${encodeURIComponent(plugin.name)}/trusted-publishers`;
    const issuers = this.publishing.issuerConfigs();
    const ciName = (name: string) => issuers.find((i) => i.name === name)?.displayName ?? name;
    const any = html`<span class="muted">any</span>`;
    const rows = publishers.map(
      (p) => html`<tr data-publisher="${p.id}"><td data-label="CI">${ciName(p.issuer)}</td>
<td data-label="Repository"><span class="mono">${p.repository}</span></td><td data-label="Workflow"><span class="mono">${p.workflow}</span></td>
<td data-label="Environment">${p.environment ?? any}</td><td data-label="Ref">${p.refPattern ? html`<span class="mono">${p.refPattern}</span>` : any}</td>
<td data-label="Added">${when(p.createdAt)}${p.createdBy ? html`<div class="small muted">by ${p.createdBy.username}</div>` : ''}</td>
<td data-label="Last used">${when(p.lastUsedAt, 'never')}</td>
<td data-label="">${confirmButton(req, `${base}/${p.id}/remove`, 'Remove', `Stop trusting ${p.repository} · ${p.workflow}? Deploy tokens it got that still work are revoked.`, 'Yes, remove')}</td></tr>`,
    );
    const table = publishers.length
      ? html`<table class="cards"><thead><tr><th>CI</th><th>Repository</th><th>Workflow</th><th>Environment</th><th>Ref</th><th>Added</th><th>Last used</th><th></th></tr></thead><tbody>${rows}</tbody></table>`
      : html`<p class="empty">No trusted publishers yet.</p>`;
    const intro = issuers.length
      ? html`<p class="muted">A trusted publisher is a CI workflow allowed to publish this plugin with no secret stored in the CI: each of its jobs exchanges the OIDC ID token its CI gives it for a deploy token that lives ${lifetimeInWords(this.config.trustedPublishing.tokenTtl)}.</p>`
      : html`<p class="muted">Trusted publishing is off on this server (no CI issuer is configured): CI jobs cannot exchange their ID token for a deploy token. Use a deploy token above.</p>`;
    return html`<section class="card" id="trusted-publishers"><h2>Trusted publishers</h2>
${intro}${issuers.length || publishers.length ? table : ''}${issuers.length ? addPublisherForm(req, base, issuers) : ''}</section>`;
  }

  /** The maintainers, the pending invitations (revocable by any maintainer) and the invite form. */
  private maintainersCard(req: LatchkeyRequest, plugin: Plugin, maintainers: string[], pending: PluginInvitation[]): SafeHtml {
    const base = `/plugins/${encodeURIComponent(plugin.name)}/invitations`;
    const rows = pending.map(
      (i) => html`<tr data-invitation="${i.id}"><td data-label="Invited"><strong>${i.username}</strong></td>
<td data-label="Invited by">${i.invitedBy?.username ?? 'a former user'}</td><td data-label="Expires">${when(i.expiresAt)}</td>
<td data-label="">${confirmButton(req, `${base}/${i.id}/revoke`, 'Revoke', `Revoke the invitation of ${i.username}?`, 'Yes, revoke')}</td></tr>`,
    );
    return html`<section class="card" id="maintainers"><h2>Maintainers</h2>
<p>${maintainers.map((m, n) => html`${n ? ', ' : ''}<strong>${m}</strong>`)}</p>
${pending.length
  ? html`<h3 class="small">Pending invitations</h3><table class="cards"><thead><tr><th>Invited</th><th>Invited by</th><th>Expires</th><th></th></tr></thead><tbody>${rows}</tbody></table>`
  : ''}
<form method="post" action="${base}" id="invite-maintainer">${csrfField(req)}<h3 class="small">Invite a maintainer</h3>
<div class="row"><div class="field"><label for="invite-username">Username</label><input type="text" id="invite-username" name="username" maxlength="64" required autocapitalize="none" autocomplete="off"></div>
<div><button type="submit" id="invite-submit">Invite</button></div></div>
<p class="small muted">They become a maintainer only when they accept the invitation on their Plugins page.</p></form></section>`;
  }

  private tokenRow(req: LatchkeyRequest, plugin: Plugin, t: PluginToken, now: Date, overlaps: [number, string][]): SafeHtml {
    const status = credentialStatus(t, now);
    const use = this.tokens.lastUse(t);
    const path = `${tokensPath(plugin)}/${t.id}`;
    const live = status === 'active';
    const fromPublisher = t.trustedPublisherId !== null; // not renamed or rotated: it lives minutes
    return html`<tr data-token="${t.id}">
<td data-label="Description">${live && !fromPublisher
      ? html`<form method="post" action="${path}/description" class="rename">${csrfField(req)}<input type="text" name="description" value="${t.description}" maxlength="200" required aria-label="Description"><button type="submit" class="secondary small">Save</button></form>`
      : html`<span>${t.description}</span>`}
<div class="small muted">by ${t.trustedPublisherId ? 'a trusted publisher' : (t.createdBy?.username ?? 'a former user')}${t.rotatedAt ? html` · rotated ${when(t.rotatedAt)}` : ''}</div></td>
<td data-label="Created">${when(t.createdAt)}</td>
<td data-label="Last used">${when(use?.at, 'never')}${use?.ip ? html`<div class="mono small muted">${use.ip}</div>` : ''}</td>
<td data-label="Expires">${when(t.expiresAt, 'never')}</td>
<td data-label="Status">${badge(status)}${deployTokenExpiresSoon(t, now) ? expiryBadge(t, now) : ''}${live && t.previousValidUntil && t.previousValidUntil > now ? html`<div class="small muted">old secret until ${when(t.previousValidUntil)}</div>` : ''}</td>
<td data-label="">${live
      ? html`<div class="actions">${fromPublisher ? '' : html`<details class="confirm"><summary class="button secondary small">Rotate</summary>
<form method="post" action="${path}/rotate" class="ask">${csrfField(req)}<p>Give this token a new secret?</p>
<select name="overlap_seconds" aria-label="Overlap">${overlaps.map(([s, l]) => html`<option value="${s}"${s === 0 ? ' selected' : ''}>${l}</option>`)}</select>
<button type="submit" class="small">Rotate</button></form></details>`}
${confirmButton(req, `${path}/revoke`, 'Revoke', `Revoke "${t.description}"? CI jobs using it fail from now on.`, 'Yes, revoke')}</div>`
      : ''}</td></tr>`;
  }

  private showSecret(res: LatchkeyReply, req: LatchkeyRequest, principal: UserPrincipal, plugin: Plugin, title: string, secret: string, intro: SafeHtml): void {
    const base = tokensPath(plugin);
    this.pages.secretOnce(
      res,
      title,
      secret,
      intro,
      html`<p class="muted">CI sends it as <code>Authorization: Bearer …</code> to <code>POST /api/v1/plugins/${plugin.name}/versions</code>; it can do nothing else.</p>
<p><a class="button" href="${base}" id="done">Done, back to the tokens</a></p>`,
      { viewer: viewerOf(principal, req), nav: 'plugins', replaceUrl: base },
    );
  }
}

/** PACKAGE_NAME for the browser's `pattern` (compiled with the `v` flag, where a bare `-` in a class is an error). */
const PACKAGE_NAME_PATTERN = PACKAGE_NAME.source.slice(1, -1).replace('[._-]', '[._\\-]');

/** "New plugin": the package name as the API checks it, and an optional display name. */
function createPluginForm(req: LatchkeyRequest): SafeHtml {
  return html`<form method="post" action="/plugins" id="create-plugin">${csrfField(req)}<h3 class="small">New plugin</h3>
<div class="row"><div class="field"><label for="plugin-name">Package name</label><input type="text" id="plugin-name" name="name" required maxlength="${PACKAGE_NAME_MAX}" pattern="${PACKAGE_NAME_PATTERN}" autocapitalize="none" autocomplete="off" placeholder="e.g. fancy-plugin"></div>
<div class="field"><label for="plugin-display-name">Display name</label><input type="text" id="plugin-display-name" name="display_name" maxlength="200" placeholder="e.g. FancyPlugin"></div>
<div><button type="submit" id="create-plugin-submit">Create plugin</button></div></div>
<p class="small muted">You become its first maintainer; invite others from its page.</p></form>`;
}

/** "Add a trusted publisher": one CI choice per configured issuer, and what each CI's fields look like. */
function addPublisherForm(req: LatchkeyRequest, action: string, issuers: readonly TrustedIssuerConfig[]): SafeHtml {
  const layouts = (Object.keys(PUBLISHER_SHAPES) as CiClaimLayout[]).filter((l) => issuers.some((i) => i.claims === l));
  const example = (field: 'repository' | 'workflow') => `e.g. ${layouts.map((l) => PUBLISHER_SHAPES[l][`${field}Example`]).join(' or ')}`;
  const hints = [
    ...layouts
      .filter((l) => l !== 'custom')
      .map((l) => {
        const names = issuers.filter((i) => i.claims === l).map((i) => i.displayName).join(', ');
        return html`<li><strong>${names}</strong>: repository ${PUBLISHER_SHAPES[l].repositoryHint}; workflow: ${PUBLISHER_SHAPES[l].workflowHint}.</li>`;
      }),
    // Another CI: the values of the claims the operator named, exactly.
    ...issuers
      .filter((i) => i.claimNames)
      .map((i) => html`<li><strong>${i.displayName}</strong>: repository, the <code>${i.claimNames!.repository}</code> claim; workflow, the <code>${i.claimNames!.workflow}</code> claim${i.claimNames!.ref ? html`; ref, <code>${i.claimNames!.ref}</code>` : ''}${i.claimNames!.environment ? html`; environment, <code>${i.claimNames!.environment}</code>` : ''}.</li>`),
  ];
  return html`<form method="post" action="${action}" id="add-publisher">${csrfField(req)}<h3 class="small">Add a trusted publisher</h3>
<div class="row"><div class="field"><label for="publisher-issuer">CI</label><select id="publisher-issuer" name="issuer">${issuers.map((i) => html`<option value="${i.name}">${i.displayName}</option>`)}</select></div>
<div class="field"><label for="publisher-repository">Repository</label><input type="text" id="publisher-repository" name="repository" maxlength="255" required autocapitalize="none" autocomplete="off" placeholder="${example('repository')}"></div>
<div class="field"><label for="publisher-workflow">Workflow file</label><input type="text" id="publisher-workflow" name="workflow" maxlength="255" required autocapitalize="none" autocomplete="off" placeholder="${example('workflow')}"></div></div>
<div class="row"><div class="field"><label for="publisher-environment">Environment (optional)</label><input type="text" id="publisher-environment" name="environment" maxlength="255" autocomplete="off" placeholder="any; e.g. release"></div>
<div class="field"><label for="publisher-ref">Ref (optional)</label><input type="text" id="publisher-ref" name="ref" maxlength="255" autocapitalize="none" autocomplete="off" placeholder="any; e.g. refs/tags/v*"></div>
<div><button type="submit" id="add-publisher-submit">Add publisher</button></div></div>
<ul class="small muted">${hints}<li>Environment: the deployment environment the job must run in. Ref: the full ref the job must run for, <code>*</code> matching any characters (<code>refs/tags/v*</code>, <code>refs/heads/main</code>). Empty: any.</li></ul></form>`;
}


const tokensPath = (plugin: Plugin) => `/plugins/${encodeURIComponent(plugin.name)}/tokens`;

function viewerOf(principal: UserPrincipal, req: LatchkeyRequest): Viewer {
  return { principal, csrf: req.csrfToken ?? '' };
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
