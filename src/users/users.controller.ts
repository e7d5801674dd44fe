import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '../common/http/api-docs';
import { CurrentPrincipal, RequireScopes } from '../common/auth/decorators';
import type { UserPrincipal } from '../common/auth/principal';
import { toUserResponse, UserResponse } from './dto/user-response.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('me')
  @RequireScopes('read:account')
  @ApiOkResponse({ type: UserResponse })
  @ApiOperation({ summary: 'My account' })
  async me(@CurrentPrincipal() principal: UserPrincipal): Promise<UserResponse> {
    return toUserResponse(await this.users.getById(principal.userId));
  }
}
