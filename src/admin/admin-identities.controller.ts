import { ApiErrors } from '../common/errors/api-errors.decorator';
import { Controller, Delete, Get, HttpCode, Param } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '../common/http/api-docs';
import { Roles } from '../common/auth/decorators';
import { Role } from '../common/auth/scopes';
import { IdentityResponse, toIdentityResponse } from '../users/dto/identity-response.dto';
import { UsersService } from '../users/users.service';
import { uuidOr404 } from '../common/http/uuid-param.pipe';

const userId = () => uuidOr404('USER_NOT_FOUND', 'No such user.');

/**
 * A user's linked IdP accounts, for administrators: list, and unlink one that should not be
 * there (`identity.unlinked`, the administrator as actor). Linking stays the user's own,
 * interactive act. The last identity of a user without a password is not unlinked (409
 * LAST_LOGIN_METHOD): disable or delete the user instead.
 */
@ApiTags('admin')
@Roles(Role.Admin)
@Controller('admin/users/:id/identities')
export class AdminIdentitiesController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ summary: "A user's linked identity provider accounts" })
  @ApiOkResponse({ type: [IdentityResponse] })
  async list(@Param('id', userId()) id: string): Promise<IdentityResponse[]> {
    await this.users.getById(id);
    return (await this.users.identitiesOf(id)).map(toIdentityResponse);
  }

  @Delete(':identityId')
  @HttpCode(204)
  @ApiOperation({ summary: "Unlink one of a user's identity provider accounts (identity.unlinked)" })
  @ApiNoContentResponse()
  @ApiErrors('LAST_LOGIN_METHOD')
  async unlink(@Param('id', userId()) id: string, @Param('identityId', uuidOr404('IDENTITY_NOT_FOUND', 'No such linked identity.')) identityId: string): Promise<void> {
    await this.users.unlinkIdentity(id, identityId);
  }
}
