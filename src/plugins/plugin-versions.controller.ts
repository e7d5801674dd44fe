import { ApiErrors } from '../common/errors/api-errors.decorator';
import { Body, Controller, Get, Param, Post, Put, Res, StreamableFile, UseInterceptors } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '../common/http/api-docs';
import { AcceptPluginToken, CurrentPrincipal, RequireScopes } from '../common/auth/decorators';
import type { Principal } from '../common/auth/principal';
import { PluginVersionResponse, toVersionResponse } from './dto/plugin-response.dto';
import type { IncomingFile } from './storage/plugin-storage';
import { PluginVersionsService } from './plugin-versions.service';
import { PluginsService } from './plugins.service';
import { UploadedPackage, UploadInterceptor } from './upload.interceptor';
import type { LatchkeyReply } from '../common/http/request-context';

const FILE = { type: 'string', format: 'binary', description: 'The package file (at most MAX_UPLOAD_BYTES).' };
const NOTES = { type: 'string', description: 'Release notes (plain text).' };
/** A new version: its number and file are required. */
const UPLOAD_BODY = {
  required: true,
  schema: {
    type: 'object',
    required: ['version', 'file'],
    properties: { version: { type: 'string', description: 'A semantic version, new for this plugin.', example: '1.0.0' }, file: FILE, notes: NOTES },
  },
};
/** A replacement: the file, the notes, or both (the version is in the path). */
const REPLACE_BODY = { required: true, schema: { type: 'object', properties: { file: FILE, notes: NOTES } } };

/**
 * Plugin versions. Uploads take a maintainer's own credentials or a deploy token of this plugin
 * (`Authorization: Bearer lk_dpl_…` or `Apikey lk_dpl_…`); reads take any signed-in user whose credential carries read:plugins.
 */
@ApiTags('plugins')
@Controller('plugins/:package/versions')
export class PluginVersionsController {
  constructor(
    private readonly plugins: PluginsService,
    private readonly versions: PluginVersionsService,
  ) {}

  @Post()
  @AcceptPluginToken()
  @UseInterceptors(UploadInterceptor)
  @ApiConsumes('multipart/form-data')
  @ApiBody(UPLOAD_BODY)
  @ApiCreatedResponse({ type: PluginVersionResponse })
  @ApiOperation({ summary: 'Upload a new version (a maintainer, or a deploy token of this plugin)', description: 'A `multipart/form-data` form: `version` (semantic version), `file` (the package) and optional `notes`. A deploy token may upload to its own plugin only; the version is then attributed to "Token {description}".' })
  @ApiErrors('PLUGIN_NOT_FOUND', 'PLUGIN_MAINTAINER_REQUIRED', 'PLUGIN_TOKEN_SCOPE_DENIED', 'INSUFFICIENT_SCOPE', 'FILE_REQUIRED', 'BAD_REQUEST', 'INVALID_VERSION', 'VERSION_EXISTS')
  async upload(
    @Param('package') name: string,
    @Body() body: Record<string, unknown>,
    @UploadedPackage() file: IncomingFile | undefined,
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
  @ApiConsumes('multipart/form-data')
  @ApiBody(REPLACE_BODY)
  @ApiOkResponse({ type: PluginVersionResponse })
  @ApiOperation({ summary: 'Replace the file and/or the notes of a version' })
  @ApiErrors('PLUGIN_NOT_FOUND', 'PLUGIN_MAINTAINER_REQUIRED', 'PLUGIN_TOKEN_SCOPE_DENIED', 'INSUFFICIENT_SCOPE', 'FILE_REQUIRED', 'BAD_REQUEST', 'VERSION_NOT_FOUND')
  async replace(
    @Param('package') name: string,
    @Param('version') version: string,
    @Body() body: Record<string, unknown>,
    @UploadedPackage() file: IncomingFile | undefined,
    @CurrentPrincipal() principal: Principal,
  ): Promise<PluginVersionResponse> {
    const plugin = await this.plugins.getByName(name);
    await this.plugins.assertCanUpload(plugin, principal);
    return toVersionResponse(await this.versions.replace(plugin, principal, version, file, body?.notes));
  }

  @Get()
  @RequireScopes('read:plugins')
  @ApiOkResponse({ type: [PluginVersionResponse] })
  @ApiOperation({ summary: 'List the plugin\'s versions' })
  @ApiErrors('PLUGIN_NOT_FOUND')
  async list(@Param('package') name: string): Promise<PluginVersionResponse[]> {
    const plugin = await this.plugins.getByName(name);
    return (await this.versions.list(plugin)).map(toVersionResponse);
  }

  @Get(':version/download')
  @RequireScopes('read:plugins')
  @ApiOkResponse({ description: 'The package file' })
  @ApiOperation({ summary: 'Download a version\'s file' })
  @ApiErrors('PLUGIN_NOT_FOUND', 'VERSION_NOT_FOUND')
  async download(
    @Param('package') name: string,
    @Param('version') version: string,
    @Res({ passthrough: true }) res: LatchkeyReply,
  ): Promise<StreamableFile> {
    const plugin = await this.plugins.getByName(name);
    const row = await this.versions.get(plugin, version);
    const { stream, size } = await this.versions.open(row);
    res.header('ETag', `"${row.sha256}"`);
    res.header('X-Checksum-Sha256', row.sha256);
    return new StreamableFile(stream, {
      type: 'application/octet-stream',
      disposition: `attachment; filename="${row.filename}"`,
      length: size,
    });
  }
}
