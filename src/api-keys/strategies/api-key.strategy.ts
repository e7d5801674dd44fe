import { Injectable } from '@nestjs/common';
import { CredentialStrategies, RegisteredStrategy } from '../../common/auth/credential-strategy';
import type { PresentedCredential } from '../../common/auth/credentials';
import type { UserPrincipal } from '../../common/auth/principal';
import type { LatchkeyRequest } from '../../common/http/request-context';
import { ApiKeysService } from '../api-keys.service';

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

  accepts(credential: PresentedCredential): boolean {
    return credential.scheme === 'apikey';
  }

  authenticate(credential: PresentedCredential, req: LatchkeyRequest): Promise<UserPrincipal> {
    return this.apiKeys.authenticate(credential.secret, req.ip ?? null);
  }
}
