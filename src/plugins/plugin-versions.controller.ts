import { Body, Controller, Get, Param, Post, Put, Res, StreamableFile, UploadedFile, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiCreatedResponse, ApiOkResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AcceptPluginToken, CurrentPrincipal, RequireScopes } from '../common/auth/decorators';
import type { Principal } from '../common/auth/principal';
import { PluginVersionResponse, toVersionResponse } from './dto/plugin-response.dto';
import type { IncomingFile } from './plugin-storage';
import { PluginVersionsService } from './plugin-versions.service';
import { PluginsService } from './plugins.service';
import { UploadInterceptor } from './upload.interceptor';

const UPLOAD_BODY = {
  schema: {
    type: 'object',
    properties: { version: { type: 'string', example: '1.0.0' }, file: { type: 'string', format: 'binary' }, notes: { type: 'string' } },
  },
};

/**
 * Plugin versions. Uploads take a maintainer's own credentials or a deploy token of this plugin
 * (`Authorization: Bearer lk_dpl_…` or `Apikey lk_dpl_…`); reads take any signed-in user whose credential carries read:plugins.
 */
@ApiTags('plugins')
@ApiBearerAuth()
@Controller('plugins/:package/versions')
export class PluginVersionsController {
  constructor(
    private readonly plugins: PluginsService,
    private readonly versions: PluginVersionsService,
  ) {}

  @Post()
  @AcceptPluginToken()
  @UseInterceptors(UploadInterceptor)
  @ApiSecurity('Apikey')
  @ApiConsumes('multipart/form-data')
  @ApiBody(UPLOAD_BODY)
  @ApiCreatedResponse({ type: PluginVersionResponse })
  async upload(
    @Param('package') name: string,
    @Body() body: Record<string, unknown>,
    @UploadedFile() file: IncomingFile | undefined,
    @CurrentPrincipal() principal: Principal,
  ): Promise<PluginVersionResponse> {
    const plugin = await this.plugins.getByName(name);
    await this.plugins.assertCanUpload(plugin, principal);
    return toVersionResponse(await this.versions.upload(plugin, principal, body?.version, file, body?.notes));
  }

  /** Replaces the file and/or the notes of an existing version. */
  @Put(':version')
  @AcceptPluginToken()
  @UseInterceptors(UploadInterceptor)
  @ApiSecurity('Apikey')
  @ApiConsumes('multipart/form-data')
  @ApiBody(UPLOAD_BODY)
  @ApiOkResponse({ type: PluginVersionResponse })
  async replace(
    @Param('package') name: string,
    @Param('version') version: string,
    @Body() body: Record<string, unknown>,
    @UploadedFile() file: IncomingFile | undefined,
    @CurrentPrincipal() principal: Principal,
  ): Promise<PluginVersionResponse> {
    const plugin = await this.plugins.getByName(name);
    await this.plugins.assertCanUpload(plugin, principal);
    return toVersionResponse(await this.versions.replace(plugin, principal, version, file, body?.notes));
  }

  @Get()
  @RequireScopes('read:plugins')
  @ApiOkResponse({ type: [PluginVersionResponse] })
  async list(@Param('package') name: string): Promise<PluginVersionResponse[]> {
    const plugin = await this.plugins.getByName(name);
    return (await this.versions.list(plugin)).map(toVersionResponse);
  }

  @Get(':version/download')
  @RequireScopes('read:plugins')
  @ApiOkResponse({ description: 'The package file' })
  async download(
    @Param('package') name: string,
    @Param('version') version: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    const plugin = await this.plugins.getByName(name);
    const row = await this.versions.get(plugin, version);
    const { stream, size } = await this.versions.open(row);
    res.setHeader('ETag', `"${row.sha256}"`);
    res.setHeader('X-Checksum-Sha256', row.sha256);
    return new StreamableFile(stream, {
      type: 'application/octet-stream',
      disposition: `attachment; filename="${row.filename}"`,
      length: size,
    });
  }
}
