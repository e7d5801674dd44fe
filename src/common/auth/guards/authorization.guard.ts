import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '../../errors/app-error';
import type { LatchkeyRequest } from '../../http/request-context';
import { sessionIdOf } from '../principal';
import { RoutePolicies } from '../route-policy';

/**
 * Global guard (APP_GUARD, after AuthenticationGuard): enforces `@Roles()` and
 * `@RequireScopes()`. Plugin deploy tokens hold no roles; they pass a role check never.
 */
@Injectable()
export class AuthorizationGuard implements CanActivate {
  private readonly policies: RoutePolicies;

  constructor(reflector: Reflector) {
    this.policies = new RoutePolicies(reflector);
  }

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const policy = this.policies.of(context);
    if (policy.roles.length === 0 && policy.scopes.length === 0 && !policy.sessionOnly) return true;
    const principal = context.switchToHttp().getRequest<LatchkeyRequest>().principal;
    if (!principal) {
      // Only reachable on @Public/@OptionalAuth routes that also ask for roles/scopes.
      throw new AppError('AUTH_REQUIRED', 'Not authenticated.', { headers: { 'WWW-Authenticate': 'Bearer' } });
    }
    const held = principal.kind === 'user' ? principal.roles : [];
    for (const anyOf of policy.roles) {
      if (!anyOf.some((r) => held.includes(r))) {
        throw new AppError('INSUFFICIENT_ROLE', `This action requires the role ${anyOf.join(' or ')}.`);
      }
    }
    if (policy.sessionOnly && !sessionIdOf(principal)) {
      throw new AppError('SESSION_REQUIRED', 'This action needs an interactive login (an access token), not an API key or a deploy token.');
    }
    const missing = policy.scopes.filter((s) => !principal.scopes.includes(s));
    if (missing.length > 0) throw insufficientScope(policy.scopes, missing, principal.scopes, policy.tiledScopeErrors);
    return true;
  }
}

function insufficientScope(
  required: readonly string[],
  missing: readonly string[],
  had: readonly string[],
  tiled: boolean,
): AppError {
  const message = `Not enough permissions. Requires scopes [${required.join(', ')}]; missing [${missing.join(', ')}].`;
  const detail = `Not enough permissions. Requires scopes [${required.join(', ')}]. Request had scopes [${had.join(', ')}]`;
  if (!tiled) return new AppError('INSUFFICIENT_SCOPE', message, { detail });
  return new AppError('INSUFFICIENT_SCOPE_TILED', message, {
    detail,
    headers: { 'WWW-Authenticate': `Bearer scope="${required.join(' ')}"` },
  });
}
