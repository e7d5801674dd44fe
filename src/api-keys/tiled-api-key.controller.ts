import { ApiErrors } from '../common/errors/api-errors.decorator';
import { Body, Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '../common/http/api-docs';
import { CurrentPrincipal, RequireScopes, TiledCompatible } from '../common/auth/decorators';
import type { UserPrincipal } from '../common/auth/principal';
import { AppError } from '../common/errors/app-error';
import { RateLimit } from '../common/rate-limit';
import { ApiKeysService } from './api-keys.service';
import { CreateApiKeyDto } from './dto/create-api-key.dto';
import { TiledApiKeyResponse, TiledApiKeyWithSecret, toTiledApiKey } from './dto/api-key-response.dto';
import { SendsSecret } from '../common/http/sends-secret.decorator';

/** The Tiled-compatible API key routes (contract §6.8–6.10). */
@ApiTags('api-keys')
@TiledCompatible()
@Controller('auth/apikey')
export class TiledApiKeyController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  /** Creates a key for the caller; the response is the only time its secret is shown. */
  @Post()
  @HttpCode(200)
  @RequireScopes('create:apikeys')
  @SendsSecret()
  @RateLimit('create')
  @ApiOkResponse({ type: TiledApiKeyWithSecret })
  @ApiOperation({ summary: 'Create an API key for myself (its secret is shown once)', description: 'Tiled-compatible. `scopes` must be among the calling credential\'s (or `["inherit"]`: the owner\'s scopes, whatever they become); `expires_in` in seconds, or null for none; `access_tags` restricts what the key may read. The secret is in this answer only (`Cache-Control: no-store`).' })
  @ApiErrors('INSUFFICIENT_SCOPE', 'API_KEY_LIMIT_REACHED')
  async create(@Body() body: CreateApiKeyDto, @CurrentPrincipal() principal: UserPrincipal): Promise<TiledApiKeyWithSecret> {
    const { key, secret } = await this.apiKeys.create(principal, {
      scopes: body.scopes,
      expiresIn: body.expires_in,
      note: body.note,
      accessTags: body.access_tags,
    });
    return { ...toTiledApiKey(key, null), secret };
  }

  /** Describes the API key this request was made with. */
  @Get()
  @ApiOkResponse({ type: TiledApiKeyResponse })
  @ApiOperation({ summary: 'Describe the API key this request was made with' })
  @ApiErrors('API_KEY_REQUIRED', 'API_KEY_NOT_FOUND')
  async inspect(@CurrentPrincipal() principal: UserPrincipal): Promise<TiledApiKeyResponse> {
    if (principal.credential.type !== 'api_key') {
      throw new AppError('API_KEY_REQUIRED', 'No API key was provided with this request.', {
        headers: { 'WWW-Authenticate': 'Bearer' },
      });
    }
    const key = await this.apiKeys.get(principal.userId, principal.credential.id);
    if (!key) throw new AppError('API_KEY_NOT_FOUND', 'No such API key.');
    return toTiledApiKey(key, this.apiKeys.lastUse(key));
  }

  /** Revokes one of the caller's keys, named by its first eight characters. */
  @Delete()
  @HttpCode(204)
  @RequireScopes('revoke:apikeys')
  @ApiQuery({ name: 'first_eight', required: true })
  @ApiNoContentResponse()
  @ApiOperation({ summary: 'Revoke one of my API keys by its first eight characters' })
  @ApiErrors('API_KEY_NOT_FOUND')
  async revoke(@Query('first_eight') firstEight: unknown, @CurrentPrincipal() principal: UserPrincipal): Promise<void> {
    if (typeof firstEight !== 'string' || !/^\w{1,64}$/.test(firstEight)) {
      throw new AppError('VALIDATION_FAILED', 'Give first_eight once: the first eight characters of the key after "lk_pat_".');
    }
    await this.apiKeys.revokeByFirstEight(principal.userId, firstEight);
  }
}
