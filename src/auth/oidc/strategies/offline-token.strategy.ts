import { Injectable } from '@nestjs/common';
import { CredentialStrategies, RegisteredStrategy } from '../../../common/auth/credential-strategy';
import type { PresentedCredential } from '../../../common/auth/credentials';
import type { UserPrincipal } from '../../../common/auth/principal';
import { clientIp, type LatchkeyRequest } from '../../../common/http/request-context';
import { IdpAccessTokensService } from '../idp-access-tokens.service';
import { OfflineTokensService } from '../offline-tokens.service';
import type { MaybePromise } from '../../../common/maybe-async';

/**
 * IdP offline refresh tokens as `Authorization: Bearer`: every Bearer value that is neither a
 * Latchkey token (`lk_…`) nor one of Latchkey's own JWTs (the access-token strategy, registered
 * first, takes those by `kid`). Registered only when OIDC providers are configured. Which of
 * those values may reach an IdP is decided by OfflineTokensService (offlineTokenCandidates).
 */
@Injectable()
export class OfflineTokenStrategy extends RegisteredStrategy {
  readonly name = 'oidc-offline-token';
  readonly principalKind = 'user' as const;

  constructor(
    private readonly offline: OfflineTokensService,
    private readonly idpAccessTokens: IdpAccessTokensService,
    registry: CredentialStrategies,
  ) {
    super(registry);
  }

  override onModuleInit(): void {
    if (this.offline.enabled) super.onModuleInit();
  }

  accepts(credential: PresentedCredential): boolean {
    return credential.scheme === 'bearer' && !credential.secret.startsWith('lk_') && !this.idpAccessTokens.accepts(credential.secret);
  }

  authenticate(credential: PresentedCredential, req: LatchkeyRequest): MaybePromise<UserPrincipal> {
    return this.offline.authenticate(credential.secret, clientIp(req));
  }
}
