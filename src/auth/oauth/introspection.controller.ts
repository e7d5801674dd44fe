import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiConsumes, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '../../common/http/api-docs';
import { RequireScopes } from '../../common/auth/decorators';
import type { LatchkeyRequest, LatchkeyReply } from '../../common/http/request-context';
import { TokenBodyDto, TOKEN_TYPE_HINTS } from './dto/token-body.dto';
import { Introspection, IntrospectionService } from './introspection.service';

class IntrospectedPluginDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
}

/** RFC 7662 §2.2. Inactive: `{"active": false}` and nothing else. */
class IntrospectionResponseDto implements Introspection {
  @ApiProperty() active: boolean;
  @ApiPropertyOptional({ enum: TOKEN_TYPE_HINTS }) token_type?: (typeof TOKEN_TYPE_HINTS)[number];
  @ApiPropertyOptional({ description: 'Space-separated scopes' }) scope?: string;
  @ApiPropertyOptional({ description: "The user's id; a deploy token's own id" }) sub?: string;
  @ApiPropertyOptional({ description: 'The username; "Token {description}" for a deploy token' }) username?: string;
  @ApiPropertyOptional({ description: 'Unix seconds; absent for a credential that never expires' }) exp?: number;
  @ApiPropertyOptional({ description: 'Unix seconds' }) iat?: number;
  @ApiPropertyOptional() iss?: string;
  @ApiPropertyOptional() aud?: string;
  @ApiPropertyOptional() client_id?: string;
  @ApiPropertyOptional({ description: 'The login session of an access or refresh token' }) sid?: string;
  @ApiPropertyOptional({ type: [String] }) roles?: string[];
  @ApiPropertyOptional({ type: [String] }) groups?: string[];
  @ApiPropertyOptional({ type: [String], description: 'The Tiled access tags an API key is restricted to' }) access_tags?: string[];
  @ApiPropertyOptional({ description: 'The IdP of an IdP token' }) provider?: string;
  @ApiPropertyOptional({ type: IntrospectedPluginDto, description: 'The plugin a deploy token acts for' }) plugin?: IntrospectedPluginDto;
}

/**
 * Token introspection (RFC 7662) for other services: "would Latchkey accept this credential right
 * now, and for whom?" The caller authenticates with its own credential holding `introspect` (an
 * `introspector` service principal's API key, or an administrator's); the token examined is in
 * the body, never in a URL.
 */
@ApiTags('auth')
@Controller('auth')
export class IntrospectionController {
  constructor(private readonly introspection: IntrospectionService) {}

  @Post('introspect')
  @HttpCode(200)
  @RequireScopes('introspect')
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiOperation({ summary: 'Is this token active, and whose is it? (RFC 7662)', description: 'RFC 7662, for resource servers: `{"active": false}` for anything Latchkey would not accept now (unknown, expired, revoked, disabled owner), else the token\'s subject, scopes, roles, groups and times. Needs the `introspect` scope (the introspector role).' })
  @ApiOkResponse({ type: IntrospectionResponseDto })
  async introspect(@Body() body: TokenBodyDto, @Req() req: LatchkeyRequest, @Res() res: LatchkeyReply): Promise<void> {
    const answer = await this.introspection.introspect(body.token, req);
    res.headers({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).send(answer);
  }
}
