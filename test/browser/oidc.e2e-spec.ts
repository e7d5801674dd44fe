import type { BrowserContext, Page } from 'playwright-core';
import { createTestApp, TestApp } from '../utils/create-test-app';
import { chromiumOrSkip, launchChromium, LaunchedChromium, newContext, screenshot } from '../utils/chromium';
import { LocalIdp, startLocalIdp } from '../utils/local-idp';
import { idpProfile } from '../utils/idp-profiles';

const API = '/api/v1';
const ALICE = { username: 'alice', password: 'alice-password' };
/** IdP access-token lifetime (s): short, yet long enough that a loaded CI machine does not outrun it between two requests. */
const TTL = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const chromium = chromiumOrSkip();

/**
 * Scenarios 3 and 4 in a real (headless) Chromium against the local test IdP (test/idp, a real
 * oidc-provider): logging in through the IdP from /login; the silent refresh of an expired IdP
 * access token (no visible step: the browser never even goes to the IdP); and an IdP session
 * that is over, which ends on the logout page whose "log in again" link works.
 */
chromium.describe('pages in Chromium: login through the IdP, silent refresh, expired IdP session', () => {
  let idp: LocalIdp;
  let t: TestApp;
  let base: string;
  let chrome: LaunchedChromium;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    idp = await startLocalIdp({
      accessTokenTtl: TTL,
      onlineRefreshTokens: true,
      redirectUris: [`http://127.0.0.1${API}/auth/provider/idp/code`],
      postLogoutRedirectUris: ['http://127.0.0.1/logout'],
    });
    t = await createTestApp({ OIDC_PROVIDERS: 'idp', ...idp.providerEnv('idp', { displayName: 'Test IdP' }) });
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
    chrome = await launchChromium();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await chrome?.close();
    await t?.close();
    await idp?.stop();
  });

  async function open(): Promise<Page> {
    const context = await newContext(chrome.browser, base);
    contexts.push(context);
    return context.newPage();
  }

  /** Fills in the IdP's own login form (it is on the IdP's origin), then waits to be back on `back`. */
  async function signInAtIdp(page: Page, back: string, shot?: string): Promise<void> {
    await page.waitForURL((u) => u.origin === idp.issuer && u.pathname.startsWith('/interaction/'));
    await page.fill('input[name=username]', ALICE.username);
    await page.fill('input[name=password]', ALICE.password);
    if (shot) await screenshot(page, shot);
    await Promise.all([page.waitForURL(`${base}${back}`), page.click('button[type=submit]')]);
  }

  /** Every URL the page requests from now on to show a page (redirect hops included). */
  function navigations(page: Page): string[] {
    const seen: string[] = [];
    page.on('request', (r) => {
      if (r.isNavigationRequest() && r.frame() === page.mainFrame()) seen.push(r.url());
    });
    return seen;
  }

  it('scenario 3: log in through the IdP from the login page', async () => {
    const page = await open();
    await page.goto(`${base}/account`);
    expect(page.url()).toBe(`${base}/login?next=%2Faccount`);
    await screenshot(page, '3-login-with-idp-button');
    await page.click('a.button:has-text("Test IdP")');
    await signInAtIdp(page, '/account', '3-idp-login-form');
    await expect(page.locator('#username').textContent()).resolves.toBe(idpProfile().usernameOf({ username: 'alice', email: 'alice@example.test' }));
    await expect(page.locator('#identities td[data-label="Provider"]').first().textContent()).resolves.toContain('Test IdP');
    await expect(page.locator('#sessions td[data-label="Device"]').first().textContent()).resolves.toContain('Test IdP');
    const cookie = (await page.context().cookies(base)).find((c) => c.name === 'lk_session')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Lax');
    await screenshot(page, '3-account-after-idp-login');
  });

  it('scenario 4: an expired IdP access token is refreshed with no visible step; once the IdP session is over, the logout page and its working "log in again" link', async () => {
    const page = await open();
    await page.goto(`${base}/login`);
    await page.click('a.button:has-text("Test IdP")');
    await signInAtIdp(page, '/account');

    // Silent refresh: server-side, with the IdP's refresh token; the browser stays on the page.
    await idp.resetStats();
    await sleep(TTL * 1000 + 200);
    const trail = navigations(page);
    const toIdp: string[] = [];
    page.on('request', (r) => {
      if (r.url().startsWith(idp.issuer)) toIdp.push(r.url());
    });
    await page.reload();
    expect(page.url()).toBe(`${base}/account`);
    expect(trail).toEqual([`${base}/account`]); // no redirect at all
    expect(toIdp).toEqual([]); // the browser never went to the IdP
    await expect(page.locator('#username').textContent()).resolves.toBe(idpProfile().usernameOf({ username: 'alice', email: 'alice@example.test' }));
    expect((await idp.stats()).byGrantType).toEqual({ refresh_token: 1 });
    await screenshot(page, '4-account-after-silent-refresh');

    // The IdP session ends: the refresh is refused, the silent prompt=none login answers
    // login_required, and the browser lands on the logout page.
    await idp.endSessions();
    await sleep(TTL * 1000 + 200);
    trail.length = 0;
    await page.goto(`${base}/account`);
    expect(page.url()).toBe(`${base}/logout?reason=expired&provider=idp&next=%2Faccount`);
    expect(trail[1]).toBe(`${base}${API}/auth/provider/idp/authorize?prompt=none&next=%2Faccount`);
    expect(trail.some((u) => u.startsWith(`${idp.issuer}/auth?`) && new URL(u).searchParams.get('prompt') === 'none')).toBe(true);
    await expect(page.locator('h1').textContent()).resolves.toBe('Your session has expired');
    expect((await page.context().cookies(base)).some((c) => c.name === 'lk_session')).toBe(false);
    await screenshot(page, '4-session-expired');

    // "Log in again" goes through the IdP's login form and back to where the user was.
    await page.click('a:has-text("Log in again with Test IdP")');
    await signInAtIdp(page, '/account', '4-idp-login-again');
    await expect(page.locator('#username').textContent()).resolves.toBe(idpProfile().usernameOf({ username: 'alice', email: 'alice@example.test' }));
    await screenshot(page, '4-account-after-logging-in-again');

    // The log-out button: the Latchkey session and the IdP session end (RP-initiated logout).
    await page.click('#logout');
    await page.waitForURL((u) => u.origin === idp.issuer || u.pathname === '/logout');
    if (page.url().startsWith(idp.issuer)) {
      // The test IdP asks to confirm (a plain form); a real one may not.
      // It returns with the logout's `state` (an IdP may return only when one was sent).
      await Promise.all([page.waitForURL((u) => `${u.origin}${u.pathname}` === `${base}/logout` && u.searchParams.has('state')), page.click('button[type=submit]')]);
      await expect(page.locator('main p').first().textContent()).resolves.toContain('and so has your login at the identity provider');
    }
    await expect(page.locator('h1').textContent()).resolves.toBe('You are logged out');
    await screenshot(page, '4-logged-out');
    await page.goto(`${base}/account`);
    expect(new URL(page.url()).pathname).toBe('/login');
  });
});
