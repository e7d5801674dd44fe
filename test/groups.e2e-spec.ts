import jwt from 'jsonwebtoken';
import { startAppWithIdp, type AppWithIdp } from './utils/app-with-idp';
import { bearer, createIntrospectorKey, type LoginBody } from './utils/create-test-app';
import { DEFAULT_IDP_USERS } from './utils/local-idp';

const API = '/api/v1';

/**
 * Groups: administrators set them (API, CLI), an IdP's groups claim sets them at every login or
 * token exchange (OIDC_<P>_GROUPS_CLAIM), and tokens and introspection carry them.
 */
describe('groups', () => {
  let env: AppWithIdp;
  let root: LoginBody;
  const http = () => env.t.http();

  beforeAll(async () => {
    env = await startAppWithIdp({
      idp: { users: [...DEFAULT_IDP_USERS, { username: 'gina', password: 'gina-password', sub: 'sub-gina', email: 'gina@example.test', groups: ['beamline-7', 'staff'] }] },
      env: { OIDC_IDP_GROUPS_CLAIM: 'groups' },
    });
    await env.t.createUser('root', undefined, ['user', 'admin']);
    root = await env.t.login('root');
  });
  afterAll(async () => {
    await env?.t.close();
    await env?.idp.stop();
  });

  it('an administrator sets a user\'s groups: in the next access token, in introspection, audited; bad names are a 422', async () => {
    const pia = await env.t.createUser('pia');
    const set = await http().put(`${API}/admin/users/${pia.id}/groups`).set(bearer(root.access_token)).send({ groups: ['staff', 'beamline-7', 'staff'] }).expect(200);
    expect(set.body.groups).toEqual(['beamline-7', 'staff']);
    const login = await env.t.login('pia');
    expect((jwt.decode(login.access_token) as { groups: string[] }).groups).toEqual(['beamline-7', 'staff']);
    const service = await createIntrospectorKey(env.t, root.access_token);
    const seen = await http().post(`${API}/auth/introspect`).set({ Authorization: `Apikey ${service}` }).type('form').send({ token: login.access_token }).expect(200);
    expect(seen.body.groups).toEqual(['beamline-7', 'staff']);
    for (const groups of [['a,b'], [''], ['x'.repeat(129)], Array.from({ length: 101 }, (_, i) => `g${i}`), 'staff']) {
      const res = await http().put(`${API}/admin/users/${pia.id}/groups`).set(bearer(root.access_token)).send({ groups });
      expect([JSON.stringify(groups).slice(0, 30), res.status]).toEqual([JSON.stringify(groups).slice(0, 30), 422]);
    }
    const audit = await http().get(`${API}/admin/audit`).query({ type: 'user.groups_changed' }).set(bearer(root.access_token)).expect(200);
    expect(JSON.stringify(audit.body)).toContain('beamline-7');
  });

  it('the IdP groups claim sets the groups at each exchange, replacing an administrator\'s choice', async () => {
    const { refresh_token } = await env.idp.obtainOfflineToken('gina', { scope: 'openid profile email offline_access' });
    const who = (await http().get(`${API}/auth/credential`).set(bearer(refresh_token)).expect(200)).body;
    expect(who.groups).toEqual(['beamline-7', 'staff']);
    await http().put(`${API}/admin/users/${who.userId}/groups`).set(bearer(root.access_token)).send({ groups: ['other'] }).expect(200);
    const again = await env.idp.obtainOfflineToken('gina', { scope: 'openid profile email offline_access' });
    expect((await http().get(`${API}/auth/credential`).set(bearer(again.refresh_token)).expect(200)).body.groups).toEqual(['beamline-7', 'staff']);
  });
});
