import { createPrivateKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { Clock } from '../src/common/clock';
import { UsersService } from '../src/users/users.service';
import { startAppWithIdp, type AppWithIdp } from './utils/app-with-idp';
import { bearer, createIntrospectorKey, type LoginBody } from './utils/create-test-app';
import { FakeClock } from './utils/fake-clock';
import { idpProfile } from './utils/idp-profiles';
import { typo } from './utils/typo';

const API = '/api/v1';
const apikey = (key: string) => ({ Authorization: `Apikey ${key}` });
const newKey = (extra: object = {}) => ({ scopes: ['read:metadata', 'read:data'], expires_in: null, note: null, ...extra });

/**
 * RFC 7662 introspection, `POST /api/v1/auth/introspect`: for every credential kind, active only
 * while Latchkey itself would accept it, and then with whose it is; otherwise `{"active": false}`
 * and nothing more. Callers need the `introspect` scope (an introspector service principal's API key).
 */
describe('token introspection (RFC 7662)', () => {
  let env: AppWithIdp;
  const clock = new FakeClock();
  let service: string; // the introspector's API key
  let admin: LoginBody;
  const http = () => env.t.http();
  const introspect = (token: string, caller = apikey(service)) => http().post(`${API}/auth/introspect`).set(caller).type('form').send({ token });
  const answer = async (token: string) => {
    const res = await introspect(token);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    return res.body as Record<string, unknown>;
  };
  const INACTIVE = { active: false };
  const users = () => env.t.app.get(UsersService);

  beforeAll(async () => {
    env = await startAppWithIdp({ env: { OIDC_IDP_ACCEPT_ACCESS_TOKENS: 'true' }, overrides: [{ provide: Clock, useValue: clock }] });
    await env.t.createUser('root', undefined, ['user', 'admin']);
    admin = await env.t.login('root');
    service = await createIntrospectorKey(env.t, admin.access_token);
  });
  afterAll(async () => {
    await env?.t.close();
    await env?.idp.stop();
  });

  it('only a caller holding introspect may ask; what it asks about is in the body and checked', async () => {
    const pat = await env.t.createUser('pat');
    const login = await env.t.login('pat');
    await http().post(`${API}/auth/introspect`).type('form').send({ token: login.access_token }).expect(401);
    const refused = await introspect(login.access_token, bearer(login.access_token)).expect(403);
    expect(refused.body.detail).toMatch(/introspect/);
    const patKey = (await http().post(`${API}/auth/apikey`).set(bearer(login.access_token)).send(newKey()).expect(200)).body.secret;
    await introspect(login.access_token, apikey(patKey)).expect(403);
    // An administrator may, with a session or a key that holds introspect.
    expect((await introspect(login.access_token, bearer(admin.access_token)).expect(200)).body).toMatchObject({ active: true, sub: pat.id });
    // JSON works as well as a form; a missing, oversize or unknown-hint body is a 422 and never an answer.
    expect((await http().post(`${API}/auth/introspect`).set(apikey(service)).send({ token: login.access_token }).expect(200)).body.active).toBe(true);
    for (const body of [{}, { token: 'x'.repeat(5000) }, { token: login.access_token, token_type_hint: 'password' }, { token: ['a', 'b'] }]) {
      const bad = await http().post(`${API}/auth/introspect`).set(apikey(service)).send(body);
      expect([JSON.stringify(body).slice(0, 60), bad.status]).toEqual([JSON.stringify(body).slice(0, 60), 422]);
      expect(bad.body.active).toBeUndefined();
    }
  });

  it('access tokens: live is active with the claims; expired, revoked, disabled owner and forged are only inactive', async () => {
    const dora = await env.t.createUser('dora');
    const live = await env.t.login('dora');
    const body = await answer(live.access_token);
    const claims = jwt.decode(live.access_token) as jwt.JwtPayload;
    expect(body).toEqual({
      active: true,
      token_type: 'access_token',
      scope: (claims.scp as string[]).join(' '),
      sub: dora.id,
      username: 'dora',
      roles: ['user'],
      groups: [],
      iss: 'latchkey',
      aud: 'latchkey',
      client_id: 'latchkey',
      sid: claims.sid,
      exp: claims.exp,
      iat: claims.iat,
    });
    const key = createPrivateKey({ key: JSON.parse(process.env.SIGNING_KEYS!), format: 'jwk' });
    const expired = jwt.sign({ ...claims, iat: claims.iat! - 2000, exp: claims.iat! - 1000 }, key, { algorithm: 'ES256', keyid: jwt.decode(live.access_token, { complete: true })!.header.kid });
    expect(await answer(expired)).toEqual(INACTIVE);
    const [h, p, s] = live.access_token.split('.');
    expect(await answer(`${h}.${p}.${typo(s)}`)).toEqual(INACTIVE);
    expect(await answer(`${h}.${Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url')}.${s}`)).toEqual(INACTIVE);

    const other = await env.t.login('dora');
    await http().post(`${API}/auth/revoke`).type('form').send({ token: other.refresh_token }).expect(200);
    expect(await answer(other.access_token)).toEqual(INACTIVE);
    expect((await answer(live.access_token)).active).toBe(true); // another session of the same user

    await users().setStatus(dora.id, 'disabled');
    expect(await answer(live.access_token)).toEqual(INACTIVE);
    await users().setStatus(dora.id, 'active');
    expect((await answer(live.access_token)).active).toBe(true);
    await users().revokeAll(dora.id);
    expect(await answer(live.access_token)).toEqual(INACTIVE);
  });

  it('refresh tokens: judged without being used; used, revoked, disabled owner and malformed are inactive', async () => {
    const rita = await env.t.createUser('rita');
    const login = await env.t.login('rita');
    const body = await answer(login.refresh_token);
    expect(body).toMatchObject({ active: true, token_type: 'refresh_token', sub: rita.id, username: 'rita', roles: ['user'], sid: expect.any(String), exp: expect.any(Number) });
    expect(body.scope).toContain('read:data');
    expect((body.exp as number) - (body.iat as number)).toBe(604_800);
    // Introspecting did not use it: it still refreshes, once; then it is used and its successor is the live one.
    const next = (await http().post(`${API}/auth/session/refresh`).send({ refresh_token: login.refresh_token }).expect(200)).body;
    expect(await answer(login.refresh_token)).toEqual(INACTIVE);
    expect((await answer(next.refresh_token)).active).toBe(true);
    expect(await answer(typo(next.refresh_token))).toEqual(INACTIVE);
    await users().setStatus(rita.id, 'disabled');
    expect(await answer(next.refresh_token)).toEqual(INACTIVE);
    await users().setStatus(rita.id, 'active');
    expect((await answer(next.refresh_token)).active).toBe(true);
    await http().post(`${API}/auth/session/revoke`).send({ refresh_token: next.refresh_token }).expect(204);
    expect(await answer(next.refresh_token)).toEqual(INACTIVE);
  });

  it('API keys: the key\'s own scopes and tags; revoked, disabled owner, revoke-all and malformed are inactive', async () => {
    const kim = await env.t.createUser('kim');
    const login = await env.t.login('kim');
    const key = (await http().post(`${API}/auth/apikey`).set(bearer(login.access_token)).send(newKey({ scopes: ['read:metadata'], expires_in: 3600, access_tags: ['beamline-7'] })).expect(200)).body.secret;
    const body = await answer(key);
    expect(body).toEqual({
      active: true,
      token_type: 'api_key',
      scope: 'read:metadata',
      sub: kim.id,
      username: 'kim',
      roles: ['user'],
      groups: [],
      access_tags: ['beamline-7'],
      iss: 'latchkey',
      aud: 'latchkey',
      iat: expect.any(Number),
      exp: (body.iat as number) + 3600,
    });
    expect(await answer(`${key}x`)).toEqual(INACTIVE);
    expect(await answer('lk_pat_' + 'A'.repeat(46))).toEqual(INACTIVE);
    await users().setStatus(kim.id, 'disabled');
    expect(await answer(key)).toEqual(INACTIVE);
    await users().setStatus(kim.id, 'active');
    expect((await answer(key)).active).toBe(true);
    await http().post(`${API}/auth/revoke`).type('form').send({ token: key }).expect(200);
    expect(await answer(key)).toEqual(INACTIVE);
    const second = (await http().post(`${API}/auth/apikey`).set(bearer(login.access_token)).send(newKey()).expect(200)).body.secret;
    expect((await answer(second)).active).toBe(true);
    await users().revokeAll(kim.id);
    expect(await answer(second)).toEqual(INACTIVE);
  });

  it('deploy tokens: their plugin and "Token {description}"; they outlive a disabled creator; revoked and malformed are inactive', async () => {
    const max = await env.t.createUser('max');
    const login = await env.t.login('max');
    await http().post(`${API}/plugins`).set(bearer(login.access_token)).send({ name: 'introspected' }).expect(201);
    const created = (await http().post(`${API}/plugins/introspected/tokens`).set(bearer(login.access_token)).send({ description: 'ci main' }).expect(201)).body;
    const body = await answer(created.token);
    expect(body).toMatchObject({ active: true, token_type: 'deploy_token', sub: created.id, username: 'Token ci main', plugin: { id: expect.any(String), name: 'introspected' }, iss: 'latchkey' });
    expect(body.exp).toBeUndefined(); // this one never expires
    expect(body.roles).toBeUndefined();
    await users().setStatus(max.id, 'disabled');
    expect((await answer(created.token)).active).toBe(true);
    await users().setStatus(max.id, 'active');
    expect(await answer(typo(created.token))).toEqual(INACTIVE);
    await http().post(`${API}/auth/revoke`).type('form').send({ token: created.token }).expect(200);
    expect(await answer(created.token)).toEqual(INACTIVE);
  });

  it('IdP offline tokens and IdP access tokens: active for the mapped user; disabled owner and revoke-all make them inactive', async () => {
    const { refresh_token, access_token } = await env.idp.obtainOfflineToken('bob', { scope: 'openid profile email offline_access' });
    const offline = await answer(refresh_token);
    expect(offline).toMatchObject({ active: true, token_type: 'idp_offline_token', provider: 'idp', username: idpProfile().usernameOf({ username: 'bob', email: 'bob@example.test' }), roles: ['user'] });
    const viaAccess = await answer(access_token);
    expect(viaAccess).toMatchObject({ active: true, token_type: 'idp_access_token', provider: 'idp', sub: offline.sub, exp: expect.any(Number), iat: expect.any(Number) });
    await users().setStatus(offline.sub as string, 'disabled');
    expect(await answer(refresh_token)).toEqual(INACTIVE);
    expect(await answer(access_token)).toEqual(INACTIVE);
    await users().setStatus(offline.sub as string, 'active');
    await new Promise((r) => setTimeout(r, 1100)); // revoke-all refuses IdP tokens issued in an earlier second
    await users().revokeAll(offline.sub as string);
    expect(await answer(refresh_token)).toEqual(INACTIVE);
    expect(await answer(access_token)).toEqual(INACTIVE);
    // Not ours and not the IdP's: inactive (never a 5xx, never a reason).
    expect(await answer('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln')).toEqual(INACTIVE);
    expect(await answer('tökén')).toEqual(INACTIVE);
    expect(await answer('lk_bs_' + 'A'.repeat(46))).toEqual(INACTIVE);
  });

  it('expiry: refresh tokens, API keys and deploy tokens are inactive once their time has passed', async () => {
    const eve = await env.t.createUser('eve');
    const login = await env.t.login('eve');
    const key = (await http().post(`${API}/auth/apikey`).set(bearer(login.access_token)).send(newKey({ expires_in: 60 })).expect(200)).body.secret;
    await http().post(`${API}/plugins`).set(bearer(login.access_token)).send({ name: 'expiring' }).expect(201);
    const deploy = (await http().post(`${API}/plugins/expiring/tokens`).set(bearer(login.access_token)).send({ description: 'nightly', expires_in: 3600 }).expect(201)).body.token;
    for (const token of [login.refresh_token, key, deploy]) expect((await answer(token)).active).toBe(true);
    clock.advance(61);
    expect(await answer(key)).toEqual(INACTIVE);
    clock.advance(3600);
    expect(await answer(deploy)).toEqual(INACTIVE);
    clock.advance(604_800);
    expect(await answer(login.refresh_token)).toEqual(INACTIVE);
    expect(eve.id).toBeDefined();
  });
});
