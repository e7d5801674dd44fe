import { AuditEvent } from '../src/audit/audit-event.entity';
import { createTestApp, TestApp } from './utils/create-test-app';
import { createPkce, LocalIdp, startLocalIdp } from './utils/local-idp';
import { TestBrowser } from './utils/test-browser';

const API = '/api/v1';
const ALICE = { username: 'alice', password: 'alice-password' };
const BOB = { username: 'bob', password: 'bob-password' };

/**
 * Login through an external OpenID Connect provider (authorization code + state + nonce + PKCE),
 * against a real oidc-provider process on loopback, with a cookie-jar browser over real HTTP.
 */
describe('OIDC login (code flow) against a real IdP', () => {
  let idp: LocalIdp;
  let idp2: LocalIdp;
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    const redirectUris = ['idp', 'idp2'].map((p) => `http://127.0.0.1${API}/auth/provider/${p}/code`);
    [idp, idp2] = await Promise.all([
      startLocalIdp({ redirectUris, postLogoutRedirectUris: ['http://127.0.0.1/logout'] }),
      startLocalIdp({ redirectUris }),
    ]);
    t = await createTestApp({
      OIDC_PROVIDERS: 'idp,idp2',
      ...idp.providerEnv('idp', { displayName: 'Test IdP' }),
      ...idp2.providerEnv('idp2'),
    });
    await t.app.listen(0, '127.0.0.1');
    base = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([idp?.stop(), idp2?.stop()]);
  });

  const count = async (table: string, where = '1=1') =>
    Number((await t.dataSource.query(`SELECT COUNT(*) AS n FROM ${t.table(table)} WHERE ${where}`))[0].n);
  const refreshTokenIn = (html: string) => /lk_rt_\w+/.exec(html)?.[0];
  const authorize = (provider = 'idp', query = '') => `${base}${API}/auth/provider/${provider}/authorize${query}`;
  const isCallback = (u: URL) => u.pathname.endsWith('/code');

  it('lists each provider in the handshake as an external provider', async () => {
    const res = await t.http().get(`${API}/`).expect(200);
    const providers = res.body.authentication.providers;
    expect(providers.map((p: { provider: string }) => p.provider)).toEqual(['local', 'idp', 'idp2']);
    expect(providers[1]).toEqual({
      provider: 'idp',
      mode: 'external',
      links: { auth_endpoint: expect.stringMatching(/\/api\/v1\/auth\/provider\/idp\/authorize$/) },
      confirmation_message: null,
      extra_scopes: null,
    });
  });

  it('API login: the IdP redirect carries state, nonce and an S256 challenge; the flow ends on a page showing a refresh token once', async () => {
    const browser = new TestBrowser();
    const start = await browser.request(authorize());
    expect(start.status).toBe(302);
    const to = new URL(start.headers.get('location')!);
    expect(to.origin).toBe(idp.issuer);
    expect(Object.fromEntries(to.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: idp.clientId,
      redirect_uri: `${base}${API}/auth/provider/idp/code`,
      code_challenge_method: 'S256',
      code_challenge: expect.stringMatching(/^[\w-]{43}$/),
      nonce: expect.any(String),
      state: expect.stringMatching(/^[\w-]{32}$/),
    });
    expect(to.searchParams.get('scope')!.split(' ')).toEqual(expect.arrayContaining(['openid', 'profile', 'email']));
    const stateCookie = start.headers.getSetCookie().find((c) => c.startsWith('lk_oidc_'))!;
    expect(stateCookie).toMatch(/HttpOnly/i);
    expect(stateCookie).toMatch(/SameSite=Lax/i);
    expect(stateCookie).toMatch(/Path=\/api\/v1\/auth\/provider\/idp\//);

    const usersBefore = await count('users');
    const callback = await browser.open(to.href, { login: ALICE, stopAt: isCallback });
    const page = await browser.open(callback.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.body).toContain('you will not see it again');
    const refreshToken = refreshTokenIn(page.body)!;
    expect(refreshToken).toBeDefined();
    expect(await count('users')).toBe(usersBefore + 1);

    // The token is a normal Latchkey session: refresh, then whoami with the identity.
    const pair = await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: refreshToken }).expect(200);
    const who = await t.http().get(`${API}/auth/whoami`).set('Authorization', `Bearer ${pair.body.access_token}`).expect(200);
    expect(who.body.identities).toEqual([expect.objectContaining({ id: 'sub-alice', provider: 'idp' })]);

    // Replaying the callback (reload, back button) shows no token again.
    const replay = await browser.open(callback.url);
    expect(replay.status).toBe(401);
    expect(refreshTokenIn(replay.body)).toBeUndefined();

    // Both are in the audit log, as logins through the IdP.
    const events = await t.dataSource.getRepository(AuditEvent).find({ order: { id: 'DESC' }, take: 2 });
    expect(events.map((e) => [e.type, e.details])).toEqual([
      ['login.failed', { provider: 'idp', method: 'oidc', reason: 'EXTERNAL_LOGIN_FAILED' }],
      ['login.succeeded', { provider: 'idp', method: 'oidc-api' }],
    ]);

    // A second login of the same IdP account is the same user.
    const again = await new TestBrowser().open(authorize(), { login: ALICE });
    expect(again.status).toBe(200);
    expect(await count('users')).toBe(usersBefore + 1);
  });

  it('API login from a non-browser client answers the Tiled token object as JSON', async () => {
    const client = new TestBrowser('application/json');
    const page = await client.open(authorize(), { login: BOB });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/application\/json/);
    const body = JSON.parse(page.body);
    expect(body).toMatchObject({
      token_type: 'bearer',
      access_token: expect.any(String),
      refresh_token: expect.stringMatching(/^lk_rt_/),
      identity: { id: 'sub-bob', provider: 'idp' },
      principal: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
  });

  it('the same subject at two providers is two identities, so two users', async () => {
    const first = JSON.parse((await new TestBrowser('application/json').open(authorize('idp'), { login: ALICE })).body);
    const second = JSON.parse((await new TestBrowser('application/json').open(authorize('idp2'), { login: ALICE })).body);
    expect(first.identity).toEqual({ id: 'sub-alice', provider: 'idp' });
    expect(second.identity).toEqual({ id: 'sub-alice', provider: 'idp2' });
    expect(second.principal).not.toBe(first.principal);
    const who = await t.http().get(`${API}/auth/whoami`).set('Authorization', `Bearer ${second.access_token}`).expect(200);
    expect(who.body.identities).toEqual([expect.objectContaining({ id: 'sub-alice', provider: 'idp2' })]);
  });

  describe('a tampered or failed callback is refused with a 4xx and logs nobody in', () => {
    /** Starts a login in `browser` and returns the parameters Latchkey sent to the IdP. */
    async function begin(browser: TestBrowser) {
      const start = await browser.request(authorize());
      return new URL(start.headers.get('location')!).searchParams;
    }
    /** Logs in at the IdP with the given authorization parameters; returns the callback URL (not requested). */
    async function idpLogin(browser: TestBrowser, params: URLSearchParams, changes: Record<string, string>) {
      const url = new URL(`${idp.issuer}/auth`);
      for (const [k, v] of params) url.searchParams.set(k, v);
      for (const [k, v] of Object.entries(changes)) url.searchParams.set(k, v);
      return (await browser.open(url.href, { login: ALICE, stopAt: isCallback })).url;
    }
    let sessionsBefore: number;
    beforeEach(async () => {
      sessionsBefore = await count('sessions');
    });
    afterEach(async () => {
      expect(await count('sessions')).toBe(sessionsBefore);
    });

    it('state that does not match the cookie', async () => {
      const browser = new TestBrowser();
      const params = await begin(browser);
      const callback = await idpLogin(browser, params, { state: 'A'.repeat(32) });
      const page = await browser.open(callback);
      expect(page.status).toBe(401);
      expect(page.body).toContain('not started in this browser');
    });

    it('a callback completed in another browser (no state cookie there)', async () => {
      const victim = new TestBrowser();
      const callback = await idpLogin(victim, await begin(victim), {});
      const attacker = new TestBrowser('application/json');
      const res = await attacker.open(callback);
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'EXTERNAL_LOGIN_FAILED' });
    });

    it('a code bound to another PKCE challenge (code injection): the IdP refuses our verifier', async () => {
      const browser = new TestBrowser();
      const params = await begin(browser);
      const callback = await idpLogin(browser, params, { code_challenge: createPkce().codeChallenge });
      await idp.resetStats();
      const page = await browser.open(callback);
      expect(page.status).toBe(401);
      expect(page.body).toContain('Login failed');
      expect((await idp.stats()).errorsByGrantType).toEqual({ authorization_code: 1 });
    });

    it('an ID token with another nonce', async () => {
      const browser = new TestBrowser();
      const params = await begin(browser);
      const callback = await idpLogin(browser, params, { nonce: 'not-the-nonce-latchkey-sent' });
      const page = await browser.open(callback);
      expect(page.status).toBe(401);
      expect(page.body).toContain('invalid nonce');
    });

    it('no code, or an IdP error', async () => {
      const browser = new TestBrowser('application/json');
      const state = (await begin(browser)).get('state')!;
      const noCode = await browser.request(`${base}${API}/auth/provider/idp/code?state=${state}`);
      expect(noCode.status).toBe(401);
      expect(JSON.parse(noCode.body).code).toBe('EXTERNAL_LOGIN_FAILED');
      const denied = await browser.request(`${base}${API}/auth/provider/idp/code?error=access_denied&state=${state}`);
      expect(denied.status).toBe(401);
      expect(JSON.parse(denied.body).message).toContain('access_denied');
      const twice = await browser.request(`${base}${API}/auth/provider/idp/code?code=a&code=b`);
      expect(twice.status).toBe(400);
    });

    it('unknown provider → 404; a return path to another site → 422', async () => {
      await t.http().get(`${API}/auth/provider/nope/authorize`).expect(404);
      await t.http().get(`${API}/auth/provider/nope/code?code=x`).expect(404);
      for (const next of ['//evil.example/', 'https://evil.example/', '/\\evil.example']) {
        await t.http().get(`${API}/auth/provider/idp/authorize`).query({ next }).expect(422);
      }
    });
  });

  it('a logged-in user gets an IdP offline token from a page that shows it once, and it works as Bearer', async () => {
    const browser = new TestBrowser();
    const account = await browser.open(authorize('idp', '?next=/account'), { login: ALICE });
    expect(account.url).toBe(`${base}/account`);
    expect(account.body).toContain('Get an offline token from Test IdP');

    const page = await browser.open(`${base}${API}/auth/provider/idp/offline-token`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Your Test IdP offline token');
    const offline = /<textarea[^>]*>([^<]+)<\/textarea>/.exec(page.body)![1];
    const who = await t.http().get(`${API}/auth/whoami`).set('Authorization', `Bearer ${offline}`).expect(200);
    expect(who.body.identities).toEqual([expect.objectContaining({ id: 'sub-alice', provider: 'idp' })]);
    // Nothing stores it.
    const dump = JSON.stringify(await t.dataSource.query(`SELECT * FROM ${t.table('sessions')}`));
    expect(dump).not.toContain(offline);
    // The offline-token page needs a login.
    await t.http().get(`${API}/auth/provider/idp/offline-token`).expect(401);
  });

  it('the IdP down: a browser gets an HTML page with Retry-After and a way to try again, at the callback and at the start (also when it was never reachable); scripts get JSON 503', async () => {
    // Down between the IdP login and its redirect back (the code exchange fails).
    const browser = new TestBrowser();
    const start = await browser.request(authorize('idp2', '?next=/account'));
    const url = new URL(start.headers.get('location')!);
    const callback = (await browser.open(url.href, { login: ALICE, stopAt: isCallback })).url;
    await idp2.stop();
    try {
      const page = await browser.open(callback);
      expect(page.status).toBe(503);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('retry-after')).toBe('10');
      expect(page.body).toContain('The identity provider is not reachable');
      expect(page.body).toContain(`${API}/auth/provider/idp2/authorize`);
    } finally {
      await idp2.restart();
    }

    // A provider whose IdP has never answered since boot (nothing listens on its port).
    const down = await createTestApp({
      OIDC_PROVIDERS: 'down',
      OIDC_DOWN_ISSUER: 'http://127.0.0.1:9',
      OIDC_DOWN_CLIENT_ID: 'latchkey',
      OIDC_DOWN_CLIENT_SECRET: 'latchkey-secret',
      OIDC_HTTP_TIMEOUT: '500',
    });
    try {
      const html = await down.http().get(`${API}/auth/provider/down/authorize?next=/account`).set('Accept', 'text/html,application/xhtml+xml');
      expect(html.status).toBe(503);
      expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(html.headers['retry-after']).toBe('10');
      expect(html.text).toContain('Try again');
      const json = await down.http().get(`${API}/auth/provider/down/authorize`).set('Accept', 'application/json');
      expect(json.status).toBe(503);
      expect(json.headers['content-type']).toBe('application/json');
      expect(json.headers['retry-after']).toBe('10');
    } finally {
      await down.close();
    }
  });
});
