import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../common/auth/decorators';
import type { UserPrincipal } from '../common/auth/principal';
import { SessionsService } from '../sessions/sessions.service';
import { UsersService } from '../users/users.service';
import { ChangePasswordDto } from './dto/change-password.dto';

/** Self-service account actions that span users and sessions. */
@ApiTags('users')
@ApiBearerAuth()
@Controller('users/me')
export class AccountController {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
  ) {}

  /** Changes the password and ends every other session of the user (this one stays). */
  @Post('password')
  @HttpCode(204)
  @ApiNoContentResponse()
  async changePassword(@Body() body: ChangePasswordDto, @CurrentPrincipal() principal: UserPrincipal): Promise<void> {
    await this.users.changePassword(principal.userId, body.current_password, body.new_password);
    const keep = principal.credential.type === 'access_token' ? principal.credential.sessionId : undefined;
    await this.sessions.revokeAllForUser(principal.userId, 'password_change', keep);
  }
}
