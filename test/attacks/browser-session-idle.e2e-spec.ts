import { Clock } from '../../src/common/clock';
import { createTestApp, DEFAULT_PASSWORD, TestApp } from '../utils/create-test-app';
import { FakeClock } from '../utils/fake-clock';
import { TestBrowser, csrfOf, loginInBrowser } from '../utils/test-browser';

const API = '/api/v1';
/** REFRESH_TOKEN_MAX_AGE of the first app: the browser-session idle timeout defaults to it. */
const REFRESH_MAX_AGE = 3600;

/**
 * Attacks on idle browser sessions (issue 16 §7): a `lk_session` cookie left unused (a shared
 * computer, a copied cookie jar) must not work forever. The idle timeout defaults to
 * REFRESH_TOKEN_MAX_AGE and is set with BROWSER_SESSION_IDLE_TIMEOUT; use slides it. The clock
 * is a FakeClock: nothing sleeps.
 */
describe('attack: using an idle browser session', () => {
  let t: TestApp;
  let base: string;
  const clock = new FakeClock();

  beforeAll(async () => {
    t = await createTestApp({ REFRESH_TOKEN_MAX_AGE: String(REFRESH_MAX_AGE) }, undefined, [{ provide: Clock, useValue: clock }]);
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
    await t.createUser('alice');
  });
  afterAll(() => t.close());

  /** A browser logged in through the /login form. */
  const loggedIn = () => loginInBrowser(base, 'alice');
  /** An API call with nothing but the stolen cookie. */
  const withCookie = (cookie: string) => t.http().get(`${API}/auth/whoami`).set('Cookie', `lk_session=${cookie}`);
  const sessionRow = async (cookieHashNotNull = true) =>
    (
      await t.dataSource.query(
        `SELECT revoked_reason, last_seen_at FROM ${t.table('sessions')} WHERE cookie_hash IS ${cookieHashNotNull ? 'NOT ' : ''}NULL ORDER BY created_at DESC`,
      )
    )[0];

  it('a stolen cookie unused past the idle timeout is refused (401 JSON; a page load goes to the login page) and the session revoked', async () => {
    const browser = await loggedIn();
    const stolen = browser.cookie('lk_session', base)!;
    await withCookie(stolen).expect(200);

    clock.advance(REFRESH_MAX_AGE + 1);
    const api = await withCookie(stolen).expect(401);
    expect(api.body).toMatchObject({ statusCode: 401, code: 'SESSION_EXPIRED' });
    const page = await browser.request(`${base}/account`);
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2Faccount');
    expect((await sessionRow()).revoked_reason).toBe('idle_timeout');

    // Revoked, not merely idle: even "fresh" use right away does not bring it back.
    await withCookie(stolen).expect(401);
  });

  it('use slides the timeout: a session used more often than the timeout lives on', async () => {
    const browser = await loggedIn();
    const cookie = browser.cookie('lk_session', base)!;
    for (let i = 0; i < 4; i++) {
      clock.advance(REFRESH_MAX_AGE * 0.6);
      expect((await browser.request(`${base}/account`)).status).toBe(200);
    }
    await withCookie(cookie).expect(200); // 2.4 timeouts after the login, never idle for one
    clock.advance(REFRESH_MAX_AGE + 61);
    await withCookie(cookie).expect(401);
  });

  it('the last use is written at most once a minute, not on every request', async () => {
    const browser = await loggedIn();
    const cookie = browser.cookie('lk_session', base)!;
    await withCookie(cookie).expect(200);
    expect((await sessionRow()).last_seen_at).toBeNull(); // used within a minute of the login: no write
    clock.advance(61);
    await withCookie(cookie).expect(200);
    const seen = (await sessionRow()).last_seen_at;
    expect(seen).not.toBeNull();
    clock.advance(30);
    await withCookie(cookie).expect(200);
    await withCookie(cookie).expect(200);
    expect((await sessionRow()).last_seen_at).toEqual(seen);
  });

  it('BROWSER_SESSION_IDLE_TIMEOUT sets the timeout', async () => {
    const short = await createTestApp({ REFRESH_TOKEN_MAX_AGE: String(REFRESH_MAX_AGE), BROWSER_SESSION_IDLE_TIMEOUT: '600' }, t.db, [
      { provide: Clock, useValue: clock },
    ]);
    try {
      await short.app.listen(0, '127.0.0.1');
      const shortBase = await short.app.getUrl();
      const browser = new TestBrowser();
      const form = await browser.request(`${shortBase}/login`);
      await browser.request(`${shortBase}/login`, { form: { username: 'alice', password: DEFAULT_PASSWORD, csrf: csrfOf(form.body)!, next: '/account' } });
      const cookie = browser.cookie('lk_session', shortBase)!;
      clock.advance(590);
      await short.http().get(`${API}/auth/whoami`).set('Cookie', `lk_session=${cookie}`).expect(200);
      clock.advance(601);
      await short.http().get(`${API}/auth/whoami`).set('Cookie', `lk_session=${cookie}`).expect(401);
    } finally {
      await short.close({ keepDatabase: true });
    }
  });

  it('an out-of-range BROWSER_SESSION_IDLE_TIMEOUT is refused at startup', async () => {
    await expect(createTestApp({ BROWSER_SESSION_IDLE_TIMEOUT: '10' }, t.db)).rejects.toThrow(/BROWSER_SESSION_IDLE_TIMEOUT/);
  });
});
