import { randomUUID } from 'node:crypto';
import { AuditEvent } from '../../src/audit/audit-event.entity';
import { Clock } from '../../src/common/clock';
import { Identity } from '../../src/users/identity.entity';
import { UsersService } from '../../src/users/users.service';
import { bearer, DEFAULT_PASSWORD, TestApp } from '../utils/create-test-app';
import { FakeClock } from '../utils/fake-clock';
import { LocalIdp, LocalIdpUser } from '../utils/local-idp';
import { TestBrowser } from '../utils/test-browser';
import { startAppWithIdp } from '../utils/app-with-idp';
import { typo } from '../utils/typo';

const API = '/api/v1';
/** Accounts at the test IdP: the attacker's, and fresh ones for each victim (a linked account stays linked). */
const IDP_USERS: LocalIdpUser[] = ['mallory', 'victor', 'vera', 'wendy', 'walter', 'alice', 'svc', 'ida', 'ivan', 'olga'].map((name) => ({
  username: name,
  password: `${name}-password`,
  sub: `sub-${name}`,
  email: `${name}@example.test`,
  name: name[0].toUpperCase() + name.slice(1),
}));
const idpAccount = (name: string) => {
  const u = IDP_USERS.find((x) => x.username === name)!;
  return { username: u.username, password: u.password };
};
const MALLORY = idpAccount('mallory');

/**
 * Issue 16 §1: linking an IdP account to a Latchkey user (account takeover). Each test plays the
 * attacker against the real app over HTTP, with the real test IdP (oidc-provider on loopback).
 * Before the fix, any credential of a user (even an API key restricted to read:metadata) could
 * start the offline-token flow, and whatever IdP account completed it was linked to that user,
 * silently: the attacker then logged in through the IdP as the victim.
 */
describe('attack: taking over an account by linking an IdP account to it', () => {
  let idp: LocalIdp;
  let t: TestApp;
  let base: string;
  let issuer: string;
  const clock = new FakeClock();

  beforeAll(async () => {
    ({ idp, t, base } = await startAppWithIdp({ idp: { users: IDP_USERS }, env: { USER_CACHE_TTL: '0' }, overrides: [{ provide: Clock, useValue: clock }] }));
    issuer = idp.issuer;
  });
  afterAll(async () => {
    await t?.close();
    await idp?.stop();
  });

  const url = (path: string) => `${base}${path}`;
  const identitiesOf = (userId: string) => t.dataSource.getRepository(Identity).find({ where: { userId } });
  const identityOf = (name: string) => t.dataSource.getRepository(Identity).findOne({ where: { issuer, subject: `sub-${name}` } });
  const hex = (id: string) => id.replace(/-/g, '');

  /** A browser with a Latchkey browser session from the password form of /login. */
  async function passwordLogin(username: string, browser = new TestBrowser()): Promise<TestBrowser> {
    await browser.request(url('/login'));
    const res = await browser.request(url('/login'), {
      method: 'POST',
      form: { csrf: browser.cookie('tiled_csrf', url('/login'))!, username, password: DEFAULT_PASSWORD, next: '/account' },
    });
    expect([res.status, res.headers.get('location')]).toEqual([303, '/account']);
    expect(browser.cookie('lk_session', url('/account'))).toMatch(/^lk_bs_/);
    return browser;
  }
  const csrfOf = (browser: TestBrowser) => browser.cookie('tiled_csrf', url('/account'))!;
  const startLink = (browser: TestBrowser, form: Record<string, string> = { csrf: csrfOf(browser) }) =>
    browser.request(url(`${API}/auth/provider/idp/link`), { method: 'POST', form });
  /** Starts a link in `browser` and logs in at the IdP as `account`; returns the callback's page (the confirmation). */
  async function linkUpToConfirmation(browser: TestBrowser, account: { username: string; password: string }) {
    const start = await startLink(browser);
    expect(start.status).toBe(303);
    return browser.open(new URL(start.headers.get('location')!).href, { login: account });
  }
  const sealedLinkIn = (page: string) => /name="link" value="([^"]+)"/.exec(page)?.[1];
  /** The confirmation form's post (asking for JSON, to read error codes; a page gets the same status). */
  const confirm = (browser: TestBrowser, form: Record<string, string>) =>
    browser.request(url(`${API}/auth/provider/idp/link/confirm`), { method: 'POST', form, headers: { accept: 'application/json' } });
  /** Logs in through the IdP (API mode, JSON) as `account`; the Latchkey principal (hex id) it gets, or the error. */
  async function idpLoginAs(account: { username: string; password: string }) {
    const page = await new TestBrowser('application/json').open(url(`${API}/auth/provider/idp/authorize`), { login: account });
    return { status: page.status, body: JSON.parse(page.body) };
  }
  async function apiKeyOf(accessToken: string, scopes: string[] | null) {
    const res = await t.http().post(`${API}/auth/apikey`).set(bearer(accessToken)).send({ scopes, expires_in: null, note: 'stolen' }).expect(200);
    return res.body.secret as string;
  }

  it('a restricted API key (read:metadata) cannot start the offline-token flow', async () => {
    const victim = await t.createUser('victim-a');
    const key = await apiKeyOf((await t.login('victim-a')).access_token, ['read:metadata']);
    const attacker = new TestBrowser();
    const start = await attacker.request(url(`${API}/auth/provider/idp/offline-token`), { headers: { authorization: `Apikey ${key}` } });
    expect(start.status).toBe(403);
    expect(start.headers.get('location')).toBeNull();
    expect(start.headers.getSetCookie().some((c) => c.startsWith('lk_oidc_'))).toBe(false);
    // Had the flow started, Mallory's IdP login would now be linked to the victim: make sure it is not.
    if (start.status === 302) await attacker.open(start.headers.get('location')!, { login: MALLORY });
    expect(await identitiesOf(victim.id)).toEqual([]);
  });

  it("a stolen API key or access token cannot link the attacker's IdP account: the attacker's IdP login stays the attacker's", async () => {
    const victim = await t.createUser('victim-b');
    const login = await t.login('victim-b');
    const key = await apiKeyOf(login.access_token, null); // every scope the victim has
    const pages: string[] = [];

    for (const authorization of [`Apikey ${key}`, `Bearer ${login.access_token}`]) {
      const attacker = new TestBrowser();
      // The offline-token route: an API key may not start it; an access token may, but the IdP
      // account that completes it must already be the victim's, and nothing gets linked.
      const start = await attacker.request(url(`${API}/auth/provider/idp/offline-token`), { headers: { authorization } });
      if (authorization.startsWith('Apikey')) expect([start.status, JSON.parse(start.body).code]).toEqual([403, 'SESSION_REQUIRED']);
      if (start.status === 302) {
        const page = await attacker.open(start.headers.get('location')!, { login: MALLORY });
        pages.push(page.body);
        expect(page.status).toBe(403);
        expect(page.body).toContain('not linked to your Latchkey account');
      }
      // The link route takes a browser session only.
      const link = await attacker.request(url(`${API}/auth/provider/idp/link`), { method: 'POST', headers: { authorization, accept: 'application/json' } });
      expect([link.status, JSON.parse(link.body).code]).toEqual([403, 'SESSION_REQUIRED']);
    }
    expect(pages.join('')).not.toMatch(/<textarea/); // no offline token shown
    expect(await identitiesOf(victim.id)).toEqual([]);
    // Mallory logs in through the IdP: Mallory's own (new) user, never the victim.
    const mallory = await idpLoginAs(MALLORY);
    expect(mallory.status).toBe(200);
    expect(mallory.body.principal).not.toBe(hex(victim.id));
  });

  it('linking links nothing until the confirm POST: the callback only shows a confirmation naming both accounts', async () => {
    const victim = await t.createUser('victim-c');
    const browser = await passwordLogin('victim-c');
    const page = await linkUpToConfirmation(browser, idpAccount('victor'));
    expect(page.status).toBe(200);
    expect(page.url).toContain(`${API}/auth/provider/idp/code`);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.body).toContain('Link your Test IdP account?');
    expect(page.body).toMatch(/id="idp-account">victor</);
    expect(page.body).toMatch(/id="latchkey-user">victim-c</);
    expect(page.body).toContain('sub-victor');
    expect(sealedLinkIn(page.body)).toMatch(/^v1\./);
    // Nothing linked yet: logging in as that IdP account is not the victim.
    expect(await identitiesOf(victim.id)).toEqual([]);
    expect(await identityOf('victor')).toBeNull();
    const login = await idpLoginAs(idpAccount('victor'));
    expect(login.body.principal).not.toBe(hex(victim.id));
  });

  it('forged confirms are refused: without the CSRF token, with another session\'s sealed link, or replayed', async () => {
    const victim = await t.createUser('victim-d');
    const browser = await passwordLogin('victim-d');
    const page = await linkUpToConfirmation(browser, idpAccount('vera'));
    const link = sealedLinkIn(page.body)!;

    // 1. No CSRF token (a cross-site form post rides on the victim's cookies, but cannot read the token).
    const noCsrf = await confirm(browser, { link });
    expect([noCsrf.status, JSON.parse(noCsrf.body).code]).toEqual([403, 'CSRF_FAILED']);
    // 2. Another session (of the attacker, or of the victim in another browser) posts the sealed link.
    await t.createUser('attacker-d');
    for (const other of [await passwordLogin('attacker-d'), await passwordLogin('victim-d')]) {
      const stolen = await confirm(other, { csrf: csrfOf(other), link });
      expect([stolen.status, JSON.parse(stolen.body).code]).toEqual([403, 'IDENTITY_LINK_INVALID']);
    }
    // 3. A tampered sealed link, in the right session: refused, and the pending link is spent.
    const tampered = await confirm(browser, { csrf: csrfOf(browser), link: typo(link) });
    expect([tampered.status, JSON.parse(tampered.body).code]).toEqual([403, 'IDENTITY_LINK_INVALID']);
    expect(await identityOf('vera')).toBeNull();

    // The real confirm (of a new pending link) works once, in the session that started it...
    const fresh = sealedLinkIn((await linkUpToConfirmation(browser, idpAccount('vera'))).body)!;
    const ok = await confirm(browser, { csrf: csrfOf(browser), link: fresh });
    expect([ok.status, ok.headers.get('location')]).toEqual([303, '/account?done=identity-linked#identities']);
    const linked = await identityOf('vera');
    expect(linked?.userId).toBe(victim.id);
    // ...and a replay, even after the user unlinked it again, links nothing.
    const access = (await t.login('victim-d')).access_token;
    await t.http().delete(`${API}/users/me/identities/${linked!.id}`).set(bearer(access)).expect(204);
    const replay = await confirm(browser, { csrf: csrfOf(browser), link: fresh });
    expect([replay.status, JSON.parse(replay.body).code]).toEqual([403, 'IDENTITY_LINK_INVALID']);
    expect(await identityOf('vera')).toBeNull();
  });

  it('a link started by session A and completed with session B is refused, nothing linked', async () => {
    const a = await t.createUser('victim-e');
    const b = await t.createUser('attacker-e');
    const browser = await passwordLogin('victim-e');
    const start = await startLink(browser);
    expect(start.status).toBe(303);
    // The same browser is now someone else's session (or a new session of the same user).
    for (const who of ['attacker-e', 'victim-e']) {
      await passwordLogin(who, browser);
      const idpUrl = new URL(start.headers.get('location')!).href;
      const page = await browser.open(idpUrl, { login: idpAccount('wendy') });
      expect(page.status).toBeGreaterThanOrEqual(400);
      if (who === 'attacker-e') {
        expect(page.status).toBe(403);
        expect(page.body).toContain('another browser session');
      }
      expect(sealedLinkIn(page.body)).toBeUndefined();
    }
    expect(await identitiesOf(a.id)).toEqual([]);
    expect(await identitiesOf(b.id)).toEqual([]);
    expect(await identityOf('wendy')).toBeNull();
  });

  it('a service principal cannot log in through the IdP (API, browser, device modes), even with an identity linked to it', async () => {
    const users = t.app.get(UsersService);
    const service = await users.createService('user');
    // Nothing links an identity to a service principal...
    await expect(users.linkIdentity(service.id, 'idp', issuer, 'sub-svc')).rejects.toMatchObject({ code: 'SERVICE_PRINCIPAL_NO_LOGIN' });
    // ...but one linked before that rule (the old offline-token flow did it silently) must still log nobody in.
    await t.dataSource.getRepository(Identity).insert({ id: randomUUID(), userId: service.id, provider: 'idp', issuer, subject: 'sub-svc', createdAt: new Date(), lastLoginAt: null });
    const sessions = async () =>
      Number((await t.dataSource.query(`SELECT COUNT(*) AS n FROM ${t.table('sessions')} WHERE user_id = '${service.id}'`))[0].n);

    const api = await idpLoginAs(idpAccount('svc'));
    expect([api.status, api.body.code]).toEqual([403, 'SERVICE_PRINCIPAL_NO_LOGIN']);
    expect(api.body.access_token).toBeUndefined();

    const browser = new TestBrowser();
    const page = await browser.open(url(`${API}/auth/provider/idp/authorize?next=/account`), { login: idpAccount('svc') });
    expect(page.status).toBe(403);
    expect(browser.cookie('lk_session', url('/account'))).toBeUndefined();

    const device = new TestBrowser();
    const form = await device.open(url(`${API}/auth/provider/idp/authorize?device=1`), { login: idpAccount('svc') });
    expect(form.status).toBe(403);
    expect(form.body).not.toContain('user_code');
    expect(await sessions()).toBe(0);
  });

  it('an IdP login never takes over an existing user by a matching username or email', async () => {
    const alice = await t.app.get(UsersService).create({ username: 'alice', email: 'alice@example.test', password: DEFAULT_PASSWORD, roles: ['user', 'admin'] });
    const login = await idpLoginAs(idpAccount('alice')); // preferred_username alice, email alice@example.test
    expect(login.status).toBe(200);
    expect(login.body.principal).not.toBe(hex(alice.id));
    const who = await t.http().get(`${API}/auth/whoami`).set(bearer(login.body.access_token)).expect(200);
    expect(who.body.identities).toEqual([expect.objectContaining({ id: 'sub-alice', provider: 'idp' })]);
    expect(await identitiesOf(alice.id)).toEqual([]);
  });

  describe('the legitimate path', () => {
    it('link (confirmed) → the IdP account logs in as the user; audited; listed on /account and the API; the offline token works; unlink (audited)', async () => {
      const user = await t.createUser('linker');
      const browser = await passwordLogin('linker');
      const account = await browser.request(url('/account'));
      expect(account.body).toContain('Link an account at Test IdP');
      expect(account.body).not.toContain('Get an offline token from Test IdP'); // nothing linked yet

      const page = await linkUpToConfirmation(browser, idpAccount('ida'));
      const done = await confirm(browser, { csrf: csrfOf(browser), link: sealedLinkIn(page.body)! });
      expect(done.status).toBe(303);
      const identity = (await identityOf('ida'))!;
      expect(identity.userId).toBe(user.id);

      const [linked] = await t.dataSource.getRepository(AuditEvent).find({ where: { type: 'identity.linked', userId: user.id } });
      expect(linked).toMatchObject({ actorType: 'user', actorId: user.id, details: { identity: identity.id, provider: 'idp', issuer, subject: 'sub-ida' } });

      const login = await idpLoginAs(idpAccount('ida'));
      expect(login.body.principal).toBe(hex(user.id));

      const shown = await browser.request(url('/account'));
      expect(shown.body).toContain(`data-identity="${identity.id}"`);
      expect(shown.body).toContain('Get an offline token from Test IdP');
      const access = (await t.login('linker')).access_token;
      const listed = await t.http().get(`${API}/users/me/identities`).set(bearer(access)).expect(200);
      expect(listed.body).toEqual([expect.objectContaining({ id: identity.id, provider: 'idp', issuer, subject: 'sub-ida' })]);

      // The offline token: for the linked account, shown once.
      const offline = await browser.open(url(`${API}/auth/provider/idp/offline-token`), { login: idpAccount('ida') });
      expect(offline.status).toBe(200);
      expect(offline.body).toContain('Your Test IdP offline token');
      // Linking the same IdP account again is refused, for this user as for anyone.
      const again = await linkUpToConfirmation(browser, idpAccount('ida'));
      expect(again.status).toBe(409);
      expect(sealedLinkIn(again.body)).toBeUndefined();

      // Unlink from the page (CSRF form).
      const unlink = await browser.request(url(`/account/identities/${identity.id}/unlink`), { method: 'POST', form: { csrf: csrfOf(browser) } });
      expect([unlink.status, unlink.headers.get('location')]).toEqual([303, '/account?done=identity-unlinked#identities']);
      expect(await identityOf('ida')).toBeNull();
      const [unlinked] = await t.dataSource.getRepository(AuditEvent).find({ where: { type: 'identity.unlinked', userId: user.id } });
      expect(unlinked).toMatchObject({ actorType: 'user', actorId: user.id, details: { provider: 'idp', issuer, subject: 'sub-ida' } });
    });

    it('a user without a password cannot unlink their last identity; restricted keys and unknown ids get clear 4xx', async () => {
      const login = await idpLoginAs(idpAccount('ivan')); // a user made for this IdP account: no password
      const access = login.body.access_token as string;
      const [identity] = (await t.http().get(`${API}/users/me/identities`).set(bearer(access)).expect(200)).body;
      const last = await t.http().delete(`${API}/users/me/identities/${identity.id}`).set(bearer(access)).expect(409);
      expect(last.body).toMatchObject({ code: 'LAST_LOGIN_METHOD', requestId: expect.any(String) });
      await t.http().delete(`${API}/users/me/identities/not-a-uuid`).set(bearer(access)).expect(404);
      await t.http().delete(`${API}/users/me/identities/${randomUUID()}`).set(bearer(access)).expect(404);
      const key = await apiKeyOf(access, ['read:metadata']);
      const denied = await t.http().get(`${API}/users/me/identities`).set('Authorization', `Apikey ${key}`).expect(403);
      expect(denied.body.code).toBe('INSUFFICIENT_SCOPE');
      const full = await apiKeyOf(access, null);
      const noKey = await t.http().delete(`${API}/users/me/identities/${identity.id}`).set('Authorization', `Apikey ${full}`).expect(403);
      expect(noKey.body.code).toBe('SESSION_REQUIRED');
    });

    it('administrators list and unlink identities (audited with the admin as actor); 404 for unknown or malformed ids', async () => {
      const admin = await t.createUser('admin-l', undefined, ['user', 'admin']);
      const adminToken = (await t.login('admin-l')).access_token;
      const olga = await idpLoginAs(idpAccount('olga'));
      const olgaId = (await t.dataSource.getRepository(Identity).findOneByOrFail({ subject: 'sub-olga' })).userId;
      const list = await t.http().get(`${API}/admin/users/${olgaId}/identities`).set(bearer(adminToken)).expect(200);
      expect(list.body).toEqual([expect.objectContaining({ provider: 'idp', subject: 'sub-olga' })]);
      // Olga has no password: her only identity stays.
      await t.http().delete(`${API}/admin/users/${olgaId}/identities/${list.body[0].id}`).set(bearer(adminToken)).expect(409);
      await t.dataSource.getRepository(Identity).insert({ id: randomUUID(), userId: olgaId, provider: 'idp', issuer: 'https://other.example', subject: 'x', createdAt: new Date(), lastLoginAt: null });
      await t.http().delete(`${API}/admin/users/${olgaId}/identities/${list.body[0].id}`).set(bearer(adminToken)).expect(204);
      const [event] = await t.dataSource.getRepository(AuditEvent).find({ where: { type: 'identity.unlinked', userId: olgaId } });
      expect(event).toMatchObject({ actorType: 'user', actorId: admin.id, details: { subject: 'sub-olga' } });
      expect((await idpLoginAs(idpAccount('olga'))).body.principal).not.toBe(olga.body.principal);

      for (const path of [`${randomUUID()}/identities`, 'nope/identities', `${olgaId}/identities/nope`, `${olgaId}/identities/${randomUUID()}`]) {
        const method = path.split('/').length > 2 ? 'delete' : 'get';
        const res = await t.http()[method](`${API}/admin/users/${path}`).set(bearer(adminToken)).expect(404);
        expect(res.body.code).toMatch(/^(USER|IDENTITY)_NOT_FOUND$/);
      }
      const user = await t.login('linker');
      await t.http().get(`${API}/admin/users/${olgaId}/identities`).set(bearer(user.access_token)).expect(403);
    });

    // Last: it moves the app's clock.
    it('linking needs a recent login: an old browser session gets 401 REAUTH_REQUIRED', async () => {
      await t.createUser('stale');
      const browser = await passwordLogin('stale');
      clock.advance(3600);
      const res = await startLink(browser);
      expect(res.status).toBe(401);
      expect(res.body).toContain('recent login');
      const json = await browser.request(url(`${API}/auth/provider/idp/link`), { method: 'POST', form: { csrf: csrfOf(browser) }, headers: { accept: 'application/json' } });
      expect(JSON.parse(json.body).code).toBe('REAUTH_REQUIRED');
    });
  });
});
