import { randomUUID } from 'node:crypto';
import { ApiKey } from '../src/api-keys/api-key.entity';
import { AuditEvent } from '../src/audit/audit-event.entity';
import { PluginToken } from '../src/plugin-tokens/plugin-token.entity';
import { UsersService } from '../src/users/users.service';
import { bearer, createTestApp, DEFAULT_PASSWORD, LoginBody, TestApp } from './utils/create-test-app';
import { discoverRoutes } from './utils/routes';

const API = '/api/v1';
const onPostgres = /^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? '');
const newKey = (over: Record<string, unknown> = {}) => ({ scopes: null, expires_in: null, ...over });
const apikey = (secret: string) => ({ Authorization: `Apikey ${secret}` });

/**
 * The admin API (`/admin/users`, `/admin/credentials`, `/admin/plugins`) and Tiled's principal
 * routes (`/auth/principal…`): who may call them, what each action does, and the audit event
 * each one leaves. Caches are off so every change shows on the next request.
 */
describe('administration', () => {
  let t: TestApp;
  let root: LoginBody;
  let alice: LoginBody;
  let rootId: string;
  let aliceId: string;
  let bobId: string;
  /** root's API key limited to a few scopes (one of them read:principals). */
  let narrowKey: string;
  /** root's API key with every scope of root (`inherit`). */
  let fullKey: string;

  beforeAll(async () => {
    t = await createTestApp({ USER_CACHE_TTL: '0', CREDENTIAL_CACHE_TTL: '0' });
    rootId = (await t.createUser('root', undefined, ['user', 'admin'])).id;
    aliceId = (await t.createUser('alice')).id;
    bobId = (await t.createUser('bob')).id;
    root = await t.login('root');
    alice = await t.login('alice');
    narrowKey = (await t.http().post(`${API}/auth/apikey`).set(bearer(root.access_token)).send(newKey({ scopes: ['read:metadata', 'read:principals'] })).expect(200)).body.secret;
    fullKey = (await t.http().post(`${API}/auth/apikey`).set(bearer(root.access_token)).send(newKey()).expect(200)).body.secret;
  });
  afterAll(() => t.close());

  const asRoot = () => bearer(root.access_token);
  const events = async (type: string) =>
    (await t.dataSource.getRepository(AuditEvent).find({ order: { id: 'ASC' } })).filter((e) => e.type === type);
  const lastEvent = async (type: string) => (await events(type)).slice(-1)[0];

  describe('who may call it', () => {
    it('a non-admin, and an admin API key restricted to a few scopes, get 403 on every /api/v1/admin route (from the running app)', async () => {
      const routes = discoverRoutes(t.app).filter((r) => /^\/api\/v1\/admin(\/|$)/.test(r.path));
      expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
        expect.arrayContaining([
          'GET /api/v1/admin/users',
          'POST /api/v1/admin/users',
          'PUT /api/v1/admin/users/:id/roles',
          'POST /api/v1/admin/users/:id/revoke-all',
          'DELETE /api/v1/admin/users/:id',
          'GET /api/v1/admin/credentials/sessions',
          'DELETE /api/v1/admin/credentials/deploy-tokens/:id',
          'GET /api/v1/admin/credentials/stale',
          'GET /api/v1/admin/plugins',
          'GET /api/v1/admin/audit',
        ]),
      );
      const failures: string[] = [];
      for (const route of routes) {
        const path = route.path.replace(/[:*](\w+)/g, () => randomUUID());
        for (const [who, headers] of [
          ['alice (user)', bearer(alice.access_token)],
          ['root key [read:metadata, read:principals]', apikey(narrowKey)],
        ] as const) {
          const res = await t.http()[route.method.toLowerCase() as 'get'](path).set(headers).send({ roles: ['admin'], username: 'x' });
          if (res.status !== 403 || res.body.code !== 'INSUFFICIENT_ROLE') failures.push(`${route.method} ${route.path} as ${who}: ${res.status} ${res.body.code}`);
        }
        const anonymous = await t.http()[route.method.toLowerCase() as 'get'](path);
        if (anonymous.status !== 401) failures.push(`${route.method} ${route.path} anonymous: ${anonymous.status}`);
      }
      expect(failures).toEqual([]);
      // The narrow key is refused for its scopes, not for its owner: root's full key passes.
      const narrow = await t.http().get(`${API}/admin/users`).set(apikey(narrowKey)).expect(403);
      expect(narrow.body.message).toMatch(/does not carry all of its scopes/);
      await t.http().get(`${API}/admin/users`).set(apikey(fullKey)).expect(200);
    });

    it('Tiled principal routes answer a non-admin as Tiled does (401, scope challenge); an admin key with read:principals may list', async () => {
      const calls = [
        t.http().get(`${API}/auth/principal`),
        t.http().get(`${API}/auth/principal/${aliceId}`),
        t.http().post(`${API}/auth/principal`).query({ role: 'user' }),
        t.http().post(`${API}/auth/principal/${aliceId}/apikey`).send(newKey()),
        t.http().delete(`${API}/auth/principal/${aliceId}/apikey`).query({ first_eight: 'abcdefgh' }),
      ];
      for (const call of calls) {
        const res = await call.set(bearer(alice.access_token));
        expect([res.status, res.body.code]).toEqual([401, 'INSUFFICIENT_SCOPE_TILED']);
        expect(res.body.detail).toMatch(/^Not enough permissions\. Requires scopes \[/);
        expect(res.headers['www-authenticate']).toMatch(/^Bearer scope="/);
      }
      await t.http().get(`${API}/auth/principal`).set(apikey(narrowKey)).expect(200);
      await t.http().post(`${API}/auth/principal`).query({ role: 'user' }).set(apikey(narrowKey)).expect(401);
    });
  });

  describe('users', () => {
    it('lists users with paging and filters (status, role, kind, name), each with its last activity', async () => {
      const all = await t.http().get(`${API}/admin/users`).set(asRoot()).expect(200);
      expect(all.body).toMatchObject({ total: 3, offset: 0, limit: 50 });
      expect(all.body.items.map((u: { username: string }) => u.username).sort()).toEqual(['alice', 'bob', 'root']);
      const byName = Object.fromEntries(all.body.items.map((u: { username: string }) => [u.username, u]));
      expect(byName.alice).toMatchObject({ id: aliceId, kind: 'user', roles: ['user'], status: 'active', epoch: 0 });
      expect(byName.alice.last_activity).toBe(byName.alice.last_login_at); // logged in, nothing since
      expect(byName.bob.last_activity).toBeNull(); // never logged in
      expect(JSON.stringify(all.body)).not.toMatch(/password|hash/i);

      const page = await t.http().get(`${API}/admin/users`).query({ offset: 1, limit: 1 }).set(asRoot()).expect(200);
      expect(page.body).toMatchObject({ total: 3, offset: 1, limit: 1, items: [{ username: all.body.items[1].username }] });
      const names = async (query: Record<string, string>) =>
        (await t.http().get(`${API}/admin/users`).query(query).set(asRoot()).expect(200)).body.items.map((u: { username: string }) => u.username);
      expect(await names({ role: 'admin' })).toEqual(['root']);
      expect(await names({ name: 'LIC' })).toEqual(['alice']);
      expect(await names({ name: '%' })).toEqual([]); // LIKE wildcards are literal
      expect(await names({ status: 'disabled' })).toEqual([]);
      expect(await names({ kind: 'service' })).toEqual([]);
      for (const bad of [{ limit: '0' }, { limit: '501' }, { offset: '-1' }, { role: 'root' }, { status: 'gone' }, { extra: '1' }]) {
        const res = await t.http().get(`${API}/admin/users`).query(bad).set(asRoot()).expect(422);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
    });

    it('a refresh and an API key use count as activity', async () => {
      const bob = await t.login('bob');
      const key = (await t.http().post(`${API}/auth/apikey`).set(bearer(bob.access_token)).send(newKey()).expect(200)).body.secret;
      const before = (await t.http().get(`${API}/admin/users/${bobId}`).set(asRoot()).expect(200)).body;
      expect(before.last_activity).toBe(before.last_login_at);
      await new Promise((r) => setTimeout(r, 20));
      await t.http().get(`${API}/users/me`).set(apikey(key)).expect(200);
      const after = (await t.http().get(`${API}/admin/users/${bobId}`).set(asRoot()).expect(200)).body;
      expect(Date.parse(after.last_activity)).toBeGreaterThan(Date.parse(before.last_activity));
    });

    it('creates a user (user.created by the admin), who can log in; refuses bad input', async () => {
      const res = await t.http().post(`${API}/admin/users`).set(asRoot()).send({ username: 'Erin', password: 'erin long password', email: 'erin@example.test' }).expect(201);
      expect(res.body).toMatchObject({ username: 'erin', roles: ['user'], kind: 'user', status: 'active', email: 'erin@example.test', last_activity: null });
      await t.login('erin', 'erin long password');
      expect(await lastEvent('user.created')).toMatchObject({ subjectLabel: 'erin', actorType: 'user', actorLabel: 'root', userId: res.body.id });

      const expectError = async (body: Record<string, unknown>, status: number, code: string) => {
        const r = await t.http().post(`${API}/admin/users`).set(asRoot()).send(body);
        expect([r.status, r.body.code]).toEqual([status, code]);
      };
      await expectError({ username: 'erin' }, 409, 'USERNAME_TAKEN');
      await expectError({ username: 'bad name!' }, 422, 'VALIDATION_FAILED');
      await expectError({ username: 'frank', roles: ['root'] }, 422, 'VALIDATION_FAILED');
      await expectError({ username: 'frank', password: 'short' }, 422, 'PASSWORD_POLICY');
      await expectError({ username: 'frank', is_admin: true }, 422, 'VALIDATION_FAILED');
      // Without a password: a user who will log in through an identity provider.
      await t.http().post(`${API}/admin/users`).set(asRoot()).send({ username: 'gina' }).expect(201);
      await t.http().post(`${API}/auth/provider/local/token`).type('form').send({ username: 'gina', password: 'anything at all' }).expect(401);
    });

    it('changes roles (user.roles_changed, before/after): a role granted shows at the next refresh, one taken away at once', async () => {
      const erin = await t.login('erin', 'erin long password');
      const erinId = (await t.http().get(`${API}/users/me`).set(bearer(erin.access_token)).expect(200)).body.id;
      const granted = await t.http().put(`${API}/admin/users/${erinId}/roles`).set(asRoot()).send({ roles: ['user', 'admin'] }).expect(200);
      expect(granted.body.roles).toEqual(['user', 'admin']);
      expect(await lastEvent('user.roles_changed')).toMatchObject({
        subjectLabel: 'erin',
        userId: erinId,
        actorLabel: 'root',
        details: { before: ['user'], after: ['user', 'admin'] },
      });
      await t.http().get(`${API}/admin/users`).set(bearer(erin.access_token)).expect(403); // the token predates the role
      const refreshed = (await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: erin.refresh_token }).expect(200)).body;
      await t.http().get(`${API}/admin/users`).set(bearer(refreshed.access_token)).expect(200);

      const count = (await events('user.roles_changed')).length;
      await t.http().put(`${API}/admin/users/${erinId}/roles`).set(asRoot()).send({ roles: ['admin', 'user'] }).expect(200);
      expect(await events('user.roles_changed')).toHaveLength(count); // no change, no event

      await t.http().put(`${API}/admin/users/${erinId}/roles`).set(asRoot()).send({ roles: ['user'] }).expect(200);
      const demoted = await t.http().get(`${API}/admin/users`).set(bearer(refreshed.access_token)).expect(403);
      expect(demoted.body.code).toBe('INSUFFICIENT_ROLE');
      expect((await t.http().get(`${API}/auth/credential`).set(bearer(refreshed.access_token)).expect(200)).body).toMatchObject({ roles: ['user'] });
      expect((await t.http().get(`${API}/auth/credential`).set(bearer(refreshed.access_token))).body.scopes).not.toContain('admin:apikeys');

      await t.http().put(`${API}/admin/users/${erinId}/roles`).set(asRoot()).send({ roles: ['wizard'] }).expect(422);
      await t.http().put(`${API}/admin/users/${erinId}/roles`).set(asRoot()).send({}).expect(422);
      await t.http().put(`${API}/admin/users/${randomUUID()}/roles`).set(asRoot()).send({ roles: ['user'] }).expect(404);
    });

    it('disables and re-enables a user (user.disabled / user.enabled by the admin)', async () => {
      const erin = await t.login('erin', 'erin long password');
      const erinId = (await t.http().get(`${API}/users/me`).set(bearer(erin.access_token))).body.id;
      const off = await t.http().post(`${API}/admin/users/${erinId}/disable`).set(asRoot()).expect(200);
      expect(off.body.status).toBe('disabled');
      const refused = await t.http().get(`${API}/users/me`).set(bearer(erin.access_token)).expect(401);
      expect(refused.body.code).toBe('AUTH_USER_INACTIVE');
      expect((await t.http().get(`${API}/admin/users`).query({ status: 'disabled' }).set(asRoot())).body.items.map((u: { username: string }) => u.username)).toEqual(['erin']);
      await t.http().post(`${API}/admin/users/${erinId}/enable`).set(asRoot()).expect(200);
      await t.http().get(`${API}/users/me`).set(bearer(erin.access_token)).expect(200);
      expect((await events('user.disabled')).slice(-1)[0]).toMatchObject({ subjectLabel: 'erin', actorLabel: 'root' });
      expect((await events('user.enabled')).slice(-1)[0]).toMatchObject({ subjectLabel: 'erin', actorLabel: 'root' });
    });

    it('revokes everything a user holds, as /users/me/revoke-all does (user.revoke_all by the admin)', async () => {
      const erin = await t.login('erin', 'erin long password');
      const erinId = (await t.http().get(`${API}/users/me`).set(bearer(erin.access_token))).body.id;
      const key = (await t.http().post(`${API}/auth/apikey`).set(bearer(erin.access_token)).send(newKey()).expect(200)).body.secret;
      const res = await t.http().post(`${API}/admin/users/${erinId}/revoke-all`).set(asRoot()).expect(200);
      expect(res.body).toEqual({ epoch: 1, sessions_revoked: expect.any(Number), api_keys_revoked: 1 });
      expect(res.body.sessions_revoked).toBeGreaterThanOrEqual(1);
      expect((await t.http().get(`${API}/users/me`).set(bearer(erin.access_token)).expect(401)).body.detail).toBe('This token has been revoked.');
      await t.http().get(`${API}/users/me`).set(apikey(key)).expect(401);
      await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: erin.refresh_token }).expect(401);
      expect(await lastEvent('user.revoke_all')).toMatchObject({ userId: erinId, actorLabel: 'root', details: { epoch: 1 } });
      const keys = (await t.http().get(`${API}/admin/credentials/api-keys`).query({ user: erinId }).set(asRoot())).body.items;
      expect(keys.map((k: { status: string }) => k.status)).toEqual(['revoked']);
      await t.http().post(`${API}/admin/users/${randomUUID()}/revoke-all`).set(asRoot()).expect(404);
    });

    it('deletes a user and what they hold (user.deleted), naming the plugins left without a maintainer', async () => {
      const erin = await t.login('erin', 'erin long password');
      const erinId = (await t.http().get(`${API}/users/me`).set(bearer(erin.access_token))).body.id;
      await t.http().post(`${API}/plugins`).set(bearer(erin.access_token)).send({ name: 'erins-plugin' }).expect(201);
      const token = (await t.http().post(`${API}/plugins/erins-plugin/tokens`).set(bearer(erin.access_token)).send({ description: 'ci' }).expect(201)).body.token;
      const res = await t.http().delete(`${API}/admin/users/${erinId}`).set(asRoot()).expect(200);
      expect(res.body).toEqual({ id: erinId, username: 'erin', orphaned_plugins: ['erins-plugin'] });
      expect(await lastEvent('user.deleted')).toMatchObject({ subjectLabel: 'erin', userId: erinId, actorLabel: 'root', details: { roles: ['user'] } });
      await t.http().get(`${API}/users/me`).set(bearer(erin.access_token)).expect(401);
      await t.http().post(`${API}/auth/provider/local/token`).type('form').send({ username: 'erin', password: 'erin long password' }).expect(401);
      await t.http().get(`${API}/admin/users/${erinId}`).set(asRoot()).expect(404);
      await t.http().delete(`${API}/admin/users/${erinId}`).set(asRoot()).expect(404);
      // The plugin's deploy token belongs to the plugin and still works.
      const upload = await t.http().post(`${API}/plugins/erins-plugin/versions`).set(bearer(token)).field('version', '1.0.0').attach('file', Buffer.from('pkg'), 'p.tgz');
      expect(upload.status).toBe(201);
    });

    it('malformed and unknown ids are 404s in the one error shape', async () => {
      for (const id of ['x', 'not-a-uuid', '%20', randomUUID()]) {
        const res = await t.http().get(`${API}/admin/users/${id}`).set(asRoot()).expect(404);
        expect(res.body).toMatchObject({ statusCode: 404, code: 'USER_NOT_FOUND', requestId: expect.any(String) });
      }
      // The 32-hex form of an id works too.
      await t.http().get(`${API}/admin/users/${aliceId.replace(/-/g, '').toUpperCase()}`).set(asRoot()).expect(200);
    });
  });

  describe('credentials', () => {
    it('lists and revokes any session (session.revoked by the admin)', async () => {
      const login = await t.login('alice');
      const list = await t.http().get(`${API}/admin/credentials/sessions`).query({ user: aliceId, status: 'active' }).set(asRoot()).expect(200);
      expect(list.body.total).toBeGreaterThanOrEqual(2);
      expect(list.body.items.every((s: { user_id: string; username: string; status: string }) => s.user_id === aliceId && s.username === 'alice' && s.status === 'active')).toBe(true);
      const sid = JSON.parse(Buffer.from(login.access_token.split('.')[1], 'base64url').toString()).sid;
      expect(list.body.items[0]).toMatchObject({ id: sid, kind: 'api', auth_method: 'password', revoked_at: null });
      expect(JSON.stringify(list.body)).not.toMatch(/cookie|hash|lk_rt_/);

      await t.http().delete(`${API}/admin/credentials/sessions/${sid}`).set(asRoot()).expect(204);
      await t.http().delete(`${API}/admin/credentials/sessions/${sid}`).set(asRoot()).expect(204); // idempotent
      await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: login.refresh_token }).expect(401);
      expect(await lastEvent('session.revoked')).toMatchObject({ subjectId: sid, userId: aliceId, actorLabel: 'root', details: { reason: 'admin' } });
      const revoked = await t.http().get(`${API}/admin/credentials/sessions`).query({ user: aliceId, status: 'revoked' }).set(asRoot()).expect(200);
      expect(revoked.body.items.map((s: { id: string }) => s.id)).toContain(sid);

      for (const id of ['x', randomUUID()]) {
        expect((await t.http().delete(`${API}/admin/credentials/sessions/${id}`).set(asRoot()).expect(404)).body.code).toBe('SESSION_NOT_FOUND');
      }
      await t.http().get(`${API}/admin/credentials/sessions`).query({ user: 'alice' }).set(asRoot()).expect(422);
    });

    it('lists and revokes any API key (api_key.revoked by the admin)', async () => {
      const created = (await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send(newKey({ note: 'script' })).expect(200)).body;
      const list = await t.http().get(`${API}/admin/credentials/api-keys`).query({ user: aliceId }).set(asRoot()).expect(200);
      const item = list.body.items.find((k: { first_eight: string }) => k.first_eight === created.first_eight);
      expect(item).toMatchObject({ user_id: aliceId, username: 'alice', note: 'script', status: 'active', revoked_at: null });
      expect(JSON.stringify(list.body)).not.toContain(created.secret);

      await t.http().delete(`${API}/admin/credentials/api-keys/${item.id}`).set(asRoot()).expect(204);
      await t.http().get(`${API}/users/me`).set(apikey(created.secret)).expect(401);
      expect(await lastEvent('api_key.revoked')).toMatchObject({ subjectId: item.id, userId: aliceId, actorLabel: 'root' });
      const revoked = await t.http().get(`${API}/admin/credentials/api-keys`).query({ user: aliceId, status: 'revoked' }).set(asRoot()).expect(200);
      expect(revoked.body.items.map((k: { id: string }) => k.id)).toEqual([item.id]);
      const active = await t.http().get(`${API}/admin/credentials/api-keys`).query({ status: 'active' }).set(asRoot()).expect(200);
      expect(active.body.items.map((k: { id: string }) => k.id)).not.toContain(item.id);
      expect((await t.http().delete(`${API}/admin/credentials/api-keys/nope`).set(asRoot()).expect(404)).body.code).toBe('API_KEY_NOT_FOUND');
    });

    it('lists and revokes any deploy token (deploy_token.revoked by the admin); lists plugins with maintainers and token counts', async () => {
      await t.http().post(`${API}/plugins`).set(bearer(alice.access_token)).send({ name: 'alpha' }).expect(201);
      const one = (await t.http().post(`${API}/plugins/alpha/tokens`).set(bearer(alice.access_token)).send({ description: 'ci one' }).expect(201)).body;
      await t.http().post(`${API}/plugins/alpha/tokens`).set(bearer(alice.access_token)).send({ description: 'ci two' }).expect(201);

      const list = await t.http().get(`${API}/admin/credentials/deploy-tokens`).query({ plugin: 'alpha' }).set(asRoot()).expect(200);
      expect(list.body.total).toBe(2);
      expect(list.body.items.map((x: { description: string }) => x.description).sort()).toEqual(['ci one', 'ci two']);
      expect(list.body.items[0]).toMatchObject({ plugin: 'alpha', created_by: 'alice', status: 'active', revoked_at: null });
      expect(JSON.stringify(list.body)).not.toContain(one.token);

      await t.http().delete(`${API}/admin/credentials/deploy-tokens/${one.id}`).set(asRoot()).expect(204);
      const upload = await t.http().post(`${API}/plugins/alpha/versions`).set(bearer(one.token)).field('version', '1.0.0').attach('file', Buffer.from('pkg'), 'a.tgz');
      expect(upload.status).toBe(401);
      expect(await lastEvent('deploy_token.revoked')).toMatchObject({ subjectId: one.id, actorLabel: 'root', details: { plugin: 'alpha' } });
      const revoked = await t.http().get(`${API}/admin/credentials/deploy-tokens`).query({ plugin: 'alpha', status: 'revoked' }).set(asRoot()).expect(200);
      expect(revoked.body.items.map((x: { id: string }) => x.id)).toEqual([one.id]);
      await t.http().get(`${API}/admin/credentials/deploy-tokens`).query({ plugin: 'no-such-plugin' }).set(asRoot()).expect(404);
      await t.http().delete(`${API}/admin/credentials/deploy-tokens/${randomUUID()}`).set(asRoot()).expect(404);

      const plugins = await t.http().get(`${API}/admin/plugins`).set(asRoot()).expect(200);
      const alpha = plugins.body.items.find((p: { name: string }) => p.name === 'alpha');
      expect(alpha).toMatchObject({ maintainers: ['alice'], created_by: 'alice', tokens: { active: 1, expired: 0, revoked: 1 } });
      const orphan = plugins.body.items.find((p: { name: string }) => p.name === 'erins-plugin');
      expect(orphan).toMatchObject({ maintainers: [], tokens: { active: 1, expired: 0, revoked: 0 } });
      const paged = await t.http().get(`${API}/admin/plugins`).query({ offset: 1, limit: 1 }).set(asRoot()).expect(200);
      expect(paged.body).toMatchObject({ total: plugins.body.total, items: [plugins.body.items[1]] });
    });

    it('lists stale credentials: live API keys and deploy tokens not used since a date, never-used ones counted from creation', async () => {
      const old = new Date('2020-01-01T00:00:00Z');
      const since = '2021-01-01T00:00:00.000Z';
      const make = async (note: string) => (await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send(newKey({ note })).expect(200)).body;
      const keys = t.dataSource.getRepository(ApiKey);
      const idOf = async (firstEight: string) => (await keys.findOneByOrFail({ userId: aliceId, firstEight })).id;
      const neverUsed = await idOf((await make('never used')).first_eight);
      const usedLongAgo = await idOf((await make('used long ago')).first_eight);
      const usedRecently = await idOf((await make('used recently')).first_eight);
      const revokedOld = await idOf((await make('revoked')).first_eight);
      await idOf((await make('new')).first_eight); // created now: not stale
      await keys.update({ id: neverUsed }, { createdAt: old });
      await keys.update({ id: usedLongAgo }, { createdAt: old, lastUsedAt: new Date('2020-06-01T00:00:00Z') });
      await keys.update({ id: usedRecently }, { createdAt: old, lastUsedAt: new Date() });
      await keys.update({ id: revokedOld }, { createdAt: old, revokedAt: new Date() });

      await t.http().post(`${API}/plugins`).set(bearer(alice.access_token)).send({ name: 'stale-plugin' }).expect(201);
      const staleToken = (await t.http().post(`${API}/plugins/stale-plugin/tokens`).set(bearer(alice.access_token)).send({ description: 'old' }).expect(201)).body.id;
      const freshToken = (await t.http().post(`${API}/plugins/stale-plugin/tokens`).set(bearer(alice.access_token)).send({ description: 'used' }).expect(201)).body.id;
      const tokens = t.dataSource.getRepository(PluginToken);
      await tokens.update({ id: staleToken }, { createdAt: old });
      await tokens.update({ id: freshToken }, { createdAt: old, lastUsedAt: new Date() });

      const res = await t.http().get(`${API}/admin/credentials/stale`).query({ unused_since: since }).set(asRoot()).expect(200);
      expect(res.body.unused_since).toBe(since);
      expect(res.body.api_keys.items.map((k: { id: string }) => k.id)).toEqual([neverUsed, usedLongAgo]); // least recently used first
      expect(res.body.api_keys.total).toBe(2);
      expect(res.body.api_keys.items[0]).toMatchObject({ username: 'alice', note: 'never used', last_used_at: null, status: 'active' });
      expect(res.body.deploy_tokens.items.map((x: { id: string }) => x.id)).toEqual([staleToken]);
      expect(res.body.deploy_tokens.items[0]).toMatchObject({ plugin: 'stale-plugin', description: 'old' });

      const page = await t.http().get(`${API}/admin/credentials/stale`).query({ unused_since: since, offset: 1, limit: 1 }).set(asRoot()).expect(200);
      expect(page.body.api_keys).toMatchObject({ total: 2, offset: 1, limit: 1, items: [{ id: usedLongAgo }] });
      for (const bad of [{}, { unused_since: 'yesterday' }]) {
        expect((await t.http().get(`${API}/admin/credentials/stale`).query(bad).set(asRoot()).expect(422)).body.code).toBe('VALIDATION_FAILED');
      }
    });
  });

  describe("Tiled's principal routes (§6.11)", () => {
    it('lists principals with page[offset]/page[limit] and with offset/limit; shows one; 404 and 422 as Tiled', async () => {
      const all = (await t.http().get(`${API}/auth/principal`).set(asRoot()).expect(200)).body;
      expect(all.length).toBeGreaterThanOrEqual(3);
      const alicePrincipal = all.find((p: { uuid: string }) => p.uuid === aliceId);
      expect(alicePrincipal).toMatchObject({
        type: 'user',
        identities: [{ id: 'alice', provider: 'local' }],
        roles: [{ name: 'user', scopes: expect.arrayContaining(['read:metadata']) }],
      });
      expect(Object.keys(alicePrincipal).sort()).toEqual(['api_keys', 'identities', 'latest_activity', 'roles', 'sessions', 'type', 'uuid']);
      expect(alicePrincipal.latest_activity).not.toBeNull();
      expect(alicePrincipal.sessions.length).toBeGreaterThan(0);

      const second = (await t.http().get(`${API}/auth/principal?page[offset]=1&page[limit]=1`).set(asRoot()).expect(200)).body;
      expect(second.map((p: { uuid: string }) => p.uuid)).toEqual([all[1].uuid]);
      const clientStyle = (await t.http().get(`${API}/auth/principal`).query({ offset: 1, limit: 1 }).set(asRoot()).expect(200)).body;
      expect(clientStyle).toEqual(second);
      expect((await t.http().get(`${API}/auth/principal?page[limit]=0`).set(asRoot()).expect(200)).body).toEqual([]);
      await t.http().get(`${API}/auth/principal?page[limit]=301`).set(asRoot()).expect(422);

      const one = (await t.http().get(`${API}/auth/principal/${aliceId}`).set(asRoot()).expect(200)).body;
      expect(one.uuid).toBe(aliceId);
      await t.http().get(`${API}/auth/principal/${aliceId.replace(/-/g, '')}`).set(asRoot()).expect(200);
      const unknown = randomUUID();
      expect((await t.http().get(`${API}/auth/principal/${unknown}`).set(asRoot()).expect(404)).body.detail).toBe(`No such Principal ${unknown}`);
      expect((await t.http().get(`${API}/auth/principal/not-a-uuid`).set(asRoot()).expect(422)).body.code).toBe('VALIDATION_FAILED');
    });

    it('creates a service principal that authenticates only with a key made for it; whoami shows type "service"', async () => {
      const created = (await t.http().post(`${API}/auth/principal`).query({ role: 'user' }).set(asRoot()).expect(200)).body;
      expect(created).toMatchObject({ type: 'service', identities: [], roles: [{ name: 'user' }], api_keys: [], sessions: [], latest_activity: null });
      expect(await lastEvent('user.created')).toMatchObject({ userId: created.uuid, actorLabel: 'root', details: { roles: ['user'], password: false, kind: 'service' } });
      await t.http().post(`${API}/auth/principal`).set(asRoot()).expect(422);
      await t.http().post(`${API}/auth/principal`).query({ role: 'wizard' }).set(asRoot()).expect(422);

      const key = (await t.http().post(`${API}/auth/principal/${created.uuid}/apikey`).set(asRoot()).send(newKey({ scopes: ['read:metadata'], note: 'robot' })).expect(200)).body;
      expect(key).toMatchObject({ scopes: ['read:metadata'], note: 'robot', latest_activity: null, secret: expect.stringMatching(/^lk_pat_/) });
      const who = (await t.http().get(`${API}/auth/whoami`).set(apikey(key.secret)).expect(200)).body;
      expect(who).toMatchObject({ uuid: created.uuid, type: 'service', identities: [] });
      await t.http().get(`${API}/metadata/`).set(apikey(key.secret)).expect(200);
      const listed = (await t.http().get(`${API}/admin/users`).query({ kind: 'service' }).set(asRoot()).expect(200)).body.items;
      expect(listed.map((u: { id: string }) => u.id)).toContain(created.uuid);

      // It cannot log in, and cannot be given a password.
      const username = listed.find((u: { id: string }) => u.id === created.uuid).username;
      expect(username).toBe(`service-${created.uuid.replace(/-/g, '')}`);
      await t.http().post(`${API}/auth/provider/local/token`).type('form').send({ username, password: DEFAULT_PASSWORD }).expect(401);
      await expect(t.app.get(UsersService).setPasswordByUsername(username, 'a long passphrase')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });

      // Revoke by first_eight: the key stops working; again is Tiled's 404.
      await t.http().delete(`${API}/auth/principal/${created.uuid}/apikey`).query({ first_eight: key.first_eight }).set(asRoot()).expect(204);
      await t.http().get(`${API}/auth/whoami`).set(apikey(key.secret)).expect(401);
      const again = await t.http().delete(`${API}/auth/principal/${created.uuid}/apikey`).query({ first_eight: key.first_eight }).set(asRoot()).expect(404);
      expect(again.body.detail).toBe(`The principal ${created.uuid} has no such API key.`);
      await t.http().delete(`${API}/auth/principal/${created.uuid}/apikey`).set(asRoot()).expect(422);
    });

    it("an admin creates a key for a user within that user's scopes; beyond them is 403 (subset rule)", async () => {
      const key = (await t.http().post(`${API}/auth/principal/${aliceId}/apikey`).set(asRoot()).send(newKey({ scopes: ['read:data'] })).expect(200)).body;
      expect((await t.http().get(`${API}/auth/apikey`).set(apikey(key.secret)).expect(200)).body).toMatchObject({ first_eight: key.first_eight, scopes: ['read:data'] });
      expect(await lastEvent('api_key.created')).toMatchObject({ userId: aliceId, actorLabel: 'root' });
      // alice holds no admin:apikeys, whatever the admin holds.
      const denied = await t.http().post(`${API}/auth/principal/${aliceId}/apikey`).set(asRoot()).send(newKey({ scopes: ['read:data', 'admin:apikeys'] })).expect(403);
      expect(denied.body.code).toBe('INSUFFICIENT_SCOPE');
      expect(denied.text).toContain(" must be a subset of the principal's scopes ");
      const unknown = randomUUID();
      const missing = await t.http().post(`${API}/auth/principal/${unknown}/apikey`).set(asRoot()).send(newKey()).expect(404);
      expect(missing.body.detail).toBe(`Principal ${unknown} does not exist or insufficient permissions.`);
      await t.http().post(`${API}/auth/principal/${aliceId}/apikey`).set(asRoot()).send({ scopes: null }).expect(422); // expires_in must be present
    });
  });

  describe('the last active administrator', () => {
    it('cannot be disabled, deleted or lose the admin role (409 LAST_ADMIN); a service principal with the role does not count', async () => {
      await t.http().post(`${API}/auth/principal`).query({ role: 'admin' }).set(asRoot()).expect(200);
      for (const call of [
        t.http().post(`${API}/admin/users/${rootId}/disable`),
        t.http().delete(`${API}/admin/users/${rootId}`),
        t.http().put(`${API}/admin/users/${rootId}/roles`).send({ roles: ['user'] }),
      ]) {
        const res = await call.set(asRoot());
        expect([res.status, res.body.code]).toEqual([409, 'LAST_ADMIN']);
      }
      const still = (await t.http().get(`${API}/admin/users/${rootId}`).set(asRoot()).expect(200)).body;
      expect(still).toMatchObject({ roles: ['user', 'admin'], status: 'active' });
    });

    it('with a second administrator, either may go, but not both, even when they try at once', async () => {
      await t.http().put(`${API}/admin/users/${bobId}/roles`).set(asRoot()).send({ roles: ['user', 'admin'] }).expect(200);
      const bob = await t.login('bob');
      await t.http().post(`${API}/admin/users/${bobId}/disable`).set(asRoot()).expect(200); // root remains
      await t.http().post(`${API}/admin/users/${bobId}/enable`).set(asRoot()).expect(200);
      // Each demotes the other at the same moment: exactly one wins.
      const results = await Promise.all([
        t.http().put(`${API}/admin/users/${bobId}/roles`).set(asRoot()).send({ roles: ['user'] }),
        t.http().put(`${API}/admin/users/${rootId}/roles`).set(bearer(bob.access_token)).send({ roles: ['user'] }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(await t.app.get(UsersService).countActiveAdmins()).toBe(1);
    });

    // Two instances of the server share the database: only row locks keep them from both winning.
    (onPostgres ? it : it.skip)('holds across instances (PostgreSQL row locks): of two simultaneous demotions, one is refused', async () => {
      const other = await createTestApp({ USER_CACHE_TTL: '0' }, t.db);
      try {
        const here = t.app.get(UsersService);
        const there = other.app.get(UsersService);
        for (let round = 0; round < 5; round++) {
          await here.setRoles(rootId, ['user', 'admin']);
          await here.setRoles(bobId, ['user', 'admin']);
          const results = await Promise.allSettled([here.setRoles(rootId, ['user']), there.setRoles(bobId, ['user'])]);
          expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
          expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'LAST_ADMIN' } });
          expect(await here.countActiveAdmins()).toBe(1);
        }
      } finally {
        await other.close({ keepDatabase: true });
      }
    });
  });
});
