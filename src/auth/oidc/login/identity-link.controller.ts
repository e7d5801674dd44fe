import { Body, Controller, Param, Post, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiConflictResponse, ApiForbiddenResponse, ApiOperation, ApiSeeOtherResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, RecentLogin, RequireScopes, SessionOnly } from '../../../common/auth/decorators';
import type { UserPrincipal } from '../../../common/auth/principal';
import type { LatchkeyRequest } from '../../../common/http/request-context';
import { BrowserFormGuard } from '../../../web/browser-form.guard';
import { CsrfFormDto } from '../../../web/dto/page-forms.dto';
import { PageErrorsFilter } from '../../../web/page-errors.filter';
import { OidcProviders } from '../oidc-providers';
import { LinkConfirmFormDto } from './dto/link-form.dto';
import { IdentityLinksService } from './identity-links.service';

/**
 * Linking an IdP account to the logged-in user (IdentityLinksService): two form posts of a
 * browser session (the `lk_session` cookie, so CsrfMiddleware checks them), each needing a
 * recent login and `write:account`. API keys, deploy tokens and access tokens get 403
 * SESSION_REQUIRED; an old login gets 401 REAUTH_REQUIRED.
 */
@ApiTags('auth')
@UseFilters(PageErrorsFilter)
@Controller('auth/provider/:provider/link')
export class IdentityLinkController {
  constructor(
    private readonly providers: OidcProviders,
    private readonly links: IdentityLinksService,
  ) {}

  /** Starts linking: redirects to the IdP, whose callback shows the confirmation page. */
  @Post()
  @UseGuards(BrowserFormGuard)
  @SessionOnly()
  @RecentLogin()
  @RequireScopes('write:account')
  @ApiOperation({ summary: 'Link an account at this identity provider to you (browser session only): redirects to the IdP' })
  @ApiSeeOtherResponse({ description: 'Redirect to the identity provider; its callback asks for confirmation' })
  @ApiForbiddenResponse({ description: 'SESSION_REQUIRED (not a browser session), CSRF_FAILED, INSUFFICIENT_SCOPE, SERVICE_PRINCIPAL_NO_LOGIN' })
  @ApiUnauthorizedResponse({ description: 'REAUTH_REQUIRED: the login is older than RECENT_LOGIN_MAX_AGE' })
  async start(
    @Param('provider') provider: string,
    @Body() _form: CsrfFormDto,
    @CurrentPrincipal() principal: UserPrincipal,
    @Req() req: LatchkeyRequest,
    @Res() res: Response,
  ): Promise<void> {
    this.providers.get(provider);
    const url = await this.links.start(req, provider, principal);
    res.set('Cache-Control', 'no-store').redirect(303, url);
  }

  /** The confirmation page's post: links the IdP account (once), then back to /account. */
  @Post('confirm')
  @UseGuards(BrowserFormGuard)
  @SessionOnly()
  @RecentLogin()
  @RequireScopes('write:account')
  @ApiOperation({ summary: 'Confirm linking an identity provider account (the form of the confirmation page)' })
  @ApiConflictResponse({ description: 'IDENTITY_ALREADY_LINKED' })
  async confirm(
    @Param('provider') provider: string,
    @Body() form: LinkConfirmFormDto,
    @CurrentPrincipal() principal: UserPrincipal,
    @Req() req: LatchkeyRequest,
    @Res() res: Response,
  ): Promise<void> {
    this.providers.get(provider);
    await this.links.confirm(req, res, provider, principal, form.link);
    res.set('Cache-Control', 'no-store').redirect(303, '/account?done=identity-linked#identities');
  }
}
