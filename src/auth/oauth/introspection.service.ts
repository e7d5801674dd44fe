import { Injectable } from '@nestjs/common';
import { AppConfig, InjectConfig } from '../../config/app.config';
import { ApiKeysService } from '../../api-keys/api-keys.service';
import { CredentialStrategies } from '../../common/auth/credential-strategy';
import { isPresentableSecret, type PresentedCredential } from '../../common/auth/credentials';
import type { PluginTokenPrincipal, Principal, UserPrincipal } from '../../common/auth/principal';
import { scopesForRoles } from '../../common/auth/scopes';
import { TOKEN_PREFIXES } from '../../common/auth/token-format';
import { AppError } from '../../common/errors/app-error';
import type { LatchkeyRequest } from '../../common/http/request-context';
import { PluginTokensService } from '../../plugin-tokens/plugin-tokens.service';
import { ACCESS_TOKEN_CLIENT_ID, AccessTokenService } from '../../sessions/access-token.service';
import { SessionsService } from '../../sessions/sessions.service';
import { jwtHints } from '../oidc/offline-token-shape';

/** What a credential is, in an introspection answer (`token_type`; also the hints accepted). */
export type IntrospectedTokenType = 'access_token' | 'refresh_token' | 'api_key' | 'deploy_token' | 'idp_offline_token' | 'idp_access_token';

/** RFC 7662 §2.2, with Latchkey's own members (roles, groups, plugin, access tags). */
export interface Introspection {
  active: boolean;
  token_type?: IntrospectedTokenType;
  /** Space-separated, as RFC 7662 says. */
  scope?: string;
  sub?: string;
  username?: string;
  exp?: number;
  iat?: number;
  iss?: string;
  aud?: string;
  client_id?: string;
  /** The login session behind an access or refresh token. */
  sid?: string;
  roles?: string[];
  groups?: string[];
  /** An API key restricted to Tiled access tags. */
  access_tags?: string[];
  /** The IdP of an IdP token. */
  provider?: string;
  /** The plugin a deploy token acts for. */
  plugin?: { id: string; name: string };
}

const INACTIVE: Introspection = Object.freeze({ active: false });

/**
 * RFC 7662 introspection of every credential kind Latchkey accepts, for services that do not
 * verify tokens themselves. Each kind is judged by the very strategy the API's guard uses (same
 * revocation, expiry, owner and epoch checks, same caches), so the answer is exactly "would
 * Latchkey accept this right now"; refresh tokens, which the guard never takes, are judged
 * without being used. Anything not active is `{active: false}` alone, whatever the reason; an
 * outage (a database or IdP error, 5xx) is an error, not "inactive", so the caller can retry.
 */
@Injectable()
export class IntrospectionService {
  constructor(
    private readonly strategies: CredentialStrategies,
    private readonly sessions: SessionsService,
    private readonly accessTokens: AccessTokenService,
    private readonly apiKeys: ApiKeysService,
    private readonly deployTokens: PluginTokensService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async introspect(token: string, req: LatchkeyRequest): Promise<Introspection> {
    if (token.length === 0 || !isPresentableSecret(token)) return INACTIVE;
    if (token.startsWith(TOKEN_PREFIXES.refreshToken)) return this.refreshToken(token);
    if (token.startsWith(TOKEN_PREFIXES.browserSession)) return INACTIVE; // a cookie of our pages, not for services
    const presented: PresentedCredential = token.startsWith('lk_') && !token.startsWith(TOKEN_PREFIXES.deployToken)
      ? { scheme: 'apikey', secret: token, source: 'header' }
      : { scheme: 'bearer', secret: token, source: 'header' };
    const strategy = this.strategies.find(presented);
    if (!strategy) return INACTIVE;
    let principal: Principal;
    try {
      principal = await strategy.authenticate(presented, req);
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return INACTIVE;
      throw err;
    }
    return principal.kind === 'user' ? this.user(principal, token) : this.deployToken(principal);
  }

  private async user(principal: UserPrincipal, token: string): Promise<Introspection> {
    const base = this.describe(principal);
    const c = principal.credential;
    switch (c.type) {
      case 'access_token': {
        const claims = this.accessTokens.verify(token); // cached: the strategy has just verified it
        return { ...base, token_type: 'access_token', sid: c.sessionId, exp: claims.exp, iat: claims.iat, aud: claims.aud ?? base.aud, client_id: claims.client_id ?? ACCESS_TOKEN_CLIENT_ID };
      }
      case 'api_key': {
        const times = await this.apiKeys.lifetimeOf(c.id);
        if (!times) return INACTIVE;
        return { ...base, token_type: 'api_key', ...lifetime(times), ...(c.accessTags ? { access_tags: [...c.accessTags] } : {}) };
      }
      case 'oidc':
        return { ...base, token_type: 'idp_offline_token', provider: c.provider, ...jwtTimes(token) };
      case 'idp_access_token':
        return { ...base, token_type: 'idp_access_token', provider: c.provider, ...jwtTimes(token) };
      case 'browser_session':
        return INACTIVE;
    }
  }

  private async deployToken(principal: PluginTokenPrincipal): Promise<Introspection> {
    const described = await this.deployTokens.introspectionFacts(principal.tokenId);
    if (!described) return INACTIVE;
    return {
      active: true,
      token_type: 'deploy_token',
      scope: principal.scopes.join(' '),
      sub: principal.tokenId,
      username: principal.label,
      iss: this.config.auth.issuer,
      aud: this.config.auth.accessTokenAudience,
      plugin: described.plugin,
      ...lifetime(described),
    };
  }

  private async refreshToken(token: string): Promise<Introspection> {
    const found = await this.sessions.introspectRefreshToken(token);
    if (!found) return INACTIVE;
    const { user } = found;
    return {
      active: true,
      token_type: 'refresh_token',
      scope: scopesForRoles(user.roles).join(' '),
      sub: user.id,
      username: user.username,
      roles: [...user.roles],
      groups: [...user.groups],
      iss: this.config.auth.issuer,
      aud: this.config.auth.accessTokenAudience,
      client_id: ACCESS_TOKEN_CLIENT_ID,
      sid: found.sessionId,
      ...lifetime({ createdAt: found.issuedAt, expiresAt: found.expiresAt }),
    };
  }

  private describe(principal: UserPrincipal): Introspection {
    return {
      active: true,
      scope: principal.scopes.join(' '),
      sub: principal.userId,
      username: principal.username,
      roles: [...principal.roles],
      groups: [...principal.groups],
      iss: this.config.auth.issuer,
      aud: this.config.auth.accessTokenAudience,
    };
  }
}

function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

function lifetime(t: { createdAt: Date; expiresAt: Date | null }): Pick<Introspection, 'iat' | 'exp'> {
  return t.expiresAt ? { iat: seconds(t.createdAt), exp: seconds(t.expiresAt) } : { iat: seconds(t.createdAt) };
}

/** `iat`/`exp` of an IdP token that is a JWT (already verified or exchanged by its strategy). */
function jwtTimes(token: string): Pick<Introspection, 'iat' | 'exp'> {
  const hints = jwtHints(token);
  return {
    ...(hints?.iat !== undefined ? { iat: hints.iat } : {}),
    ...(hints?.exp !== undefined && hints.exp > 0 ? { exp: hints.exp } : {}),
  };
}
