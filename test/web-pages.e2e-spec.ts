import { PluginTokensService } from '../src/plugin-tokens/plugin-tokens.service';
import { PluginsService } from '../src/plugins/plugins.service';
import { bearer, createTestApp, TestApp } from './utils/create-test-app';
import { LocalIdp } from './utils/local-idp';
import { TestBrowser, csrfOf, loginInBrowser } from './utils/test-browser';
import { startAppWithIdp } from './utils/app-with-idp';

const API = '/api/v1';
const PASSWORD = 'correct horse battery staple';
const secretOf = (body: string) => /<textarea id="secret"[^>]*>([^<]+)<\/textarea>/.exec(body)?.[1];

/**
 * The pages over HTTP (no JavaScript): login, CSRF on every form, secrets only in POST responses,
 * the cookie's flags, who may see what, bad form input as a clear 4xx. The same flows in a real
 * Chromium are in test/browser/.
 */
describe('web pages over HTTP', () => {
  let idp: LocalIdp;
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    ({ idp, t, base } = await startAppWithIdp());
    await t.createUser('alice');
    await t.createUser('bob');
    await t.createUser('root', PASSWORD, ['user', 'admin']);
  });
  afterAll(async () => {
    await t?.close();
    await idp?.stop();
  });

  /** A browser logged in through the /login form. */
  const loggedIn = (username: string) => loginInBrowser(base, username, PASSWORD);
  /** Posts a form of a page the way the page does (its csrf field). */
  async function submit(browser: TestBrowser, page: string, action: string, form: Record<string, string> = {}) {
    const csrf = csrfOf((await browser.request(`${base}${page}`)).body)!;
    return browser.request(`${base}${action}`, { form: { csrf, ...form } });
  }

  describe('login', () => {
    it('shows a form with the CSRF field and a button per IdP; logs in with a password into an HttpOnly, SameSite=Lax session cookie', async () => {
      const browser = new TestBrowser();
      const form = await browser.request(`${base}/login?next=/plugins`);
      expect(form.status).toBe(200);
      expect(form.headers.get('content-type')).toMatch(/^text\/html/);
      expect(form.body).toContain('name="username"');
      expect(form.body).toContain(`href="${API}/auth/provider/idp/authorize?next=%2Fplugins"`);
      expect(form.body).toContain('>Test IdP</a>');
      const csrf = csrfOf(form.body)!;
      expect(csrf).toBe(browser.cookie('tiled_csrf', base));

      const res = await browser.request(`${base}/login`, { form: { username: 'alice', password: PASSWORD, csrf, next: '/plugins' } });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/plugins');
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('lk_session='))!;
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Lax/i);
      expect(cookie).toMatch(/Path=\//);
      const account = await browser.request(`${base}/account`);
      expect(account.status).toBe(200);
      expect(account.body).toContain('Signed in as <strong id="username">alice</strong>');
    });

    it('a wrong password shows the form again with the error inline (401, no cookie); a script gets the JSON error', async () => {
      const browser = new TestBrowser();
      const csrf = csrfOf((await browser.request(`${base}/login`)).body)!;
      const res = await browser.request(`${base}/login`, { form: { username: 'alice', password: 'nope', csrf } });
      expect(res.status).toBe(401);
      expect(res.body).toContain('id="login-error"');
      expect(res.body).toContain('Incorrect username or password');
      expect(res.body).toContain('value="alice"');
      expect(res.headers.getSetCookie().some((c) => c.startsWith('lk_session='))).toBe(false);

      const api = await t.http().post('/login').set('Cookie', `tiled_csrf=${csrf}`).type('form').send({ username: 'alice', password: 'nope', csrf });
      expect(api.status).toBe(401);
      expect(api.body).toMatchObject({ code: 'AUTH_INVALID_CREDENTIALS' });
    });

    it('refuses a login post without the double-submit value (login CSRF) and a `next` that leaves the site', async () => {
      const browser = new TestBrowser();
      await browser.request(`${base}/login`);
      const forged = await browser.request(`${base}/login`, { form: { username: 'alice', password: PASSWORD } });
      expect(forged.status).toBe(403);
      expect(forged.headers.getSetCookie().some((c) => c.startsWith('lk_session='))).toBe(false);

      const csrf = browser.cookie('tiled_csrf', base)!;
      const away = await browser.request(`${base}/login`, { form: { username: 'alice', password: PASSWORD, csrf, next: '//evil.example' } });
      expect(away.status).toBe(422);
      expect(away.headers.get('content-type')).toMatch(/^text\/html/);
      expect(away.body).toContain('next must be a local path');
    });

    it('a page load without a login goes to /login?next=…; an API client gets 401 JSON', async () => {
      const page = await new TestBrowser().request(`${base}/account`);
      expect(page.status).toBe(303);
      expect(page.headers.get('location')).toBe('/login?next=%2Faccount');
      const api = await t.http().get('/account').set('Accept', 'application/json');
      expect(api.status).toBe(401);
      expect(api.body).toMatchObject({ code: 'AUTH_REQUIRED' });
    });

    it('/logout offers logging in again, with the password and with each IdP', async () => {
      const page = await new TestBrowser().request(`${base}/logout`);
      expect(page.status).toBe(200);
      expect(page.body).toContain('You are logged out');
      expect(page.body).toContain('href="/login?next=%2Faccount"');
      expect(page.body).toContain('Log in again with Test IdP');
    });
  });

  describe('account: API keys, sessions, log out everywhere', () => {
    it('creates an API key: the secret is only in the POST response, never in a URL, and works until revoked in the page', async () => {
      const browser = await loggedIn('alice');
      const created = await submit(browser, '/account', '/account/api-keys', { note: 'laptop', expires_in: String(24 * 3600) });
      expect(created.status).toBe(200);
      expect(created.headers.get('location')).toBeNull();
      expect(created.headers.get('cache-control')).toBe('no-store');
      expect(created.headers.get('referrer-policy')).toBe('no-referrer');
      const csp = created.headers.get('content-security-policy')!;
      const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1];
      expect(created.body).toContain(`<script nonce="${nonce}">`);
      expect(created.body).toContain('you will not see it again');
      const secret = secretOf(created.body)!;
      expect(secret).toMatch(/^lk_pat_/);
      expect(created.body).toContain('data-replace-url="/account"');

      const account = await browser.request(`${base}/account`);
      expect(account.body).not.toContain(secret);
      expect(account.body).toContain('laptop');
      expect(account.body).not.toContain('<script');

      const who = await t.http().get(`${API}/auth/whoami`).set('Authorization', `Apikey ${secret}`);
      expect(who.status).toBe(200);
      expect(who.body.identities[0]).toMatchObject({ id: 'alice' });

      const keyId = new RegExp(`data-key="([^"]+)" data-first-eight="${secret.slice(7, 15)}"`).exec(account.body)![1];
      const revoked = await submit(browser, '/account', `/account/api-keys/${keyId}/revoke`);
      expect(revoked.status).toBe(303);
      expect(revoked.headers.get('location')).toBe('/account?done=key-revoked#api-keys');
      expect((await browser.request(`${base}/account?done=key-revoked`)).body).toContain('API key revoked');
      expect((await t.http().get(`${API}/auth/whoami`).set('Authorization', `Apikey ${secret}`)).status).toBe(401);
    });

    it('every form is CSRF-checked: without the field, or with another value, it is refused and nothing happens', async () => {
      const browser = await loggedIn('alice');
      const before = (await t.dataSource.query(`SELECT COUNT(*) AS n FROM ${t.table('api_keys')}`))[0].n;
      const none = await browser.request(`${base}/account/api-keys`, { form: { note: 'forged' } });
      expect(none.status).toBe(403);
      const wrong = await browser.request(`${base}/account/api-keys`, { form: { note: 'forged', csrf: 'x'.repeat(43) } });
      expect(wrong.status).toBe(403);
      expect(JSON.parse(wrong.body)).toMatchObject({ code: 'CSRF_FAILED' });
      const revokeAll = await browser.request(`${base}/account/revoke-all`, { method: 'POST', form: { note: 'x' } });
      expect(revokeAll.status).toBe(403);
      expect((await t.dataSource.query(`SELECT COUNT(*) AS n FROM ${t.table('api_keys')}`))[0].n).toBe(before);
      expect((await browser.request(`${base}/account`)).status).toBe(200);
    });

    it('bad form input is a clear 4xx page (or JSON for a script), never a 500', async () => {
      const browser = await loggedIn('alice');
      const res = await submit(browser, '/account', '/account/api-keys', { note: 'x', expires_in: 'soon' });
      expect(res.status).toBe(422);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.body).toContain('expires_in must be a number of seconds');
      expect(res.body).toContain('href="/account"');
      // The scope picker says what each scope allows (the modules' @DeclareScopes).
      expect((await browser.request(`${base}/account`)).body).toMatch(/value="read:plugins"> read:plugins <span class="small muted">Read plugins, their versions/);
      const scope = await submit(browser, '/account', '/account/api-keys', { scopes: 'admin:apikeys' });
      expect(scope.status).toBe(403);
      expect(scope.body).toContain('must be a subset');
      const unknown = await submit(browser, '/account', '/account/api-keys', { extra: 'field' });
      expect(unknown.status).toBe(422);
      const missing = await submit(browser, '/account', `/account/api-keys/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/revoke`);
      expect(missing.status).toBe(404);
      const junk = await submit(browser, '/account', '/account/sessions/not-a-uuid/revoke');
      expect(junk.status).toBe(404);
    });

    it('the forms take a browser login only: an access token (no cookie, so no CSRF check) is refused', async () => {
      const { access_token } = await t.login('alice');
      const res = await t.http().post('/account/api-keys').set(bearer(access_token)).type('form').send({ note: 'x' });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code: 'SESSION_REQUIRED' });
      const revokeAll = await t.http().post('/account/revoke-all').set(bearer(access_token));
      expect(revokeAll.status).toBe(403);
      // Reading the page with any credential is fine.
      expect((await t.http().get('/account').set(bearer(access_token))).status).toBe(200);
    });

    it('lists my sessions with device and IP, revokes another one, and logs out everywhere', async () => {
      const other = await loggedIn('bob');
      const browser = await loggedIn('bob');
      const page = await browser.request(`${base}/account`);
      expect(page.body).toContain('this browser');
      const ids = [...page.body.matchAll(/data-session="([^"]+)"/g)].map((m) => m[1]);
      expect(ids.length).toBeGreaterThanOrEqual(2);
      const current = /data-session="([^"]+)">\s*<td data-label="Device">[^]*?this browser/.exec(page.body)![1];
      const victim = ids.find((id) => id !== current)!;
      const revoked = await submit(browser, '/account', `/account/sessions/${victim}/revoke`);
      expect(revoked.headers.get('location')).toBe('/account?done=session-revoked#sessions');
      expect((await other.request(`${base}/account`)).status).toBe(303); // to /login

      const { access_token } = await t.login('bob');
      const everywhere = await submit(browser, '/account', '/account/revoke-all');
      expect(everywhere.status).toBe(200);
      expect(everywhere.body).toContain('You are logged out everywhere');
      expect(everywhere.headers.getSetCookie().some((c) => /^lk_session=;/.test(c))).toBe(true);
      expect((await t.http().get(`${API}/auth/whoami`).set(bearer(access_token))).status).toBe(401);
    });
  });

  describe('plugins and deploy tokens', () => {
    let annaToken: string;

    beforeAll(async () => {
      await t.createUser('anna');
      annaToken = (await t.login('anna')).access_token;
      await t.http().post(`${API}/plugins`).set(bearer(annaToken)).send({ name: 'fancy-plugin', display_name: 'FancyPlugin' }).expect(201);
    });

    it('a maintainer creates, renames, rotates (with an overlap) and revokes a token; versions show who uploaded them', async () => {
      const browser = await loggedIn('anna');
      const list = await browser.request(`${base}/plugins`);
      expect(list.status).toBe(200);
      expect(list.body).toContain('href="/plugins/fancy-plugin/tokens"');
      const page = '/plugins/fancy-plugin/tokens';

      const created = await submit(browser, page, page, { description: 'github action', expires_in: '' });
      expect(created.status).toBe(200);
      const secret = secretOf(created.body)!;
      expect(secret).toMatch(/^lk_dpl_/);
      expect(created.body).toContain(`data-replace-url="${page}"`);
      const upload = await t
        .http()
        .post(`${API}/plugins/fancy-plugin/versions`)
        .set(bearer(secret))
        .field('version', '1.0.0')
        .attach('file', Buffer.from('tarball'), 'fancy-plugin-1.0.0.tar.gz');
      expect(upload.status).toBe(201);

      let html = (await browser.request(`${base}${page}`)).body;
      expect(html).not.toContain(secret);
      const id = /data-token="([^"]+)"/.exec(html)![1];
      expect(html).toContain('value="github action"');
      expect(html).toContain('by anna');
      expect(html).toContain('Token github action'); // the version's uploader
      expect(html).toMatch(/<strong class="mono">1\.0\.0<\/strong>/);

      const renamed = await submit(browser, page, `${page}/${id}/description`, { description: 'release workflow' });
      expect(renamed.headers.get('location')).toBe(`${page}?done=token-renamed#tokens`);
      html = (await browser.request(`${base}${page}`)).body;
      expect(html).toContain('value="release workflow"');

      const rotated = await submit(browser, page, `${page}/${id}/rotate`, { overlap_seconds: '3600' });
      expect(rotated.status).toBe(200);
      const second = secretOf(rotated.body)!;
      expect(second).toMatch(/^lk_dpl_/);
      expect(second).not.toBe(secret);
      expect(rotated.body).toContain('The old secret keeps working until');
      const tooLong = await submit(browser, page, `${page}/${id}/rotate`, { overlap_seconds: String(365 * 24 * 3600) });
      expect(tooLong.status).toBe(422);

      const revoked = await submit(browser, page, `${page}/${id}/revoke`);
      expect(revoked.headers.get('location')).toBe(`${page}?done=token-revoked#tokens`);
      html = (await browser.request(`${base}${page}?done=token-revoked`)).body;
      expect(html).toContain('<span class="badge revoked">revoked</span>');
      const refused = await t.http().post(`${API}/plugins/fancy-plugin/versions`).set(bearer(second)).field('version', '1.0.1').attach('file', Buffer.from('x'), 'x.tar.gz');
      expect(refused.status).toBe(401);
    });

    it('creates a plugin from /plugins: CSRF-checked, the API name rules and conflicts shown as a page', async () => {
      const browser = await loggedIn('anna');
      const count = async () => (await t.dataSource.query(`SELECT COUNT(*) AS n FROM ${t.table('plugins')}`))[0].n;
      const before = await count();
      // A forged form (another site posting into anna's session) creates nothing.
      const forged = await browser.request(`${base}/plugins`, { form: { name: 'forged-plugin' } });
      expect(forged.status).toBe(403);
      expect(await count()).toBe(before);
      const bad = await submit(browser, '/plugins', '/plugins', { name: 'Not A Name' });
      expect(bad.status).toBe(422);
      expect(bad.headers.get('content-type')).toMatch(/^text\/html/);
      expect(bad.body).toContain('name must be lower-case letters and digits');
      const taken = await submit(browser, '/plugins', '/plugins', { name: 'fancy-plugin' });
      expect(taken.status).toBe(409);
      expect(await count()).toBe(before);

      const made = await submit(browser, '/plugins', '/plugins', { name: 'second-plugin', display_name: '' });
      expect(made.status).toBe(303);
      expect(made.headers.get('location')).toBe('/plugins/second-plugin/tokens?done=plugin-created');
      const plugin = (await t.http().get(`${API}/plugins/second-plugin`).set(bearer(annaToken)).expect(200)).body;
      expect(plugin).toMatchObject({ maintainers: ['anna'], display_name: 'second-plugin' });
    });

    it('someone who does not maintain the plugin sees neither its tokens nor its forms', async () => {
      const browser = await loggedIn('alice');
      const page = await browser.request(`${base}/plugins/fancy-plugin/tokens`);
      expect([403, 404]).toContain(page.status);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const post = await submit(browser, '/account', '/plugins/fancy-plugin/tokens', { description: 'mine now' });
      expect([403, 404]).toContain(post.status);
      expect((await browser.request(`${base}/plugins`)).body).toContain('You maintain no plugin');
    });

    it('a maintainer invites from the plugin page (the same notice for any name); the invitee accepts or declines on /plugins; a maintainer revokes', async () => {
      const anna = await loggedIn('anna');
      const page = '/plugins/fancy-plugin/tokens';
      const form = (await anna.request(`${base}${page}`)).body;
      expect(form).toContain('id="invite-maintainer"');
      expect(form).toContain('<strong>anna</strong>');

      const invitedBob = await submit(anna, page, '/plugins/fancy-plugin/invitations', { username: 'bob' });
      const invitedNobody = await submit(anna, page, '/plugins/fancy-plugin/invitations', { username: 'nobody-at-all' });
      expect(invitedBob.status).toBe(303);
      expect(invitedNobody.status).toBe(303);
      expect(invitedBob.headers.get('location')).toBe(`${page}?done=invited#maintainers`);
      expect(invitedNobody.headers.get('location')).toBe(invitedBob.headers.get('location'));
      const bad = await submit(anna, page, '/plugins/fancy-plugin/invitations', { username: 'no spaces!' });
      expect(bad.status).toBe(422);
      let html = (await anna.request(`${base}${page}?done=invited`)).body;
      expect(html).toContain('Invitation sent.');
      expect(html).toContain('<strong>bob</strong>');
      expect(html).toContain('<strong>nobody-at-all</strong>');
      const nobodyId = /<tr data-invitation="([^"]+)"><td data-label="Invited"><strong>nobody-at-all/.exec(html)![1];

      // Bob sees it on /plugins with Accept and Decline, and is not a maintainer yet.
      const bob = await loggedIn('bob');
      const list = (await bob.request(`${base}/plugins`)).body;
      expect(list).toContain('Invitations for you');
      const bobsId = /<tr data-invitation="([^"]+)">/.exec(list)![1];
      expect(list).toContain(`action="/plugin-invitations/${bobsId}/accept"`);
      expect(list).toContain(`action="/plugin-invitations/${bobsId}/decline"`);
      expect((await bob.request(`${base}${page}`)).status).toBe(403);
      // Without the page's CSRF value, the accept button does nothing.
      const forged = await bob.request(`${base}/plugin-invitations/${bobsId}/accept`, { form: { csrf: 'forged' } });
      expect(forged.status).toBe(403);
      const accepted = await submit(bob, '/plugins', `/plugin-invitations/${bobsId}/accept`);
      expect(accepted.status).toBe(303);
      expect(accepted.headers.get('location')).toBe(`${page}?done=invitation-accepted#maintainers`);
      html = (await bob.request(`${base}${page}`)).body;
      expect(html).toContain('<strong>anna</strong>, <strong>bob</strong>');

      // Any maintainer (bob now) revokes the invitation of the unknown name.
      const revoked = await submit(bob, page, `/plugins/fancy-plugin/invitations/${nobodyId}/revoke`);
      expect(revoked.headers.get('location')).toBe(`${page}?done=invitation-revoked#maintainers`);
      expect((await bob.request(`${base}${page}`)).body).not.toContain('nobody-at-all');

      // Alice declines hers; it is gone and she maintains nothing.
      await submit(anna, page, '/plugins/fancy-plugin/invitations', { username: 'alice' });
      const alice = await loggedIn('alice');
      const aliceList = (await alice.request(`${base}/plugins`)).body;
      const alicesId = /<tr data-invitation="([^"]+)">/.exec(aliceList)![1];
      const declined = await submit(alice, '/plugins', `/plugin-invitations/${alicesId}/decline`);
      expect(declined.headers.get('location')).toBe('/plugins?done=invitation-declined');
      const after = (await alice.request(`${base}/plugins?done=invitation-declined`)).body;
      expect(after).toContain('Invitation declined.');
      expect(after).not.toContain('Invitations for you');
      expect(after).toContain('You maintain no plugin');
    });

    it('the API routes of the same paths are untouched (still under /api/v1, JSON)', async () => {
      const api = await t.http().get(`${API}/plugins`).set(bearer(annaToken));
      expect(api.status).toBe(200);
      expect(Array.isArray(api.body)).toBe(true);
      const tokens = await t.http().get(`${API}/plugins/fancy-plugin/tokens`).set(bearer(annaToken));
      expect(tokens.status).toBe(200);
      expect(tokens.body[0]).toMatchObject({ plugin: 'fancy-plugin' });
      expect((await t.http().get('/plugins/').set(bearer(annaToken))).headers['content-type']).toMatch(/^text\/html/);
    });

    it('a maintainer adds trusted publishers through the form (listed, escaped) and removes them; bad, forged and non-maintainer posts add nothing', async () => {
      const anna = await loggedIn('anna');
      const page = '/plugins/fancy-plugin/tokens';
      const action = '/plugins/fancy-plugin/trusted-publishers';
      const count = async () => Number((await t.dataSource.query(`SELECT COUNT(*) AS n FROM ${t.table('trusted_publishers')}`))[0].n);
      const github = { issuer: 'github', repository: 'Acme/Fancy-Plugin', workflow: 'release.yml', environment: '<prod> & "live"', ref: 'refs/tags/v*' };

      let html = (await anna.request(`${base}${page}`)).body;
      // The card sits between the deploy tokens and the maintainers; the form offers each configured CI.
      expect(html.indexOf('id="tokens"')).toBeLessThan(html.indexOf('id="trusted-publishers"'));
      expect(html.indexOf('id="trusted-publishers"')).toBeLessThan(html.indexOf('id="maintainers"'));
      expect(html).toContain('No trusted publishers yet.');
      expect(html).toContain('a deploy token that lives 15 minutes');
      expect(html).toContain(`<form method="post" action="${action}" id="add-publisher"><input type="hidden" name="csrf"`);
      expect(html).toContain('<select id="publisher-issuer" name="issuer"><option value="github">GitHub Actions</option><option value="gitlab">GitLab CI/CD</option></select>');
      expect(html).toContain('placeholder="e.g. owner/repo or group/project"');
      expect(html).toContain('placeholder="e.g. release.yml or .gitlab-ci.yml"');

      // Forged posts (no CSRF field, or another value) add nothing.
      expect((await anna.request(`${base}${action}`, { form: github })).status).toBe(403);
      const wrong = await anna.request(`${base}${action}`, { form: { ...github, csrf: 'x'.repeat(43) } });
      expect(wrong.status).toBe(403);
      expect(JSON.parse(wrong.body)).toMatchObject({ code: 'CSRF_FAILED' });
      expect(await count()).toBe(0);

      // A bad publisher is a 422 page saying what is wrong, with a way back to the plugin page.
      const bad = await submit(anna, page, action, { ...github, ref: 'v*' });
      expect(bad.status).toBe(422);
      expect(bad.headers.get('content-type')).toMatch(/^text\/html/);
      expect(bad.body).toContain('ref: a full ref or pattern, e.g. refs/tags/v*');
      expect(bad.body).toContain(`href="${page}"`);
      const unknownCi = await submit(anna, page, action, { ...github, issuer: 'jenkins' });
      expect(unknownCi.status).toBe(422);
      expect(unknownCi.body).toContain('issuer must be one of: github, gitlab');
      expect((await submit(anna, page, action, { ...github, extra: 'field' })).status).toBe(422);
      expect(await count()).toBe(0);

      const added = await submit(anna, page, action, github);
      expect(added.status).toBe(303);
      expect(added.headers.get('location')).toBe(`${page}?done=publisher-added#trusted-publishers`);
      html = (await anna.request(`${base}${page}?done=publisher-added`)).body;
      expect(html).toContain('Trusted publisher added');
      const [, id, row] = /<tr data-publisher="([^"]+)">([^]*?)<\/tr>/.exec(html)!;
      expect(row).toContain('<td data-label="CI">GitHub Actions</td>');
      expect(row).toContain('<span class="mono">acme/fancy-plugin</span>'); // repositories compare without case
      expect(row).toContain('<span class="mono">release.yml</span>');
      expect(row).toContain('<td data-label="Environment">&lt;prod&gt; &amp; &quot;live&quot;</td>');
      expect(row).toContain('<span class="mono">refs/tags/v*</span>');
      expect(row).toContain('by anna');
      expect(row).toMatch(/<td data-label="Last used"><span class="muted">never<\/span><\/td>/);
      expect(row).toContain(`action="${action}/${id}/remove"`);
      expect(html).not.toContain('<prod>');
      // The same publisher twice is a 409 page.
      const twice = await submit(anna, page, action, github);
      expect(twice.status).toBe(409);
      expect(twice.body).toContain('already trusts this publisher');

      // GitLab, with no environment or ref: "any".
      const gitlab = await submit(anna, page, action, { issuer: 'gitlab', repository: 'group/sub/project', workflow: '.gitlab-ci.yml', environment: '', ref: '' });
      expect(gitlab.status).toBe(303);
      html = (await anna.request(`${base}${page}`)).body;
      const gitlabRow = /<tr data-publisher="[^"]+">((?:(?!<\/tr>)[^])*?group\/sub\/project[^]*?)<\/tr>/.exec(html)![1];
      expect(gitlabRow).toContain('<td data-label="CI">GitLab CI/CD</td>');
      expect(gitlabRow).toContain('<td data-label="Environment"><span class="muted">any</span></td><td data-label="Ref"><span class="muted">any</span></td>');
      expect(await count()).toBe(2);

      // Someone who does not maintain the plugin can neither add nor remove one.
      const alice = await loggedIn('alice');
      expect([403, 404]).toContain((await submit(alice, '/account', action, { issuer: 'github', repository: 'alice/evil', workflow: 'release.yml' })).status);
      expect([403, 404]).toContain((await submit(alice, '/account', `${action}/${id}/remove`)).status);
      expect(await count()).toBe(2);

      // A deploy token the publisher's job got reads "a trusted publisher" instead of a username.
      const plugin = await t.app.get(PluginsService).getByName('fancy-plugin');
      const { token } = await t.app.get(PluginTokensService).createForPublisher(plugin, { id, label: 'Trusted publisher acme/fancy-plugin · release.yml' }, 900, {});
      html = (await anna.request(`${base}${page}`)).body;
      const tokenRow = () => new RegExp(`<tr data-token="${token.id}">[^]*?</tr>`).exec(html)![0];
      expect(tokenRow()).toContain('by a trusted publisher');
      // It lives minutes by design: no "expires soon" badge, no rename or rotate, only Revoke.
      expect(tokenRow()).not.toContain('expires soon');
      expect(tokenRow()).not.toContain('/rotate');
      expect(tokenRow()).not.toContain('/description');
      expect(tokenRow()).toContain('/revoke');

      // Removing: a forged post does nothing; the page's button removes it and revokes its live token.
      expect((await anna.request(`${base}${action}/${id}/remove`, { method: 'POST', form: {} })).status).toBe(403);
      expect(await count()).toBe(2);
      const removed = await submit(anna, page, `${action}/${id}/remove`);
      expect(removed.status).toBe(303);
      expect(removed.headers.get('location')).toBe(`${page}?done=publisher-removed#trusted-publishers`);
      html = (await anna.request(`${base}${page}?done=publisher-removed`)).body;
      expect(html).toContain('Trusted publisher removed');
      expect(html).not.toContain(`data-publisher="${id}"`);
      expect(html).toContain('group/sub/project');
      expect(tokenRow()).toContain('<span class="badge revoked">revoked</span>');
      expect(await count()).toBe(1);
      const again = await submit(anna, page, `${action}/${id}/remove`);
      expect(again.status).toBe(404);
      expect(again.headers.get('content-type')).toMatch(/^text\/html/);
    });

    it('with no CI issuer configured (TRUSTED_PUBLISHING_ISSUERS=none) the card says trusted publishing is off and has no form', async () => {
      const off = await createTestApp({ TRUSTED_PUBLISHING_ISSUERS: 'none' });
      try {
        await off.app.listen(0, '127.0.0.1');
        const offBase = await off.app.getUrl();
        await off.createUser('anna');
        await off.http().post(`${API}/plugins`).set(bearer((await off.login('anna')).access_token)).send({ name: 'quiet-plugin' }).expect(201);
        const browser = await loginInBrowser(offBase, 'anna', PASSWORD);
        const html = (await browser.request(`${offBase}/plugins/quiet-plugin/tokens`)).body;
        expect(html).toContain('id="trusted-publishers"');
        expect(html).toContain('Trusted publishing is off on this server');
        expect(html).not.toContain('id="add-publisher"');
        const csrf = csrfOf(html)!;
        const refused = await browser.request(`${offBase}/plugins/quiet-plugin/trusted-publishers`, { form: { csrf, issuer: 'github', repository: 'acme/quiet', workflow: 'release.yml' } });
        expect(refused.status).toBe(422);
        expect(refused.body).toContain('Trusted publishing is not enabled here');
      } finally {
        await off.close();
      }
    });
  });

  describe('admin', () => {
    it('is for administrators only: a user gets 403 (a page for a browser)', async () => {
      const browser = await loggedIn('alice');
      const page = await browser.request(`${base}/admin`);
      expect(page.status).toBe(403);
      expect(page.body).toContain('This action requires the role admin');
      expect((await browser.request(`${base}/account`)).body).not.toContain('href="/admin"');
      const post = await submit(browser, '/account', `/admin/users/${(await t.dataSource.query(`SELECT id FROM ${t.table('users')} WHERE username = 'bob'`))[0].id}/disable`);
      expect(post.status).toBe(403);
    });

    it('lists users and recent events; disables a user and revokes everything a user holds', async () => {
      await t.createUser('carol');
      const carol = await t.login('carol');
      const browser = await loggedIn('root');
      const page = await browser.request(`${base}/admin`);
      expect(page.status).toBe(200);
      expect(page.body).toContain('data-user="carol"');
      expect(page.body).toContain('login.succeeded');
      const id = (await t.dataSource.query(`SELECT id FROM ${t.table('users')} WHERE username = 'carol'`))[0].id;

      const revoked = await submit(browser, '/admin', `/admin/users/${id}/revoke-all`);
      expect(revoked.headers.get('location')).toBe('/admin?done=user-revoked');
      expect((await t.http().get(`${API}/auth/whoami`).set(bearer(carol.access_token))).status).toBe(401);

      const disabled = await submit(browser, '/admin', `/admin/users/${id}/disable`);
      expect(disabled.headers.get('location')).toBe('/admin?done=user-disabled');
      expect((await browser.request(`${base}/admin?done=user-disabled`)).body).toMatch(/data-user="carol">[^]*?badge disabled/);
      await expect(t.login('carol')).rejects.toThrow(/401/);
      const enabled = await submit(browser, '/admin', `/admin/users/${id}/enable`);
      expect(enabled.headers.get('location')).toBe('/admin?done=user-enabled');
      await t.login('carol');
    });

    it('makes and deletes custom roles (recent login; same refusals as the API, shown as a page)', async () => {
      const browser = await loggedIn('root');
      const saved = await submit(browser, '/admin', '/admin/custom-roles', { name: 'page-editor', scopes: 'notes:read, notes:write', description: 'From the page' });
      expect(saved.headers.get('location')).toBe('/admin?done=role-saved#roles');
      const page = (await browser.request(`${base}/admin`)).body;
      expect(page).toMatch(/data-role="page-editor">[^]*?From the page[^]*?notes:read notes:write/);
      expect(page).toMatch(/data-role="admin"><td data-label="Role"><strong>admin<\/strong> <span class="badge">built in/);
      const refused = await submit(browser, '/admin', '/admin/custom-roles', { name: 'sneaky', scopes: 'admin:apikeys' });
      expect(refused.status).toBe(422);
      expect(refused.headers.get('content-type')).toMatch(/^text\/html/);
      const deleted = await submit(browser, '/admin', '/admin/custom-roles/page-editor/delete');
      expect(deleted.headers.get('location')).toBe('/admin?done=role-deleted#roles');
      expect((await browser.request(`${base}/admin`)).body).not.toContain('data-role="page-editor"');
    });
  });

  it('pages are not in the OpenAPI document', async () => {
    const doc = await t.http().get('/openapi.json').expect(200);
    const paths = Object.keys(doc.body.paths);
    expect(paths.length).toBeGreaterThan(10);
    expect(paths.filter((p) => !p.startsWith('/api/v1'))).toEqual(
      ['/.well-known/jwks.json', '/.well-known/oauth-authorization-server', '/health', '/health/live', '/health/ready', '/metrics'].filter((p) => paths.includes(p)),
    );
  });
});
