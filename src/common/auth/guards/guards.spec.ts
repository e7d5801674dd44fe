import { Controller, ExecutionContext, Get } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '../../errors/app-error';
import type { LatchkeyRequest } from '../../http/request-context';
import { CredentialStrategies, CredentialStrategy } from '../credential-strategy';
import { Clock } from '../../clock';
import { AcceptPluginToken, OptionalAuth, Public, RecentLogin, RequireScopes, Roles, SessionOnly, TiledCompatible } from '../decorators';
import type { Principal } from '../principal';
import { RecentLoginPolicy } from '../recent-login';
import { ROLE_SCOPES } from '../scopes';
import type { AuthFailureLimiter } from '../../rate-limit/auth-failures';
import { AuthenticationGuard } from './authentication.guard';
import { AuthorizationGuard } from './authorization.guard';

@Controller()
class DummyController {
  @Get() @Public() open() {}
  @Get() @OptionalAuth() maybe() {}
  @Get() plain() {}
  @Get() @Roles('admin') adminOnly() {}
  @Get() @RequireScopes('read:data', 'write:data') scoped() {}
  @Get() @AcceptPluginToken() deploy() {}
  @Get() @SessionOnly() sensitive() {}
  @Get() @RecentLogin() recent() {}
}

@Roles('admin')
@Controller()
class AdminController {
  @Get() list() {}
  @Get() @Roles('user') narrowed() {}
}

@TiledCompatible()
@RequireScopes('write:data')
@Controller()
class TiledController {
  @Get() write() {}
}

const user: Principal = {
  kind: 'user',
  userId: 'u1',
  username: 'alice',
  roles: ['user'],
  groups: [],
  scopes: ['read:data'],
  credential: { type: 'access_token', sessionId: 's1' },
};
const pluginToken: Principal = { kind: 'plugin_token', tokenId: 't1', pluginId: 'p1', description: 'CI', label: 'Token CI', scopes: ['read:data'] };

function strategy(name: string, scheme: 'bearer' | 'apikey', principal: Principal): CredentialStrategy {
  return {
    name,
    principalKind: principal.kind,
    accepts: (c) => c.scheme === scheme && c.secret.startsWith(name),
    authenticate: jest.fn(async (c) => {
      if (c.secret.endsWith('bad')) throw new AppError('AUTH_INVALID_TOKEN', 'bad');
      if (c.secret.endsWith('expired')) throw new AppError('AUTH_TOKEN_EXPIRED', 'expired');
      return principal;
    }),
  };
}

function context(controller: Function, handler: string, req: Partial<LatchkeyRequest>): ExecutionContext {
  const full = { url: '/', headers: {}, query: {}, cookies: {}, ...req } as LatchkeyRequest;
  return {
    getType: () => 'http',
    getClass: () => controller,
    getHandler: () => (controller.prototype as Record<string, Function>)[handler],
    switchToHttp: () => ({ getRequest: () => full }),
  } as unknown as ExecutionContext;
}

async function status(promise: Promise<unknown> | unknown): Promise<number | 'ok'> {
  try {
    await promise;
    return 'ok';
  } catch (e) {
    return (e as AppError).status;
  }
}

describe('AuthenticationGuard + AuthorizationGuard', () => {
  const registry = new CredentialStrategies();
  registry.register(strategy('jwt', 'bearer', user));
  registry.register(strategy('dpl', 'bearer', pluginToken));
  registry.register(strategy('key', 'apikey', { ...user, credential: { type: 'api_key', id: 'k1', accessTags: null } } as Principal));
  const authn = new AuthenticationGuard(new Reflector(), registry);
  const authz = new AuthorizationGuard(new Reflector());
  const run = async (controller: Function, handler: string, authorization?: string) => {
    const ctx = context(controller, handler, { headers: authorization ? { authorization } : {} });
    const first = await status(Promise.resolve().then(() => authn.canActivate(ctx)));
    if (first !== 'ok') return first;
    return status(Promise.resolve().then(() => authz.canActivate(ctx)));
  };

  it('is secure by default: a plain route without a credential is 401', async () => {
    expect(await run(DummyController, 'plain')).toBe(401);
    expect(await run(DummyController, 'plain', 'Bearer jwt-ok')).toBe('ok');
  });

  it('@Public reads nothing, not even a bad credential', async () => {
    expect(await run(DummyController, 'open')).toBe('ok');
    expect(await run(DummyController, 'open', 'Bearer jwt-bad')).toBe('ok');
  });

  it('@OptionalAuth lets anonymous callers in but still rejects a bad credential', async () => {
    expect(await run(DummyController, 'maybe')).toBe('ok');
    expect(await run(DummyController, 'maybe', 'Bearer jwt-bad')).toBe(401);
  });

  it('a credential no strategy accepts is a 401; a malformed header is a 400', async () => {
    expect(await run(DummyController, 'plain', 'Bearer something-else')).toBe(401);
    expect(await run(DummyController, 'plain', 'Token abc')).toBe(400);
    expect(await run(DummyController, 'plain', 'Bearer ' + 'a'.repeat(5000))).toBe(400);
  });

  it('@Roles is 403 without the role, at method or class level', async () => {
    expect(await run(DummyController, 'adminOnly', 'Bearer jwt-ok')).toBe(403);
    expect(await run(AdminController, 'list', 'Bearer jwt-ok')).toBe(403);
  });

  it('@RequireScopes is 403 INSUFFICIENT_SCOPE naming the missing scope', async () => {
    const ctx = context(DummyController, 'scoped', { headers: { authorization: 'Bearer jwt-ok' } });
    await authn.canActivate(ctx);
    expect(() => authz.canActivate(ctx)).toThrow(/missing \[write:data\]/);
    try {
      authz.canActivate(ctx);
    } catch (e) {
      expect((e as AppError).code).toBe('INSUFFICIENT_SCOPE');
      expect((e as AppError).status).toBe(403);
    }
  });

  it('a method-level @Roles narrows the class-level one, never widens it', async () => {
    expect(await run(AdminController, 'narrowed', 'Bearer jwt-ok')).toBe(403); // user, but not admin
  });

  it('@TiledCompatible answers a missing scope with 401 and a scope challenge', async () => {
    const ctx = context(TiledController, 'write', { headers: { authorization: 'Bearer jwt-ok' } });
    await authn.canActivate(ctx);
    try {
      authz.canActivate(ctx);
      throw new Error('should have thrown');
    } catch (e) {
      expect((e as AppError).status).toBe(401);
      expect((e as AppError).options.headers).toEqual({ 'WWW-Authenticate': 'Bearer scope="write:data"' });
      expect((e as AppError).options.detail).toBe('Not enough permissions. Requires scopes [write:data]. Request had scopes [read:data]');
    }
  });

  it('@SessionOnly takes an access token and refuses API keys and deploy tokens', async () => {
    expect(await run(DummyController, 'sensitive', 'Bearer jwt-ok')).toBe('ok');
    expect(await run(DummyController, 'sensitive', 'Apikey key-ok')).toBe(403);
  });

  it('plugin deploy tokens are refused everywhere except on @AcceptPluginToken routes', async () => {
    expect(await run(DummyController, 'plain', 'Bearer dpl-ok')).toBe(401);
    expect(await run(DummyController, 'deploy', 'Bearer dpl-ok')).toBe('ok');
    expect(await run(DummyController, 'deploy', 'Bearer jwt-ok')).toBe('ok');
  });

  it('puts the resolved principal on the request', async () => {
    const ctx = context(DummyController, 'plain', { headers: { authorization: 'Bearer jwt-ok' } });
    await authn.canActivate(ctx);
    expect(ctx.switchToHttp().getRequest<LatchkeyRequest>().principal).toBe(user);
  });

  it('a role counts only with all of its scopes: an admin API key restricted to a few scopes is no admin', () => {
    const admin = (scopes: readonly string[]): Principal => ({ ...user, roles: ['user', 'admin'], scopes: [...scopes], credential: { type: 'api_key', id: 'k', accessTags: null } });
    const check = (principal: Principal) => {
      const ctx = context(DummyController, 'adminOnly', {});
      ctx.switchToHttp().getRequest<LatchkeyRequest>().principal = principal;
      try {
        authz.canActivate(ctx);
        return 'ok';
      } catch (e) {
        return `${(e as AppError).status} ${(e as AppError).message}`;
      }
    };
    expect(check(admin(ROLE_SCOPES.admin))).toBe('ok');
    expect(check(admin(['read:metadata', 'read:principals']))).toMatch(/^403 .*does not carry all of its scopes/);
    expect(check({ ...user, scopes: [...ROLE_SCOPES.admin] })).toBe('403 This action requires the role admin.'); // scopes without the role
  });

  it('refuses to register two strategies under one name', () => {
    expect(() => registry.register(strategy('jwt', 'bearer', user))).toThrow(/registered twice/);
  });

  it('reports refused credentials to the failure limiter, and refuses a blocked address before any strategy runs', async () => {
    const failed: string[] = [];
    let blocked = false;
    const limiter = {
      refusal: () => (blocked ? new AppError('TOO_MANY_REQUESTS', 'blocked') : null),
      failed: async (req: LatchkeyRequest) => void failed.push(String(req.headers.authorization)),
    } as unknown as AuthFailureLimiter;
    const guard = new AuthenticationGuard(new Reflector(), registry, limiter);
    const go = (controller: Function, handler: string, authorization?: string) =>
      status(Promise.resolve().then(() => guard.canActivate(context(controller, handler, { headers: authorization ? { authorization } : {} }))));
    expect(await go(DummyController, 'plain', 'Bearer jwt-bad')).toBe(401); // the strategy refused it
    expect(await go(DummyController, 'plain', 'Bearer nobody-accepts-this')).toBe(401); // no strategy
    expect(await go(DummyController, 'plain', 'Bearer dpl-ok')).toBe(401); // a kind the route does not take
    expect(await go(DummyController, 'plain', 'Bearer jwt-expired')).toBe(401); // aged out: not counted
    expect(await go(DummyController, 'plain')).toBe(401); // no credential: not counted
    expect(await go(DummyController, 'plain', 'Bearer jwt-ok')).toBe('ok');
    expect(failed).toEqual(['Bearer jwt-bad', 'Bearer nobody-accepts-this', 'Bearer dpl-ok']);

    blocked = true;
    const calls = (registry.find({ scheme: 'bearer', secret: 'jwt-ok', source: 'header' })!.authenticate as jest.Mock).mock.calls.length;
    expect(await go(DummyController, 'plain', 'Bearer jwt-ok')).toBe(429);
    expect(await go(DummyController, 'open')).toBe(429); // public routes too
    expect((registry.find({ scheme: 'bearer', secret: 'jwt-ok', source: 'header' })!.authenticate as jest.Mock).mock.calls.length).toBe(calls);
  });
});

describe('@RecentLogin', () => {
  class MovableClock extends Clock {
    at = Date.now();
    override now(): Date {
      return new Date(this.at);
    }
  }
  const clock = new MovableClock();
  const authz = new AuthorizationGuard(new Reflector(), new RecentLoginPolicy(600, clock));
  const loginAt = (authTime: number | undefined, type: 'access_token' | 'browser_session' = 'access_token'): Principal => ({
    ...user,
    credential: authTime === undefined ? { type, sessionId: 's1' } : { type, sessionId: 's1', authTime },
  });
  const check = (principal: Principal): string => {
    const ctx = context(DummyController, 'recent', {});
    ctx.switchToHttp().getRequest<LatchkeyRequest>().principal = principal;
    try {
      authz.canActivate(ctx);
      return 'ok';
    } catch (e) {
      return `${(e as AppError).status} ${(e as AppError).code}`;
    }
  };

  it('passes a login at most RECENT_LOGIN_MAX_AGE old, from an access token or a browser session', () => {
    const now = clock.at / 1000;
    expect(check(loginAt(now - 10))).toBe('ok');
    expect(check(loginAt(now - 600))).toBe('ok');
    expect(check(loginAt(now - 10, 'browser_session'))).toBe('ok');
  });

  it('an older login, or one of unknown age (a token from before auth_time), is 401 REAUTH_REQUIRED', () => {
    const now = clock.at / 1000;
    expect(check(loginAt(now - 601))).toBe('401 REAUTH_REQUIRED');
    expect(check(loginAt(undefined))).toBe('401 REAUTH_REQUIRED');
    const authTime = now;
    clock.at += 601_000; // time passes; the login does not move
    expect(check(loginAt(authTime))).toBe('401 REAUTH_REQUIRED');
  });

  it('API keys, IdP offline tokens and deploy tokens are no login at all: 403 SESSION_REQUIRED', () => {
    expect(check({ ...user, credential: { type: 'api_key', id: 'k1', accessTags: null } })).toBe('403 SESSION_REQUIRED');
    expect(check({ ...user, credential: { type: 'oidc', provider: 'idp' } })).toBe('403 SESSION_REQUIRED');
    expect(check(pluginToken)).toBe('403 SESSION_REQUIRED');
  });

  it('a max age of 0 accepts any interactive login', () => {
    const any = new AuthorizationGuard(new Reflector(), new RecentLoginPolicy(0, clock));
    const ctx = context(DummyController, 'recent', {});
    ctx.switchToHttp().getRequest<LatchkeyRequest>().principal = loginAt(undefined);
    expect(any.canActivate(ctx)).toBe(true);
  });
});
