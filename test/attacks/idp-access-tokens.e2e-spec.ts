/**
 * Attack (issue 17 §7): with the IdP's own access tokens accepted as Bearer
 * (OIDC_IDP_ACCEPT_ACCESS_TOKENS=true), forged, foreign or misused JWTs that name the IdP as
 * issuer. Each is refused (401), none reaches the IdP's token endpoint, and made-up key ids cost
 * at most one JWKS fetch. The app trusts no configured audience (as with IdPs that put the scope
 * string in `aud`), so only the client and token-type checks stand between an ID token and a login.
 */
import { sign } from 'jsonwebtoken';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { bearer, createTestApp, type TestApp } from '../utils/create-test-app';
import { decodeJwt, startLocalIdp, type LocalIdp } from '../utils/local-idp';

const API = '/api/v1';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('attack: forged and misused IdP JWTs as Bearer', () => {
  let idp: LocalIdp;
  let t: TestApp;
  let real: { access_token: string; id_token: string };
  let jwksFetches = 0;
  let fetchSpy: jest.SpyInstance;

  beforeAll(async () => {
    idp = await startLocalIdp();
    const env: Record<string, string> = { OIDC_PROVIDERS: 'idp', ...idp.providerEnv('idp'), OIDC_IDP_ACCEPT_ACCESS_TOKENS: 'true' };
    delete env.OIDC_IDP_AUDIENCE;
    t = await createTestApp(env);
    real = await idp.obtainOfflineToken('alice', { scope: 'openid profile offline_access' });
    const fetch = globalThis.fetch;
    fetchSpy = jest.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
      if (String(input instanceof Request ? input.url : input).endsWith('/jwks')) jwksFetches++;
      return fetch(input, init);
    });
  });
  afterAll(async () => {
    fetchSpy?.mockRestore();
    await t?.close();
    await idp?.stop();
  });

  const call = (token: string) => t.http().get(`${API}/auth/credential`).set(bearer(token));
  const claims = () => decodeJwt(real.access_token).payload;

  it('the real access token works (the baseline the attacks below vary)', async () => {
    await call(real.access_token).expect(200);
  });

  it('an ID token of the same IdP and client is not an access token', async () => {
    const id = decodeJwt(real.id_token).payload;
    expect(id.aud).toBe('latchkey'); // it would pass the client check
    await idp.resetStats();
    expect((await call(real.id_token).expect(401)).body.code).toBe('AUTH_INVALID_TOKEN');
    expect((await idp.stats()).total).toBe(0);
  });

  it('tampered claims, alg none, an HS256 token signed with the client secret, a key that is not the IdP\'s: 401, no IdP call', async () => {
    const [header, , signature] = real.access_token.split('.');
    const tampered = `${header}.${b64({ ...claims(), sub: 'sub-bob' })}.${signature}`;
    const none = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims())}.`;
    const hs256 = sign(claims(), 'latchkey-secret', { algorithm: 'HS256', header: { alg: 'HS256', typ: 'at+jwt' } });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const kid = decodeJwt(real.access_token).header.kid as string;
    const otherKey = sign(claims(), privateKey, { algorithm: 'RS256', header: { alg: 'RS256', typ: 'at+jwt', kid } });
    await idp.resetStats();
    for (const [name, token] of Object.entries({ tampered, none, hs256, otherKey })) {
      const res = await call(token);
      expect({ name, status: res.status }).toEqual({ name, status: 401 });
    }
    expect((await idp.stats()).total).toBe(0);
  });

  it('a flood of made-up key ids costs at most one JWKS fetch', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    jwksFetches = 0;
    await idp.resetStats();
    for (let i = 0; i < 50; i++) {
      const token = sign({ ...claims(), jti: randomBytes(8).toString('hex') }, privateKey, { algorithm: 'ES256', header: { alg: 'ES256', typ: 'at+jwt', kid: randomBytes(8).toString('hex') } });
      await call(token).expect(401);
    }
    expect(jwksFetches).toBeLessThanOrEqual(1);
    expect((await idp.stats()).total).toBe(0);
  });

  it('an access token for another audience is refused where one is configured', async () => {
    const strict = await createTestApp({ OIDC_PROVIDERS: 'idp', ...idp.providerEnv('idp'), OIDC_IDP_ACCEPT_ACCESS_TOKENS: 'true', OIDC_IDP_AUDIENCE: 'urn:some-other-api' });
    try {
      await strict.http().get(`${API}/auth/credential`).set(bearer(real.access_token)).expect(401);
    } finally {
      await strict.close();
    }
  });
});
