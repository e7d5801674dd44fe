import { ApiErrors } from '../common/errors/api-errors.decorator';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req, Res, UseInterceptors } from '@nestjs/common';
import { ApiConsumes, ApiExcludeEndpoint, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '../common/http/api-docs';
import { CurrentPrincipal, OptionalAuth, Public, RequireScopes, TiledCompatible } from '../common/auth/decorators';
import { RateLimit } from '../common/rate-limit';
import { API_KEY_COOKIE } from '../common/auth/credentials';
import type { Principal, UserPrincipal } from '../common/auth/principal';
import { clientIp, type LatchkeyRequest, type LatchkeyReply, prefersHtml } from '../common/http/request-context';
import { unauthorized } from '../common/errors/app-error';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { toTiledApiKey } from '../api-keys/dto/api-key-response.dto';
import { SessionsService } from '../sessions/sessions.service';
import { UsersService } from '../users/users.service';
import { RefreshTokenRequestDto } from './dto/refresh-token-request.dto';
import { TokenRequestDto } from './dto/token-request.dto';
import { RefreshResponse, TokenResponse } from './dto/token-response.dto';
import { expiringCredentials, toPrincipalResponse, WhoamiResponse } from './dto/whoami-response.dto';
import { PluginTokensService } from '../plugin-tokens/plugin-tokens.service';
import { EXPIRY_WARNING_DAYS } from '../common/auth/credential-status';
import { ScopeCatalog } from '../common/auth/scope-catalog';
import { PasswordProvider } from './providers/password.provider';
import { LoginAudit } from './login-audit';
import { BrowserSessionsService } from './browser-sessions/browser-sessions.service';
import { OidcProviders } from './oidc/oidc-providers';
import { DeviceLoginsService } from './oidc/device/device-logins.service';
import { DeviceTokenRequestDto } from './oidc/device/dto/device-token-request.dto';
import { asGrant, TokenGrantRequestDto } from './dto/token-grant-request.dto';
import { AppConfig, InjectConfig } from '../config/app.config';
import { origin } from '../common/http/base-url';
import { SendsSecret } from '../common/http/sends-secret.decorator';
import { MultipartFieldsInterceptor } from '../common/http/multipart';

/** The Tiled-compatible auth routes (contract §6). */
@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly password: PasswordProvider,
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    private readonly apiKeys: ApiKeysService,
    private readonly browserSessions: BrowserSessionsService,
    private readonly providers: OidcProviders,
    private readonly deviceLogins: DeviceLoginsService,
    private readonly loginAudit: LoginAudit,
    @InjectConfig() private readonly config: AppConfig,
    private readonly scopeCatalog: ScopeCatalog,
    private readonly pluginTokens: PluginTokensService,
  ) {}

  /**
   * The internal provider's password grant (§6.1); for an external provider, the program's poll
   * of a device-code login (§6.2), answered by DeviceLoginsService.
   */
  @Public()
  @RateLimit('login')
  @Post('provider/:provider/token')
  @HttpCode(200)
  @SendsSecret() // refresh token (password or device-code grant)
  // Multipart is accepted (Tiled does) but bounded like the other body parsers; no files; flat fields.
  @UseInterceptors(MultipartFieldsInterceptor({ fieldSize: 8 * 1024, fields: 10, parts: 10 }))
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json', 'multipart/form-data')
  @ApiOkResponse({ type: TokenResponse })
  @ApiOperation({ summary: 'Log in with a password (OAuth2 password grant), or poll a device-code login', description: 'For the password provider: `username` and `password` (form-encoded as OAuth2 clients send them, or JSON) give an access token and a refresh token. For an external provider: `grant_type=urn:ietf:params:oauth:grant-type:device_code` and the `device_code` of `POST …/authorize`, polled until the browser approves.' })
  @ApiErrors('AUTH_INVALID_CREDENTIALS', 'AUTH_USER_INACTIVE', 'SERVICE_PRINCIPAL_NO_LOGIN', 'SESSION_LIMIT_REACHED', 'NOT_FOUND', 'BAD_REQUEST', 'DEVICE_AUTHORIZATION_PENDING', 'DEVICE_CODE_INVALID', 'DEVICE_CODE_NOT_FOUND')
  async token(
    @Param('provider') provider: string,
    @Body() grant: TokenGrantRequestDto,
    @Req() req: LatchkeyRequest,
  ): Promise<TokenResponse> {
    if (this.providers.find(provider)) {
      const { device_code } = await asGrant(DeviceTokenRequestDto, grant);
      return this.deviceLogins.poll(provider, device_code);
    }
    const body = await asGrant(TokenRequestDto, grant);
    this.password.assertKnown(provider);
    const user = await this.password.login(body.username, body.password, { ip: clientIp(req), requestId: req.id });
    const { session, tokens } = await this.sessions.open(user, 'password', clientInfo(req));
    await this.loginAudit.succeeded(user, session.id, this.password.name, 'password');
    return {
      ...tokens,
      identity: { id: user.username, provider: this.password.name },
      principal: user.id.replace(/-/g, ''),
    };
  }

  @Public()
  @RateLimit('refresh')
  @Post('session/refresh')
  @HttpCode(200)
  @SendsSecret()
  @ApiOkResponse({ type: RefreshResponse })
  @ApiOperation({ summary: 'Exchange a refresh token for a new token pair', description: 'Refresh tokens rotate: the answer carries the successor and the one sent stops working. Presenting a used one again (a replay) revokes the whole session.' })
  @ApiErrors('AUTH_INVALID_TOKEN', 'SESSION_EXPIRED', 'AUTH_USER_INACTIVE')
  refresh(@Body() body: RefreshTokenRequestDto): Promise<RefreshResponse> {
    return this.sessions.refresh(body.refresh_token);
  }

  /** Logout: revokes the session the refresh token belongs to. */
  @Public()
  @RateLimit('public')
  @Post('session/revoke')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiOperation({ summary: 'Log out: end the session a refresh token belongs to' })
  @ApiErrors('SESSION_UNKNOWN')
  async revokeByToken(@Body() body: RefreshTokenRequestDto): Promise<void> {
    await this.sessions.revokeByRefreshToken(body.refresh_token);
  }

  @Delete('session/revoke/:sessionId')
  @RequireScopes('write:account')
  @TiledCompatible()
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiOperation({ summary: 'End one of my sessions by its id' })
  @ApiErrors('SESSION_NOT_FOUND')
  async revokeById(@Param('sessionId') sessionId: string, @CurrentPrincipal() principal: UserPrincipal): Promise<void> {
    await this.sessions.revokeOwn(principal.userId, sessionId);
  }

  /**
   * Logout for browsers. Clears the API-key cookie (all Tiled does: API clients revoke their
   * session with `/auth/session/revoke`) and ends the browser session the cookie names. After a
   * login through an IdP that offers RP-initiated logout, the IdP session ends too: a form post
   * is redirected to the IdP's end_session_endpoint (which comes back to `/logout`); an API call
   * gets its URL as `end_session_url`.
   */
  @Public()
  @RateLimit('public')
  @Post('logout')
  @HttpCode(200)
  @ApiExcludeEndpoint()
  async logout(@Req() req: LatchkeyRequest, @Res() res: LatchkeyReply): Promise<void> {
    res.clearCookie(API_KEY_COOKIE, { path: '/' });
    const session = await this.browserSessions.current(req);
    let endSessionUrl: string | undefined;
    if (session) {
      const client = session.idpProvider ? this.providers.find(session.idpProvider) : undefined;
      const back = `${origin(req, this.config.publicUrl, this.config.trustProxy)}/logout`;
      endSessionUrl = client && (await client.endSessionUrl(this.browserSessions.idTokenOf(session), back, this.browserSessions.issueLogoutState(res)));
      await this.browserSessions.end(session, res, 'logout');
    } else {
      this.browserSessions.clearCookie(res);
    }
    res.header('Cache-Control', 'no-store');
    if (prefersHtml(req)) {
      res.redirect(endSessionUrl ?? '/logout', 303);
      return;
    }
    res.send(endSessionUrl ? { end_session_url: endSessionUrl } : {});
  }

  /**
   * What the presented credential resolves to, as the guards see it: no database query for an
   * access token, so it answers while the database is down. For services that want the caller's
   * roles and scopes without decoding tokens themselves.
   */
  @Get('credential')
  @ApiOkResponse({ description: 'The resolved Principal' })
  @ApiOperation({ summary: 'What the presented credential resolves to (kind, roles, scopes)', description: 'As the guards see it. No database query for an access token, so it answers while the database is down.' })
  credential(@CurrentPrincipal() principal: Principal): Principal {
    return principal;
  }

  /** The caller's principal in Tiled's shape; `null` for anonymous callers. */
  @OptionalAuth()
  @Get('whoami')
  @ApiOkResponse({ type: WhoamiResponse })
  @ApiOperation({ summary: 'Who am I: my principal in Tiled\'s shape, or null when anonymous', description: 'With my identities, sessions, active API keys and roles; `scope_descriptions`: what each of my scopes allows; `expiring_credentials`: my API keys and my plugins\' deploy tokens that expire within 14 days.' })
  async whoami(@CurrentPrincipal() principal: Principal | null, @Res() res: LatchkeyReply): Promise<void> {
    if (!principal || principal.kind !== 'user') {
      res.send(null);
      return;
    }
    const user = await this.users.findById(principal.userId);
    if (!user) throw unauthorized('AUTH_INVALID_TOKEN', 'Principal no longer exists.');
    const [sessions, keys, identities, hasPassword, tokens] = await Promise.all([
      this.sessions.listForUser(user.id),
      this.apiKeys.listActiveForUser(user.id),
      this.users.identitiesOf(user.id),
      this.users.hasPassword(user.id),
      this.pluginTokens.listExpiring(EXPIRY_WARNING_DAYS, user.id),
    ]);
    const apiKeys = keys.map((k) => toTiledApiKey(k, this.apiKeys.lastUse(k)));
    const body = toPrincipalResponse(user, sessions, apiKeys, this.password.name, identities, hasPassword);
    // Latchkey's own: what each of the caller's scopes allows (the modules' @DeclareScopes).
    const scopes = [...new Set(body.roles.flatMap((r) => r.scopes))].sort();
    res.send({
      ...body,
      scope_descriptions: Object.fromEntries(scopes.map((s) => [s, this.scopeCatalog.describe(s) ?? null])),
      // Latchkey's own: what should be renewed before a program using it starts failing.
      expiring_credentials: expiringCredentials(keys, tokens),
    });
  }
}

export function clientInfo(req: LatchkeyRequest) {
  return { ip: clientIp(req), userAgent: req.headers['user-agent'] ?? null };
}
