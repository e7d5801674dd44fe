import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { CredentialStrategies } from '../common/auth/credential-strategy';
import { AuthenticationGuard } from '../common/auth/guards/authentication.guard';
import { AuthorizationGuard } from '../common/auth/guards/authorization.guard';
import type { AppError } from '../common/errors/app-error';
import type { LatchkeyRequest } from '../common/http/request-context';
import type { Principal } from '../common/auth/principal';
import { MetadataController } from './metadata.controller';

const withScopes = (scopes: string[]): Principal => ({
  kind: 'user', userId: 'u1', username: 'alice', roles: ['user'], groups: [], scopes,
  credential: { type: 'api_key', id: 'k1', accessTags: null },
});

const registry = new CredentialStrategies();
registry.register({
  name: 'fake', principalKind: 'user',
  accepts: (c) => c.scheme === 'apikey',
  authenticate: async (c) => withScopes(c.secret === 'reader' ? ['read:metadata'] : []),
});
const authn = new AuthenticationGuard(new Reflector(), registry);
const authz = new AuthorizationGuard(new Reflector());

function context(handler: 'root' | 'node', headers: Record<string, string>): ExecutionContext {
  const req = { url: '/', headers, query: {}, cookies: {} } as unknown as LatchkeyRequest;
  return {
    getType: () => 'http',
    getClass: () => MetadataController,
    getHandler: () => MetadataController.prototype[handler],
    switchToHttp: () => ({ getRequest: () => req }),
  } as unknown as ExecutionContext;
}

async function run(handler: 'root' | 'node', headers: Record<string, string> = {}) {
  const ctx = context(handler, headers);
  try {
    await authn.canActivate(ctx);
    authz.canActivate(ctx);
    return 'ok';
  } catch (e) {
    return `${(e as AppError).status} ${(e as AppError).code}`;
  }
}

it('needs a credential with read:metadata, answered as Tiled', async () => {
  expect(await run('root')).toBe('401 AUTH_REQUIRED');
  expect(await run('root', { authorization: 'Apikey reader' })).toBe('ok');
  expect(await run('node', { authorization: 'Apikey other' })).toBe('401 INSUFFICIENT_SCOPE_TILED');
});
