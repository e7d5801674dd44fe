import { Logger } from '@nestjs/common';
import { LOG_SINK, type LogSink } from '../src/common/logging';
import { bearer, createTestApp, TestApp } from './utils/create-test-app';
import { LocalIdp, startLocalIdp } from './utils/local-idp';

const API = '/api/v1';

/**
 * The logs never hold a secret. The app logs at debug (every request line, every Nest Logger call,
 * TypeORM's messages, the IdP client's warnings) into a captured sink, while known secrets go
 * through every way a credential comes in: the password login (form and JSON, right and wrong),
 * refresh and logout bodies, access tokens, API keys in the header, the query and the cookie,
 * deploy tokens (accepted and refused), a garbage Bearer, an IdP-looking Bearer, a real IdP
 * offline token, the browser session cookie, a password change, the metrics token. Then not one
 * of them, nor a long piece of one, may appear in what was written.
 */
describe('log redaction: no secret reaches the logs', () => {
  const lines: string[] = [];
  const sink: LogSink = { write: (line: string) => lines.push(line) };
  const secrets = new Map<string, string>();
  const remember = (what: string, secret: string) => {
    expect(secret).toBeTruthy();
    secrets.set(what, secret);
    return secret;
  };
  const METRICS_TOKEN = 'metrics-token-for-the-redaction-test-0123456789';
  let idp: LocalIdp;
  let t: TestApp;
  let userId: string;

  beforeAll(async () => {
    idp = await startLocalIdp({ accessTokenTtl: 60 });
    t = await createTestApp(
      { LOG_LEVEL: 'debug', LOG_FORMAT: 'json', METRICS_TOKEN, OIDC_PROVIDERS: 'idp', ...idp.providerEnv('idp'), CREDENTIAL_CACHE_TTL: '0' },
      undefined,
      [{ provide: LOG_SINK, useValue: sink }],
    );
    remember('metrics token', METRICS_TOKEN);
    remember('IdP client secret', idp.providerEnv('idp').OIDC_IDP_CLIENT_SECRET);
    userId = (await t.createUser('alice', remember('password', 'alice-secret-passphrase-4f9d2c'))).id;
  });
  afterAll(async () => {
    await t?.close();
    await idp?.stop();
  });

  const records = () =>
    lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });

  it('sends secrets through every credential route, and none of them is written', async () => {
    const password = secrets.get('password')!;
    // Password login: form (as Tiled clients send it) and JSON; a wrong password too.
    const form = await t.http().post(`${API}/auth/provider/local/token`).type('form').send({ username: 'alice', password }).expect(200);
    const json = await t.http().post(`${API}/auth/provider/local/token`).send({ username: 'alice', password }).expect(200);
    await t
      .http()
      .post(`${API}/auth/provider/local/token`)
      .type('form')
      .send({ username: 'alice', password: remember('wrong password', 'wrong-passphrase-8e1b77aa') })
      .expect(401);
    const access = remember('access token', form.body.access_token);
    remember('second access token', json.body.access_token);
    remember('refresh token', form.body.refresh_token);
    remember('second refresh token', json.body.refresh_token);

    // Refresh body, then logout body with the rotated token.
    const refreshed = await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: form.body.refresh_token }).expect(200);
    remember('rotated refresh token', refreshed.body.refresh_token);
    remember('refreshed access token', refreshed.body.access_token);
    await t.http().post(`${API}/auth/session/revoke`).send({ refresh_token: refreshed.body.refresh_token }).expect(204);
    await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: 'lk_rt_NotARealRefreshTokenButSecretLooking1234' }).expect(401);

    // Access token as Bearer.
    await t.http().get(`${API}/auth/whoami`).set(bearer(access)).expect(200);

    // API key: header, query, cookie; a revoked-looking unknown one.
    const key = remember(
      'API key',
      (await t.http().post(`${API}/auth/apikey`).set(bearer(access)).send({ scopes: null, expires_in: null, note: 'logs' }).expect(200)).body.secret,
    );
    await t.http().get(`${API}/auth/apikey`).set('Authorization', `Apikey ${key}`).expect(200);
    await t.http().get(`${API}/auth/credential?api_key=${key}`).expect(200);
    await t.http().get(`${API}/auth/credential`).set('Cookie', `tiled_api_key=${key}`).expect(200);
    await t.http().get(`${API}/no/such/route?api_key=${key}`).expect(404);
    // Where the client chooses what the request line writes: the path and the User-Agent.
    await t.http().get(`${API}/no/such/route/${key}`).expect(404);
    await t.http().get(`${API}/auth/whoami`).set(bearer(access)).set('User-Agent', `script/1.0 (Apikey ${key}; ${access})`).expect(200);
    const unknownKey = remember('unknown API key', `${key.slice(0, 10)}${'Q'.repeat(key.length - 10)}`);
    await t.http().get(`${API}/auth/credential`).set('Authorization', `Apikey ${unknownKey}`).expect(401);

    // Deploy token: accepted on the upload route, refused elsewhere.
    await t.http().post(`${API}/plugins`).set(bearer(access)).send({ name: 'log-plugin' }).expect(201);
    const deploy = remember(
      'deploy token',
      (await t.http().post(`${API}/plugins/log-plugin/tokens`).set(bearer(access)).send({ description: 'ci' }).expect(201)).body.token,
    );
    await t
      .http()
      .post(`${API}/plugins/log-plugin/versions`)
      .set(bearer(deploy))
      .field('version', '1.0.0')
      .attach('file', Buffer.from('package'), 'log-plugin-1.0.0.tar.gz')
      .expect(201);
    await t.http().get(`${API}/plugins/log-plugin/versions`).set(bearer(deploy)).expect(401);
    await t.http().get(`${API}/plugins`).set('Authorization', `Apikey ${deploy}`).expect(401);

    // A garbage Bearer, an IdP-looking (JWT-shaped) one, a real IdP offline token.
    await t.http().get(`${API}/auth/credential`).set(bearer(remember('garbage bearer', 'garbage-bearer-9c2e71f04ad3'))).expect(401);
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ iss: idp.issuer, sub: 'sub-alice', exp: 4102444800 })).toString('base64url');
    const fakeJwt = remember('IdP-looking bearer', `${header}.${payload}.c2lnbmF0dXJlLXRoYXQtaXMtbm90LXZhbGlk`);
    await t.http().get(`${API}/auth/credential`).set(bearer(fakeJwt)).expect(401);
    const offline = remember('IdP offline token', (await idp.obtainOfflineToken('bob')).refresh_token);
    await t.http().get(`${API}/auth/credential`).set(bearer(offline)).expect(200);

    // A browser-session cookie that is not one, a malformed Authorization header.
    await t.http().get(`${API}/auth/credential`).set('Cookie', `lk_session=${remember('session cookie', 'lk_bs_NotARealSessionCookieValue5678abcd')}`).expect(401);
    await t.http().get(`${API}/auth/credential`).set('Authorization', `Token ${remember('odd scheme', 'odd-scheme-secret-41aa09')}`).expect(400);

    // Password change (needs the recent login above), then the new password logs in.
    const fresh = await t.login('alice', password);
    const newPassword = remember('new password', 'alice-new-passphrase-77b1e0');
    await t.http().post(`${API}/users/me/password`).set(bearer(fresh.access_token)).send({ current_password: password, new_password: newPassword }).expect(200);
    const wrongCurrent = remember('wrong current password', 'not-it-2b7c51e9');
    await t.http().post(`${API}/users/me/password`).set(bearer(fresh.access_token)).send({ current_password: wrongCurrent, new_password: 'y'.repeat(12) });
    await t.login('alice', newPassword);

    // The metrics scrape with its token.
    await t.http().get('/metrics').set(bearer(METRICS_TOKEN)).expect(200);

    // Something careless: an object full of secrets handed to a Nest Logger at debug.
    new Logger('Careless').debug({
      headers: { authorization: `Bearer ${access}`, cookie: `tiled_api_key=${key}`, 'x-api-key': key },
      res: { headers: { 'set-cookie': [`lk_session=${secrets.get('session cookie')}`] } },
      body: { username: 'alice', password, refresh_token: form.body.refresh_token, nested: [{ client_secret: secrets.get('IdP client secret') }] },
      note: `retrying with Bearer ${deploy} and ?api_key=${key}`,
    });
    new Logger('Careless').warn(`the IdP refused Bearer ${offline}`);

    await new Promise((r) => setTimeout(r, 200)); // let the last request lines be written

    const written = lines.join('');
    expect(lines.length).toBeGreaterThan(30);
    const leaks: string[] = [];
    for (const [what, secret] of secrets) {
      if (written.includes(secret)) leaks.push(`${what} (whole)`);
      // A long piece of it is a leak too (e.g. a token cut short, or with its prefix masked).
      const middle = secret.slice(Math.floor(secret.length / 2) - 6, Math.floor(secret.length / 2) + 6);
      if (middle.length === 12 && written.includes(middle)) leaks.push(`${what} (piece "${middle}")`);
    }
    expect(leaks).toEqual([]);
  });

  it('still logs what operators need: one line per request with route, status, credential kind, principal and request id', () => {
    const requestLines = records().filter((r) => typeof r.route === 'string' || r.durationMs !== undefined);
    const whoami = requestLines.find((r) => r.route === `/${API.slice(1)}/auth/whoami` && r.status === 200);
    expect(whoami).toMatchObject({
      level: 'info',
      method: 'GET',
      status: 200,
      credential: 'access_token',
      principal: userId,
      reqId: expect.stringMatching(/^[0-9a-f]{16}$/),
      durationMs: expect.any(Number),
      msg: 'GET /api/v1/auth/whoami 200 ' + String(whoami?.durationMs) + 'ms',
    });
    expect(Object.keys(whoami!)).not.toEqual(expect.arrayContaining(['req', 'res', 'headers']));
    const refused = requestLines.find((r) => r.credential === 'deploy_token' && r.status === 401);
    expect(refused).toMatchObject({ errorCode: 'CREDENTIAL_NOT_ACCEPTED', route: '/api/v1/plugins/:package/versions' });
    const query = requestLines.find((r) => r.status === 404 && String(r.path).startsWith('/api/v1/no/such/route'));
    expect(query).toMatchObject({ route: null, path: '/api/v1/no/such/route', credential: 'api_key' });

    // Nest Logger calls arrive as JSON with their context, at their level, with the request id when in a request.
    const careless = records().filter((r) => r.context === 'Careless');
    expect(careless).toHaveLength(2);
    expect(careless[0]).toMatchObject({
      level: 'debug',
      headers: { authorization: '[redacted]', cookie: '[redacted]', 'x-api-key': '[redacted]' },
      res: { headers: { 'set-cookie': '[redacted]' } },
      body: { username: 'alice', password: '[redacted]', refresh_token: '[redacted]', nested: [{ client_secret: '[redacted]' }] },
    });
    expect(String(careless[0].note)).toMatch(/^retrying with Bearer \[redacted\] and \?api_key=\[redacted\]$/);
    expect(careless[1]).toMatchObject({ level: 'warn', msg: 'the IdP refused Bearer [redacted]' });
    const idpWarning = records().find((r) => typeof r.context === 'string' && r.context.startsWith('OidcClient') && r.reqId);
    expect(idpWarning).toMatchObject({ level: 'warn' });
  });
});
