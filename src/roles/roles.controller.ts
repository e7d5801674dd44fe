import { ApiErrors } from '../common/errors/api-errors.decorator';
import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '../common/http/api-docs';
import { CurrentPrincipal, RecentLogin, Roles } from '../common/auth/decorators';
import type { UserPrincipal } from '../common/auth/principal';
import { Role } from '../common/auth/scopes';
import { RoleResponse, SaveRoleDto } from './dto/role.dto';
import { RolesService, type RoleView } from './roles.service';

const view = (r: RoleView): RoleResponse => ({ name: r.name, description: r.description, scopes: r.scopes, built_in: r.builtIn });

/** Roles, for administrators: the built-in ones and custom ones (name → scopes). */
@ApiTags('admin')
@Roles(Role.Admin)
@Controller('admin/roles')
export class RolesController {
  constructor(private readonly roles: RolesService) {}

  @Get()
  @ApiOkResponse({ type: [RoleResponse] })
  @ApiOperation({ summary: 'List the roles (built-in and custom) with their scopes' })
  async list(): Promise<RoleResponse[]> {
    return (await this.roles.list()).map(view);
  }

  /** Creates a custom role or replaces its scopes (`role.saved`). Needs a recent login, as granting a role does. */
  @Put(':name')
  @RecentLogin()
  @ApiOkResponse({ type: RoleResponse })
  @ApiOperation({ summary: 'Create a custom role or replace its scopes', description: 'Needs a recent interactive login, as granting a role does. Scopes an administrator alone may hold cannot be given to a custom role.' })
  @ApiErrors('BUILT_IN_ROLE')
  async save(@Param('name') name: string, @Body() body: SaveRoleDto, @CurrentPrincipal() principal: UserPrincipal): Promise<RoleResponse> {
    return view(await this.roles.save(name, { scopes: body.scopes, description: body.description }, principal));
  }

  /** Deletes a custom role nobody holds (409 `ROLE_IN_USE` otherwise; `role.deleted`). */
  @Delete(':name')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiOperation({ summary: 'Delete a custom role nobody holds' })
  @ApiErrors('ROLE_NOT_FOUND', 'ROLE_IN_USE', 'BUILT_IN_ROLE')
  async delete(@Param('name') name: string, @CurrentPrincipal() principal: UserPrincipal): Promise<void> {
    await this.roles.delete(name, principal);
  }
}
