import { AccessTokenService } from '../src/sessions/access-token.service';
import { bearer, createTestApp, DEFAULT_PASSWORD, LoginBody, TestApp } from './utils/create-test-app';

const API = '/api/v1';
const MAX_AGE = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

/**
 * `@RecentLogin()`: password change, revoke-all and making someone an administrator need an
 * interactive login at most RECENT_LOGIN_MAX_AGE seconds old (3 s here). The login time travels
 * in the access token's `auth_time` claim; a refresh keeps it.
 */
describe('recent login for sensitive actions', () => {
  let t: TestApp;
  /** root's login and alice's, made at the start and aged past MAX_AGE by the first test. */
  let oldRoot: LoginBody;
  let oldAlice: LoginBody;

  beforeAll(async () => {
    t = await createTestApp({ RECENT_LOGIN_MAX_AGE: String(MAX_AGE), USER_CACHE_TTL: '0' });
    await t.createUser('root', undefined, ['user', 'admin']);
    await t.createUser('alice');
    await t.createUser('bob');
    oldRoot = await t.login('root');
    oldAlice = await t.login('alice');
  });
  afterAll(() => t.close());

  const expectReauth = (res: { status: number; body: { code: string; message: string }; headers: Record<string, string> }) => {
    expect([res.status, res.body.code]).toEqual([401, 'REAUTH_REQUIRED']);
    expect(res.body.message).toBe('This action needs a recent login (within the last 3 seconds). Log in again, then retry.');
    expect(res.headers['www-authenticate']).toBe(
      `Bearer error="insufficient_user_authentication", error_description="A more recent login is required", max_age="${MAX_AGE}"`,
    );
  };

  it('access tokens carry auth_time, the login that opened the session; a refresh keeps it', async () => {
    const login = await t.login('bob');
    const first = claimsOf(login.access_token);
    expect(first.auth_time).toEqual(expect.any(Number));
    expect(Math.abs((first.auth_time as number) - Date.now() / 1000)).toBeLessThan(5);
    await sleep(1100);
    const refreshed = (await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: login.refresh_token }).expect(200)).body;
    const second = claimsOf(refreshed.access_token);
    expect(second.iat).toBeGreaterThan(first.iat as number);
    expect(second.auth_time).toBe(first.auth_time);
    const principal = (await t.http().get(`${API}/auth/credential`).set(bearer(refreshed.access_token)).expect(200)).body;
    expect(principal.credential).toEqual({ type: 'access_token', sessionId: first.sid, authTime: first.auth_time });
  });

  it('a fresh login may change the password and revoke everything', async () => {
    const carol = await t.createUser('carol');
    const login = await t.login('carol');
    await t.http().post(`${API}/users/me/password`).set(bearer(login.access_token)).send({ current_password: carol.password, new_password: 'another long password' }).expect(200);
    await t.http().post(`${API}/users/me/revoke-all`).set(bearer(login.access_token)).expect(200);
  });

  it('an older login gets 401 REAUTH_REQUIRED on password change and revoke-all; refreshing does not help, logging in again does', async () => {
    await sleep((MAX_AGE + 1) * 1000);
    const password = await t.http().post(`${API}/users/me/password`).set(bearer(oldAlice.access_token)).send({ current_password: DEFAULT_PASSWORD, new_password: 'a brand new password' });
    expectReauth(password);
    expectReauth(await t.http().post(`${API}/users/me/revoke-all`).set(bearer(oldAlice.access_token)));
    // Nothing happened: the old password still logs in, the session still refreshes.
    const refreshed = (await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: oldAlice.refresh_token }).expect(200)).body;
    expectReauth(await t.http().post(`${API}/users/me/revoke-all`).set(bearer(refreshed.access_token)));

    const again = await t.login('alice');
    await t.http().post(`${API}/users/me/password`).set(bearer(again.access_token)).send({ current_password: DEFAULT_PASSWORD, new_password: 'a brand new password' }).expect(200);
    const res = await t.http().post(`${API}/users/me/revoke-all`).set(bearer(again.access_token)).expect(200);
    expect(res.body.epoch).toBe(1);
  });

  it('making someone an administrator needs a recent login; other admin actions do not', async () => {
    const old = bearer(oldRoot.access_token);
    const bobId = (await t.http().get(`${API}/admin/users`).query({ name: 'bob' }).set(old).expect(200)).body.items[0].id;
    expectReauth(await t.http().post(`${API}/admin/users`).set(old).send({ username: 'dave', roles: ['user', 'admin'] }));
    expectReauth(await t.http().put(`${API}/admin/users/${bobId}/roles`).set(old).send({ roles: ['user', 'admin'] }));
    expectReauth(await t.http().post(`${API}/auth/principal`).query({ role: 'admin' }).set(old));
    // Not about the admin role: an old login will do.
    await t.http().post(`${API}/admin/users`).set(old).send({ username: 'dave' }).expect(201);
    await t.http().post(`${API}/auth/principal`).query({ role: 'user' }).set(old).expect(200);
    await t.http().put(`${API}/admin/users/${bobId}/roles`).set(old).send({ roles: ['user'] }).expect(200);

    const fresh = async () => bearer((await t.login('root')).access_token);
    await t.http().put(`${API}/admin/users/${bobId}/roles`).set(await fresh()).send({ roles: ['user', 'admin'] }).expect(200);
    // Removing the role again, or keeping an admin an admin, needs no recent login.
    await t.http().put(`${API}/admin/users/${bobId}/roles`).set(old).send({ roles: ['admin', 'user'] }).expect(200);
    await t.http().put(`${API}/admin/users/${bobId}/roles`).set(old).send({ roles: ['user'] }).expect(200);
    const erin = await t.http().post(`${API}/admin/users`).set(await fresh()).send({ username: 'erin', roles: ['admin'] }).expect(201);
    expect(erin.body.roles).toEqual(['admin']);
    await t.http().post(`${API}/auth/principal`).query({ role: 'admin' }).set(await fresh()).expect(200);
  });

  it('an API key never satisfies it, however fresh: 403 SESSION_REQUIRED', async () => {
    const root = await t.login('root');
    const key = (await t.http().post(`${API}/auth/apikey`).set(bearer(root.access_token)).send({ scopes: null, expires_in: null }).expect(200)).body.secret;
    const asKey = { Authorization: `Apikey ${key}` };
    for (const res of [
      await t.http().post(`${API}/users/me/revoke-all`).set(asKey),
      await t.http().post(`${API}/admin/users`).set(asKey).send({ username: 'frank', roles: ['admin'] }),
      await t.http().post(`${API}/auth/principal`).query({ role: 'admin' }).set(asKey),
    ]) {
      expect([res.status, res.body.code]).toEqual([403, 'SESSION_REQUIRED']);
    }
    await t.http().post(`${API}/admin/users`).set(asKey).send({ username: 'frank' }).expect(201); // no admin role: no login needed
  });

  it('an access token minted before auth_time existed counts as an old login', async () => {
    const bob = await t.login('bob');
    const { sub, sid, preferred_username, roles, groups, scp, epoch } = claimsOf(bob.access_token) as never;
    const legacy = t.app.get(AccessTokenService).sign({ sub, sid, preferred_username, roles, groups, scp, epoch });
    expect(claimsOf(legacy).auth_time).toBeUndefined();
    await t.http().get(`${API}/users/me`).set(bearer(legacy)).expect(200);
    expectReauth(await t.http().post(`${API}/users/me/revoke-all`).set(bearer(legacy)));
  });

  it('RECENT_LOGIN_MAX_AGE=0 accepts any interactive login, but still no API key', async () => {
    const other = await createTestApp({ RECENT_LOGIN_MAX_AGE: '0' }, t.db);
    try {
      const bob = await t.login('bob');
      const key = (await t.http().post(`${API}/auth/apikey`).set(bearer(bob.access_token)).send({ scopes: null, expires_in: null }).expect(200)).body.secret;
      await sleep((MAX_AGE + 1) * 1000);
      expectReauth(await t.http().post(`${API}/users/me/revoke-all`).set(bearer(bob.access_token)));
      expect((await other.http().post(`${API}/users/me/revoke-all`).set('Authorization', `Apikey ${key}`).expect(403)).body.code).toBe('SESSION_REQUIRED');
      await other.http().post(`${API}/users/me/revoke-all`).set(bearer(bob.access_token)).expect(200);
    } finally {
      await other.close({ keepDatabase: true });
    }
  });
});
