import { Injectable } from '@nestjs/common';
import { CredentialStrategies, RegisteredStrategy } from '../../common/auth/credential-strategy';
import type { PresentedCredential } from '../../common/auth/credentials';
import type { UserPrincipal } from '../../common/auth/principal';
import { clientIp, type LatchkeyRequest } from '../../common/http/request-context';
import { TOKEN_PREFIXES } from '../../common/auth/token-format';
import { ApiKeysService } from '../api-keys.service';
import type { MaybePromise } from '../../common/maybe-async';

/**
 * Personal API keys, presented as `Authorization: Apikey <key>`, `?api_key=<key>` or the
 * `tiled_api_key` cookie (the guard's extraction decides which, in the Tiled order).
 */
@Injectable()
export class ApiKeyStrategy extends RegisteredStrategy {
  readonly name = 'api-key';
  readonly principalKind = 'user' as const;

  constructor(
    private readonly apiKeys: ApiKeysService,
    registry: CredentialStrategies,
  ) {
    super(registry);
  }

  /**
   * Every `Apikey` credential except other Latchkey token kinds (`lk_dpl_…` deploy tokens have
   * their own strategy): a personal key, or anything else, which is then an "Invalid API key".
   */
  accepts(credential: PresentedCredential): boolean {
    return (
      credential.scheme === 'apikey' &&
      (credential.secret.startsWith(TOKEN_PREFIXES.personalApiKey) || !credential.secret.startsWith('lk_'))
    );
  }

  authenticate(credential: PresentedCredential, req: LatchkeyRequest): MaybePromise<UserPrincipal> {
    return this.apiKeys.authenticate(credential.secret, clientIp(req));
  }
}
