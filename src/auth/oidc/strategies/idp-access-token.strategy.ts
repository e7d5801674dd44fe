import { Injectable } from '@nestjs/common';
import { CredentialStrategies, RegisteredStrategy } from '../../../common/auth/credential-strategy';
import type { PresentedCredential } from '../../../common/auth/credentials';
import type { UserPrincipal } from '../../../common/auth/principal';
import type { MaybePromise } from '../../../common/maybe-async';
import { IdpAccessTokensService } from '../idp-access-tokens.service';

/**
 * The IdP's own JWT access tokens as `Authorization: Bearer`: JWTs signed with a public-key
 * algorithm whose `iss` is a provider with OIDC_<NAME>_ACCEPT_ACCESS_TOKENS=true. Registered only
 * when one is. Latchkey's own JWTs never get here (the access-token strategy takes them by
 * `kid`), and the offline-token strategy leaves these alone (IdpAccessTokensService.accepts).
 */
@Injectable()
export class IdpAccessTokenStrategy extends RegisteredStrategy {
  readonly name = 'oidc-access-token';
  readonly principalKind = 'user' as const;

  constructor(
    private readonly tokens: IdpAccessTokensService,
    registry: CredentialStrategies,
  ) {
    super(registry);
  }

  override onModuleInit(): void {
    if (this.tokens.enabled) super.onModuleInit();
  }

  accepts(credential: PresentedCredential): boolean {
    return credential.scheme === 'bearer' && this.tokens.accepts(credential.secret);
  }

  authenticate(credential: PresentedCredential): MaybePromise<UserPrincipal> {
    return this.tokens.authenticate(credential.secret);
  }
}
