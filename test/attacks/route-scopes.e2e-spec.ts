/**
 * Attack (issue 16 §6): a leaked API key restricted to `read:metadata` (the kind a user hands a
 * data-reading script) tries everything else its owner's account allows. Every route that reads or
 * changes account state needs a scope (read:account / write:account for the caller's own account,
 * read:plugins for plugins, revoke:apikeys…), so the key gets 401/403 and nothing changes.
 *
 * Admin routes are role-gated: a role counts only when the credential carries every scope of the
 * role, so an administrator's key restricted to one scope is not an administrator (shown below);
 * route-inventory.e2e-spec.ts therefore accepts `roles=[admin]` in place of a scope.
 */
import { bearer, createTestApp, type LoginBody, type TestApp } from '../utils/create-test-app';

const API = '/api/v1';
const apikey = (secret: string) => ({ Authorization: `Apikey ${secret}` });
const newKey = (scopes: string[] | null) => ({ scopes, expires_in: null, note: null, access_tags: null });

describe('attack: a read:metadata API key against its owner account', () => {
  let t: TestApp;
  let alice: LoginBody;
  let aliceSession: string;
  let readOnly: string;
  let inherit: string;
  let keyId: string;

  beforeAll(async () => {
    t = await createTestApp();
    await t.createUser('alice');
    await t.createUser('root', undefined, ['admin']);
    alice = await t.login('alice');
    const who = await t.http().get(`${API}/auth/whoami`).set(bearer(alice.access_token)).expect(200);
    aliceSession = who.body.sessions[0].uuid;
    readOnly = (await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send(newKey(['read:metadata'])).expect(200)).body.secret;
    inherit = (await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send(newKey(null)).expect(200)).body.secret;
    keyId = (await t.http().get(`${API}/api-keys`).set(bearer(alice.access_token)).expect(200)).body[0].id;
    await t.http().post(`${API}/plugins`).set(bearer(alice.access_token)).send({ name: 'alice-tool' }).expect(201);
  });
  afterAll(() => t?.close());

  it('cannot revoke its owner session by id (Tiled route: 401 naming the scope); the session lives on', async () => {
    const res = await t.http().delete(`${API}/auth/session/revoke/${aliceSession}`).set(apikey(readOnly)).expect(401);
    expect(res.body).toMatchObject({ code: 'INSUFFICIENT_SCOPE_TILED' });
    expect(res.headers['www-authenticate']).toBe('Bearer scope="write:account"');
    const refreshed = await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: alice.refresh_token }).expect(200);
    alice = refreshed.body;
  });

  it('cannot read a maintainer-only plugin audit log, nor list or read plugins and versions', async () => {
    for (const path of ['/plugins/alice-tool/audit', '/plugins', '/plugins/alice-tool', '/plugins/alice-tool/versions', '/plugins/alice-tool/versions/1.0.0/download']) {
      const res = await t.http().get(`${API}${path}`).set(apikey(readOnly));
      expect({ path, status: res.status, code: res.body.code }).toEqual({ path, status: 403, code: 'INSUFFICIENT_SCOPE' });
    }
  });

  it('cannot read the account: profile, audit, key list, key usage, the /account page', async () => {
    for (const path of [`${API}/users/me`, `${API}/users/me/audit`, `${API}/api-keys`, `${API}/api-keys/${keyId}/usage`, '/account']) {
      const res = await t.http().get(path).set(apikey(readOnly)).set('Accept', 'application/json');
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
    }
  });

  it('cannot revoke keys, by id or by first eight', async () => {
    await t.http().delete(`${API}/api-keys/${keyId}`).set(apikey(readOnly)).expect(403);
    const first8 = inherit.slice(7, 15);
    await t.http().delete(`${API}/auth/apikey?first_eight=${first8}`).set(apikey(readOnly)).expect(401);
    await t.http().get(`${API}/auth/whoami`).set(apikey(inherit)).expect(200); // still alive
  });

  it('may still describe itself (GET /auth/apikey, Tiled client which_api_key) and whoami / credential', async () => {
    const res = await t.http().get(`${API}/auth/apikey`).set(apikey(readOnly)).expect(200);
    expect(res.body.scopes).toEqual(['read:metadata']);
    await t.http().get(`${API}/auth/whoami`).set(apikey(readOnly)).expect(200);
    await t.http().get(`${API}/auth/credential`).set(apikey(readOnly)).expect(200);
  });

  it('the owner (access token) and an inherit key still do all of it', async () => {
    for (const secret of [alice.access_token, inherit]) {
      const auth = secret === inherit ? apikey(secret) : bearer(secret);
      await t.http().get(`${API}/plugins/alice-tool/audit`).set(auth).expect(200);
      await t.http().get(`${API}/users/me`).set(auth).expect(200);
      await t.http().get(`${API}/api-keys`).set(auth).expect(200);
    }
    await t.http().delete(`${API}/auth/session/revoke/${aliceSession}`).set(apikey(inherit)).expect(204);
  });

  it('an administrator key restricted to read:metadata is no administrator', async () => {
    const root = await t.login('root');
    const key = (await t.http().post(`${API}/auth/principal/${root.principal}/apikey`).set(bearer(root.access_token)).send(newKey(['read:metadata'])).expect(200)).body.secret;
    await t.http().get(`${API}/admin/users`).set(apikey(key)).expect(403);
    await t.http().get(`${API}/admin/audit`).set(apikey(key)).expect(403);
    await t.http().get(`${API}/admin/users`).set(bearer(root.access_token)).expect(200);
  });
});
