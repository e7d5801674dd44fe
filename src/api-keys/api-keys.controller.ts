import { ApiErrors } from '../common/errors/api-errors.decorator';
import { Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '../common/http/api-docs';
import { CurrentPrincipal, RequireScopes } from '../common/auth/decorators';
import type { UserPrincipal } from '../common/auth/principal';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyResponse, toApiKeyResponse } from './dto/api-key-response.dto';

/** Latchkey's own API key listing and revocation by id. */
@ApiTags('api-keys')
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  /** Every key of the caller (active, expired and revoked), newest first. Never secrets. */
  @Get()
  @RequireScopes('read:account')
  @ApiOkResponse({ type: [ApiKeyResponse] })
  @ApiOperation({ summary: 'List my API keys (active, expired and revoked; never their secrets)' })
  async list(@CurrentPrincipal() principal: UserPrincipal): Promise<ApiKeyResponse[]> {
    const keys = await this.apiKeys.listForUser(principal.userId);
    return keys.map((k) => toApiKeyResponse(k, this.apiKeys.lastUse(k)));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScopes('revoke:apikeys')
  @ApiNoContentResponse()
  @ApiOperation({ summary: 'Revoke one of my API keys' })
  @ApiErrors('API_KEY_NOT_FOUND')
  async revoke(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() principal: UserPrincipal): Promise<void> {
    await this.apiKeys.revokeById(principal.userId, id);
  }
}
