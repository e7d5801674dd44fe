import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { IS_PUBLIC, OPTIONAL_AUTH, PRINCIPAL_KINDS, RECENT_LOGIN, ROLES, SCOPES, SESSION_ONLY, TILED_COMPATIBLE } from './decorators/auth-metadata';
import type { PrincipalKind } from './principal';

/** What a route asks of its caller, read once per handler from the decorators. */
export interface RoutePolicy {
  readonly access: 'public' | 'optional' | 'credential';
  readonly principalKinds: readonly PrincipalKind[];
  /**
   * Role requirements, one list per decorated level (method, class): the caller must hold at
   * least one role of *every* list, so a method-level @Roles narrows a class-level one and
   * never widens it.
   */
  readonly roles: readonly (readonly string[])[];
  readonly scopes: readonly string[];
  /** Scope failures answered the Tiled way (401) rather than Latchkey's (403). */
  readonly tiledScopeErrors: boolean;
  /** Only a user's access token (an interactive login) will do: no API key, no deploy token. */
  readonly sessionOnly: boolean;
  /** The interactive login must be recent (RECENT_LOGIN_MAX_AGE); implies `sessionOnly`. */
  readonly recentLogin: boolean;
}

const DEFAULT_KINDS: readonly PrincipalKind[] = ['user'];

/** Caches the policy per handler: decorators are static, so the reflection runs once per route. */
export class RoutePolicies {
  private readonly cache = new WeakMap<object, RoutePolicy>();

  constructor(private readonly reflector: Reflector) {}

  of(context: ExecutionContext): RoutePolicy {
    const handler = context.getHandler();
    let policy = this.cache.get(handler);
    if (!policy) {
      policy = this.read([handler, context.getClass()]);
      this.cache.set(handler, policy);
    }
    return policy;
  }

  read(targets: [Function, Function]): RoutePolicy {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) === true;
    const optional = this.reflector.getAllAndOverride<boolean>(OPTIONAL_AUTH, targets) === true;
    const recentLogin = this.reflector.getAllAndOverride<boolean>(RECENT_LOGIN, targets) === true;
    return Object.freeze({
      access: isPublic ? 'public' : optional ? 'optional' : 'credential',
      principalKinds: this.reflector.getAllAndOverride<PrincipalKind[]>(PRINCIPAL_KINDS, targets) ?? DEFAULT_KINDS,
      roles: targets
        .map((target) => this.reflector.get<string[] | undefined>(ROLES, target))
        .filter((roles): roles is string[] => !!roles && roles.length > 0),
      scopes: this.reflector.getAllAndMerge<string[]>(SCOPES, targets) ?? [],
      tiledScopeErrors: this.reflector.getAllAndOverride<boolean>(TILED_COMPATIBLE, targets) === true,
      sessionOnly: this.reflector.getAllAndOverride<boolean>(SESSION_ONLY, targets) === true || recentLogin,
      recentLogin,
    });
  }
}
