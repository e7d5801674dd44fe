import { Injectable } from '@nestjs/common';
import { CredentialStrategies, RegisteredStrategy } from '../../common/auth/credential-strategy';
import type { PresentedCredential } from '../../common/auth/credentials';
import type { PluginTokenPrincipal } from '../../common/auth/principal';
import { TOKEN_PREFIXES } from '../../common/auth/token-format';
import { clientIp, type LatchkeyRequest } from '../../common/http/request-context';
import { PluginTokensService } from '../plugin-tokens.service';
import type { MaybePromise } from '../../common/maybe-async';

/**
 * Deploy tokens (`lk_dpl_…`), sent as `Authorization: Bearer` or `Apikey`. They resolve to a
 * `plugin_token` principal, which only routes marked `@AcceptPluginToken()` take (plugin
 * uploads); everywhere else the guard answers 401.
 */
@Injectable()
export class PluginTokenStrategy extends RegisteredStrategy {
  readonly name = 'plugin-token';
  readonly principalKind = 'plugin_token' as const;

  constructor(
    private readonly tokens: PluginTokensService,
    registry: CredentialStrategies,
  ) {
    super(registry);
  }

  accepts(credential: PresentedCredential): boolean {
    return credential.secret.startsWith(TOKEN_PREFIXES.deployToken);
  }

  authenticate(credential: PresentedCredential, req: LatchkeyRequest): MaybePromise<PluginTokenPrincipal> {
    return this.tokens.authenticate(credential.secret, clientIp(req));
  }
}
