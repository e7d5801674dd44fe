import { ApiErrors } from '../common/errors/api-errors.decorator';
import { Controller, Delete, Get, HttpCode, Param } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '../common/http/api-docs';
import { CurrentPrincipal, RecentLogin, RequireScopes, SessionOnly } from '../common/auth/decorators';
import type { UserPrincipal } from '../common/auth/principal';
import { uuidOr404 } from '../common/http/uuid-param.pipe';
import { IdentityResponse, toIdentityResponse } from './dto/identity-response.dto';
import { UsersService } from './users.service';

/**
 * The caller's linked IdP accounts. Linking is interactive (a browser session, confirmed: `POST
 * /auth/provider/{p}/link`); unlinking needs a recent interactive login and is refused (409
 * LAST_LOGIN_METHOD) for the last identity of a user without a password.
 */
@ApiTags('users')
@Controller('users/me/identities')
export class IdentitiesController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @RequireScopes('read:account')
  @ApiOperation({ summary: 'Your linked identity provider accounts' })
  @ApiOkResponse({ type: [IdentityResponse] })
  async list(@CurrentPrincipal() principal: UserPrincipal): Promise<IdentityResponse[]> {
    return (await this.users.identitiesOf(principal.userId)).map(toIdentityResponse);
  }

  @Delete(':id')
  @SessionOnly()
  @RecentLogin()
  @RequireScopes('write:account')
  @HttpCode(204)
  @ApiOperation({ summary: 'Unlink one of your identity provider accounts (identity.unlinked)' })
  @ApiNoContentResponse()
  @ApiErrors('LAST_LOGIN_METHOD')
  async unlink(@Param('id', uuidOr404('IDENTITY_NOT_FOUND', 'No such linked identity.')) id: string, @CurrentPrincipal() principal: UserPrincipal): Promise<void> {
    await this.users.unlinkIdentity(principal.userId, id);
  }
}
