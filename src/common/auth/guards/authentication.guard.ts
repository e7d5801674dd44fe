import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError, unauthorized } from '../../errors/app-error';
import type { LatchkeyRequest } from '../../http/request-context';
import { andThen, type MaybePromise } from '../../maybe-async';
import { CredentialStrategies } from '../credential-strategy';
import { extractCredential } from '../credentials';
import { RoutePolicies } from '../route-policy';

/**
 * Global guard (APP_GUARD): secure by default. Every route needs a credential unless it says
 * `@Public()` (nothing is read) or `@OptionalAuth()` (verified when present). The credential is
 * resolved to a Principal by whichever registered strategy accepts it; this guard imports no
 * feature module.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  private readonly policies: RoutePolicies;

  constructor(
    reflector: Reflector,
    private readonly strategies: CredentialStrategies,
  ) {
    this.policies = new RoutePolicies(reflector);
  }

  /** Synchronous unless the strategy has to wait (a lookup, an IdP exchange): most requests create no promise here. */
  canActivate(context: ExecutionContext): MaybePromise<boolean> {
    if (context.getType() !== 'http') return true;
    const policy = this.policies.of(context);
    const req = context.switchToHttp().getRequest<LatchkeyRequest>();
    if (policy.access === 'public') {
      req.principal = null;
      return true;
    }

    const credential = extractCredential(req);
    if (!credential) {
      if (policy.access === 'optional') {
        req.principal = null;
        return true;
      }
      throw unauthorized('AUTH_REQUIRED', 'Not authenticated. Send "Authorization: Bearer <token>" or an API key.');
    }

    const strategy = this.strategies.find(credential);
    if (!strategy) {
      throw unauthorized(
        'AUTH_INVALID_TOKEN',
        credential.scheme === 'apikey' ? 'Invalid API key' : 'Could not validate credentials',
      );
    }
    if (!policy.principalKinds.includes(strategy.principalKind)) {
      throw new AppError('CREDENTIAL_NOT_ACCEPTED', 'This kind of credential cannot be used on this route.', {
        headers: { 'WWW-Authenticate': 'Bearer' },
      });
    }
    return andThen(strategy.authenticate(credential, req), (principal) => {
      req.principal = principal;
      return true;
    });
  }
}
