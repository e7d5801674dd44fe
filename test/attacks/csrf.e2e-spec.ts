import { createTestApp, TestApp } from '../utils/create-test-app';
import { TestBrowser, csrfOf, loginInBrowser } from '../utils/test-browser';

const API = '/api/v1';
const PASSWORD = 'correct horse battery staple';
const setCookie = (page: { headers: Headers }, name: string) => page.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));

/**
 * Attacks on the double-submit CSRF check of browser sessions (issue 16 §7). An attacker who can
 * plant a cookie in the victim's browser (a sibling subdomain, an http:// man in the middle) but
 * cannot read the victim's HttpOnly session cookie must not be able to forge a form post: the
 * `tiled_csrf` token is bound to the `lk_session` it is used with, and replaced at every login.
 */
describe('attack: CSRF against browser sessions', () => {
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
    await t.createUser('victim');
    await t.createUser('mallory');
  });
  afterAll(() => t.close());

  const loggedIn = (username: string) => loginInBrowser(base, username, PASSWORD);

  /** Replaces the browser's tiled_csrf cookie, as an attacker on a sibling subdomain can. */
  function plant(browser: TestBrowser, token: string): void {
    browser.jar.store([`tiled_csrf=${token}; Path=/`], new URL(base));
  }

  const apiKeysOf = async (browser: TestBrowser) => {
    const res = await browser.request(`${base}${API}/auth/whoami`, { headers: { accept: 'application/json' } });
    return (JSON.parse(res.body) as { api_keys: unknown[] }).api_keys.length;
  };

  it("refuses a cookie + field pair planted from the attacker's own session (and a made-up pair)", async () => {
    const victim = await loggedIn('victim');
    const mallory = await loggedIn('mallory');
    // Mallory's own valid token, taken from her page.
    const stolen = csrfOf((await mallory.request(`${base}/account`)).body)!;
    expect(stolen).toBe(mallory.cookie('tiled_csrf', base));
    const before = await apiKeysOf(victim);

    plant(victim, stolen);
    const forged = await victim.request(`${base}/account/api-keys`, { form: { csrf: stolen, note: 'for mallory' } });
    expect(forged.status).toBe(403);
    expect(forged.body).toContain('CSRF');

    plant(victim, 'planted-by-mallory');
    const madeUp = await victim.request(`${base}/account/api-keys`, { form: { csrf: 'planted-by-mallory', note: 'for mallory' } });
    expect(madeUp.status).toBe(403);
    const json = await t
      .http()
      .post(`${API}/auth/logout`)
      .set('Cookie', `lk_session=${victim.cookie('lk_session', base)}; tiled_csrf=planted-by-mallory`)
      .set('x-csrf', 'planted-by-mallory')
      .expect(403);
    expect(json.body).toMatchObject({ statusCode: 403, code: 'CSRF_FAILED' });
    expect(typeof json.body.requestId).toBe('string');

    expect(await apiKeysOf(victim)).toBe(before);
    // The victim's next page load heals the cookie, and the page's own form works again.
    const page = await victim.request(`${base}/account`);
    const healed = csrfOf(page.body)!;
    expect(healed).not.toBe('planted-by-mallory');
    expect(victim.cookie('tiled_csrf', base)).toBe(healed);
    const ok = await victim.request(`${base}/account/api-keys`, { form: { csrf: healed, note: 'mine' } });
    expect(ok.status).toBe(200);
    expect(await apiKeysOf(victim)).toBe(before + 1);
  });

  it('replaces the token at login: a token fixed before the login (or from an earlier session) is refused afterwards', async () => {
    const browser = new TestBrowser();
    const form = await browser.request(`${base}/login`);
    const before = csrfOf(form.body)!;
    const login = await browser.request(`${base}/login`, { form: { username: 'victim', password: PASSWORD, csrf: before, next: '/account' } });
    expect(login.status).toBe(303);
    const rotated = setCookie(login, 'tiled_csrf');
    expect(rotated).toBeDefined();
    const after = browser.cookie('tiled_csrf', base)!;
    expect(after).not.toBe(before);

    // The attacker fixed `before` in this browser ahead of the login: it no longer works.
    plant(browser, before);
    const fixed = await browser.request(`${base}/account/revoke-all`, { form: { csrf: before } });
    expect(fixed.status).toBe(403);

    // A second login in the same browser: the first session's token is refused with the new session.
    plant(browser, after);
    const again = await browser.request(`${base}/login`, { form: { username: 'victim', password: PASSWORD, csrf: after, next: '/account' } });
    expect(again.status).toBe(303);
    expect(browser.cookie('tiled_csrf', base)).not.toBe(after);
    plant(browser, after);
    const stale = await browser.request(`${base}/account/api-keys`, { form: { csrf: after, note: 'x' } });
    expect(stale.status).toBe(403);
  });

  it('keeps the Tiled client working: an unbound cookie is issued to a client without a session, and Bearer calls are not checked', async () => {
    const res = await t.http().get(`${API}/`).expect(200);
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('tiled_csrf='))!;
    expect(cookie).toMatch(/^tiled_csrf=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    const tokens = await t.login('victim');
    await t.http().post(`${API}/auth/logout`).set('Authorization', `Bearer ${tokens.access_token}`).set('x-csrf', 'anything').expect(200);
  });
});

describe('attack: downgrade to http when PUBLIC_URL is https', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ PUBLIC_URL: 'https://latchkey.example' });
    await t.createUser('victim');
  });
  afterAll(() => t.close());

  it('sends Strict-Transport-Security on every response, errors included', async () => {
    for (const res of [await t.http().get(`${API}/`), await t.http().get('/health/live'), await t.http().get(`${API}/auth/whoami`), await t.http().get('/login')]) {
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    }
  });

  it('marks the CSRF and session cookies Secure, so an http:// man in the middle never sees them', async () => {
    const form = await t.http().get('/login').expect(200);
    const csrfCookie = (form.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('tiled_csrf='))!;
    expect(csrfCookie).toMatch(/; Secure/);
    expect(csrfCookie).toMatch(/; HttpOnly/);
    expect(csrfCookie).toMatch(/; Path=\//);
    expect(csrfCookie).not.toMatch(/Domain=/i);
    const csrf = /tiled_csrf=([^;]+)/.exec(csrfCookie)![1];
    const login = await t
      .http()
      .post('/login')
      .set('Cookie', `tiled_csrf=${csrf}`)
      .set('Accept', 'text/html')
      .type('form')
      .send({ username: 'victim', password: PASSWORD, csrf })
      .expect(303);
    const cookies = login.headers['set-cookie'] as unknown as string[];
    expect(cookies.find((c) => c.startsWith('lk_session='))).toMatch(/; Secure/);
    const rotated = cookies.find((c) => c.startsWith('tiled_csrf='))!;
    expect(rotated).toMatch(/; Secure/);
    expect(rotated).not.toContain(`tiled_csrf=${csrf};`);
  });
});

describe('no HSTS over plain http', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ PUBLIC_URL: 'http://latchkey.test' });
  });
  afterAll(() => t.close());

  it('sends no Strict-Transport-Security and no Secure cookie when PUBLIC_URL is http', async () => {
    const res = await t.http().get(`${API}/`).expect(200);
    expect(res.headers['strict-transport-security']).toBeUndefined();
    expect((res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('tiled_csrf='))).not.toMatch(/Secure/);
  });
});
