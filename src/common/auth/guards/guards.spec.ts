import { Controller, ExecutionContext, Get } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '../../errors/app-error';
import type { LatchkeyRequest } from '../../http/request-context';
import { CredentialStrategies, CredentialStrategy } from '../credential-strategy';
import { AcceptPluginToken, OptionalAuth, Public, RequireScopes, Roles, SessionOnly, TiledCompatible } from '../decorators';
import type { Principal } from '../principal';
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
const pluginToken: Principal = { kind: 'plugin_token', tokenId: 't1', pluginId: 'p1', description: 'CI', scopes: ['read:data'] };

function strategy(name: string, scheme: 'bearer' | 'apikey', principal: Principal): CredentialStrategy {
  return {
    name,
    principalKind: principal.kind,
    accepts: (c) => c.scheme === scheme && c.secret.startsWith(name),
    authenticate: jest.fn(async (c) => {
      if (c.secret.endsWith('bad')) throw new AppError('AUTH_INVALID_TOKEN', 'bad');
      return principal;
    }),
  };
}

function context(controller: Function, handler: string, req: Partial<LatchkeyRequest>): ExecutionContext {
  const full = { headers: {}, query: {}, cookies: {}, ...req } as LatchkeyRequest;
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
  registry.register(strategy('key', 'apikey', { ...user, credential: { type: 'api_key', id: 'k1' } } as Principal));
  const authn = new AuthenticationGuard(new Reflector(), registry);
  const authz = new AuthorizationGuard(new Reflector());
  const run = async (controller: Function, handler: string, authorization?: string) => {
    const ctx = context(controller, handler, { headers: authorization ? { authorization } : {} });
    const first = await status(authn.canActivate(ctx));
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

  it('refuses to register two strategies under one name', () => {
    expect(() => registry.register(strategy('jwt', 'bearer', user))).toThrow(/registered twice/);
  });
});
