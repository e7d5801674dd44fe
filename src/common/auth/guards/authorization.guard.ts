import { CanActivate, ExecutionContext, Injectable, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '../../errors/app-error';
import type { LatchkeyRequest } from '../../http/request-context';
import { Clock } from '../../clock';
import { sessionIdOf, type Principal } from '../principal';
import { DEFAULT_RECENT_LOGIN_MAX_AGE, RecentLoginPolicy } from '../recent-login';
import { RoutePolicies } from '../route-policy';
import { roleScopes } from '../scopes';

/**
 * Global guard (APP_GUARD, after AuthenticationGuard): enforces `@Roles()`, `@SessionOnly()`,
 * `@RequireScopes()` and `@RecentLogin()`, in that order. Plugin deploy tokens hold no roles;
 * they pass a role check never. A role counts only when the credential also carries every scope
 * of that role, so an administrator's API key restricted to a few scopes is not an administrator.
 */
@Injectable()
export class AuthorizationGuard implements CanActivate {
  private readonly policies: RoutePolicies;
  private readonly recentLogin: RecentLoginPolicy;

  constructor(reflector: Reflector, @Optional() recentLogin?: RecentLoginPolicy) {
    this.policies = new RoutePolicies(reflector);
    this.recentLogin = recentLogin ?? new RecentLoginPolicy(DEFAULT_RECENT_LOGIN_MAX_AGE, new Clock());
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
    for (const anyOf of policy.roles) {
      if (!anyOf.some((role) => actsWithRole(principal, role))) throw insufficientRole(principal, anyOf);
    }
    if (policy.sessionOnly && !sessionIdOf(principal)) {
      throw new AppError('SESSION_REQUIRED', 'This action needs an interactive login (an access token), not an API key or a deploy token.');
    }
    const missing = policy.scopes.filter((s) => !principal.scopes.includes(s));
    if (missing.length > 0) throw insufficientScope(policy.scopes, missing, principal.scopes, policy.tiledScopeErrors);
    if (policy.recentLogin) this.recentLogin.assert(principal);
    return true;
  }
}

/** The principal holds the role, and its credential carries all of the role's scopes. */
function actsWithRole(principal: Principal, role: string): boolean {
  if (principal.kind !== 'user' || !principal.roles.includes(role)) return false;
  return (roleScopes(role) ?? []).every((s) => principal.scopes.includes(s));
}

function insufficientRole(principal: Principal, anyOf: readonly string[]): AppError {
  const held = principal.kind === 'user' ? anyOf.filter((r) => principal.roles.includes(r)) : [];
  if (held.length > 0) {
    return new AppError(
      'INSUFFICIENT_ROLE',
      `This action requires the role ${anyOf.join(' or ')}, and this credential does not carry all of its scopes (an API key restricted to a few scopes).`,
    );
  }
  return new AppError('INSUFFICIENT_ROLE', `This action requires the role ${anyOf.join(' or ')}.`);
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
