import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '../../common/http/api-docs';
import { Public } from '../../common/auth/decorators';
import { TOKEN_PREFIXES } from '../../common/auth/token-format';
import { RateLimit } from '../../common/rate-limit';
import { ApiKeysService } from '../../api-keys/api-keys.service';
import { PluginTokensService } from '../../plugin-tokens/plugin-tokens.service';
import { SessionsService } from '../../sessions/sessions.service';
import { TokenBodyDto } from './dto/token-body.dto';
import type { LatchkeyReply } from '../../common/http/request-context';

/**
 * Token revocation (RFC 7009) for whoever holds a token: the token is its own proof, so no other
 * credential is needed. A refresh token ends its session, an API key or a deploy token is revoked
 * on every instance. The answer is 200 with an empty body whatever the token (unknown, already
 * revoked, an access token, which cannot be revoked alone: it lives out its 15 minutes, revoke its
 * refresh token), so it tells nothing about the value sent.
 */
@ApiTags('auth')
@Controller('auth')
export class RevocationController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly apiKeys: ApiKeysService,
    private readonly deployTokens: PluginTokensService,
  ) {}

  @Public()
  @RateLimit('public')
  @Post('revoke')
  @HttpCode(200)
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiOperation({ summary: 'Revoke a refresh token (its session), an API key or a deploy token (RFC 7009)', description: 'RFC 7009: the token is its own proof, so no other credential is needed. The answer is 200 whether or not the token was known.' })
  @ApiOkResponse({ description: 'Always, whatever the token (RFC 7009 §2.2)' })
  async revoke(@Body() body: TokenBodyDto, @Res() res: LatchkeyReply): Promise<void> {
    const { token } = body;
    if (token.startsWith(TOKEN_PREFIXES.refreshToken)) await this.sessions.revokeIfRefreshToken(token);
    else if (token.startsWith(TOKEN_PREFIXES.personalApiKey)) await this.apiKeys.revokeBySecret(token);
    else if (token.startsWith(TOKEN_PREFIXES.deployToken)) await this.deployTokens.revokeBySecret(token);
    res.header('Cache-Control', 'no-store').code(200).send();
  }
}
