import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '../common/http/api-docs';
import { AppConfig, InjectConfig } from '../config/app.config';
import { Public } from '../common/auth/decorators';
import { RateLimit } from '../common/rate-limit';
import { apiBase, origin } from '../common/http/base-url';
import { type LatchkeyRequest, type LatchkeyReply, preferredType } from '../common/http/request-context';
import { reportsLegacyPasswordMode } from './client-version';
import { PasswordProvider } from './providers/password.provider';
import { OidcProviders } from './oidc/oidc-providers';
import { version } from '../../package.json';


/** `GET /api/v1/`: the Tiled handshake (contract §2). Every field the Tiled client validates. */
@ApiTags('auth')
@Controller()
export class HandshakeController {
  constructor(
    private readonly password: PasswordProvider,
    private readonly oidc: OidcProviders,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Public()
  @RateLimit('public')
  @Get()
  @ApiOkResponse({ description: 'Server description, providers and auth links' })
  @ApiOperation({ summary: 'Server description: its authentication providers and endpoints (the Tiled handshake)', description: 'What the Tiled client reads first. A browser (an `Accept` that prefers `text/html`) is redirected to `/login` instead.' })
  about(@Req() req: LatchkeyRequest, @Res() res: LatchkeyReply): void {
    // A person who typed the server's address gets the login page; API clients (JSON, msgpack,
    // or */* as curl sends) get the handshake.
    if (preferredType(req, ['json', 'application/x-msgpack', 'html']) === 'html') {
      res.redirect('/login', 302);
      return;
    }
    res.send(this.handshake(req));
  }

  private handshake(req: LatchkeyRequest) {
    const base = apiBase(req, this.config.publicUrl, this.config.trustProxy);
    const legacy = reportsLegacyPasswordMode(req.headers['user-agent']);
    return {
      api_version: 0,
      library_version: version,
      formats: {},
      aliases: {},
      queries: [],
      authentication: {
        required: true,
        providers: [
          {
            provider: this.password.name,
            mode: legacy ? 'password' : 'internal',
            links: { auth_endpoint: `${base}/auth/provider/${this.password.name}/token` },
            confirmation_message: null,
            extra_scopes: null,
          },
          // Tiled-mediated external providers (§6.2): the browser goes to auth_endpoint.
          ...this.oidc.clients.map(({ config: { name } }) => ({
            provider: name,
            mode: 'external',
            links: { auth_endpoint: `${base}/auth/provider/${name}/authorize` },
            confirmation_message: null,
            extra_scopes: null,
          })),
        ],
        links: {
          whoami: `${base}/auth/whoami`,
          apikey: `${base}/auth/apikey`,
          refresh_session: `${base}/auth/session/refresh`,
          revoke_session: `${base}/auth/session/revoke/{session_id}`,
          logout: `${base}/auth/logout`,
        },
      },
      links: { self: base, documentation: `${origin(req, this.config.publicUrl, this.config.trustProxy)}/api/docs` },
      meta: { root_path: '' },
    };
  }
}
