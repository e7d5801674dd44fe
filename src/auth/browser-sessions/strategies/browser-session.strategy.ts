import { Injectable } from '@nestjs/common';
import { CredentialStrategies, RegisteredStrategy } from '../../../common/auth/credential-strategy';
import type { PresentedCredential } from '../../../common/auth/credentials';
import type { UserPrincipal } from '../../../common/auth/principal';
import type { LatchkeyRequest } from '../../../common/http/request-context';
import { BrowserSessionsService } from '../browser-sessions.service';

/**
 * The `lk_session` cookie of a browser login. The lowest-priority credential: a request that
 * also sends an API key or a Bearer token is judged by that. State-changing requests with the
 * cookie pass the CSRF check first (CsrfCheck).
 */
@Injectable()
export class BrowserSessionStrategy extends RegisteredStrategy {
  readonly name = 'browser-session';
  readonly principalKind = 'user' as const;

  constructor(
    private readonly browserSessions: BrowserSessionsService,
    registry: CredentialStrategies,
  ) {
    super(registry);
  }

  accepts(credential: PresentedCredential): boolean {
    return credential.scheme === 'session';
  }

  authenticate(credential: PresentedCredential, req: LatchkeyRequest): Promise<UserPrincipal> {
    return this.browserSessions.authenticate(credential.secret, req);
  }
}
