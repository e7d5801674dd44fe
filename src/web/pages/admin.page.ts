import { Body, Controller, Get, Param, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '../../common/http/api-docs';
import { AdminUsersService } from '../../admin/admin-users.service';
import { uuidOr404 } from '../../common/http/uuid-param.pipe';
import { AuditService } from '../../audit/audit.service';
import { CurrentPrincipal, RecentLogin, Roles } from '../../common/auth/decorators';
import { UsersService } from '../../users/users.service';
import { RolesService } from '../../roles/roles.service';
import type { UserPrincipal } from '../../common/auth/principal';
import { Role } from '../../common/auth/scopes';
import type { LatchkeyRequest, LatchkeyReply } from '../../common/http/request-context';
import { auditTable } from '../audit-table';
import { BrowserFormGuard } from '../../common/html/browser-form.guard';
import { NoticeQueryDto, SaveRoleFormDto } from '../dto/page-forms.dto';
import { CsrfFormDto } from '../../common/html/csrf-form.dto';
import { html } from '../../common/html/html';
import { PageErrorsFilter } from '../../common/html/page-errors.filter';
import { PagesService } from '../../common/html/pages.service';
import { badge, confirmButton, csrfField, scopeList, when } from '../../common/html/view-helpers';

const NOTICES: Record<string, string> = {
  'user-disabled': 'User disabled: every credential they hold is refused until you enable them again.',
  'user-enabled': 'User enabled.',
  'user-revoked': 'Done: every session, API key and access token of that user is revoked.',
  'role-saved': 'Role saved: its scopes are in its holders\' API keys now and in their next access tokens.',
  'role-deleted': 'Role deleted.',
};
const userId = () => uuidOr404('USER_NOT_FOUND', 'No such user.');
/** Users shown on the page (the API pages through more: GET /api/v1/admin/users). */
const USERS_SHOWN = 200;

/** `/admin`: users (disable/enable, revoke everything), roles (custom ones made and deleted here) and the latest audit events. Admins only. */
@ApiExcludeController()
@UseFilters(PageErrorsFilter)
@Roles(Role.Admin)
@Controller('admin')
export class AdminPageController {
  constructor(
    private readonly pages: PagesService,
    private readonly admin: AdminUsersService,
    private readonly audit: AuditService,
    private readonly roles: RolesService,
    private readonly users: UsersService,
  ) {}

  @Get()
  async show(@Query() query: NoticeQueryDto, @CurrentPrincipal() principal: UserPrincipal, @Req() req: LatchkeyRequest, @Res() res: LatchkeyReply): Promise<void> {
    const [users, events, roles, activeAdmins] = await Promise.all([
      this.admin.list({ offset: 0, limit: USERS_SHOWN }),
      this.audit.list({ limit: 30 }),
      this.roles.list(),
      this.users.countActiveAdmins(),
    ]);
    // Disabling the only active administrator is refused (409 LAST_ADMIN): the page does not offer it.
    const lastAdmin = (u: (typeof users.items)[number]) => activeAdmins === 1 && u.status === 'active' && u.kind === 'user' && u.roles.includes(Role.Admin);
    const roleRows = roles.map(
      (r) => html`<tr data-role="${r.name}"><td data-label="Role"><strong>${r.name}</strong>${r.builtIn ? html` <span class="badge">built in</span>` : ''}${r.description ? html`<div class="small muted">${r.description}</div>` : ''}</td>
<td data-label="Scopes">${scopeList(r.scopes, ' ')}</td>
<td data-label="">${r.builtIn ? '' : confirmButton(req, `/admin/custom-roles/${encodeURIComponent(r.name)}/delete`, 'Delete', `Delete the role ${r.name}? (Refused while someone holds it.)`, 'Yes, delete')}</td></tr>`,
    );
    const rolesCard = html`<section class="card" id="roles"><h2>Roles</h2>
<table class="cards"><thead><tr><th>Role</th><th>Scopes</th><th></th></tr></thead><tbody>${roleRows}</tbody></table>
<form method="post" action="/admin/custom-roles" class="stack">${csrfField(req)}<h3>Make or change a custom role</h3>
<div class="field"><label for="role-name">Name</label><input id="role-name" name="name" required maxlength="64" pattern="[a-z][a-z0-9_.\-]*" placeholder="notes-editor"></div>
<div class="field"><label for="role-scopes">Scopes</label><input id="role-scopes" name="scopes" required placeholder="notes:read notes:write"></div>
<div class="field"><label for="role-description">Description</label><input id="role-description" name="description" maxlength="255"></div>
<div><button type="submit" id="save-role">Save role</button></div><p class="muted small">Give it to users over the API or the CLI (<code>user:set-roles</code>). Administration stays with the admin role.</p></form></section>`;
    const rows = users.items.map(
      (u) => html`<tr data-user="${u.username}"><td data-label="User"><strong>${u.username}</strong>${u.id === principal.userId ? html` <span class="badge current">you</span>` : ''}${u.display_name ? html`<div class="small muted">${u.display_name}</div>` : ''}</td>
<td data-label="Roles">${u.roles.join(', ')}${u.kind === 'service' ? html` <span class="muted small">(service)</span>` : ''}</td>
<td data-label="Status">${badge(u.status)}</td>
<td data-label="Last activity">${when(u.last_activity, 'never')}</td>
<td data-label=""><div class="actions">${lastAdmin(u)
        ? html`<span class="small muted" title="Make someone else an administrator first">last administrator</span>`
        : u.status === 'active'
        ? confirmButton(req, `/admin/users/${u.id}/disable`, 'Disable', `Disable ${u.username}? Every credential they hold is refused until enabled again.`, 'Yes, disable')
        : html`<form method="post" action="/admin/users/${u.id}/enable" class="inline">${csrfField(req)}<button type="submit" class="secondary small">Enable</button></form>`}
${confirmButton(req, `/admin/users/${u.id}/revoke-all`, 'Revoke all', `Revoke every session, API key and access token of ${u.username}?`, 'Yes, revoke all')}</div></td></tr>`,
    );
    this.pages.send(
      res,
      200,
      'Administration',
      html`<section class="card" id="users"><h2>Users</h2><p class="muted small">${users.total} in all${users.total > USERS_SHOWN ? ` (the first ${USERS_SHOWN} shown)` : ''}.</p>
<table class="cards"><thead><tr><th>User</th><th>Roles</th><th>Status</th><th>Last activity</th><th></th></tr></thead><tbody>${rows}</tbody></table></section>
${rolesCard}
<section class="card" id="events"><h2>Recent audit events</h2>${auditTable(events.events)}</section>`,
      { viewer: { principal, csrf: req.csrfToken ?? '' }, nav: 'admin', notice: query.done ? NOTICES[query.done] : undefined },
    );
  }

  @Post('users/:user/disable')
  @UseGuards(BrowserFormGuard)
  async disable(@Param('user', userId()) id: string, @Body() _body: CsrfFormDto, @Res() res: LatchkeyReply): Promise<void> {
    await this.admin.setStatus(id, 'disabled');
    res.redirect('/admin?done=user-disabled', 303);
  }

  @Post('users/:user/enable')
  @UseGuards(BrowserFormGuard)
  async enable(@Param('user', userId()) id: string, @Body() _body: CsrfFormDto, @Res() res: LatchkeyReply): Promise<void> {
    await this.admin.setStatus(id, 'active');
    res.redirect('/admin?done=user-enabled', 303);
  }

  @Post('users/:user/revoke-all')
  @UseGuards(BrowserFormGuard)
  async revokeAll(@Param('user', userId()) id: string, @Body() _body: CsrfFormDto, @Res() res: LatchkeyReply): Promise<void> {
    await this.admin.revokeAll(id);
    res.redirect('/admin?done=user-revoked', 303);
  }

  /** Same as `PUT /api/v1/admin/roles/{name}`, recent login included. */
  @Post('custom-roles')
  @UseGuards(BrowserFormGuard)
  @RecentLogin()
  async saveRole(@Body() body: SaveRoleFormDto, @CurrentPrincipal() principal: UserPrincipal, @Res() res: LatchkeyReply): Promise<void> {
    const scopes = body.scopes.split(/[\s,]+/).filter(Boolean);
    await this.roles.save(body.name, { scopes, description: body.description?.trim() || undefined }, principal);
    res.redirect('/admin?done=role-saved#roles', 303);
  }

  @Post('custom-roles/:role/delete')
  @UseGuards(BrowserFormGuard)
  async deleteRole(@Param('role') name: string, @Body() _body: CsrfFormDto, @CurrentPrincipal() principal: UserPrincipal, @Res() res: LatchkeyReply): Promise<void> {
    await this.roles.delete(name, principal);
    res.redirect('/admin?done=role-deleted#roles', 303);
  }
}
