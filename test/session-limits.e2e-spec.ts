import { SessionsPurgeService } from '../src/sessions/sessions-purge.service';
import { bearer, createTestApp, TestApp } from './utils/create-test-app';

const API = '/api/v1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('idle, absolute and access-token expiry (tiny max ages)', () => {
  let t: TestApp;

  afterEach(() => t.close());

  it('an access token expires after ACCESS_TOKEN_MAX_AGE, with the message Tiled clients refresh on', async () => {
    // Times are whole seconds, so a 3 s token lives 2 to 3 s: enough for the first call under load.
    t = await createTestApp({ ACCESS_TOKEN_MAX_AGE: '3' });
    await t.createUser('alice');
    const tokens = await t.login('alice');
    await t.http().get(`${API}/users/me`).set(bearer(tokens.access_token)).expect(200);
    await sleep(3100);
    const res = await t.http().get(`${API}/users/me`).set(bearer(tokens.access_token)).expect(401);
    expect(res.body).toMatchObject({ code: 'AUTH_TOKEN_EXPIRED', detail: 'Access token has expired. Refresh token.' });
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.headers['x-tiled-root']).toMatch(/\/api\/v1$/);
    // The client refreshes and retries (Tiled checklist #10).
    const next = await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: tokens.refresh_token }).expect(200);
    await t.http().get(`${API}/users/me`).set(bearer(next.body.access_token)).expect(200);
  });

  it('a refresh token unused for REFRESH_TOKEN_MAX_AGE seconds is dead (idle limit)', async () => {
    t = await createTestApp({ REFRESH_TOKEN_MAX_AGE: '4' });
    await t.createUser('alice');
    const tokens = await t.login('alice');
    expect(tokens.refresh_token_expires_in).toBe(4);
    // Used in time: it rotates and the idle clock restarts (two uses 5 s after login in all).
    await sleep(2500);
    const next = await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: tokens.refresh_token }).expect(200);
    await sleep(2500);
    const again = await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: next.body.refresh_token }).expect(200);
    // Then left idle too long.
    await sleep(4300);
    const res = await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: again.body.refresh_token }).expect(401);
    expect(res.body.detail).toBe('Session has expired. Please re-authenticate.');
  });

  it('a session ends SESSION_MAX_AGE after login however often it is refreshed (absolute limit)', async () => {
    t = await createTestApp({ SESSION_MAX_AGE: '4' });
    await t.createUser('alice');
    const tokens = await t.login('alice');
    expect(tokens.refresh_token_expires_in).toBeLessThanOrEqual(4);
    let refresh = tokens.refresh_token;
    for (let i = 0; i < 2; i++) {
      await sleep(1000);
      const res = await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: refresh }).expect(200);
      expect(res.body.refresh_token_expires_in).toBeLessThanOrEqual(4 - (i + 1));
      refresh = res.body.refresh_token;
    }
    await sleep(2300);
    await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: refresh }).expect(401);

    // The purge job deletes the dead session and its tokens; whoami stops listing it.
    const purged = await t.app.get(SessionsPurgeService).purge();
    expect(purged.sessions).toBe(1);
    expect(purged.refreshTokens).toBeGreaterThanOrEqual(1);
    const fresh = await t.login('alice');
    const who = await t.http().get(`${API}/auth/whoami`).set(bearer(fresh.access_token)).expect(200);
    expect(who.body.sessions).toHaveLength(1);
  });

  it('refuses a new login beyond MAX_SESSIONS_PER_USER active sessions with a 400 that says why', async () => {
    t = await createTestApp({ MAX_SESSIONS_PER_USER: '2' });
    await t.createUser('alice');
    const first = await t.login('alice');
    await t.login('alice');
    const res = await t.http().post(`${API}/auth/provider/local/token`).type('form').send({ username: 'alice', password: 'correct horse battery staple' }).expect(400);
    expect(res.body.code).toBe('SESSION_LIMIT_REACHED');
    // Logging out one frees a place.
    await t.http().post(`${API}/auth/session/revoke`).send({ refresh_token: first.refresh_token }).expect(204);
    await t.login('alice');
  });
});
