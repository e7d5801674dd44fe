import { bearer, createTestApp, TestApp } from './utils/create-test-app';

const API = '/api/v1';

describe('revoke everything (the per-user epoch)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
    await t.createUser('alice');
    await t.createUser('bob');
  });
  afterAll(() => t.close());

  it('kills a live access token, every session\'s refresh token and every API key in one call', async () => {
    const here = await t.login('alice');
    const elsewhere = await t.login('alice');
    const key = (
      await t.http().post(`${API}/auth/apikey`).set(bearer(here.access_token)).send({ scopes: null, expires_in: null }).expect(200)
    ).body.secret as string;
    const bob = await t.login('bob');
    await t.http().get(`${API}/users/me`).set('Authorization', `Apikey ${key}`).expect(200);
    await t.http().get(`${API}/users/me`).set(bearer(elsewhere.access_token)).expect(200);

    const res = await t.http().post(`${API}/users/me/revoke-all`).set(bearer(here.access_token)).expect(200);
    expect(res.body).toEqual({ epoch: 1, sessions_revoked: 2, api_keys_revoked: 1 });

    for (const token of [here.access_token, elsewhere.access_token]) {
      const r = await t.http().get(`${API}/users/me`).set(bearer(token)).expect(401);
      expect(r.body.detail).toBe('This token has been revoked.');
    }
    await t.http().get(`${API}/users/me`).set('Authorization', `Apikey ${key}`).expect(401);
    for (const refresh of [here.refresh_token, elsewhere.refresh_token]) {
      await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: refresh }).expect(401);
    }
    // Other users are untouched; logging in again works and carries the new epoch.
    await t.http().get(`${API}/users/me`).set(bearer(bob.access_token)).expect(200);
    const again = await t.login('alice');
    const claims = JSON.parse(Buffer.from(again.access_token.split('.')[1], 'base64url').toString());
    expect(claims.epoch).toBe(1);
    const who = await t.http().get(`${API}/auth/whoami`).set(bearer(again.access_token)).expect(200);
    expect(who.body.api_keys).toEqual([]);
    expect(who.body.sessions.filter((s: { revoked: boolean }) => !s.revoked)).toHaveLength(1);
  });

  it('applies on another instance within USER_CACHE_TTL', async () => {
    const other = await createTestApp({ USER_CACHE_TTL: '1' }, t.db);
    try {
      const tokens = await t.login('bob');
      await other.http().get(`${API}/users/me`).set(bearer(tokens.access_token)).expect(200); // cached there
      await t.http().post(`${API}/users/me/revoke-all`).set(bearer(tokens.access_token)).expect(200);
      await new Promise((r) => setTimeout(r, 1100));
      await other.http().get(`${API}/users/me`).set(bearer(tokens.access_token)).expect(401);
    } finally {
      await other.close({ keepDatabase: true });
    }
  });
});
