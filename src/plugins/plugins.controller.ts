import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScopes } from '../common/auth/decorators';
import type { UserPrincipal } from '../common/auth/principal';
import { AuditService } from '../audit/audit.service';
import { AuditPageResponse, toAuditPage } from '../audit/dto/audit-event-response.dto';
import { AuditQueryDto, toAuditFilters } from '../audit/dto/audit-query.dto';
import { CreatePluginDto } from './dto/create-plugin.dto';
import { PluginResponse, toPluginResponse } from './dto/plugin-response.dto';
import { PluginsService } from './plugins.service';

/**
 * Plugins and their maintainers. Any signed-in user may read (scope read:plugins); maintainers
 * manage (write:plugins). Maintainers are added by invitation only (PluginInvitationsController).
 */
@ApiTags('plugins')
@ApiBearerAuth()
@Controller('plugins')
export class PluginsController {
  constructor(
    private readonly plugins: PluginsService,
    private readonly audit: AuditService,
  ) {}

  /** Creates a plugin; the caller becomes its first maintainer. */
  @Post()
  @RequireScopes('write:plugins')
  @ApiCreatedResponse({ type: PluginResponse })
  async create(@Body() body: CreatePluginDto, @CurrentPrincipal() principal: UserPrincipal): Promise<PluginResponse> {
    const plugin = await this.plugins.create(principal, body.name, body.display_name);
    return toPluginResponse(await this.plugins.getWithMaintainers(plugin.name));
  }

  @Get()
  @RequireScopes('read:plugins')
  @ApiOkResponse({ type: [PluginResponse] })
  async list(): Promise<PluginResponse[]> {
    return (await this.plugins.list()).map(toPluginResponse);
  }

  @Get(':package')
  @RequireScopes('read:plugins')
  @ApiOkResponse({ type: PluginResponse })
  async get(@Param('package') name: string): Promise<PluginResponse> {
    return toPluginResponse(await this.plugins.getWithMaintainers(name));
  }

  /** The plugin's audit events (maintainers only): tokens, maintainers, uploads. */
  @Get(':package/audit')
  @RequireScopes('read:plugins')
  @ApiOkResponse({ type: AuditPageResponse })
  async events(@Param('package') name: string, @CurrentPrincipal() principal: UserPrincipal, @Query() q: AuditQueryDto): Promise<AuditPageResponse> {
    const plugin = await this.plugins.getMaintained(name, principal);
    return toAuditPage(await this.audit.list({ ...toAuditFilters(q), pluginId: plugin.id }));
  }

  /** Removes a maintainer (maintainers only, oneself included); never the last one. */
  @Delete(':package/maintainers/:username')
  @RequireScopes('write:plugins')
  @HttpCode(204)
  @ApiNoContentResponse()
  async removeMaintainer(
    @Param('package') name: string,
    @Param('username') username: string,
    @CurrentPrincipal() principal: UserPrincipal,
  ): Promise<void> {
    await this.plugins.removeMaintainer(await this.plugins.getMaintained(name, principal), username, principal);
  }
}
