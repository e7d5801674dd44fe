import { RevokedSessions } from '../src/sessions/revoked-sessions';
import { bearer, createTestApp, DEFAULT_PASSWORD, TestApp } from './utils/create-test-app';

const API = '/api/v1';
const sidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).sid as string;

/**
 * A revoked session's access tokens are refused at once (the revoked-session list), except when
 * a session ends itself (logout, or revoking the session the request is made with), as in Tiled.
 * Runs with and without Redis: a second instance on the same database refuses them at once with
 * Redis, and keeps accepting them (until they expire) without.
 */
describe('access tokens of revoked sessions', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
    await t.createUser('alice');
    await t.createUser('bob');
  });
  afterAll(() => t.close());

  const status = async (app: TestApp, token: string) => (await app.http().get(`${API}/auth/credential`).set(bearer(token))).status;

  it('revoking another of your sessions refuses its access token at once; the revoking one keeps working', async () => {
    const lost = await t.login('alice');
    const here = await t.login('alice');
    expect(await status(t, lost.access_token)).toBe(200);
    await t.http().delete(`${API}/auth/session/revoke/${sidOf(lost.access_token)}`).set(bearer(here.access_token)).expect(204);
    const res = await t.http().get(`${API}/auth/credential`).set(bearer(lost.access_token)).expect(401);
    expect(res.body).toMatchObject({ code: 'AUTH_INVALID_TOKEN', detail: 'This token has been revoked.' });
    expect(await status(t, here.access_token)).toBe(200);
  });

  it('a session that ends itself keeps its current access token until it expires (logout; revoking its own id), as in Tiled', async () => {
    const out = await t.login('alice');
    await t.http().post(`${API}/auth/session/revoke`).send({ refresh_token: out.refresh_token }).expect(204);
    expect(await status(t, out.access_token)).toBe(200);
    const self = await t.login('alice');
    await t.http().delete(`${API}/auth/session/revoke/${sidOf(self.access_token)}`).set(bearer(self.access_token)).expect(204);
    expect(await status(t, self.access_token)).toBe(200);
    expect(t.app.get(RevokedSessions).has(sidOf(self.access_token))).toBe(false);
  });

  it('a password change refuses the access tokens of the other sessions, not of the current one', async () => {
    await t.createUser('carol');
    const here = await t.login('carol');
    const elsewhere = await t.login('carol');
    await t
      .http()
      .post(`${API}/users/me/password`)
      .set(bearer(here.access_token))
      .send({ current_password: DEFAULT_PASSWORD, new_password: 'a brand new password' })
      .expect(200);
    expect(await status(t, elsewhere.access_token)).toBe(401);
    expect(await status(t, here.access_token)).toBe(200);
  });

  it('refresh-token reuse past the grace window refuses every access token of the session', async () => {
    const app = await createTestApp({ REFRESH_REUSE_GRACE: '0' }, t.db);
    try {
      const first = await app.login('bob');
      const next = (await app.http().post(`${API}/auth/session/refresh`).send({ refresh_token: first.refresh_token }).expect(200)).body;
      await new Promise((r) => setTimeout(r, 20));
      await app.http().post(`${API}/auth/session/refresh`).send({ refresh_token: first.refresh_token }).expect(401);
      expect(await status(app, first.access_token)).toBe(401);
      expect(await status(app, next.access_token)).toBe(401);
    } finally {
      await app.close({ keepDatabase: true });
    }
  });

  it(
    process.env.REDIS_URL
      ? 'with Redis, another instance refuses them at once, and one started later too'
      : 'without Redis, another instance accepts them until they expire',
    async () => {
      const other = await createTestApp({}, t.db);
      try {
        const lost = await t.login('bob');
        const here = await t.login('bob');
        expect(await status(other, lost.access_token)).toBe(200);
        await t.http().delete(`${API}/auth/session/revoke/${sidOf(lost.access_token)}`).set(bearer(here.access_token)).expect(204);
        expect(await status(other, lost.access_token)).toBe(process.env.REDIS_URL ? 401 : 200);
        const later = await createTestApp({}, t.db);
        try {
          expect(await status(later, lost.access_token)).toBe(process.env.REDIS_URL ? 401 : 200);
        } finally {
          await later.close({ keepDatabase: true });
        }
      } finally {
        await other.close({ keepDatabase: true });
      }
    },
  );
});
