/**
 * Attacks on RFC 7662 introspection and the revocation feed. Introspection tells whose a token
 * is, the feed who was revoked when, so only a credential holding `introspect` may ask (not a
 * user's session, a user's key of any scope, a deploy token); an
 * introspector's key does nothing else; and an inactive answer is the same bytes whatever the
 * reason, so a caller cannot tell a revoked token from an expired, a never-issued or a disabled
 * owner's one.
 */
import { bearer, createIntrospectorKey, createTestApp, type LoginBody, type TestApp } from '../utils/create-test-app';

const API = '/api/v1';
const apikey = (secret: string) => ({ Authorization: `Apikey ${secret}` });
const newKey = (scopes: string[] | null) => ({ scopes, expires_in: null, note: null, access_tags: null });

describe('attack: introspection', () => {
  let t: TestApp;
  let victim: LoginBody;
  let mallory: LoginBody;
  let introspector: string;
  const introspect = (token: string, caller: Record<string, string>) => t.http().post(`${API}/auth/introspect`).set(caller).type('form').send({ token });

  beforeAll(async () => {
    t = await createTestApp();
    await t.createUser('victim');
    await t.createUser('mallory');
    await t.createUser('root', undefined, ['user', 'admin']);
    victim = await t.login('victim');
    mallory = await t.login('mallory');
    const root = await t.login('root');
    introspector = await createIntrospectorKey(t, root.access_token);
  });
  afterAll(() => t?.close());

  it("a user cannot learn whose a token is: not with a session, an inherit key, a deploy token, or by asking for the scope it lacks", async () => {
    const inherit = (await t.http().post(`${API}/auth/apikey`).set(bearer(mallory.access_token)).send(newKey(null)).expect(200)).body.secret;
    await t.http().post(`${API}/plugins`).set(bearer(mallory.access_token)).send({ name: 'mallory-tool' }).expect(201);
    const deploy = (await t.http().post(`${API}/plugins/mallory-tool/tokens`).set(bearer(mallory.access_token)).send({ description: 'x' }).expect(201)).body.token;
    for (const caller of [bearer(mallory.access_token), apikey(inherit)]) {
      const res = await introspect(victim.access_token, caller).expect(403);
      expect(JSON.stringify(res.body)).not.toContain('victim');
    }
    await introspect(victim.access_token, bearer(deploy)).expect(401);
    await introspect(victim.access_token, {}).expect(401);
    // The revocation feed (who was revoked, when) is as closed.
    for (const caller of [bearer(mallory.access_token), apikey(inherit)]) await t.http().get(`${API}/auth/revocations`).set(caller).expect(403);
    await t.http().get(`${API}/auth/revocations`).set(bearer(deploy)).expect(401);
    // Minting a key with `introspect` is refused: mallory's credentials do not hold it.
    await t.http().post(`${API}/auth/apikey`).set(bearer(mallory.access_token)).send(newKey(['introspect'])).expect((r) => expect([401, 403]).toContain(r.status));
  });

  it("an introspector's key does nothing but introspect", async () => {
    expect((await introspect(victim.access_token, apikey(introspector)).expect(200)).body.username).toBe('victim');
    await t.http().get(`${API}/auth/principal`).set(apikey(introspector)).expect((r) => expect([401, 403]).toContain(r.status));
    await t.http().get(`${API}/metadata/`).set(apikey(introspector)).expect((r) => expect([401, 403]).toContain(r.status));
    await t.http().post(`${API}/auth/apikey`).set(apikey(introspector)).send(newKey(['introspect'])).expect((r) => expect([401, 403]).toContain(r.status));
  });

  it('inactive is the same answer whatever the reason: revoked, never issued, malformed, a disabled owner', async () => {
    const revoked = await t.login('victim');
    await t.http().post(`${API}/auth/revoke`).type('form').send({ token: revoked.refresh_token }).expect(200);
    const fake = revoked.refresh_token.slice(0, 7) + 'Z'.repeat(revoked.refresh_token.length - 7);
    await t.createUser('gone');
    const disabledOwner = await t.login('gone');
    const gone = (await t.http().get(`${API}/auth/whoami`).set(bearer(disabledOwner.access_token)).expect(200)).body;
    await t.http().post(`${API}/admin/users/${gone.uuid}/disable`).set(bearer((await t.login('root')).access_token)).expect(200);
    const bodies = new Set<string>();
    for (const token of [revoked.refresh_token, revoked.access_token, fake, 'eyJhbGciOiJFUzI1NiJ9.e30.AA', disabledOwner.access_token, disabledOwner.refresh_token]) {
      const res = await introspect(token, apikey(introspector)).expect(200);
      bodies.add(res.text);
    }
    expect([...bodies]).toEqual(['{"active":false}']);
  });
});
