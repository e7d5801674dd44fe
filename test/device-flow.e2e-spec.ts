import { DeviceLogin } from '../src/auth/oidc/device/device-login.entity';
import { Clock } from '../src/common/clock';
import { Session } from '../src/sessions/session.entity';
import { TestApp } from './utils/create-test-app';
import { FakeClock } from './utils/fake-clock';
import { LocalIdp } from './utils/local-idp';
import { TestBrowser } from './utils/test-browser';
import { startAppWithIdp } from './utils/app-with-idp';

const API = '/api/v1';
const ALICE = { username: 'alice', password: 'alice-password' };
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

interface DeviceStart {
  authorization_uri: string;
  verification_uri: string;
  interval: number;
  device_code: string;
  expires_in: number;
  user_code: string;
}

/**
 * The device-code login through an external provider, as `tiled login` drives it for a provider
 * in mode `external` (Tiled contract §6.2, §14): the program starts it and polls; a person opens
 * the authorization URL, logs in at a real IdP and types the user code. The program's side is
 * plain HTTP, the person's a cookie-jar browser.
 */
describe('device-code login through an external provider (tiled login)', () => {
  let idp: LocalIdp;
  let t: TestApp;
  let base: string;
  const clock = new FakeClock();

  beforeAll(async () => {
    ({ idp, t, base } = await startAppWithIdp({ overrides: [{ provide: Clock, useValue: clock }] }));
  });
  afterAll(async () => {
    await t?.close();
    await idp?.stop();
  });

  /** The program's HTTP calls (no cookies, JSON answers). */
  async function call(url: string, json?: unknown): Promise<{ status: number; headers: Headers; body: any }> {
    const res = await fetch(url, {
      method: 'POST',
      headers: json === undefined ? {} : { 'content-type': 'application/json' },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    return { status: res.status, headers: res.headers, body: await res.json() };
  }
  async function startLogin(): Promise<DeviceStart> {
    const res = await call(`${base}${API}/auth/provider/idp/authorize`);
    expect(res.status).toBe(200);
    return res.body as DeviceStart;
  }
  const poll = (start: DeviceStart, deviceCode = start.device_code) =>
    call(start.verification_uri, { device_code: deviceCode, grant_type: DEVICE_GRANT });

  /** A browser that opened the authorization URL and logged in at the IdP: it shows the user-code form. */
  async function atCodeForm(authorizationUri = `${base}${API}/auth/provider/idp/authorize?device=1`) {
    const browser = new TestBrowser();
    const page = await browser.open(authorizationUri, { login: ALICE });
    expect(page.status).toBe(200);
    expect(page.body).toContain('Authorize the session');
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1];
    return { browser, page, csrf };
  }
  const submit = (browser: TestBrowser, form: Record<string, string>) =>
    browser.request(`${base}${API}/auth/provider/idp/device_code`, { method: 'POST', form });
  /** The pending login of a user code: who approved it, if anyone; undefined once it is gone. */
  async function pending(userCode: string): Promise<{ sessionId: string | null; subject: string | null } | undefined> {
    const row = await t.dataSource.getRepository(DeviceLogin).findOne({ where: { userCode: userCode.replace('-', '') } });
    return row ? { sessionId: row.sessionId, subject: row.subject } : undefined;
  }
  const unapproved = { sessionId: null, subject: null };

  it('POST authorize answers as Tiled does; only the keyed hash of the device code is stored', async () => {
    const res = await call(`${base}${API}/auth/provider/idp/authorize`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual({
      authorization_uri: `${base}${API}/auth/provider/idp/authorize?device=1`,
      verification_uri: `${base}${API}/auth/provider/idp/token`,
      interval: 5,
      device_code: expect.stringMatching(/^[0-9a-f]{64}$/),
      expires_in: 900,
      user_code: expect.stringMatching(/^[0-9A-F]{4}-[0-9A-F]{4}$/),
    });
    const rows = await t.dataSource.getRepository(DeviceLogin).find();
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(res.body.device_code);
    expect(await pending(res.body.user_code)).toEqual(unapproved);
  });

  it('the full flow: pending while nobody approved; the browser logs in at the IdP and enters the code; the tokens go out once', async () => {
    const start = await startLogin();
    const early = await poll(start);
    expect(early.status).toBe(400);
    expect(early.body.detail).toEqual({ error: 'authorization_pending' });

    const { browser, page, csrf } = await atCodeForm(start.authorization_uri);
    // The IdP-proven identity waits in a sealed, HttpOnly cookie of this browser: never in a URL.
    const approver = page.headers.getSetCookie().find((c) => c.startsWith('lk_device='))!;
    expect(approver).toMatch(/HttpOnly/i);
    expect(approver).toMatch(/SameSite=Lax/i);
    expect(approver).toMatch(/Path=\/api\/v1\/auth\/provider\/idp\//);
    expect(approver).toMatch(/Max-Age=900/);
    expect(approver).toMatch(/^lk_device=v1\.[\w-]+\.[\w-]+;/);
    expect(approver).not.toContain('sub-alice');
    expect(page.trail.join(' ')).not.toContain('sub-alice');
    expect(page.body).toContain(`action="${API}/auth/provider/idp/device_code"`);
    expect((await poll(start)).status).toBe(400); // logging in is not approving

    // Case, dashes and spaces do not matter.
    const done = await submit(browser, { user_code: ` ${start.user_code.toLowerCase().replace('-', ' - ')} `, csrf });
    expect(done.status).toBe(200);
    expect(done.body).toContain('Success — return to your terminal');
    expect(await pending(start.user_code)).toMatchObject({ sessionId: expect.any(String), subject: 'sub-alice' });

    const tokens = await poll(start);
    expect(tokens.status).toBe(200);
    expect(tokens.body).toEqual({
      access_token: expect.any(String),
      expires_in: expect.any(Number),
      refresh_token: expect.stringMatching(/^lk_rt_\w+$/),
      refresh_token_expires_in: expect.any(Number),
      token_type: 'bearer',
      identity: { id: 'sub-alice', provider: 'idp' },
      principal: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    const who = await t.http().get(`${API}/auth/whoami`).set('Authorization', `Bearer ${tokens.body.access_token}`).expect(200);
    expect(who.body.uuid.replace(/-/g, '')).toBe(tokens.body.principal);
    expect(who.body.identities).toEqual([expect.objectContaining({ id: 'sub-alice', provider: 'idp' })]);
    await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: tokens.body.refresh_token }).expect(200);

    // One-time: the pending login is gone.
    const again = await poll(start);
    expect(again.status).toBe(404);
    expect(again.body.detail).toBe('No such device_code. The pending request may have expired.');
    expect(await pending(start.user_code)).toBeUndefined();
  });

  it('a wrong user code gets the form again with an error (401) and approves nothing', async () => {
    const start = await startLogin();
    const { browser, csrf } = await atCodeForm(start.authorization_uri);
    const sessions = await t.dataSource.getRepository(Session).count();
    const wrong = start.user_code === '0000-0000' ? '1111-1111' : '0000-0000';
    for (const userCode of [wrong, 'not a code', '']) {
      const res = await submit(browser, { user_code: userCode, csrf });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.body).toContain('This code is unknown or has expired');
      expect(res.body).toContain('name="user_code"');
    }
    expect(await t.dataSource.getRepository(Session).count()).toBe(sessions);
    expect(await pending(start.user_code)).toEqual(unapproved);
    expect((await poll(start)).status).toBe(400);

    // The approver cookie still works for the right code.
    expect((await submit(browser, { user_code: start.user_code, csrf })).status).toBe(200);
    expect((await poll(start)).status).toBe(200);
  });

  it('polls: a device code that is not hex is 401 "Invalid device code", an unknown one 404; both fields are required', async () => {
    const start = await startLogin();
    const notHex = await poll(start, 'z'.repeat(64));
    expect(notHex.status).toBe(401);
    expect(notHex.body.detail).toBe('Invalid device code');
    const unknown = await poll(start, 'ab'.repeat(32));
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toBe('No such device_code. The pending request may have expired.');
    expect((await call(start.verification_uri, { device_code: start.device_code })).status).toBe(422);
    expect((await call(start.verification_uri, { grant_type: DEVICE_GRANT })).status).toBe(422);
    expect((await call(start.verification_uri, { device_code: start.device_code, grant_type: 'password' })).status).toBe(422);
    // The upper-case spelling is the same code.
    expect((await poll(start, start.device_code.toUpperCase())).status).toBe(400);
  });

  it('the same token route keeps the password grant for the internal provider, and each provider takes only its grant', async () => {
    await t.createUser('carol');
    const login = await t.http().post(`${API}/auth/provider/local/token`).type('form').send({ username: 'carol', password: 'correct horse battery staple' });
    expect(login.status).toBe(200);
    expect(login.body.identity).toEqual({ id: 'carol', provider: 'local' });
    const start = await startLogin();
    await t.http().post(`${API}/auth/provider/local/token`).send({ device_code: start.device_code, grant_type: DEVICE_GRANT }).expect(422);
    await t.http().post(`${API}/auth/provider/idp/token`).type('form').send({ username: 'carol', password: 'x' }).expect(422);
    await t.http().post(`${API}/auth/provider/local/token`).type('form').send({ username: 'carol' }).expect(422);
  });

  it('no device flow at an unknown or the password provider: 404', async () => {
    for (const provider of ['nope', 'local']) {
      const res = await call(`${base}${API}/auth/provider/${provider}/authorize`);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('PROVIDER_NOT_FOUND');
    }
  });

  it('the code form is CSRF-checked: without its csrf field, or with another value, 403 and nothing approved', async () => {
    const start = await startLogin();
    const { browser, csrf } = await atCodeForm(start.authorization_uri);
    expect((await submit(browser, { user_code: start.user_code })).status).toBe(403);
    expect((await submit(browser, { user_code: start.user_code, csrf: `${csrf.slice(1)}x` })).status).toBe(403);
    expect(await pending(start.user_code)).toEqual(unapproved);
  });

  it('only the browser that logged in at the IdP can approve: without its sealed cookie, 401 "start again"', async () => {
    const start = await startLogin();
    await atCodeForm(start.authorization_uri); // the person's browser, which does not submit
    const other = new TestBrowser();
    await other.request(`${base}${API}/`); // its own tiled_csrf cookie
    const csrf = other.cookie('tiled_csrf', `${base}${API}/`)!;
    const res = await submit(other, { user_code: start.user_code, csrf });
    expect(res.status).toBe(401);
    expect(res.body).toContain('Start again');
    expect(res.body).toContain('authorize?device=1');
    // A forged cookie is no better.
    other.jar.store([`lk_device=v1.k0.${'A'.repeat(80)}; Path=${API}/auth/provider/idp/`], new URL(base));
    expect((await submit(other, { user_code: start.user_code, csrf })).status).toBe(401);
    // Nor does a non-browser get further; it gets the JSON error.
    const json = await other.request(`${base}${API}/auth/provider/idp/device_code`, {
      method: 'POST',
      form: { user_code: start.user_code, csrf },
      headers: { accept: 'application/json' },
    });
    expect(json.status).toBe(401);
    expect(JSON.parse(json.body).code).toBe('IDP_LOGIN_REQUIRED');
    expect(await pending(start.user_code)).toEqual(unapproved);
  });

  it('one approval per IdP login: after a success the approver cookie is gone', async () => {
    const [first, second] = [await startLogin(), await startLogin()];
    const { browser, csrf } = await atCodeForm(first.authorization_uri);
    expect((await submit(browser, { user_code: first.user_code, csrf })).status).toBe(200);
    expect(browser.cookie('lk_device', `${base}${API}/auth/provider/idp/device_code`)).toBeUndefined();
    expect((await submit(browser, { user_code: second.user_code, csrf })).status).toBe(401);
    expect(await pending(second.user_code)).toEqual(unapproved);
  });

  it('an expired pending login: its user code is refused, a poll gets 404, each is deleted when met or when another starts, and an uncollected session ends', async () => {
    const [typed, polled, purged, uncollected] = [await startLogin(), await startLogin(), await startLogin(), await startLogin()];
    const approving = await atCodeForm(uncollected.authorization_uri);
    expect((await submit(approving.browser, { user_code: uncollected.user_code, csrf: approving.csrf })).status).toBe(200);
    const { sessionId } = (await pending(uncollected.user_code))!;
    clock.advance(900 + 1);

    const { browser, csrf } = await atCodeForm();
    const res = await submit(browser, { user_code: typed.user_code, csrf });
    expect(res.status).toBe(401);
    expect(res.body).toContain('This code is unknown or has expired');
    expect(await pending(typed.user_code)).toBeUndefined();

    expect((await poll(polled)).status).toBe(404);
    expect(await pending(polled.user_code)).toBeUndefined();

    // Approved but never collected: the session it opened ends with it.
    expect((await poll(uncollected)).status).toBe(404);
    expect(await t.dataSource.getRepository(Session).findOneBy({ id: sessionId! })).toMatchObject({ revokedReason: 'revoked' });

    expect(await pending(purged.user_code)).toBeDefined();
    await startLogin();
    expect(await pending(purged.user_code)).toBeUndefined();
  });
});
