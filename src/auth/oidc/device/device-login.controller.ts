import { ApiErrors } from '../../../common/errors/api-errors.decorator';
import { Body, Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '../../../common/http/api-docs';
import { Public } from '../../../common/auth/decorators';
import { RateLimit } from '../../../common/rate-limit';
import { safeEqual } from '../../../common/auth/token-format';
import { AppError } from '../../../common/errors/app-error';
import { apiBase, origin } from '../../../common/http/base-url';
import { CSRF_COOKIE } from '../../../common/http/csrf.check';
import { type LatchkeyRequest, type LatchkeyReply, prefersHtml } from '../../../common/http/request-context';
import { AppConfig, InjectConfig } from '../../../config/app.config';
import type { User } from '../../../users/user.entity';
import { assertCanLogIn, UsersService } from '../../../users/users.service';
import { PagesService } from '../../../common/html/pages.service';
import { clientInfo } from '../../auth.controller';
import { OidcProviders } from '../oidc-providers';
import { type Approver, DEVICE_APPROVER_MAX_WRONG_CODES, DEVICE_LOGIN_TTL, DEVICE_POLL_INTERVAL, DeviceLoginsService } from './device-logins.service';
import { deviceAuthorizePath, sendApproved, sendUserCodeForm } from './device-pages';
import { DeviceAuthorizationResponse } from './dto/device-authorization-response.dto';
import { UserCodeFormDto } from './dto/user-code-form.dto';
import { SendsSecret } from '../../../common/http/sends-secret.decorator';

/**
 * The device-code login through an external provider (Tiled contract §6.2), the two routes of
 * its own: the program's start (`POST …/authorize`, beside the browser's `GET …/authorize`) and
 * the browser's approval (`POST …/device_code`, the form the login callback shows for a login
 * started with `?device=1`). The program polls `POST …/token` (AuthController).
 */
@ApiTags('auth')
@Controller('auth/provider/:provider')
export class DeviceLoginController {
  constructor(
    private readonly providers: OidcProviders,
    private readonly deviceLogins: DeviceLoginsService,
    private readonly users: UsersService,
    private readonly pages: PagesService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** Starts a device-code login (`tiled login`): the program opens `authorization_uri` and polls `verification_uri`. */
  @Public()
  @RateLimit('public')
  @Post('authorize')
  @HttpCode(200)
  @SendsSecret() // the device code
  @ApiOkResponse({ type: DeviceAuthorizationResponse })
  @ApiOperation({ summary: 'Start a device-code login (what `tiled login` does)', description: 'The program shows `user_code`, opens `authorization_uri` in a browser and polls `POST …/token` with `device_code` until the login is approved.' })
  @ApiErrors('PROVIDER_NOT_FOUND')
  async start(@Param('provider') provider: string, @Req() req: LatchkeyRequest): Promise<DeviceAuthorizationResponse> {
    this.providers.get(provider);
    const { deviceCode, userCode } = await this.deviceLogins.start(provider);
    return {
      authorization_uri: `${origin(req, this.config.publicUrl, this.config.trustProxy)}${deviceAuthorizePath(provider)}`,
      verification_uri: `${apiBase(req, this.config.publicUrl, this.config.trustProxy)}/auth/provider/${provider}/token`,
      interval: DEVICE_POLL_INTERVAL,
      device_code: deviceCode,
      expires_in: DEVICE_LOGIN_TTL,
      user_code: `${userCode.slice(0, 4)}-${userCode.slice(4)}`,
    };
  }

  /**
   * The "Authorize the session" form's post. The approver is whom the IdP logged in in this
   * browser (sealed cookie, set by the callback), never a form field. The form is CSRF-checked
   * here: the CSRF check looks only at requests with a credential cookie, and this one has none.
   */
  @Public()
  @RateLimit('public')
  @Post('device_code')
  @HttpCode(200)
  @ApiExcludeEndpoint()
  async approve(
    @Param('provider') provider: string,
    @Body() form: UserCodeFormDto,
    @Req() req: LatchkeyRequest,
    @Res() res: LatchkeyReply,
  ): Promise<void> {
    const { displayName } = this.providers.get(provider).config;
    const page = prefersHtml(req);
    let approver: { user: User; subject: string; approval: Approver } | undefined;
    try {
      approver = await this.approver(req, provider, form.csrf, displayName);
      try {
        await this.deviceLogins.approve(provider, form.user_code, approver.user, approver.subject, clientInfo(req));
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'USER_CODE_INVALID') throw err;
        // Wrong codes are counted per IdP login; after the last one allowed, the approval is forgotten.
        if (await this.deviceLogins.wrongCode(approver.approval)) {
          this.deviceLogins.forgetApprover(res, provider);
          throw tooManyWrongCodes(displayName);
        }
        throw err;
      }
      this.deviceLogins.forgetApprover(res, provider);
      sendApproved(this.pages, res, approver.user.username);
    } catch (err) {
      if (!(err instanceof AppError) || !page) throw err;
      if (err.code === 'USER_CODE_INVALID' && approver) {
        const { username } = approver.user;
        return sendUserCodeForm(this.pages, res, { status: err.status, provider, displayName, username, csrf: req.csrfToken!, error: err.message });
      }
      const label = err.code === 'IDP_LOGIN_REQUIRED' ? `Log in again with ${displayName}` : 'Start again';
      this.pages.error(res, err.status, 'The session was not authorized', err.message, { href: deviceAuthorizePath(provider), label });
    }
  }

  /** The user who may approve: the form must carry this browser's CSRF value, and the browser the sealed approver cookie. */
  private async approver(req: LatchkeyRequest, provider: string, csrf: string | undefined, displayName: string) {
    const cookie = (req.cookies as Record<string, unknown> | undefined)?.[CSRF_COOKIE];
    if (typeof cookie !== 'string' || typeof csrf !== 'string' || !safeEqual(csrf, cookie)) {
      throw new AppError('CSRF_FAILED', 'This form has expired or did not come from this site. Start again.');
    }
    const approver = this.deviceLogins.approverOf(req, provider);
    const user = approver && (await this.users.findById(approver.userId));
    if (!approver || !user) {
      throw new AppError('IDP_LOGIN_REQUIRED', `Your ${displayName} login for this approval is over, or was made in another browser. Start again.`);
    }
    if (await this.deviceLogins.approverForgotten(approver)) throw tooManyWrongCodes(displayName);
    if (user.status !== 'active') throw new AppError('AUTH_USER_INACTIVE', 'This account is disabled.');
    assertCanLogIn(user);
    return { user, subject: approver.subject, approval: approver };
  }
}

function tooManyWrongCodes(displayName: string): AppError {
  return new AppError(
    'IDP_LOGIN_REQUIRED',
    `${DEVICE_APPROVER_MAX_WRONG_CODES} wrong codes were entered after this ${displayName} login, so it can no longer approve anything. Log in again to enter a code.`,
  );
}
