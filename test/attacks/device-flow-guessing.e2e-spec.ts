/**
 * Attack: guessing user codes of the device-code login (issue 16 §7). After an IdP login the
 * browser holds a sealed approver cookie; with it, a person types the code a program shows. Someone
 * who logged in once must not be able to try codes indefinitely: each guess that hits another
 * person's pending login approves it as the guesser (their session handed to a program they did
 * not start, or worse, a phished flow). After 5 wrong codes the approval is
 * forgotten, server-side: the right code is refused, and replaying the cookie as it was before
 * the wrong guesses does not reset the count. A new IdP login starts afresh.
 */
import { TestApp } from '../utils/create-test-app';
import { LocalIdp } from '../utils/local-idp';
import { TestBrowser } from '../utils/test-browser';
import { startAppWithIdp } from '../utils/app-with-idp';

const API = '/api/v1';
const ALICE = { username: 'alice', password: 'alice-password' };
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

describe('attack: guessing device-flow user codes with one IdP login', () => {
  let idp: LocalIdp;
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    ({ idp, t, base } = await startAppWithIdp());
  });
  afterAll(async () => {
    await t?.close();
    await idp?.stop();
  });

  async function startLogin(): Promise<{ device_code: string; user_code: string; authorization_uri: string }> {
    const res = await fetch(`${base}${API}/auth/provider/idp/authorize`, { method: 'POST' });
    expect(res.status).toBe(200);
    return (await res.json()) as { device_code: string; user_code: string; authorization_uri: string };
  }
  async function poll(deviceCode: string): Promise<number> {
    const res = await fetch(`${base}${API}/auth/provider/idp/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ device_code: deviceCode, grant_type: DEVICE_GRANT }),
    });
    return res.status;
  }
  /** A browser that logged in at the IdP for a device approval: the user-code form, its CSRF value, its approver cookie. */
  async function atCodeForm() {
    const browser = new TestBrowser();
    const page = await browser.open(`${base}${API}/auth/provider/idp/authorize?device=1`, { login: ALICE });
    expect(page.body).toContain('Authorize the session');
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1];
    const approverCookie = browser.cookie('lk_device', `${base}${API}/auth/provider/idp/device_code`)!;
    expect(approverCookie).toMatch(/^v1\./);
    return { browser, csrf, approverCookie };
  }
  const submit = (browser: TestBrowser, userCode: string, csrf: string) =>
    browser.request(`${base}${API}/auth/provider/idp/device_code`, { method: 'POST', form: { user_code: userCode, csrf } });
  /** The attacker's replay: the cookies as they were captured, sent by hand (no jar). */
  async function replay(approverCookie: string, csrf: string, userCode: string) {
    const res = await fetch(`${base}${API}/auth/provider/idp/device_code`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', cookie: `lk_device=${approverCookie}; tiled_csrf=${csrf}` },
      body: new URLSearchParams({ user_code: userCode, csrf }).toString(),
    });
    return { status: res.status, body: (await res.json()) as { code?: string; message?: string } };
  }
  const wrongCodes = (right: string) =>
    ['0000-0000', '1111-1111', '2222-2222', '3333-3333', '4444-4444', '5555-5555'].filter((c) => c !== right);

  it('after 5 wrong codes the right one is refused, and the page asks to log in again', async () => {
    const victim = await startLogin();
    const { browser, csrf } = await atCodeForm();
    const wrong = wrongCodes(victim.user_code);
    for (let i = 0; i < 4; i++) {
      const res = await submit(browser, wrong[i], csrf);
      expect(res.status).toBe(401);
      expect(res.body).toContain('This code is unknown or has expired');
    }
    const fifth = await submit(browser, wrong[4], csrf);
    expect(fifth.status).toBe(401);
    expect(fifth.body).toContain('5 wrong codes were entered');
    expect(fifth.body).toContain('Log in again');
    expect(fifth.body).not.toContain('name="user_code"');
    // The right code now: refused, nothing approved.
    const right = await submit(browser, victim.user_code, csrf);
    expect(right.status).toBe(401);
    expect(right.body).toContain('Log in again');
    expect(await poll(victim.device_code)).toBe(400); // still pending
  });

  it('replaying the approver cookie from before the wrong guesses does not reset the count', async () => {
    const victim = await startLogin();
    const { browser, csrf, approverCookie } = await atCodeForm();
    const wrong = wrongCodes(victim.user_code);
    for (let i = 0; i < 4; i++) expect((await submit(browser, wrong[i], csrf)).status).toBe(401);
    // The captured cookie, as it was before any guess: the 5th wrong code through it forgets the approval...
    const fifth = await replay(approverCookie, csrf, wrong[4]);
    expect(fifth).toMatchObject({ status: 401, body: { code: 'IDP_LOGIN_REQUIRED' } });
    // ...for every copy of the cookie: the right code is refused through the replay and through the browser.
    const again = await replay(approverCookie, csrf, victim.user_code);
    expect(again).toMatchObject({ status: 401, body: { code: 'IDP_LOGIN_REQUIRED' } });
    expect(again.body.message).toMatch(/Log in again/);
    expect((await submit(browser, victim.user_code, csrf)).status).toBe(401);
    expect(await poll(victim.device_code)).toBe(400);

    // A new IdP login is a new approval with a fresh count: the right code goes through.
    const fresh = await atCodeForm();
    expect((await submit(fresh.browser, victim.user_code, fresh.csrf)).status).toBe(200);
    expect(await poll(victim.device_code)).toBe(200);
  });
});
