import { UsersService } from '../src/users/users.service';
import { startAppWithIdp, type AppWithIdp } from './utils/app-with-idp';
import { bearer, createTestApp } from './utils/create-test-app';
import { idpProfile } from './utils/idp-profiles';
import { decodeJwt } from './utils/local-idp';

const API = '/api/v1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ALICE = { username: 'alice', email: 'alice@example.test' };

/**
 * The IdP's own JWT access tokens as `Bearer` (OIDC_IDP_ACCEPT_ACCESS_TOKENS=true): verified
 * locally against the IdP's JWKS, mapped by (iss, sub) to the user a login gives, and never sent
 * to the IdP. Attacks on it: test/attacks/idp-access-tokens.e2e-spec.ts.
 */
describe('IdP access tokens as Bearer', () => {
  let env: AppWithIdp;
  const call = (token: string) => env.t.http().get(`${API}/auth/credential`).set(bearer(token));
  const tokenFor = (username: string) => env.idp.obtainOfflineToken(username, { scope: 'openid profile email offline_access' });

  beforeAll(async () => {
    env = await startAppWithIdp({ idp: { accessTokenTtl: 3 }, env: { OIDC_IDP_ACCEPT_ACCESS_TOKENS: 'true' } });
  });
  afterAll(async () => {
    await env?.t.close();
    await env?.idp.stop();
  });

  it('maps (iss, sub) to the same user as the IdP\'s offline token, verifies once, then costs no IdP request at all', async () => {
    const { access_token, refresh_token } = await tokenFor('alice');
    expect(decodeJwt(access_token).header.typ).toBe('at+jwt');
    const viaOffline = (await call(refresh_token).expect(200)).body;
    await env.idp.resetStats();
    const viaAccess = (await call(access_token).expect(200)).body;
    expect(viaAccess).toMatchObject({ kind: 'user', username: idpProfile().usernameOf(ALICE), roles: ['user'], credential: { type: 'idp_access_token', provider: 'idp' } });
    expect(viaAccess.userId).toBe(viaOffline.userId);
    expect((await env.idp.stats()).total).toBe(0); // never a token-endpoint call

    // With the IdP gone: the verified token still works, and so does a new one signed by a known key.
    const second = (await tokenFor('alice')).access_token;
    await env.idp.stop();
    try {
      for (let i = 0; i < 20; i++) await call(access_token).expect(200);
      expect((await call(second).expect(200)).body.userId).toBe(viaAccess.userId);
    } finally {
      await env.idp.restart();
    }
  });

  it('is not a login: no session-only or recent-login route, and whoami shows the user', async () => {
    const { access_token } = await tokenFor('bob');
    await env.t.http().post(`${API}/users/me/revoke-all`).set(bearer(access_token)).expect(403);
    const who = await env.t.http().get(`${API}/auth/whoami`).set(bearer(access_token)).expect(200);
    expect(who.body.identities).toEqual([expect.objectContaining({ provider: 'idp', id: 'sub-bob' })]);
  });

  it('an expired token is refused once its exp passes, cached or not', async () => {
    const { access_token } = await tokenFor('alice');
    await call(access_token).expect(200);
    await sleep(3200);
    const res = await call(access_token).expect(401);
    expect(res.body.code).toBe('AUTH_INVALID_TOKEN');
  });

  it('revoke-all and disabling end it; a token issued before the revoke-all is refused even when first seen after', async () => {
    const early = (await tokenFor('bob')).access_token;
    const { access_token } = await tokenFor('bob');
    const bob = (await call(access_token).expect(200)).body.userId as string;
    await sleep(1100); // a later second than the tokens' iat
    const users = env.t.app.get(UsersService);
    await users.revokeAll(bob);
    expect((await call(access_token).expect(401)).body.detail).toBe('This token has been revoked.');
    expect((await call(early).expect(401)).body.detail).toBe('This token has been revoked.');
    const fresh = (await tokenFor('bob')).access_token;
    await call(fresh).expect(200);
    await users.setStatus(bob, 'disabled');
    expect((await call(fresh).expect(401)).body.code).toBe('AUTH_USER_INACTIVE');
    await users.setStatus(bob, 'active');
    await call(fresh).expect(200);
  });

  it('without OIDC_<P>_ACCEPT_ACCESS_TOKENS (the default) the same token is refused, and still never reaches the IdP', async () => {
    const off = await createTestApp({ OIDC_PROVIDERS: 'idp', ...env.idp.providerEnv('idp') });
    try {
      const { access_token } = await tokenFor('alice');
      await env.idp.resetStats();
      await off.http().get(`${API}/auth/credential`).set(bearer(access_token)).expect(401);
      expect((await env.idp.stats()).total).toBe(0);
    } finally {
      await off.close();
    }
  });
});
