import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RecentLogin, SessionOnly } from '../common/auth/decorators';
import { sessionIdOf, type UserPrincipal } from '../common/auth/principal';
import { SessionsService } from '../sessions/sessions.service';
import { UsersService } from '../users/users.service';
import { ChangePasswordDto } from './dto/change-password.dto';
import { RevokeAllResponse, toRevokeAllResponse } from './dto/revoke-all-response.dto';

/**
 * Self-service account actions that span users, sessions and API keys. Both take over or lock
 * out the account, so both need an interactive login, and a recent one (RECENT_LOGIN_MAX_AGE):
 * a stolen access token or browser session that is hours old cannot use them.
 */
@ApiTags('users')
@ApiBearerAuth()
@Controller('users/me')
export class AccountController {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
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
  async revokeAll(@CurrentPrincipal() principal: UserPrincipal): Promise<RevokeAllResponse> {
    return toRevokeAllResponse(await this.users.revokeAll(principal.userId));
  }

  /** Changes the password and ends every other session of the user (this one stays). */
  @Post('password')
  @SessionOnly()
  @RecentLogin()
  @HttpCode(204)
  @ApiNoContentResponse()
  async changePassword(@Body() body: ChangePasswordDto, @CurrentPrincipal() principal: UserPrincipal): Promise<void> {
    await this.users.changePassword(principal.userId, body.current_password, body.new_password);
    const keep = sessionIdOf(principal);
    await this.sessions.revokeAllForUser(principal.userId, 'password_change', keep);
  }
}
