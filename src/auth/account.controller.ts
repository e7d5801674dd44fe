import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { CurrentPrincipal, SessionOnly } from '../common/auth/decorators';
import { sessionIdOf, type UserPrincipal } from '../common/auth/principal';
import { SessionsService } from '../sessions/sessions.service';
import { UsersService } from '../users/users.service';
import { ChangePasswordDto } from './dto/change-password.dto';

class RevokeAllResponse {
  @ApiProperty({ description: "The user's new epoch" }) epoch: number;
  @ApiProperty() sessions_revoked: number;
  @ApiProperty() api_keys_revoked: number;
}

/** Self-service account actions that span users, sessions and API keys. */
@ApiTags('users')
@ApiBearerAuth()
@Controller('users/me')
export class AccountController {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  /**
   * Revoke everything: bumps the user's epoch, so every access token, session and API key the
   * user holds stops working (at once on this instance, within USER_CACHE_TTL on others), and
   * marks the sessions and keys revoked. The caller logs in again.
   */
  @Post('revoke-all')
  @SessionOnly()
  @HttpCode(200)
  @ApiOkResponse({ type: RevokeAllResponse })
  async revokeAll(@CurrentPrincipal() principal: UserPrincipal): Promise<RevokeAllResponse> {
    const epoch = await this.users.bumpEpoch(principal.userId);
    const [sessions, apiKeys] = await Promise.all([
      this.sessions.revokeAllForUser(principal.userId, 'revoke_all'),
      this.apiKeys.revokeAllForUser(principal.userId),
    ]);
    return { epoch, sessions_revoked: sessions, api_keys_revoked: apiKeys };
  }

  /** Changes the password and ends every other session of the user (this one stays). */
  @Post('password')
  @SessionOnly()
  @HttpCode(204)
  @ApiNoContentResponse()
  async changePassword(@Body() body: ChangePasswordDto, @CurrentPrincipal() principal: UserPrincipal): Promise<void> {
    await this.users.changePassword(principal.userId, body.current_password, body.new_password);
    const keep = sessionIdOf(principal);
    await this.sessions.revokeAllForUser(principal.userId, 'password_change', keep);
  }
}
