import { ApiErrors } from '../common/errors/api-errors.decorator';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '../common/http/api-docs';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { CreateApiKeyDto } from '../api-keys/dto/create-api-key.dto';
import { TiledApiKeyWithSecret, toTiledApiKey } from '../api-keys/dto/api-key-response.dto';
import { PrincipalResponse } from '../auth/dto/whoami-response.dto';
import { CurrentPrincipal, RequireScopes, TiledCompatible } from '../common/auth/decorators';
import type { UserPrincipal } from '../common/auth/principal';
import { AppError } from '../common/errors/app-error';
import { UsersService } from '../users/users.service';
import { AdminUsersService } from './admin-users.service';
import { CreatePrincipalQueryDto, ListPrincipalsQueryDto, principalPage } from './dto/tiled-principal.dto';
import { UuidParamPipe } from '../common/http/uuid-param.pipe';
import { SendsSecret } from '../common/http/sends-secret.decorator';

/** Tiled answers a malformed principal id with 422. */
const principalId = () => new UuidParamPipe('VALIDATION_FAILED', (raw) => `Invalid principal id ${raw}: a UUID is expected.`);

/**
 * Tiled's admin routes (contract §6.11), guarded as Tiled guards them: by scope (`read:principals`,
 * `write:principals`, `admin:apikeys`, which only the admin role grants), with Tiled's 401 for a
 * missing scope. An administrator's API key carrying one of those scopes may call the matching
 * route, as in Tiled.
 */
@ApiTags('admin')
@TiledCompatible()
@Controller('auth/principal')
export class TiledPrincipalsController {
  constructor(
    private readonly admin: AdminUsersService,
    private readonly users: UsersService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  /** Principals, oldest first, with `latest_activity`; `page[offset]`/`page[limit]` or `offset`/`limit`. */
  @Get()
  @RequireScopes('read:principals')
  @ApiOkResponse({ type: [PrincipalResponse] })
  @ApiOperation({ summary: 'List principals (users and service principals, Tiled)', description: 'Oldest first, with `latest_activity`; `page[offset]`/`page[limit]` or `offset`/`limit`.' })
  list(@Query() q: ListPrincipalsQueryDto): Promise<PrincipalResponse[]> {
    const { offset, limit } = principalPage(q);
    return this.admin.listPrincipals(offset, limit);
  }

  /** A service principal with the given role: no password, no identity; use it with API keys made for it. */
  @Post()
  @HttpCode(200)
  @RequireScopes('write:principals')
  @ApiOkResponse({ type: PrincipalResponse })
  @ApiOperation({ summary: 'Create a service principal', description: 'No password and no identity: it uses API keys made for it (`POST /auth/principal/{uuid}/apikey`).' })
  create(@Query() q: CreatePrincipalQueryDto, @CurrentPrincipal() principal: UserPrincipal): Promise<PrincipalResponse> {
    return this.admin.createServicePrincipal(q.role, principal);
  }

  @Get(':uuid')
  @RequireScopes('read:principals')
  @ApiOkResponse({ type: PrincipalResponse })
  @ApiOperation({ summary: 'A principal (Tiled)' })
  @ApiErrors('USER_NOT_FOUND')
  get(@Param('uuid', principalId()) id: string): Promise<PrincipalResponse> {
    return this.admin.getPrincipal(id);
  }

  /**
   * An API key for the principal; its scopes must be among the principal's and among the calling
   * credential's, `inherit` only for a credential holding every scope of the principal (403 otherwise).
   */
  @Post(':uuid/apikey')
  @HttpCode(200)
  @SendsSecret()
  @RequireScopes('admin:apikeys')
  @ApiOkResponse({ type: TiledApiKeyWithSecret })
  @ApiOperation({ summary: 'Create an API key for a principal (its secret is shown once)', description: 'Its scopes must be among the principal\'s and the calling credential\'s; `inherit` only for a credential holding every scope of the principal.' })
  @ApiErrors('USER_NOT_FOUND', 'INSUFFICIENT_SCOPE', 'API_KEY_LIMIT_REACHED')
  async createKey(
    @Param('uuid', principalId()) id: string,
    @Body() body: CreateApiKeyDto,
    @CurrentPrincipal() principal: UserPrincipal,
  ): Promise<TiledApiKeyWithSecret> {
    if (!(await this.users.findById(id))) {
      throw new AppError('USER_NOT_FOUND', `Principal ${id} does not exist or insufficient permissions.`);
    }
    const { key, secret } = await this.apiKeys.createFor(principal, id, {
      scopes: body.scopes,
      expiresIn: body.expires_in,
      note: body.note,
      accessTags: body.access_tags,
    });
    return { ...toTiledApiKey(key, null), secret };
  }

  @Delete(':uuid/apikey')
  @HttpCode(204)
  @RequireScopes('admin:apikeys')
  @ApiQuery({ name: 'first_eight', required: true })
  @ApiNoContentResponse()
  @ApiOperation({ summary: 'Revoke a principal\'s API key by its first eight characters' })
  @ApiErrors('USER_NOT_FOUND', 'API_KEY_NOT_FOUND')
  async revokeKey(@Param('uuid', principalId()) id: string, @Query('first_eight') firstEight: unknown): Promise<void> {
    if (typeof firstEight !== 'string' || !/^\w{1,64}$/.test(firstEight)) {
      throw new AppError('VALIDATION_FAILED', 'Give first_eight once: the first eight characters of the key after "lk_pat_".');
    }
    await this.apiKeys.revokeByFirstEight(id, firstEight, `The principal ${id} has no such API key.`);
  }
}
