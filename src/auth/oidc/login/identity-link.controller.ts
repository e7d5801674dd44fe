import { ApiErrors } from '../../../common/errors/api-errors.decorator';
import { Body, Controller, Param, Post, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiSeeOtherResponse, ApiTags } from '../../../common/http/api-docs';
import { CurrentPrincipal, RecentLogin, RequireScopes, SessionOnly } from '../../../common/auth/decorators';
import type { UserPrincipal } from '../../../common/auth/principal';
import type { LatchkeyRequest, LatchkeyReply } from '../../../common/http/request-context';
import { BrowserFormGuard } from '../../../common/html/browser-form.guard';
import { CsrfFormDto } from '../../../common/html/csrf-form.dto';
import { PageErrorsFilter } from '../../../common/html/page-errors.filter';
import { OidcProviders } from '../oidc-providers';
import { LinkConfirmFormDto } from './dto/link-form.dto';
import { IdentityLinksService } from './identity-links.service';

/**
 * Linking an IdP account to the logged-in user (IdentityLinksService): two form posts of a
 * browser session (the `lk_session` cookie, so CsrfCheck checks them), each needing a
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
  @ApiErrors('PROVIDER_NOT_FOUND', 'SERVICE_PRINCIPAL_NO_LOGIN')
  async start(
    @Param('provider') provider: string,
    @Body() _form: CsrfFormDto,
    @CurrentPrincipal() principal: UserPrincipal,
    @Req() req: LatchkeyRequest,
    @Res() res: LatchkeyReply,
  ): Promise<void> {
    this.providers.get(provider);
    const url = await this.links.start(req, provider, principal);
    res.header('Cache-Control', 'no-store').redirect(url, 303);
  }

  /** The confirmation page's post: links the IdP account (once), then back to /account. */
  @Post('confirm')
  @UseGuards(BrowserFormGuard)
  @SessionOnly()
  @RecentLogin()
  @RequireScopes('write:account')
  @ApiOperation({ summary: 'Confirm linking an identity provider account (the form of the confirmation page)' })
  @ApiErrors('IDENTITY_LINK_INVALID', 'IDENTITY_ALREADY_LINKED')
  async confirm(
    @Param('provider') provider: string,
    @Body() form: LinkConfirmFormDto,
    @CurrentPrincipal() principal: UserPrincipal,
    @Req() req: LatchkeyRequest,
    @Res() res: LatchkeyReply,
  ): Promise<void> {
    this.providers.get(provider);
    await this.links.confirm(req, res, provider, principal, form.link);
    res.header('Cache-Control', 'no-store').redirect('/account?done=identity-linked#identities', 303);
  }
}
