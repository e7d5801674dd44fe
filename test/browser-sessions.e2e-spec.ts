import { createTestApp, TestApp } from './utils/create-test-app';
import { LocalIdp, startLocalIdp } from './utils/local-idp';
import { TestBrowser } from './utils/test-browser';
import { idpProfile } from './utils/idp-profiles';

const API = '/api/v1';
const ALICE = { username: 'alice', password: 'alice-password' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** IdP access-token lifetime (s): short, yet long enough that a loaded CI machine does not outrun it between two requests. */
const TTL = 3;

/**
 * Browser sessions after a login through the IdP: the session cookie, IdP tokens sealed at rest,
 * silent refresh (server-side, then prompt=none), the expired-session page, RP-initiated logout.
 * The test IdP issues 3-second access tokens and session-bound refresh tokens (as Keycloak does).
 */
describe('browser sessions with silent refresh against a real IdP', () => {
  let idp: LocalIdp;
  /** Issues no refresh token to a browser login: renewal has to go through prompt=none. */
  let plain: LocalIdp;
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    idp = await startLocalIdp({
      accessTokenTtl: TTL,
      onlineRefreshTokens: true,
      redirectUris: [`http://127.0.0.1${API}/auth/provider/idp/code`],
      postLogoutRedirectUris: ['http://127.0.0.1/logout'],
    });
    plain = await startLocalIdp({ accessTokenTtl: TTL, redirectUris: [`http://127.0.0.1${API}/auth/provider/plain/code`] });
    t = await createTestApp({
      OIDC_PROVIDERS: 'idp,plain',
      ...idp.providerEnv('idp', { displayName: 'Test IdP' }),
      ...plain.providerEnv('plain'),
    });
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([idp?.stop(), plain?.stop()]);
  });

  /** A browser logged in through the IdP, on /account. */
  async function loggedIn(): Promise<TestBrowser> {
    const browser = new TestBrowser();
    const page = await browser.open(`${base}${API}/auth/provider/idp/authorize?next=/account`, { login: ALICE });
    expect(page.url).toBe(`${base}/account`);
    expect(page.status).toBe(200);
    return browser;
  }
  const grants = async () => (await idp.stats()).byGrantType;
  const endedCount = async () =>
    Number((await t.dataSource.query(`SELECT COUNT(*) AS n FROM ${t.table('sessions')} WHERE revoked_reason = 'idp_session_ended'`))[0].n);

  it('a browser login sets an HttpOnly, SameSite=Lax session cookie and returns to `next`; IdP tokens are sealed at rest', async () => {
    const browser = new TestBrowser();
    const page = await browser.open(`${base}${API}/auth/provider/idp/authorize?next=${encodeURIComponent('/account?tab=1')}`, {
      login: ALICE,
      stopAt: (u) => u.pathname === '/account',
    });
    expect(page.url).toBe(`${base}/account?tab=1`);
    const account = await browser.request(`${base}/account`);
    expect(account.body).toContain(`Signed in as <strong id="username">${idpProfile().usernameOf({ username: 'alice', email: 'alice@example.test' })}</strong>`);

    const rows = await t.dataSource.query(`SELECT idp_tokens, idp_provider, cookie_hash FROM ${t.table('sessions')} WHERE cookie_hash IS NOT NULL`);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.idp_provider).toBe('idp');
      expect(row.idp_tokens).toMatch(/^v1\.[\w-]+\.[\w-]+$/);
      expect(row.idp_tokens).not.toMatch(/eyJ[\w-]+\.eyJ/); // no JWT (IdP access or ID token) in clear; a bare "eyJ" turns up in random ciphertext about once in 130 runs
      expect(row.cookie_hash).toMatch(/^[0-9a-f]{64}$/);
    }
    const cookie = browser.cookie('lk_session', `${base}/account`)!;
    expect(cookie).toMatch(/^lk_bs_\w+$/);
    expect(JSON.stringify(rows)).not.toContain(cookie);
  });

  it('session cookie flags', async () => {
    const browser = new TestBrowser();
    const callback = await browser.open(`${base}${API}/auth/provider/idp/authorize?next=/account`, {
      login: ALICE,
      stopAt: (u) => u.pathname.endsWith('/code'),
    });
    const res = await browser.request(callback.url);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('lk_session='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/i); // PUBLIC_URL is not https here
  });

  it('an expired IdP access token is refreshed server-side: the page loads with no visible step', async () => {
    const browser = await loggedIn();
    await idp.resetStats();
    await sleep(TTL * 1000 + 100);
    const page = await browser.request(`${base}/account`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('alice');
    expect(await grants()).toEqual({ refresh_token: 1 });
    // Fresh tokens now: the next calls cost the IdP nothing; API calls with the cookie work too.
    expect((await browser.request(`${base}/account`)).status).toBe(200);
    const who = await browser.request(`${base}${API}/auth/whoami`, { headers: { accept: 'application/json' } });
    expect(JSON.parse(who.body)).toMatchObject({ identities: [expect.objectContaining({ id: 'sub-alice', provider: 'idp' })] });
    expect(await grants()).toEqual({ refresh_token: 1 });
  });

  it('concurrent requests after expiry share one server-side refresh', async () => {
    const browser = await loggedIn();
    await sleep(TTL * 1000 + 100);
    await idp.resetStats();
    const pages = await Promise.all(Array.from({ length: 10 }, () => browser.request(`${base}/account`)));
    expect(pages.map((p) => p.status)).toEqual(Array(10).fill(200));
    expect(await grants()).toEqual({ refresh_token: 1 });
  });

  it('no IdP refresh token: a page load renews the session through prompt=none while the IdP session lives', async () => {
    const browser = new TestBrowser();
    await browser.open(`${base}${API}/auth/provider/plain/authorize?next=/account`, { login: ALICE });
    const [before] = await t.dataSource.query(`SELECT id, refresh_count FROM ${t.table('sessions')} WHERE idp_provider = 'plain' AND revoked_at IS NULL`);
    const credential = async () =>
      JSON.parse((await browser.request(`${base}${API}/auth/credential`, { headers: { accept: 'application/json' } })).body).credential;
    const loggedInAt = await credential();
    expect(loggedInAt).toEqual({ type: 'browser_session', sessionId: before.id, authTime: expect.any(Number) });
    expect(Math.abs(loggedInAt.authTime - Date.now() / 1000)).toBeLessThan(5);
    await sleep(TTL * 1000 + 100);
    const page = await browser.open(`${base}/account`); // no login form: the IdP session answers silently
    expect(page.status).toBe(200);
    expect(page.url).toBe(`${base}/account`);
    expect(page.trail.some((u) => u.includes('prompt=none'))).toBe(true);
    const [after] = await t.dataSource.query(`SELECT id, refresh_count FROM ${t.table('sessions')} WHERE idp_provider = 'plain' AND revoked_at IS NULL`);
    expect(after.id).toBe(before.id); // the same session goes on
    expect(Number(after.refresh_count)).toBe(Number(before.refresh_count) + 1);
    expect((await browser.request(`${base}/account`)).status).toBe(200);
    // A silent renewal is no login: the session's login time (for RECENT_LOGIN_MAX_AGE) stays.
    expect(await credential()).toEqual(loggedInAt);
  });

  it('the IdP unreachable during a refresh: 503 with Retry-After, and the session survives it', async () => {
    const browser = await loggedIn();
    await idp.stop();
    try {
      await sleep(TTL * 1000 + 100);
      const res = await browser.request(`${base}${API}/auth/whoami`, { headers: { accept: 'application/json' } });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBeTruthy();
    } finally {
      await idp.restart();
    }
    // restart() forgets the IdP's sessions and tokens: the refresh is now refused, so the page goes the prompt=none way.
    const page = await browser.open(`${base}/account`);
    expect(page.url).toContain('/logout?reason=expired');
  });

  it('a refused IdP refresh is not retried on every request: the next requests go straight to the prompt=none round trip', async () => {
    const browser = await loggedIn();
    // The refresh token dies (grant revoked at the IdP) while the IdP session lives on.
    await idp.revokeGrants('sub-alice');
    await sleep(TTL * 1000 + 100);
    await idp.resetStats();
    for (let i = 0; i < 5; i++) {
      const api = await browser.request(`${base}${API}/auth/whoami`, { headers: { accept: 'application/json' } });
      expect(api.status).toBe(401);
      expect(JSON.parse(api.body).code).toBe('IDP_SESSION_EXPIRED');
    }
    expect((await grants()).refresh_token).toBe(1); // one refused refresh, not five
    // A page load takes the prompt=none round trip (here the revoked grant makes the IdP answer
    // consent_required, so it ends on the logout page), still without another refresh attempt.
    const page = await browser.open(`${base}/account`);
    expect(page.trail.some((u) => u.includes('prompt=none'))).toBe(true);
    expect(page.url).toContain('/logout?reason=expired');
    expect((await grants()).refresh_token).toBe(1);
  });

  it('IdP session over: the server-side refresh fails, prompt=none answers login_required, the browser lands on the logout page with a working "log in again" link', async () => {
    const browser = await loggedIn();
    const sessionsBefore = await t.dataSource.query(`SELECT id FROM ${t.table('sessions')} WHERE revoked_at IS NULL AND cookie_hash IS NOT NULL`);
    const endedBefore = await endedCount();
    await idp.endSessions();
    await sleep(TTL * 1000 + 100);

    // An API call (JSON) gets a 401 with the login URL instead of a redirect.
    const api = await browser.request(`${base}${API}/auth/whoami`, { headers: { accept: 'application/json' } });
    expect(api.status).toBe(401);
    expect(JSON.parse(api.body)).toMatchObject({
      code: 'IDP_SESSION_EXPIRED',
      detail: { login_url: expect.stringContaining(`${API}/auth/provider/idp/authorize`) },
    });

    // A page load goes through a silent login attempt to the logout page.
    const page = await browser.open(`${base}/account`);
    expect(page.trail[1]).toBe(`${base}${API}/auth/provider/idp/authorize?prompt=none&next=%2Faccount`);
    const silent = new URL(page.trail[2]);
    expect(silent.origin).toBe(idp.issuer);
    expect(silent.searchParams.get('prompt')).toBe('none');
    expect(silent.searchParams.get('id_token_hint')).toMatch(/^eyJ/);
    expect(page.url).toBe(`${base}/logout?reason=expired&provider=idp&next=%2Faccount`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Your session has expired');
    expect(browser.cookie('lk_session', `${base}/account`)).toBeUndefined();
    const after = await t.dataSource.query(`SELECT id FROM ${t.table('sessions')} WHERE revoked_at IS NULL AND cookie_hash IS NOT NULL`);
    expect(after.length).toBe(sessionsBefore.length - 1);
    expect(await endedCount()).toBe(endedBefore + 1);

    // The link logs in again (interactively) and returns to where the user was.
    const link = /href="([^"]+)"[^>]*>Log in again with Test IdP/.exec(page.body)![1].replace(/&amp;/g, '&');
    const back = await browser.open(new URL(link, base).href, { login: ALICE });
    expect(back.url).toBe(`${base}/account`);
    expect(back.body).toContain('Signed in as');
  });

  it('logout ends the Latchkey session and the IdP session (RP-initiated logout), CSRF-checked', async () => {
    const browser = await loggedIn();
    const csrf = browser.cookie('tiled_csrf', `${base}/account`)!;
    const refused = await browser.request(`${base}${API}/auth/logout`, { method: 'POST', form: {} });
    expect(refused.status).toBe(403);

    const res = await browser.request(`${base}${API}/auth/logout`, { method: 'POST', form: { csrf } });
    expect(res.status).toBe(303);
    const end = new URL(res.headers.get('location')!);
    expect(`${end.origin}${end.pathname}`).toBe((await idp.discovery()).end_session_endpoint);
    expect(end.searchParams.get('id_token_hint')).toMatch(/^eyJ/);
    expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${base}/logout`);
    expect(browser.cookie('lk_session', `${base}/account`)).toBeUndefined();
    expect((await browser.request(`${base}/account`, { headers: { accept: 'application/json' } })).status).toBe(401);

    // With a state (some IdPs return only when one is sent: TEST_IDP_PROFILE=logout-needs-state).
    const state = end.searchParams.get('state')!;
    expect(state).toMatch(/^[\w-]{20,}$/);

    // The IdP confirms and sends the browser back to Latchkey's logout page, state included.
    const final = await idp.logout({
      jar: browser.jar,
      idTokenHint: end.searchParams.get('id_token_hint')!,
      postLogoutRedirectUri: end.searchParams.get('post_logout_redirect_uri')!,
      state,
    });
    expect(final).toBe(`${base}/logout?state=${encodeURIComponent(state)}`);
    const page = await browser.open(final);
    expect(page.status).toBe(200);
    expect(page.body).toContain('You are logged out');
    expect(page.body).toContain('and so has your login at the identity provider');

    // The state is single use and this browser's: replayed, or someone else's link, it is just the logged-out page.
    const again = await browser.open(final);
    expect(again.status).toBe(200);
    expect(again.body).not.toContain('identity provider');
    const forged = await browser.open(`${base}/logout?state=forged-state-value`);
    expect(forged.status).toBe(200);
    expect(forged.body).not.toContain('identity provider');
    // Anything else unexpected is still refused.
    expect((await browser.open(`${base}/logout?state=x&evil=1`)).status).toBe(422);
  });
});
