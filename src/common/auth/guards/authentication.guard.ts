import { CanActivate, ExecutionContext, Injectable, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError, unauthorized } from '../../errors/app-error';
import type { LatchkeyRequest } from '../../http/request-context';
import { andThen, type MaybePromise } from '../../maybe-async';
import { AuthFailureLimiter } from '../../rate-limit/auth-failures';
import { CredentialStrategies } from '../credential-strategy';
import { extractCredential } from '../credentials';
import type { Principal } from '../principal';
import { RoutePolicies } from '../route-policy';

/** 401s that are not failed authentication attempts (see `failed`). */
const AGED_OUT: ReadonlySet<string> = new Set(['AUTH_TOKEN_EXPIRED', 'IDP_SESSION_EXPIRED']);

/**
 * Global guard (APP_GUARD): secure by default. Every route needs a credential unless it says
 * `@Public()` (nothing is read) or `@OptionalAuth()` (verified when present). The credential is
 * resolved to a Principal by whichever registered strategy accepts it; this guard imports no
 * feature module.
 *
 * Failed authentication is rate limited here (issue 16 §5): a refused credential (any 401 from
 * the check) counts against the client address in AuthFailureLimiter, and an address over its
 * budget is answered 429 on every route, public ones included, before its credential is read.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  private readonly policies: RoutePolicies;

  constructor(
    reflector: Reflector,
    private readonly strategies: CredentialStrategies,
    @Optional() private readonly failures?: AuthFailureLimiter,
  ) {
    this.policies = new RoutePolicies(reflector);
  }

  /** Synchronous unless the strategy has to wait (a lookup, an IdP exchange): most requests create no promise here. */
  canActivate(context: ExecutionContext): MaybePromise<boolean> {
    if (context.getType() !== 'http') return true;
    const policy = this.policies.of(context);
    const req = context.switchToHttp().getRequest<LatchkeyRequest>();
    const refused = this.failures?.refusal(req);
    if (refused) throw refused;
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
      return this.failed(
        req,
        unauthorized('AUTH_INVALID_TOKEN', credential.scheme === 'apikey' ? 'Invalid API key' : 'Could not validate credentials'),
      );
    }
    if (!policy.principalKinds.includes(strategy.principalKind)) {
      return this.failed(
        req,
        new AppError('CREDENTIAL_NOT_ACCEPTED', 'This kind of credential cannot be used on this route.', {
          headers: { 'WWW-Authenticate': 'Bearer' },
        }),
      );
    }
    let principal: MaybePromise<Principal>;
    try {
      principal = strategy.authenticate(credential, req);
    } catch (error) {
      return this.failed(req, error);
    }
    if (principal instanceof Promise) principal = principal.catch((error: unknown) => this.failed(req, error));
    return andThen(principal, (resolved) => {
      req.principal = resolved;
      return true;
    });
  }

  /**
   * Rethrows `error`; a refused credential (401) first counts against the client address, except
   * a genuine credential that merely aged out (an access token past `exp`, whose signature holds;
   * a browser session whose IdP session ended): clients meet those in normal use, scanners cannot
   * forge them.
   */
  private failed(req: LatchkeyRequest, error: unknown): never | Promise<never> {
    if (!this.failures || !(error instanceof AppError) || error.status !== 401 || AGED_OUT.has(error.code)) throw error;
    return this.failures.failed(req).then(
      () => Promise.reject(error),
      () => Promise.reject(error),
    );
  }
}
