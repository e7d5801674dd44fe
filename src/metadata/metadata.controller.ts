import { Controller, Get, Param, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { RequireScopes, TiledCompatible } from '../common/auth/decorators';
import { AppError } from '../common/errors/app-error';
import type { LatchkeyRequest } from '../common/http/request-context';
import { apiBase } from '../common/http/base-url';
import { AppConfig, InjectConfig } from '../config/app.config';

/**
 * A consumer of Latchkey's guards, as any other Nest module would be: it imports nothing from
 * the auth feature modules, only decorators from `common/auth`. It serves the Tiled metadata
 * root as an empty container, which is what the Tiled client reads after logging in to an
 * auth-only server; every other path is 404 (after the scope check).
 */
@ApiTags('metadata')
@ApiBearerAuth()
@ApiSecurity('Apikey')
@TiledCompatible()
@RequireScopes('read:metadata')
@Controller('metadata')
export class MetadataController {
  constructor(@InjectConfig() private readonly config: AppConfig) {}

  @Get()
  @ApiOkResponse({ description: 'The root node: an empty container' })
  root(@Req() req: LatchkeyRequest) {
    const base = apiBase(req, this.config.publicUrl, this.config.trustProxy);
    const self = `${base}/metadata/`;
    return {
      data: {
        id: '',
        attributes: {
          ancestors: [],
          structure_family: 'container',
          specs: [],
          metadata: {},
          structure: { contents: null, count: 0 },
          access_blob: {},
          sorting: null,
          data_sources: null,
        },
        links: { self, search: `${base}/search/` },
        meta: null,
      },
      error: null,
      links: null,
      meta: {},
    };
  }

  @Get('*path')
  node(@Param('path') path: string[] | string) {
    const name = [path].flat().join('/');
    throw new AppError('NOT_FOUND', `No such entry: /${name.slice(0, 200)}`);
  }
}
