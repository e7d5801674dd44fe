import { type ExecutionContext, HttpException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { IS_PUBLIC, REQUIRED_ROLES, REQUIRED_SCOPES } from './decorators';
import { invalidCredential, latchkeyError, latchkeyUnavailable, notAuthenticated } from './errors';
import type { LatchkeyPrincipal } from './principal';
import { LatchkeyJwtStrategy, NO_CREDENTIAL } from './strategies';

/**
 * The one guard: `@Public()` routes pass; others need a Latchkey credential (an access token, by
 * `passport-jwt`; anything else, by introspection), then every scope of `@RequireScopes()` and
 * every role of `@Roles()` (403 `INSUFFICIENT_SCOPE` otherwise). Errors have Latchkey's shape.
 * A standard `AuthGuard(['latchkey-jwt', 'latchkey-introspection'])`, asked first whether the
 * access token is one verified before (then passport does not run).
 */
@Injectable()
export class LatchkeyGuard extends AuthGuard(['latchkey-jwt', 'latchkey-introspection']) {
  constructor(
    private readonly reflector: Reflector,
    private readonly jwt: LatchkeyJwtStrategy,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const req = context.switchToHttp().getRequest<Request & { user?: LatchkeyPrincipal }>();
    const known = this.jwt.fromCache(req);
    if (known) req.user = known;
    else await super.canActivate(context);
    authorize(req.user!, this.reflector.getAllAndMerge<string[]>(REQUIRED_SCOPES, targets), this.reflector.getAllAndMerge<string[]>(REQUIRED_ROLES, targets));
    return true;
  }

  override handleRequest<T>(error: unknown, user: T, info: unknown): T {
    if (error) throw error instanceof HttpException ? error : latchkeyUnavailable();
    if (user) return user;
    const reasons = (Array.isArray(info) ? info : [info]).filter((i): i is Error => i instanceof Error);
    if (reasons.some((r) => r.name === 'TokenExpiredError')) throw latchkeyError(401, 'AUTH_TOKEN_EXPIRED', 'Access token has expired. Refresh token.');
    // Both strategies say "No auth token" when the request carries no credential they read.
    if (reasons.every((r) => r.message === NO_CREDENTIAL)) throw notAuthenticated();
    throw invalidCredential();
  }
}

function authorize(principal: LatchkeyPrincipal, scopes: string[] = [], roles: string[] = []): void {
  const missing = scopes.filter((s) => !principal.scopes.includes(s));
  if (missing.length > 0) {
    throw latchkeyError(403, 'INSUFFICIENT_SCOPE', `This action requires the scopes [${scopes.join(', ')}]; the credential lacks [${missing.join(', ')}].`);
  }
  const lacking = roles.filter((r) => !principal.roles.includes(r));
  if (lacking.length > 0) throw latchkeyError(403, 'INSUFFICIENT_ROLE', `This action requires the role ${lacking.join(', ')}.`);
}
