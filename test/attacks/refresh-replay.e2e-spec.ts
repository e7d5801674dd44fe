import { Clock } from '../../src/common/clock';
import { SessionsPurgeService } from '../../src/sessions/sessions-purge.service';
import { bearer, createTestApp, DEFAULT_PASSWORD, TestApp } from '../utils/create-test-app';
import { FakeClock } from '../utils/fake-clock';
import { TestBrowser } from '../utils/test-browser';

const API = '/api/v1';
const sidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).sid as string;

/**
 * Attacks on refresh-token rotation (issue 16 §2): a consumed refresh token replayed inside the
 * reuse grace (REFRESH_REUSE_GRACE, 30 s here) must not fork the session into independent
 * chains, and a password change must leave a thief nothing. The clock is a FakeClock, so "after
 * the grace" needs no sleeping.
 */
describe('attack: forking a session by replaying a refresh token', () => {
  let t: TestApp;
  const clock = new FakeClock();

  beforeAll(async () => {
    t = await createTestApp({ REFRESH_REUSE_GRACE: '30' }, undefined, [{ provide: Clock, useValue: clock }]);
    await t.createUser('alice');
    await t.createUser('victim');
  });
  afterAll(() => t.close());

  const refresh = (token: string) => t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: token });
  /** Refresh tokens of the session that can still be exchanged (not used, not expired). */
  const liveTokens = async (sessionId: string) => {
    const sql = `SELECT COUNT(*) AS n FROM ${t.table('refresh_tokens')} WHERE session_id = '${sessionId}' AND used_at IS NULL`;
    return Number((await t.dataSource.query(sql))[0].n);
  };

  it('replaying a consumed token K times inside the grace gets the same successor each time, never K live chains', async () => {
    const login = await t.login('alice');
    const sid = sidOf(login.access_token);
    const first = await refresh(login.refresh_token).expect(200);
    const replays = [];
    for (let i = 0; i < 5; i++) replays.push((await refresh(login.refresh_token).expect(200)).body);
    for (const r of replays) {
      expect(r.refresh_token).toBe(first.body.refresh_token);
      expect(sidOf(r.access_token)).toBe(sid);
      await t.http().get(`${API}/auth/whoami`).set(bearer(r.access_token)).expect(200); // a fresh access token for the same session
    }
    expect(await liveTokens(sid)).toBe(1);
    // The one chain goes on; the replays gave nothing else to refresh with.
    const next = await refresh(first.body.refresh_token).expect(200);
    expect(await liveTokens(sid)).toBe(1);
    await refresh(next.body.refresh_token).expect(200);
  });

  it('N tabs racing with the same token all succeed (no false alarm) and leave exactly one live chain', async () => {
    const login = await t.login('alice');
    const sid = sidOf(login.access_token);
    const results = await Promise.all(Array.from({ length: 6 }, () => refresh(login.refresh_token)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const tokens = new Set(results.map((r) => r.body.refresh_token));
    expect(tokens.size).toBe(1);
    expect(await liveTokens(sid)).toBe(1);
    // Each returned token works at most as one chain: the session is not revoked, and stays one chain.
    const [token] = [...tokens];
    const after = await refresh(token as string).expect(200);
    expect(await liveTokens(sid)).toBe(1);
    await t.http().get(`${API}/auth/whoami`).set(bearer(after.body.access_token)).expect(200);
  });

  it('a replay of a token whose successor was already used gets the live token of the chain, not a new branch', async () => {
    const login = await t.login('alice');
    const sid = sidOf(login.access_token);
    const second = await refresh(login.refresh_token).expect(200);
    const third = await refresh(second.body.refresh_token).expect(200);
    const replay = await refresh(login.refresh_token).expect(200);
    expect(replay.body.refresh_token).toBe(third.body.refresh_token);
    expect(await liveTokens(sid)).toBe(1);
  });

  it('no refresh token (successor included) is stored in the clear', async () => {
    const login = await t.login('alice');
    const second = await refresh(login.refresh_token).expect(200);
    const rows = await t.dataSource.query(`SELECT * FROM ${t.table('refresh_tokens')}`);
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(login.refresh_token);
    expect(dump).not.toContain(second.body.refresh_token);
    expect(dump).not.toContain(second.body.refresh_token.slice(6)); // nor its random part
  });

  it('after the grace, a replay revokes the session, successor included; the sealed successor is dropped', async () => {
    const login = await t.login('alice');
    const next = await refresh(login.refresh_token).expect(200);
    clock.advance(31);
    await t.app.get(SessionsPurgeService).purge(clock.now());
    const kept = await t.dataSource.query(
      `SELECT COUNT(*) AS n FROM ${t.table('refresh_tokens')} WHERE session_id = '${sidOf(login.access_token)}' AND successor IS NOT NULL`,
    );
    expect(Number(kept[0].n)).toBe(0);
    const reuse = await refresh(login.refresh_token).expect(401);
    expect(reuse.body).toMatchObject({ code: 'SESSION_EXPIRED' });
    await refresh(next.body.refresh_token).expect(401);
    // Revoked by someone else's hand: the session's access tokens are refused at once.
    await t.http().get(`${API}/auth/whoami`).set(bearer(next.body.access_token)).expect(401);
  });

  it('a thief who replayed a stolen token inside the grace loses it when the victim changes the password', async () => {
    const victim = await t.login('victim');
    const sid = sidOf(victim.access_token);
    // The victim's client refreshes; the thief, who copied the same refresh token, replays it within the grace.
    const legit = await refresh(victim.refresh_token).expect(200);
    const thief = await refresh(victim.refresh_token).expect(200);
    const other = await t.login('victim'); // a second session of the victim's, elsewhere

    const change = await t
      .http()
      .post(`${API}/users/me/password`)
      .set(bearer(legit.body.access_token))
      .send({ current_password: DEFAULT_PASSWORD, new_password: 'a brand new password' })
      .expect(200);
    expect(change.headers['cache-control']).toBe('no-store');
    expect(sidOf(change.body.access_token)).toBe(sid);

    // The thief's chain is dead, and so is every refresh token the session had before.
    await refresh(thief.body.refresh_token).expect(401);
    await refresh(legit.body.refresh_token).expect(401);
    await refresh(victim.refresh_token).expect(401);
    // The other session is revoked, its access token refused at once.
    await refresh(other.refresh_token).expect(401);
    await t.http().get(`${API}/auth/whoami`).set(bearer(other.access_token)).expect(401);
    // The victim goes on with the new pair: one live chain.
    expect(await liveTokens(sid)).toBe(1);
    const goesOn = await refresh(change.body.refresh_token).expect(200);
    await t.http().get(`${API}/auth/whoami`).set(bearer(goesOn.body.access_token)).expect(200);
  });
});

/** The browser-session side of "a password change rotates the current session". */
describe('attack: a copied browser cookie after the victim changes the password from that browser', () => {
  let t: TestApp;
  let base: string;
  const csrfOf = (body: string) => /name="csrf" value="([^"]+)"/.exec(body)?.[1];

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
    await t.createUser('victim');
  });
  afterAll(() => t.close());

  it('the copied cookie stops working; the victim goes on with a new cookie; the other sessions end', async () => {
    const browser = new TestBrowser();
    const form = await browser.request(`${base}/login`);
    await browser.request(`${base}/login`, { form: { username: 'victim', password: DEFAULT_PASSWORD, csrf: csrfOf(form.body)!, next: '/account' } });
    const stolen = browser.cookie('lk_session', base)!;
    const api = await t.login('victim');

    const csrf = csrfOf((await browser.request(`${base}/account`)).body)!;
    const change = await browser.request(`${base}${API}/users/me/password`, {
      form: { current_password: DEFAULT_PASSWORD, new_password: 'a brand new password' },
      headers: { 'x-csrf': csrf },
    });
    expect(change.status).toBe(204);
    expect(change.headers.get('cache-control')).toBe('no-store');
    const renewed = browser.cookie('lk_session', base)!;
    expect(renewed).not.toBe(stolen);

    await t.http().get(`${API}/auth/whoami`).set('Cookie', `lk_session=${stolen}`).expect(401);
    expect((await browser.request(`${base}/account`)).status).toBe(200);
    await t.http().get(`${API}/auth/whoami`).set(bearer(api.access_token)).expect(401);
    await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: api.refresh_token }).expect(401);
  });
});
