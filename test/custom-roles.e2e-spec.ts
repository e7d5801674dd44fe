import { Controller, Get, Module } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { Roles } from '../src/common/auth/decorators';
import { bearer, createTestApp, type LoginBody, type TestApp } from './utils/create-test-app';

const API = '/api/v1';

/** Another team's module: one route for holders of a custom role. */
@Controller('editors-only')
class EditorsController {
  @Get()
  @Roles('notes-editor')
  hello() {
    return { hello: 'editor' };
  }
}

@Module({ controllers: [EditorsController] })
class EditorsModule {}

/**
 * Custom roles: administrators make a role (name → scopes) over the API, give it to users like
 * `admin`, and its scopes land in the user's tokens and keys; built-in roles cannot change, a role
 * in use cannot be deleted, and no custom role can carry administration.
 */
describe('custom roles', () => {
  let t: TestApp;
  let root: LoginBody;
  const as = () => bearer(root.access_token);

  beforeAll(async () => {
    t = await createTestApp({}, undefined, [], [EditorsModule]);
    await t.createUser('root', undefined, ['user', 'admin']);
    root = await t.login('root');
  });
  afterAll(() => t.close());

  it('an administrator makes a role; a user given it gets its scopes in tokens and API keys; changing it changes keys at once', async () => {
    const saved = await t.http().put(`${API}/admin/roles/notes-editor`).set(as()).send({ scopes: ['notes:write', 'notes:read', 'notes:read'], description: 'Edits notes' }).expect(200);
    expect(saved.body).toEqual({ name: 'notes-editor', description: 'Edits notes', scopes: ['notes:read', 'notes:write'], built_in: false });
    const listed = (await t.http().get(`${API}/admin/roles`).set(as()).expect(200)).body as { name: string; built_in: boolean }[];
    expect(listed.map((r) => [r.name, r.built_in])).toEqual([['user', true], ['admin', true], ['introspector', true], ['notes-editor', false]]);

    const nina = await t.createUser('nina');
    await t.http().put(`${API}/admin/users/${nina.id}/roles`).set(as()).send({ roles: ['user', 'notes-editor'] }).expect(200);
    const login = await t.login('nina');
    const claims = jwt.decode(login.access_token) as { roles: string[]; scp: string[]; scope: string };
    expect(claims.roles).toEqual(['user', 'notes-editor']);
    expect(claims.scp).toEqual(expect.arrayContaining(['notes:read', 'notes:write', 'read:data']));
    const key = (await t.http().post(`${API}/auth/apikey`).set(bearer(login.access_token)).send({ scopes: ['notes:read'], expires_in: null, note: 'notes' }).expect(200)).body.secret;
    const whoami = await t.http().get(`${API}/auth/credential`).set({ Authorization: `Apikey ${key}` }).expect(200);
    expect(whoami.body.scopes).toEqual(['notes:read']);
    // The role loses notes:read: the key holding only that scope now holds nothing of it.
    await t.http().put(`${API}/admin/roles/notes-editor`).set(as()).send({ scopes: ['notes:write'] }).expect(200);
    expect((await t.http().get(`${API}/auth/credential`).set({ Authorization: `Apikey ${key}` }).expect(200)).body.scopes).toEqual([]);
    // @Roles('notes-editor') in another module: the holder passes, a plain user does not.
    await t.http().get(`${API}/editors-only`).set(bearer((await t.login('nina')).access_token)).expect(200);
    await t.http().get(`${API}/editors-only`).set(bearer(root.access_token)).expect(403);
    // A service principal can be made with a custom role too.
    await t.http().post(`${API}/auth/principal?role=notes-editor`).set(as()).expect(200);
  });

  it('refuses: a built-in name, bad names and scopes, admin-only scopes, deleting a role in use, non-administrators; an unknown role for a user is a 422', async () => {
    for (const name of ['admin', 'user', 'introspector']) {
      const res = await t.http().put(`${API}/admin/roles/${name}`).set(as()).send({ scopes: ['notes:read'] });
      expect([name, res.status, res.body.code]).toEqual([name, 409, 'BUILT_IN_ROLE']);
    }
    await t.http().delete(`${API}/admin/roles/admin`).set(as()).expect(409);
    for (const [name, scopes] of [
      ['Bad Name', ['notes:read']],
      ['ok-name', []],
      ['ok-name', ['Notes:Read']],
      ['ok-name', ['notes read']],
      ['ok-name', ['admin:apikeys']],
      ['ok-name', ['write:principals', 'notes:read']],
      ['ok-name', Array.from({ length: 101 }, (_, i) => `s:${i}`)],
    ] as const) {
      const res = await t.http().put(`${API}/admin/roles/${encodeURIComponent(name)}`).set(as()).send({ scopes });
      expect([name, scopes.slice(0, 2), res.status]).toEqual([name, scopes.slice(0, 2), 422]);
    }
    await t.http().put(`${API}/admin/roles/held`).set(as()).send({ scopes: ['notes:read'] }).expect(200);
    const holder = await t.createUser('holder');
    await t.http().put(`${API}/admin/users/${holder.id}/roles`).set(as()).send({ roles: ['user', 'held'] }).expect(200);
    const inUse = await t.http().delete(`${API}/admin/roles/held`).set(as()).expect(409);
    expect(inUse.body.code).toBe('ROLE_IN_USE');
    await t.http().put(`${API}/admin/users/${holder.id}/roles`).set(as()).send({ roles: ['user'] }).expect(200);
    await t.http().delete(`${API}/admin/roles/held`).set(as()).expect(204);
    await t.http().delete(`${API}/admin/roles/held`).set(as()).expect(404);
    const unknown = await t.http().put(`${API}/admin/users/${holder.id}/roles`).set(as()).send({ roles: ['user', 'held'] }).expect(422);
    expect(JSON.stringify(unknown.body)).toMatch(/must be one of: user, admin, introspector/);
    const user = await t.login('holder');
    await t.http().put(`${API}/admin/roles/mine`).set(bearer(user.access_token)).send({ scopes: ['notes:read'] }).expect(403);
    await t.http().get(`${API}/admin/roles`).set(bearer(user.access_token)).expect(403);
  });
});
