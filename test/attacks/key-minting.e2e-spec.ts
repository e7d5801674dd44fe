/**
 * Attack (issue 16 §3): a key mints a broader key. Every place a key is minted (`POST /auth/apikey`
 * for oneself, `POST /auth/principal/{uuid}/apikey` for any principal, the /account form) is
 * bounded by the CALLING credential: the requested scopes must be held both by the target
 * principal and by the credential making the request, and `inherit` needs a credential that holds
 * every scope of the target. 403 otherwise, in Tiled's wording ("must be a subset of the
 * principal's scopes").
 */
import { bearer, createTestApp, type LoginBody, type TestApp } from '../utils/create-test-app';

const API = '/api/v1';
const apikey = (secret: string) => ({ Authorization: `Apikey ${secret}` });
const newKey = (scopes: string[] | null) => ({ scopes, expires_in: null, note: null, access_tags: null });

describe('attack: a restricted API key mints a broader key', () => {
  let t: TestApp;
  let root: LoginBody;
  let alice: LoginBody;
  let robot: string;

  beforeAll(async () => {
    t = await createTestApp();
    await t.createUser('root', undefined, ['admin']);
    await t.createUser('alice');
    root = await t.login('root');
    alice = await t.login('alice');
    robot = (await t.http().post(`${API}/auth/principal`).query({ role: 'admin' }).set(bearer(root.access_token)).expect(200)).body.uuid;
  });
  afterAll(() => t?.close());

  async function adminKeyWith(scopes: string[]): Promise<string> {
    const res = await t.http().post(`${API}/auth/principal/${root.principal}/apikey`).set(bearer(root.access_token)).send(newKey(scopes)).expect(200);
    return res.body.secret;
  }

  it('an admin:apikeys-only key cannot mint an inherit (full admin) key for its own owner', async () => {
    const narrow = await adminKeyWith(['admin:apikeys']);
    for (const scopes of [null, ['inherit']]) {
      const res = await t.http().post(`${API}/auth/principal/${root.principal}/apikey`).set(apikey(narrow)).send(newKey(scopes)).expect(403);
      expect(res.body).toMatchObject({ code: 'INSUFFICIENT_SCOPE' });
      expect(res.body.detail).toContain("must be a subset of the principal's scopes");
      expect(res.body.detail).toContain('inherit');
    }
    // Nothing was minted: the owner still has just the one narrow key.
    const who = await t.http().get(`${API}/auth/whoami`).set(bearer(root.access_token)).expect(200);
    expect(who.body.api_keys.map((k: { scopes: string[] }) => k.scopes)).toEqual([['admin:apikeys']]);
  });

  it('nor a key with any scope it lacks, for its owner or for another principal', async () => {
    const narrow = await adminKeyWith(['admin:apikeys']);
    for (const target of [root.principal, robot]) {
      for (const scopes of [['write:principals'], ['admin:apikeys', 'read:principals'], null]) {
        const res = await t.http().post(`${API}/auth/principal/${target}/apikey`).set(apikey(narrow)).send(newKey(scopes));
        expect({ target, scopes, status: res.status }).toEqual({ target, scopes, status: 403 });
        expect(res.body.detail).toMatch(/must be a subset of the principal's scopes/);
      }
    }
    // Within its own scopes it still works (that is what admin:apikeys is for).
    await t.http().post(`${API}/auth/principal/${robot}/apikey`).set(apikey(narrow)).send(newKey(['admin:apikeys'])).expect(200);
  });

  it('a full credential (the admin access token, an inherit key) may still mint inherit keys', async () => {
    await t.http().post(`${API}/auth/principal/${robot}/apikey`).set(bearer(root.access_token)).send(newKey(null)).expect(200);
    const full = (await t.http().post(`${API}/auth/principal/${root.principal}/apikey`).set(bearer(root.access_token)).send(newKey(null)).expect(200)).body.secret;
    await t.http().post(`${API}/auth/principal/${robot}/apikey`).set(apikey(full)).send(newKey(['read:principals'])).expect(200);
  });

  it('a read:metadata key (with create:apikeys) cannot mint a write key, nor inherit, for itself', async () => {
    const narrow = (await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send(newKey(['read:metadata', 'create:apikeys'])).expect(200)).body.secret;
    for (const scopes of [['write:data'], ['read:metadata', 'write:metadata'], null, ['inherit']]) {
      const res = await t.http().post(`${API}/auth/apikey`).set(apikey(narrow)).send(newKey(scopes));
      expect({ scopes, status: res.status }).toEqual({ scopes, status: 403 });
      expect(res.body.detail).toMatch(/must be a subset of the principal's scopes/);
    }
    await t.http().post(`${API}/auth/apikey`).set(apikey(narrow)).send(newKey(['read:metadata'])).expect(200);
  });

  it('the /account form mints for a browser login only: a restricted key posting it gets 403', async () => {
    const narrow = (await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send(newKey(['read:metadata', 'create:apikeys'])).expect(200)).body.secret;
    const res = await t.http().post('/account/api-keys').set(apikey(narrow)).set('Accept', 'application/json').type('form').send({ note: 'x' });
    expect(res.status).toBe(403);
    expect(res.text).not.toContain('lk_pat_');
  });

  it('a read:metadata key without create:apikeys cannot mint at all (Tiled: 401 naming the scope)', async () => {
    const narrow = (await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send(newKey(['read:metadata'])).expect(200)).body.secret;
    const res = await t.http().post(`${API}/auth/apikey`).set(apikey(narrow)).send(newKey(['read:metadata'])).expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer scope="create:apikeys"');
  });

  it('access tags cannot be combined with inherit or admin:apikeys (as Tiled since 2026), on either route; a tagged key carries its tags', async () => {
    const tagged = (scopes: string[] | null) => ({ ...newKey(scopes), access_tags: ['beamline-7'] });
    const keysOf = async (who: LoginBody) => (await t.http().get(`${API}/auth/whoami`).set(bearer(who.access_token)).expect(200)).body.api_keys.length;
    const before = [await keysOf(root), await keysOf(alice)];
    const routes: [string, LoginBody][] = [
      [`${API}/auth/apikey`, alice],
      [`${API}/auth/principal/${root.principal}/apikey`, root],
    ];
    for (const scopes of [null, ['inherit'], ['inherit', 'read:metadata'], ['admin:apikeys'], ['read:metadata', 'admin:apikeys']]) {
      for (const [url, caller] of routes) {
        if (url.endsWith('/auth/apikey') && scopes?.includes('admin:apikeys')) continue; // a user holds no admin:apikeys to ask for
        const res = await t.http().post(url).set(bearer(caller.access_token)).send(tagged(scopes));
        expect({ url, scopes, status: res.status, detail: res.body.detail }).toEqual({ url, scopes, status: 403, detail: expect.stringMatching(/cannot be combined with access tag restrictions/) });
        expect(res.headers['content-type']).toBe('application/json');
        expect(res.body.detail).toMatch(/cannot be combined with access tag restrictions/);
      }
    }
    expect([await keysOf(root), await keysOf(alice)]).toEqual(before);
    // Listing scopes works, and what a consumer module reads of the request carries the tags.
    const key = (await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send(tagged(['read:metadata'])).expect(200)).body;
    expect(key.access_tags).toEqual(['beamline-7']);
    for (let i = 0; i < 2; i++) {
      // Twice: the second answer comes from the verification cache, which must keep the tags too.
      const credential = await t.http().get(`${API}/auth/credential`).set(apikey(key.secret)).expect(200);
      expect(credential.body.credential).toEqual({ type: 'api_key', id: expect.any(String), accessTags: ['beamline-7'] });
    }
    const untagged = (await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send(newKey(['read:metadata'])).expect(200)).body.secret;
    expect((await t.http().get(`${API}/auth/credential`).set(apikey(untagged)).expect(200)).body.credential.accessTags).toBeNull();
  });

  it('a tag-restricted key cannot mint a key that escapes its tags (untagged, or other tags), for its owner or anyone', async () => {
    const tagged = (scopes: string[], accessTags: string[] | null) => ({ ...newKey(scopes), access_tags: accessTags });
    const holder = (await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send(tagged(['read:metadata', 'create:apikeys'], ['beamline-7', 'beamline-8'])).expect(200)).body.secret;
    const keys = async () => (await t.http().get(`${API}/auth/whoami`).set(bearer(alice.access_token)).expect(200)).body.api_keys.length;
    const before = await keys();
    for (const accessTags of [null, ['beamline-9'], ['beamline-7', 'beamline-9']]) {
      const res = await t.http().post(`${API}/auth/apikey`).set(apikey(holder)).send(tagged(['read:metadata'], accessTags));
      expect({ accessTags, status: res.status, code: res.body.code }).toEqual({ accessTags, status: 403, code: 'INSUFFICIENT_SCOPE' });
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.body.detail).toMatch(accessTags === null ? /restricted to the access tags \[beamline-7, beamline-8\]/ : /^Requested access tags \[beamline-9\] are not among/);
    }
    expect(await keys()).toBe(before);
    // Within its tags it may mint, and the new key is as restricted as asked.
    const narrower = (await t.http().post(`${API}/auth/apikey`).set(apikey(holder)).send(tagged(['read:metadata'], ['beamline-8'])).expect(200)).body;
    expect(narrower.access_tags).toEqual(['beamline-8']);
    // An access token (not tag-restricted) mints untagged keys as before.
    await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send(newKey(['read:metadata'])).expect(200);
  });
});
