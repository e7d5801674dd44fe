import { User } from '../src/users/user.entity';
import { bearer, createTestApp, DEFAULT_PASSWORD, TestApp } from './utils/create-test-app';

const API = '/api/v1';

describe('password login, whoami, refresh, logout (Tiled-compatible)', () => {
  let t: TestApp;
  let alice: { id: string; username: string };

  beforeAll(async () => {
    t = await createTestApp({ REFRESH_REUSE_GRACE: '2' });
    alice = await t.createUser('alice');
    await t.createUser('bob');
  });
  afterAll(() => t.close());

  it('sends a browser at the server\'s address to the login page; API clients (JSON, msgpack, curl\'s */*) get the handshake', async () => {
    const browser = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
    const page = await t.http().get(`${API}/`).set('Accept', browser).expect(302);
    expect(page.headers.location).toBe('/login');
    for (const accept of ['application/json', 'application/x-msgpack, application/json', '*/*']) {
      const res = await t.http().get(`${API}/`).set('Accept', accept).expect(200);
      expect([accept, res.body.api_version]).toEqual([accept, 0]);
    }
  });

  it('answers the handshake with every field the Tiled client validates, and sets tiled_csrf', async () => {
    const res = await t.http().get(`${API}/`).set('Host', 'auth.example.test:8443').expect(200);
    const base = 'http://auth.example.test:8443/api/v1';
    expect(res.body).toMatchObject({
      api_version: 0,
      formats: {},
      aliases: {},
      queries: [],
      links: { self: base, documentation: 'http://auth.example.test:8443/api/docs' },
      authentication: {
        required: true,
        providers: [
          {
            provider: 'local',
            mode: 'internal',
            links: { auth_endpoint: `${base}/auth/provider/local/token` },
            confirmation_message: null,
            extra_scopes: null,
          },
        ],
        links: {
          whoami: `${base}/auth/whoami`,
          apikey: `${base}/auth/apikey`,
          refresh_session: `${base}/auth/session/refresh`,
          revoke_session: `${base}/auth/session/revoke/{session_id}`,
          logout: `${base}/auth/logout`,
        },
      },
    });
    expect(typeof res.body.library_version).toBe('string');
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('tiled_csrf='));
    expect(cookie).toMatch(/^tiled_csrf=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f]{16}$/);
  });

  it('does not set a second tiled_csrf cookie when the request already has one', async () => {
    const res = await t.http().get(`${API}/`).set('Cookie', 'tiled_csrf=abc').expect(200);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('reports mode "password" to Tiled clients older than 0.1.0b17', async () => {
    const old = await t.http().get(`${API}/`).set('User-Agent', 'python-tiled/0.1.0b16').expect(200);
    expect(old.body.authentication.providers[0].mode).toBe('password');
    const current = await t.http().get(`${API}/`).set('User-Agent', 'python-tiled/0.1.0b17').expect(200);
    expect(current.body.authentication.providers[0].mode).toBe('internal');
  });

  it('logs in with a form (as the Tiled client does) and with JSON', async () => {
    const form = await t
      .http()
      .post(`${API}/auth/provider/local/token`)
      .type('form')
      .send({ grant_type: 'password', username: 'alice', password: DEFAULT_PASSWORD })
      .expect(200);
    expect(form.body).toMatchObject({
      expires_in: 900,
      refresh_token_expires_in: 604800,
      token_type: 'bearer',
      identity: { id: 'alice', provider: 'local' },
      principal: alice.id.replace(/-/g, ''),
    });
    expect(form.body.refresh_token).toMatch(/^lk_rt_\w+$/);
    const header = JSON.parse(Buffer.from(form.body.access_token.split('.')[0], 'base64url').toString());
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' }); // RFC 9068
    expect(typeof header.kid).toBe('string');
    const claims = JSON.parse(Buffer.from(form.body.access_token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ type: 'access', sub: alice.id, roles: ['user'], groups: [], epoch: 0, iss: 'latchkey', aud: 'latchkey', client_id: 'latchkey' });
    expect(claims.scope).toBe(claims.scp.join(' '));
    expect(claims.scp).toContain('read:metadata');
    expect(claims.exp - claims.iat).toBe(900);

    await t
      .http()
      .post(`${API}/auth/provider/local/token`)
      .send({ username: 'ALICE', password: DEFAULT_PASSWORD })
      .expect(200);
  });

  it('gives the same 401 for a wrong password, an unknown user and a disabled account', async () => {
    const expected = { statusCode: 401, code: 'AUTH_INVALID_CREDENTIALS', detail: 'Incorrect username or password' };
    const wrong = await t.http().post(`${API}/auth/provider/local/token`).type('form').send({ username: 'alice', password: 'nope-nope' });
    const unknown = await t.http().post(`${API}/auth/provider/local/token`).type('form').send({ username: 'mallory', password: 'nope-nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject(expected);
    expect(unknown.body).toMatchObject(expected);
    expect(wrong.headers['www-authenticate']).toBe('Bearer');

    const dave = await t.createUser('dave');
    await t.dataSource.getRepository(User).update({ id: dave.id }, { status: 'disabled' });
    const disabled = await t.http().post(`${API}/auth/provider/local/token`).type('form').send({ username: 'dave', password: dave.password });
    expect(disabled.status).toBe(401);
    expect(disabled.body).toMatchObject(expected);
  });

  it('404s an unknown provider and 422s a missing field', async () => {
    await t.http().post(`${API}/auth/provider/github/token`).type('form').send({ username: 'alice', password: 'x' }).expect(404);
    const res = await t.http().post(`${API}/auth/provider/local/token`).type('form').send({ username: 'alice' }).expect(422);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('password');
  });

  it('answers a broken JSON body with MALFORMED_JSON and an oversize multipart field with a 400', async () => {
    const bad = await t.http().post(`${API}/auth/session/refresh`).set('Content-Type', 'application/json').send('{"refresh_token":').expect(400);
    expect(bad.body).toMatchObject({ code: 'MALFORMED_JSON', detail: 'The request body is not valid JSON.' });
    expect(bad.body.requestId).toBe(bad.headers['x-request-id']);
    const big = await t
      .http()
      .post(`${API}/auth/provider/local/token`)
      .field('username', 'alice')
      .field('password', 'a'.repeat(20 * 1024))
      .expect(400);
    expect(big.body.message).toMatch(/Field value too long - password/);
    await t.http().post(`${API}/auth/provider/local/token`).field('username', 'alice').field('password', DEFAULT_PASSWORD).expect(200);
  });

  it('whoami answers in Tiled principal shape with the session listed, and null when anonymous', async () => {
    const tokens = await t.login('alice');
    const res = await t.http().get(`${API}/auth/whoami`).set(bearer(tokens.access_token)).expect(200);
    expect(res.body).toMatchObject({
      uuid: alice.id,
      type: 'user',
      identities: [{ id: 'alice', provider: 'local' }],
      roles: [{ name: 'user' }],
      api_keys: [],
    });
    expect(res.body.roles[0].scopes).toContain('create:apikeys');
    expect(res.body.sessions.length).toBeGreaterThanOrEqual(1);
    expect(res.body.sessions[0]).toEqual({ uuid: expect.any(String), expiration_time: expect.any(String), revoked: false, state: {} });
    expect(Date.parse(res.body.latest_activity)).toBeGreaterThan(Date.now() - 60_000);

    const anonymous = await t.http().get(`${API}/auth/whoami`).expect(200);
    expect(anonymous.text).toBe('null');
    expect(anonymous.headers['content-type']).toMatch(/^application\/json/);
  });

  it('rotates the refresh token on every use', async () => {
    const first = await t.login('alice');
    const second = await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: first.refresh_token }).expect(200);
    expect(Object.keys(second.body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'refresh_token_expires_in', 'token_type']);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    // Even within the same second, a new access token differs from the old one (unique jti).
    expect(second.body.access_token).not.toBe(first.access_token);
    const third = await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: second.body.refresh_token }).expect(200);
    expect(third.body.refresh_token).not.toBe(second.body.refresh_token);
    await t.http().get(`${API}/auth/whoami`).set(bearer(third.body.access_token)).expect(200);
  });

  it('within the grace window, a repeated refresh (two tabs racing) returns a valid pair for the same session', async () => {
    const tokens = await t.login('alice');
    const [a, b] = await Promise.all([
      t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: tokens.refresh_token }),
      t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: tokens.refresh_token }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const sid = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).sid;
    expect(sid(a.body.access_token)).toBe(sid(tokens.access_token));
    expect(sid(b.body.access_token)).toBe(sid(tokens.access_token));
    // Both got the same successor (one chain), and it works.
    expect(b.body.refresh_token).toBe(a.body.refresh_token);
    await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: a.body.refresh_token }).expect(200);
  });

  it('reusing a rotated refresh token after the grace window revokes the whole session', async () => {
    const tokens = await t.login('alice');
    const next = await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: tokens.refresh_token }).expect(200);
    await new Promise((r) => setTimeout(r, 2300)); // REFRESH_REUSE_GRACE=2
    const reuse = await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: tokens.refresh_token }).expect(401);
    expect(reuse.body).toMatchObject({ code: 'SESSION_EXPIRED', detail: 'Session has expired. Please re-authenticate.' });
    // The legitimate holder's newer token dies with the session.
    await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: next.body.refresh_token }).expect(401);
  });

  it('rejects malformed and unknown refresh tokens with 401', async () => {
    const bad = await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: 'lk_rt_nope' }).expect(401);
    expect(bad.body.detail).toBe('Could not validate credentials');
    const tokens = await t.login('alice');
    await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: tokens.access_token }).expect(401);
  });

  it('logout revokes the session: refresh fails, the access token lives until it expires (Tiled #7)', async () => {
    const tokens = await t.login('alice');
    await t.http().post(`${API}/auth/session/revoke`).send({ refresh_token: tokens.refresh_token }).expect(204);
    await t.http().post(`${API}/auth/session/revoke`).send({ refresh_token: tokens.refresh_token }).expect(204);
    await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: tokens.refresh_token }).expect(401);
    await t.http().get(`${API}/auth/whoami`).set(bearer(tokens.access_token)).expect(200);
  });

  it('revokes a session by id (hyphenated or 32-hex); others\' sessions and bad ids are 404', async () => {
    const tokens = await t.login('alice');
    const who = await t.http().get(`${API}/auth/whoami`).set(bearer(tokens.access_token)).expect(200);
    const sid = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString()).sid as string;
    expect(who.body.sessions.map((s: { uuid: string }) => s.uuid)).toContain(sid);

    const bob = await t.login('bob');
    await t.http().delete(`${API}/auth/session/revoke/${sid}`).set(bearer(bob.access_token)).expect(404);
    await t.http().delete(`${API}/auth/session/revoke/not-a-uuid`).set(bearer(bob.access_token)).expect(404);
    await t.http().delete(`${API}/auth/session/revoke/${sid}`).expect(401);

    await t.http().delete(`${API}/auth/session/revoke/${sid.replace(/-/g, '')}`).set(bearer(tokens.access_token)).expect(204);
    const after = await t.http().get(`${API}/auth/whoami`).set(bearer(tokens.access_token)).expect(200);
    expect(after.body.sessions.find((s: { uuid: string }) => s.uuid === sid).revoked).toBe(true);
    await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: tokens.refresh_token }).expect(401);
  });

  it('POST /auth/logout clears the API key cookie and revokes nothing', async () => {
    const res = await t.http().post(`${API}/auth/logout`).expect(200);
    expect(res.body).toEqual({});
    expect((res.headers['set-cookie'] as unknown as string[]).some((c) => c.startsWith('tiled_api_key=;'))).toBe(true);
  });

  it('a refresh token or a foreign JWT sent as Bearer is a 401, never a 500', async () => {
    const tokens = await t.login('alice');
    const asBearer = await t.http().get(`${API}/users/me`).set(bearer(tokens.refresh_token)).expect(401);
    expect(asBearer.body.code).toBe('AUTH_INVALID_TOKEN');
    const [h, p] = tokens.access_token.split('.');
    await t.http().get(`${API}/users/me`).set(bearer(`${h}.${p}.AAAA`)).expect(401);
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    await t.http().get(`${API}/users/me`).set(bearer(`${none}.${p}.`)).expect(401);
    await t.http().get(`${API}/users/me`).set(bearer(tokens.access_token)).expect(200);
  });

  it('changing the password ends the other sessions and rotates this one (a new pair; its old refresh token is dead)', async () => {
    const carol = await t.createUser('carol');
    const here = await t.login('carol');
    const elsewhere = await t.login('carol');
    await t
      .http()
      .post(`${API}/users/me/password`)
      .set(bearer(here.access_token))
      .send({ current_password: 'wrong-password', new_password: 'a brand new password' })
      .expect(403);
    await t
      .http()
      .post(`${API}/users/me/password`)
      .set(bearer(here.access_token))
      .send({ current_password: carol.password, new_password: 'short' })
      .expect(422);
    const rotated = await t
      .http()
      .post(`${API}/users/me/password`)
      .set(bearer(here.access_token))
      .send({ current_password: carol.password, new_password: 'a brand new password' })
      .expect(200);
    await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: elsewhere.refresh_token }).expect(401);
    await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: here.refresh_token }).expect(401);
    const sid = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).sid;
    expect(sid(rotated.body.access_token)).toBe(sid(here.access_token));
    await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: rotated.body.refresh_token }).expect(200);
    await t.http().post(`${API}/auth/provider/local/token`).type('form').send({ username: 'carol', password: carol.password }).expect(401);
    await t.login('carol', 'a brand new password');
  });

  it('GET /users/me returns the profile without secrets', async () => {
    const tokens = await t.login('alice');
    const res = await t.http().get(`${API}/users/me`).set(bearer(tokens.access_token)).expect(200);
    expect(res.body).toMatchObject({ id: alice.id, username: 'alice', roles: ['user'], status: 'active' });
    expect(JSON.stringify(res.body)).not.toMatch(/password|hash/i);
  });
});
