import { ApiErrors } from '../common/errors/api-errors.decorator';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '../common/http/api-docs';
import { RevokeAllResponse } from '../auth/dto/revoke-all-response.dto';
import { CurrentPrincipal, Roles } from '../common/auth/decorators';
import type { UserPrincipal } from '../common/auth/principal';
import { Role } from '../common/auth/scopes';
import { AdminUsersService } from './admin-users.service';
import { AdminUserPage, AdminUserResponse, CreateUserDto, DeletedUserResponse, ListUsersQueryDto, SetGroupsDto, SetRolesDto } from './dto/admin-user.dto';
import { pageOf } from './dto/page.dto';
import { uuidOr404 } from '../common/http/uuid-param.pipe';

const userId = () => uuidOr404('USER_NOT_FOUND', 'No such user.');

/**
 * Users, for administrators. Removing the last active administrator (disable, delete, drop the
 * role) is a 409 LAST_ADMIN; making someone an administrator needs a recent login.
 */
@ApiTags('admin')
@Roles(Role.Admin)
@Controller('admin/users')
export class AdminUsersController {
  constructor(private readonly admin: AdminUsersService) {}

  /** Users and service principals, oldest first, each with its last activity. */
  @Get()
  @ApiOkResponse({ type: AdminUserPage })
  @ApiOperation({ summary: 'List users and service principals', description: 'Oldest first, each with its last activity; filter by status, role, kind and name.' })
  list(@Query() q: ListUsersQueryDto): Promise<AdminUserPage> {
    return this.admin.list({ ...pageOf(q), status: q.status, role: q.role, kind: q.kind, name: q.name });
  }

  @Post()
  @ApiCreatedResponse({ type: AdminUserResponse })
  @ApiOperation({ summary: 'Create a user', description: 'Making someone an administrator needs a recent interactive login.' })
  @ApiErrors('USERNAME_TAKEN', 'PASSWORD_POLICY', 'REAUTH_REQUIRED', 'SESSION_REQUIRED')
  create(@Body() body: CreateUserDto, @CurrentPrincipal() principal: UserPrincipal): Promise<AdminUserResponse> {
    return this.admin.create(body, principal);
  }

  @Get(':id')
  @ApiOkResponse({ type: AdminUserResponse })
  @ApiOperation({ summary: 'A user' })
  get(@Param('id', userId()) id: string): Promise<AdminUserResponse> {
    return this.admin.get(id);
  }

  /** Replaces the user's roles (`user.roles_changed`, before and after). */
  @Put(':id/roles')
  @ApiOkResponse({ type: AdminUserResponse })
  @ApiOperation({ summary: 'Replace a user\'s roles', description: 'Granting the admin role needs a recent interactive login; the last active administrator keeps it.' })
  @ApiErrors('LAST_ADMIN', 'REAUTH_REQUIRED', 'SESSION_REQUIRED')
  setRoles(@Param('id', userId()) id: string, @Body() body: SetRolesDto, @CurrentPrincipal() principal: UserPrincipal): Promise<AdminUserResponse> {
    return this.admin.setRoles(id, body.roles, principal);
  }

  /**
   * Replaces the user's groups (`user.groups_changed`). Carried in their next access token and in
   * introspection. With OIDC_<P>_GROUPS_CLAIM set, the user's next IdP login replaces them again.
   */
  @Put(':id/groups')
  @ApiOkResponse({ type: AdminUserResponse })
  @ApiOperation({ summary: 'Replace a user\'s groups', description: 'Carried in their next access token and in introspection. With OIDC_<P>_GROUPS_CLAIM set, their next IdP login replaces them again.' })
  setGroups(@Param('id', userId()) id: string, @Body() body: SetGroupsDto, @CurrentPrincipal() principal: UserPrincipal): Promise<AdminUserResponse> {
    return this.admin.setGroups(id, body.groups, principal);
  }

  /** Refuses every credential of the user until re-enabled; nothing is revoked. */
  @Post(':id/disable')
  @HttpCode(200)
  @ApiOkResponse({ type: AdminUserResponse })
  @ApiOperation({ summary: 'Disable a user: every credential they hold is refused until re-enabled' })
  @ApiErrors('LAST_ADMIN')
  disable(@Param('id', userId()) id: string): Promise<AdminUserResponse> {
    return this.admin.setStatus(id, 'disabled');
  }

  @Post(':id/enable')
  @HttpCode(200)
  @ApiOkResponse({ type: AdminUserResponse })
  @ApiOperation({ summary: 'Enable a disabled user' })
  enable(@Param('id', userId()) id: string): Promise<AdminUserResponse> {
    return this.admin.setStatus(id, 'active');
  }

  /** What `POST /users/me/revoke-all` does, for any user. */
  @Post(':id/revoke-all')
  @HttpCode(200)
  @ApiOkResponse({ type: RevokeAllResponse })
  @ApiOperation({ summary: 'Revoke everything a user holds (sessions, access tokens, API keys)' })
  revokeAll(@Param('id', userId()) id: string): Promise<RevokeAllResponse> {
    return this.admin.revokeAll(id);
  }

  /** Deletes the user with their sessions, API keys and identities (`user.deleted`). */
  @Delete(':id')
  @ApiOkResponse({ type: DeletedUserResponse })
  @ApiOperation({ summary: 'Delete a user with their sessions, API keys and identities' })
  @ApiErrors('LAST_ADMIN')
  delete(@Param('id', userId()) id: string): Promise<DeletedUserResponse> {
    return this.admin.delete(id);
  }
}
