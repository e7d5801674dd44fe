import { ApiErrors } from '../common/errors/api-errors.decorator';
import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '../common/http/api-docs';
import { CurrentPrincipal, RequireScopes } from '../common/auth/decorators';
import type { UserPrincipal } from '../common/auth/principal';
import { RateLimit } from '../common/rate-limit';
import { InviteMaintainerDto, PluginInvitationResponse, toInvitationResponse } from './dto/plugin-invitation.dto';
import { PluginInvitationsService } from './plugin-invitations.service';
import { PluginsService } from './plugins.service';

/**
 * A plugin's invitations, for its maintainers: invite a username, list the pending ones, revoke
 * one. Nobody becomes a maintainer until the invitee accepts (`/plugin-invitations`).
 */
@ApiTags('plugins')
@Controller('plugins/:package/invitations')
export class PluginInvitationsController {
  constructor(
    private readonly plugins: PluginsService,
    private readonly invitations: PluginInvitationsService,
  ) {}

  /** The same 201 for every well-formed username: an existing user, an unknown name, a maintainer already. */
  @Post()
  @RequireScopes('write:plugins')
  @RateLimit('create')
  @ApiOperation({
    summary: 'Invite a user to maintain the plugin (maintainers only)',
    description:
      'Stores a pending invitation for the username, replacing an earlier one of the same name. The answer is the same whether or not a user has that name (no username enumeration); an invitation to an unknown name can never be accepted. The invitee accepts at POST /plugin-invitations/{id}/accept.',
  })
  @ApiCreatedResponse({ type: PluginInvitationResponse })
  @ApiErrors('PLUGIN_NOT_FOUND', 'PLUGIN_MAINTAINER_REQUIRED')
  async invite(
    @Param('package') name: string,
    @Body() body: InviteMaintainerDto,
    @CurrentPrincipal() principal: UserPrincipal,
  ): Promise<PluginInvitationResponse> {
    const plugin = await this.plugins.getMaintained(name, principal);
    return toInvitationResponse(await this.invitations.invite(plugin, body.username, principal));
  }

  @Get()
  @RequireScopes('read:plugins')
  @ApiOperation({ summary: "The plugin's pending invitations (maintainers only)" })
  @ApiOkResponse({ type: [PluginInvitationResponse] })
  @ApiErrors('PLUGIN_NOT_FOUND', 'PLUGIN_MAINTAINER_REQUIRED')
  async list(@Param('package') name: string, @CurrentPrincipal() principal: UserPrincipal): Promise<PluginInvitationResponse[]> {
    const plugin = await this.plugins.getMaintained(name, principal);
    return (await this.invitations.pendingFor(plugin)).map((i) => toInvitationResponse({ ...i, plugin }));
  }

  @Delete(':id')
  @RequireScopes('write:plugins')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a pending invitation (any maintainer)' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse()
  @ApiErrors('PLUGIN_NOT_FOUND', 'PLUGIN_MAINTAINER_REQUIRED', 'INVITATION_NOT_FOUND')
  async revoke(@Param('package') name: string, @Param('id') id: string, @CurrentPrincipal() principal: UserPrincipal): Promise<void> {
    await this.invitations.revoke(await this.plugins.getMaintained(name, principal), id, principal);
  }
}

/**
 * The caller's own invitations: see them, accept (become a maintainer) or decline. A user
 * credential only (session, access token, API key with the scope); a deploy token never.
 */
@ApiTags('plugins')
@Controller('plugin-invitations')
export class MyPluginInvitationsController {
  constructor(private readonly invitations: PluginInvitationsService) {}

  @Get()
  @RequireScopes('read:plugins')
  @ApiOperation({ summary: 'My pending invitations to maintain plugins' })
  @ApiOkResponse({ type: [PluginInvitationResponse] })
  async mine(@CurrentPrincipal() principal: UserPrincipal): Promise<PluginInvitationResponse[]> {
    return (await this.invitations.mine(principal.userId)).map(toInvitationResponse);
  }

  @Post(':id/accept')
  @RequireScopes('write:plugins')
  @HttpCode(200)
  @ApiOperation({ summary: 'Accept an invitation: I become a maintainer of the plugin' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: PluginInvitationResponse, description: 'The accepted invitation' })
  @ApiErrors('INVITATION_NOT_FOUND', 'INVITATION_EXPIRED')
  async accept(@Param('id') id: string, @CurrentPrincipal() principal: UserPrincipal): Promise<PluginInvitationResponse> {
    return toInvitationResponse(await this.invitations.accept(id, principal));
  }

  @Post(':id/decline')
  @RequireScopes('write:plugins')
  @HttpCode(204)
  @ApiOperation({ summary: 'Decline an invitation' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse()
  @ApiErrors('INVITATION_NOT_FOUND')
  async decline(@Param('id') id: string, @CurrentPrincipal() principal: UserPrincipal): Promise<void> {
    await this.invitations.decline(id, principal);
  }
}
