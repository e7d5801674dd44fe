import { ApiErrors } from '../common/errors/api-errors.decorator';
import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '../common/http/api-docs';
import { CurrentPrincipal, RecentLogin, SessionOnly } from '../common/auth/decorators';
import { sessionIdOf, type UserPrincipal } from '../common/auth/principal';
import { SessionsService } from '../sessions/sessions.service';
import { UsersService } from '../users/users.service';
import { BrowserSessionsService } from './browser-sessions/browser-sessions.service';
import { SendsSecret } from '../common/http/sends-secret.decorator';
import { ChangePasswordDto } from './dto/change-password.dto';
import { RefreshResponse } from './dto/token-response.dto';
import { RevokeAllResponse, toRevokeAllResponse } from './dto/revoke-all-response.dto';
import type { LatchkeyReply } from '../common/http/request-context';

/**
 * Self-service account actions that span users, sessions and API keys. Both take over or lock
 * out the account, so both need an interactive login, and a recent one (RECENT_LOGIN_MAX_AGE):
 * a stolen access token or browser session that is hours old cannot use them.
 */
@ApiTags('users')
@Controller('users/me')
export class AccountController {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly browserSessions: BrowserSessionsService,
  ) {}

  /**
   * Revoke everything: bumps the user's epoch, so every access token, session and API key the
   * user holds stops working (at once on this instance, within USER_CACHE_TTL on others), and
   * marks the sessions and keys revoked. The caller logs in again.
   */
  @Post('revoke-all')
  @SessionOnly()
  @RecentLogin()
  @HttpCode(200)
  @ApiOkResponse({ type: RevokeAllResponse })
  @ApiOperation({ summary: 'Revoke everything I hold: every session, access token and API key', description: 'Bumps my epoch, so every credential I hold stops working (at once here, within USER_CACHE_TTL on other instances). Needs a recent interactive login; I log in again afterwards.' })
  async revokeAll(@CurrentPrincipal() principal: UserPrincipal): Promise<RevokeAllResponse> {
    return toRevokeAllResponse(await this.users.revokeAll(principal.userId));
  }

  /**
   * Changes the password, revokes every other session of the user (their access tokens refused
   * at once) and rotates this one: every refresh token it had stops working (a copy a thief
   * holds included). Called with an access token: 200 and the session's new token pair (the
   * access token used for the call stays valid until it expires). Called with a browser
   * session: 204 and a new session cookie, the old cookie stops working.
   */
  @Post('password')
  @SessionOnly()
  @RecentLogin()
  @SendsSecret() // the rotated session's refresh token (or its new cookie)
  @ApiOperation({ summary: 'Change the password; ends the other sessions and rotates this one' })
  @ApiOkResponse({ type: RefreshResponse, description: 'Called with an access token: the new token pair of this session' })
  @ApiNoContentResponse({ description: 'Called with a browser session: a new session cookie is set' })
  @ApiErrors('PASSWORD_INCORRECT', 'PASSWORD_POLICY')
  async changePassword(@Body() body: ChangePasswordDto, @CurrentPrincipal() principal: UserPrincipal, @Res() res: LatchkeyReply): Promise<void> {
    await this.users.changePassword(principal.userId, body.current_password, body.new_password);
    const sessionId = sessionIdOf(principal)!; // @SessionOnly: an access token or a browser session
    const api = principal.credential.type === 'access_token';
    const tokens = await this.sessions.rotateAfterPasswordChange(principal.userId, sessionId, api);
    if (!tokens) await this.browserSessions.rotateCookie(sessionId, res);
    // The status depends on the credential, so the handler answers itself.
    if (tokens) res.status(200).send(tokens satisfies RefreshResponse);
    else res.code(204).send();
  }
}
