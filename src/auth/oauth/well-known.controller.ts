import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '../../common/http/api-docs';
import { AppConfig, InjectConfig } from '../../config/app.config';
import { Public } from '../../common/auth/decorators';
import { ROLE_SCOPES } from '../../common/auth/scopes';
import { RateLimit } from '../../common/rate-limit';
import { apiBase, origin } from '../../common/http/base-url';
import type { LatchkeyRequest, LatchkeyReply } from '../../common/http/request-context';
import { PasswordProvider } from '../providers/password.provider';
import type { PublishedJwk } from '../../config/token-signing';

/**
 * How long a client may cache the key set. A new key is published (listed after the signing key
 * in SIGNING_KEYS) at least this long before it signs: docs/tokens-and-sessions.md, rotation.
 */
export const JWKS_MAX_AGE = 300;

/** Paths served outside the API prefix (app.setup.ts excludes them). */
export const WELL_KNOWN_PATHS = ['.well-known/jwks.json', '.well-known/oauth-authorization-server'] as const;

class JwkDto {
  @ApiProperty({ example: 'EC' }) kty: string;
  @ApiProperty({ example: 'P-256' }) crv: string;
  @ApiProperty() x: string;
  @ApiProperty() y: string;
  @ApiProperty({ description: 'The `kid` header of the tokens this key signs' }) kid: string;
  @ApiProperty({ enum: ['ES256'] }) alg: string;
  @ApiProperty({ enum: ['sig'] }) use: string;
}

class JwksDto {
  @ApiProperty({ type: [JwkDto], description: 'The public part of every key in SIGNING_KEYS, the signing key first' })
  keys: PublishedJwk[];
}

/** RFC 8414 §2, the fields Latchkey has something to say about, plus its revocation feed. */
class AuthorizationServerMetadataDto {
  @ApiProperty({ description: 'The `iss` of every access token (PUBLIC_URL, else "latchkey")' }) issuer: string;
  @ApiProperty() jwks_uri: string;
  @ApiProperty({ description: "The password provider's token endpoint (Tiled's)" }) token_endpoint: string;
  @ApiProperty() introspection_endpoint: string;
  @ApiProperty() revocation_endpoint: string;
  @ApiProperty({ description: 'Latchkey: what was revoked since a cursor, for services that verify tokens themselves' })
  revocation_feed_endpoint: string;
  @ApiProperty({ description: "Latchkey (Tiled's): exchanges a refresh token for new tokens" }) refresh_endpoint: string;
  @ApiProperty({ type: [String] }) grant_types_supported: string[];
  @ApiProperty({ type: [String], description: 'No authorization endpoint: logins through an IdP start at /auth/provider/{name}/authorize' })
  response_types_supported: string[];
  @ApiProperty({ type: [String] }) scopes_supported: string[];
  @ApiProperty({ type: [String] }) token_endpoint_auth_methods_supported: string[];
  @ApiProperty({ type: [String] }) revocation_endpoint_auth_methods_supported: string[];
  @ApiProperty({ type: [String], description: 'The caller presents its own credential (an API key or access token with the introspect scope)' })
  introspection_endpoint_auth_methods_supported: string[];
  @ApiProperty({ type: [String] }) access_token_signing_alg_values_supported: string[];
  @ApiPropertyOptional() service_documentation?: string;
}

const ALL_SCOPES = Object.freeze([...new Set(Object.values(ROLE_SCOPES).flat())].sort());

/**
 * What other services need to check Latchkey's tokens themselves: the public keys (RFC 7517) and
 * the authorization-server metadata (RFC 8414). Public, cacheable, the same on every instance.
 */
@ApiTags('auth')
@Controller('.well-known')
export class WellKnownController {
  private readonly jwks: JwksDto;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly password: PasswordProvider,
  ) {
    this.jwks = Object.freeze({ keys: [...config.auth.tokenSigning.published] });
  }

  @Public()
  @RateLimit('public')
  @Get('jwks.json')
  @ApiOperation({ summary: 'The public keys that verify access tokens (RFC 7517 JWK set)' })
  @ApiOkResponse({ type: JwksDto })
  keys(@Res() res: LatchkeyReply): void {
    res.header('Cache-Control', `public, max-age=${JWKS_MAX_AGE}`).send(this.jwks);
  }

  @Public()
  @RateLimit('public')
  @Get('oauth-authorization-server')
  @ApiOperation({ summary: 'Authorization server metadata (RFC 8414)' })
  @ApiOkResponse({ type: AuthorizationServerMetadataDto })
  metadata(@Req() req: LatchkeyRequest, @Res() res: LatchkeyReply): void {
    const { publicUrl, trustProxy } = this.config;
    const api = apiBase(req, publicUrl, trustProxy);
    const site = origin(req, publicUrl, trustProxy);
    const body: AuthorizationServerMetadataDto = {
      issuer: this.config.auth.issuer,
      jwks_uri: `${site}/.well-known/jwks.json`,
      token_endpoint: `${api}/auth/provider/${this.password.name}/token`,
      introspection_endpoint: `${api}/auth/introspect`,
      revocation_endpoint: `${api}/auth/revoke`,
      revocation_feed_endpoint: `${api}/auth/revocations`,
      refresh_endpoint: `${api}/auth/session/refresh`,
      grant_types_supported: ['password'],
      response_types_supported: [],
      scopes_supported: [...ALL_SCOPES],
      token_endpoint_auth_methods_supported: ['none'],
      revocation_endpoint_auth_methods_supported: ['none'],
      introspection_endpoint_auth_methods_supported: ['bearer', 'apikey'],
      access_token_signing_alg_values_supported: [this.config.auth.tokenSigning.algorithm],
      service_documentation: `${site}/api/docs`,
    };
    res.header('Cache-Control', `public, max-age=${JWKS_MAX_AGE}`).send(body);
  }
}
