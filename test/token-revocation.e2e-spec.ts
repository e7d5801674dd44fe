import { bearer, createTestApp, LoginBody, TestApp } from './utils/create-test-app';
import { typo } from './utils/typo';

const API = '/api/v1';
const newKey = { scopes: ['read:metadata'], expires_in: null, note: null };

/**
 * RFC 7009 token revocation, `POST /api/v1/auth/revoke`: whoever holds a refresh token, an API
 * key or a deploy token revokes it with the token alone (form-encoded or JSON). The answer is 200
 * and empty whatever was sent, so it tells nothing about the value.
 */
describe('token revocation (RFC 7009)', () => {
  let t: TestApp;
  let anna: LoginBody;

  beforeAll(async () => {
    t = await createTestApp();
    await t.createUser('anna');
    anna = await t.login('anna');
  });
  afterAll(() => t.close());

  const revoke = (body: Record<string, string>, form = true) => {
    const req = t.http().post(`${API}/auth/revoke`);
    return form ? req.type('form').send(body) : req.send(body);
  };
  const expectEmpty200 = (res: { status: number; text: string; headers: Record<string, string> }) => {
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(res.headers['cache-control']).toBe('no-store');
  };

  it('a refresh token ends its session: the refresh token and the session\'s access token stop working', async () => {
    const login = await t.login('anna');
    expectEmpty200(await revoke({ token: login.refresh_token, token_type_hint: 'refresh_token' }));
    await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: login.refresh_token }).expect((r) => expect(r.status).toBeGreaterThanOrEqual(400));
    await t.http().get(`${API}/auth/credential`).set(bearer(login.access_token)).expect(401);
    // Revoking it again, or as JSON: still 200.
    expectEmpty200(await revoke({ token: login.refresh_token }, false));
  });

  it('an API key is revoked by its holder, whatever the hint', async () => {
    const key = (await t.http().post(`${API}/auth/apikey`).set(bearer(anna.access_token)).send(newKey).expect(200)).body.secret as string;
    await t.http().get(`${API}/metadata/`).set({ Authorization: `Apikey ${key}` }).expect(200);
    expectEmpty200(await revoke({ token: key, token_type_hint: 'refresh_token' }));
    await t.http().get(`${API}/metadata/`).set({ Authorization: `Apikey ${key}` }).expect(401);
    const listed = (await t.http().get(`${API}/api-keys`).set(bearer(anna.access_token)).expect(200)).body as { first_eight: string; status: string }[];
    expect(listed.find((k) => key.includes(k.first_eight))?.status).toBe('revoked');
  });

  it('a deploy token is revoked by its holder (a CI pipeline that leaked it)', async () => {
    await t.http().post(`${API}/plugins`).set(bearer(anna.access_token)).send({ name: 'revocable' }).expect(201);
    const token = (await t.http().post(`${API}/plugins/revocable/tokens`).set(bearer(anna.access_token)).send({ description: 'ci' }).expect(201)).body;
    expectEmpty200(await revoke({ token: token.token, token_type_hint: 'deploy_token' }));
    const tokens = (await t.http().get(`${API}/plugins/revocable/tokens`).set(bearer(anna.access_token)).expect(200)).body as { id: string; status: string }[];
    expect(tokens.find((x) => x.id === token.id)?.status).toBe('revoked');
  });

  it('anything else is 200 and changes nothing: unknown, malformed, an access token, a checksum typo', async () => {
    const key = (await t.http().post(`${API}/auth/apikey`).set(bearer(anna.access_token)).send(newKey).expect(200)).body.secret as string;
    for (const token of ['nothing', 'lk_rt_' + 'x'.repeat(46), 'lk_pat_' + 'A'.repeat(46), typo(key), anna.access_token, 'lk_dpl_short']) {
      expectEmpty200(await revoke({ token }));
    }
    await t.http().get(`${API}/metadata/`).set({ Authorization: `Apikey ${key}` }).expect(200);
    await t.http().get(`${API}/auth/credential`).set(bearer(anna.access_token)).expect(200);
  });

  it('a request without a token, or with an unknown hint, is a 422 JSON error', async () => {
    expect((await revoke({})).status).toBe(422);
    expect((await revoke({ token: 'x', token_type_hint: 'password' })).status).toBe(422);
    expect((await revoke({ token: 'x'.repeat(5000) })).status).toBe(422);
  });
});
