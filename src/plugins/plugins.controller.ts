import { API_PREFIX } from '../common/http/base-url';
import { ApiErrors } from '../common/errors/api-errors.decorator';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '../common/http/api-docs';
import { CurrentPrincipal, RequireScopes } from '../common/auth/decorators';
import type { UserPrincipal } from '../common/auth/principal';
import { AuditService } from '../audit/audit.service';
import { AuditPageResponse, toAuditPage } from '../audit/dto/audit-event-response.dto';
import { AuditQueryDto, toAuditFilters } from '../audit/dto/audit-query.dto';
import { CreatePluginDto } from './dto/create-plugin.dto';
import { PluginResponse, toPluginResponse } from './dto/plugin-response.dto';
import { PluginsService } from './plugins.service';

/** The API's plugin collection, with the global prefix (see the controller). */
export const PLUGINS_API_ROOT = `${API_PREFIX}/plugins`;

/**
 * Plugins and their maintainers. Any signed-in user may read (scope read:plugins); maintainers
 * manage (write:plugins). Maintainers are added by invitation only (PluginInvitationsController).
 */
@ApiTags('plugins')
/**
 * The plugin list and create routes declare their whole path (`PLUGINS_API_ROOT`, left out of the
 * global prefix by configureApp): the page `/plugins` is the same path below the prefix, and Nest
 * excludes routes from the prefix by path pattern, so excluding the page would take these along.
 */
@Controller()
export class PluginsController {
  constructor(
    private readonly plugins: PluginsService,
    private readonly audit: AuditService,
  ) {}

  /** Creates a plugin; the caller becomes its first maintainer. */
  @Post(PLUGINS_API_ROOT)
  @RequireScopes('write:plugins')
  @ApiCreatedResponse({ type: PluginResponse })
  @ApiOperation({ summary: 'Create a plugin; I become its first maintainer' })
  @ApiErrors('PLUGIN_NAME_TAKEN')
  async create(@Body() body: CreatePluginDto, @CurrentPrincipal() principal: UserPrincipal): Promise<PluginResponse> {
    const plugin = await this.plugins.create(principal, body.name, body.display_name);
    return toPluginResponse(await this.plugins.getWithMaintainers(plugin.name));
  }

  @Get(PLUGINS_API_ROOT)
  @RequireScopes('read:plugins')
  @ApiOkResponse({ type: [PluginResponse] })
  @ApiOperation({ summary: 'List the plugins with their maintainers' })
  async list(): Promise<PluginResponse[]> {
    return (await this.plugins.list()).map(toPluginResponse);
  }

  @Get('plugins/:package')
  @RequireScopes('read:plugins')
  @ApiOkResponse({ type: PluginResponse })
  @ApiOperation({ summary: 'A plugin and its maintainers' })
  @ApiErrors('PLUGIN_NOT_FOUND')
  async get(@Param('package') name: string): Promise<PluginResponse> {
    return toPluginResponse(await this.plugins.getWithMaintainers(name));
  }

  /** The plugin's audit events (maintainers only): tokens, maintainers, uploads. */
  @Get('plugins/:package/audit')
  @RequireScopes('read:plugins')
  @ApiOkResponse({ type: AuditPageResponse })
  @ApiOperation({ summary: 'The plugin\'s audit events (maintainers only)', description: 'Deploy tokens created, rotated and revoked, maintainers added and removed, versions uploaded.' })
  @ApiErrors('PLUGIN_NOT_FOUND', 'PLUGIN_MAINTAINER_REQUIRED')
  async events(@Param('package') name: string, @CurrentPrincipal() principal: UserPrincipal, @Query() q: AuditQueryDto): Promise<AuditPageResponse> {
    const plugin = await this.plugins.getMaintained(name, principal);
    return toAuditPage(await this.audit.list({ ...toAuditFilters(q), pluginId: plugin.id }));
  }

  /** Removes a maintainer (maintainers only, oneself included); never the last one. */
  @Delete('plugins/:package/maintainers/:username')
  @RequireScopes('write:plugins')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiOperation({ summary: 'Remove a maintainer (oneself included; never the last one)' })
  @ApiErrors('PLUGIN_NOT_FOUND', 'PLUGIN_MAINTAINER_REQUIRED', 'NOT_A_MAINTAINER', 'LAST_MAINTAINER')
  async removeMaintainer(
    @Param('package') name: string,
    @Param('username') username: string,
    @CurrentPrincipal() principal: UserPrincipal,
  ): Promise<void> {
    await this.plugins.removeMaintainer(await this.plugins.getMaintained(name, principal), username, principal);
  }
}
