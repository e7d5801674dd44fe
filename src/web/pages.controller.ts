import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Public } from '../common/auth/decorators';
import type { UserPrincipal } from '../common/auth/principal';
import { API_PREFIX } from '../common/http/base-url';
import { DEFAULT_LANDING } from '../common/http/local-path';
import type { LatchkeyRequest } from '../common/http/request-context';
import { AppConfig, InjectConfig } from '../config/app.config';
import { UsersService } from '../users/users.service';
import { LogoutQueryDto } from './dto/logout-query.dto';
import { html } from './html';
import { PagesService } from './pages.service';

const loginUrl = (provider: string, next: string) =>
  `/${API_PREFIX}/auth/provider/${encodeURIComponent(provider)}/authorize?next=${encodeURIComponent(next)}`;

/** Pages for people: `/account` (who am I, offline tokens, log out) and `/logout`. */
@ApiExcludeController()
@Controller()
export class PagesController {
  constructor(
    private readonly pages: PagesService,
    private readonly users: UsersService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** Where a browser lands after logging out, or when its IdP session has ended. */
  @Public()
  @Get('logout')
  logout(@Query() query: LogoutQueryDto, @Res() res: Response): void {
    const providers = this.config.oidc.providers;
    const next = query.next ?? DEFAULT_LANDING;
    const chosen = providers.filter((p) => p.name === query.provider);
    const offered = chosen.length > 0 ? chosen : providers;
    const links = offered.map(
      (p) => html`<a class="button" href="${loginUrl(p.name, next)}">Log in again with ${p.displayName}</a> `,
    );
    const title = query.reason === 'expired' ? 'Your session has expired' : 'You are logged out';
    const message =
      query.reason === 'expired'
        ? 'Your login at the identity provider has ended, so Latchkey ended this session too.'
        : 'Your Latchkey session has ended in this browser.';
    this.pages.send(res, 200, title, html`<p>${message}</p><p>${links}</p>`);
  }

  /** The signed-in person: who they are, their external identities, offline tokens, log out. */
  @Get('account')
  async account(@CurrentPrincipal() principal: UserPrincipal, @Req() req: LatchkeyRequest, @Res() res: Response): Promise<void> {
    const identities = await this.users.identitiesOf(principal.userId);
    const providers = this.config.oidc.providers;
    const display = (name: string) => providers.find((p) => p.name === name)?.displayName ?? name;
    this.pages.send(
      res,
      200,
      'Your account',
      html`<p>Signed in as <strong id="username">${principal.username}</strong> (${principal.roles.join(', ')}).</p>
${identities.length > 0 ? html`<p class="muted">Linked: ${identities.map((i, n) => html`${n > 0 ? ', ' : ''}${display(i.provider)}`)}</p>` : ''}
${providers.map(
  (p) => html`<p><a class="button secondary" href="/${API_PREFIX}/auth/provider/${p.name}/offline-token">Get an offline token from ${p.displayName}</a></p>`,
)}
<form method="post" action="/${API_PREFIX}/auth/logout"><input type="hidden" name="csrf" value="${req.csrfToken}"><button type="submit">Log out</button></form>`,
    );
  }
}
