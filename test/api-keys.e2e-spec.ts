import { User } from '../src/users/user.entity';
import { bearer, createTestApp, LoginBody, TestApp } from './utils/create-test-app';
import { spyOnQueries } from './utils/query-spy';

const API = '/api/v1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const newKey = (over: Record<string, unknown> = {}) => ({ scopes: null, expires_in: null, note: null, access_tags: null, ...over });

describe('personal API keys (Tiled-compatible)', () => {
  let t: TestApp;
  let alice: LoginBody;
  let queries: string[];

  beforeAll(async () => {
    t = await createTestApp({ LAST_USED_INTERVAL: '60' });
    await t.createUser('alice');
    await t.createUser('bob');
    alice = await t.login('alice');
    // Count SQL statements, to show which paths reach the database.
    queries = [];
    spyOnQueries(t.dataSource, (sql) => queries.push(sql));
  });
  afterAll(() => t.close());

  async function create(token: string, body = newKey()) {
    const res = await t.http().post(`${API}/auth/apikey`).set(bearer(token)).send(body);
    return res;
  }

  it('creates a key: the secret is shown once, prefixed, \\w+, with its first eight', async () => {
    const res = await create(alice.access_token, newKey({ note: 'laptop' })).then((r) => r.body);
    expect(res).toMatchObject({ note: 'laptop', scopes: ['inherit'], access_tags: null, expiration_time: null, latest_activity: null });
    expect(res.secret).toMatch(/^lk_pat_\w+$/);
    expect(res.first_eight).toBe(res.secret.slice(7, 15));

    const list = await t.http().get(`${API}/api-keys`).set(bearer(alice.access_token)).expect(200);
    expect(JSON.stringify(list.body)).not.toContain(res.secret);
    expect(list.body[0]).toMatchObject({ first_eight: res.first_eight, note: 'laptop', status: 'active', last_used_at: null });
    const who = await t.http().get(`${API}/auth/whoami`).set(bearer(alice.access_token)).expect(200);
    expect(who.body.api_keys).toEqual([expect.objectContaining({ first_eight: res.first_eight, note: 'laptop' })]);
    expect(JSON.stringify(who.body)).not.toContain(res.secret);
  });

  it('accepts the key as Apikey header, ?api_key= and the tiled_api_key cookie; GET /auth/apikey describes it', async () => {
    const { secret, first_eight } = (await create(alice.access_token)).body;
    const byHeader = await t.http().get(`${API}/auth/whoami`).set('Authorization', `Apikey ${secret}`).expect(200);
    expect(byHeader.body.identities[0].id).toBe('alice');
    await t.http().get(`${API}/auth/whoami`).set('Authorization', `apikey ${secret}`).expect(200);
    await t.http().get(`${API}/auth/whoami?api_key=${secret}`).expect(200);
    await t.http().get(`${API}/auth/whoami`).set('Cookie', `tiled_api_key=${secret}`).expect(200);

    const inspect = await t.http().get(`${API}/auth/apikey`).set('Authorization', `Apikey ${secret}`).expect(200);
    expect(inspect.body).toMatchObject({ first_eight, scopes: ['inherit'] });
    expect(inspect.body.secret).toBeUndefined();
    expect(Date.parse(inspect.body.latest_activity)).toBeGreaterThan(Date.now() - 10_000);
    const noKey = await t.http().get(`${API}/auth/apikey`).set(bearer(alice.access_token)).expect(401);
    expect(noKey.body.detail).toBe('No API key was provided with this request.');
  });

  it('an API key wins over a Bearer token sent alongside it (Tiled order)', async () => {
    const { secret } = (await create(alice.access_token, newKey({ scopes: ['read:metadata'] }))).body;
    const res = await t
      .http()
      .get(`${API}/auth/credential`)
      .query({ api_key: secret })
      .set(bearer(alice.access_token))
      .expect(200);
    expect(res.body).toMatchObject({ credential: { type: 'api_key' }, scopes: ['read:metadata'] });
  });

  it('revokes by first_eight: the key is refused at once and leaves whoami', async () => {
    const { secret, first_eight } = (await create(alice.access_token)).body;
    await t.http().get(`${API}/users/me`).set('Authorization', `Apikey ${secret}`).expect(200); // cached now
    const bob = await t.login('bob');
    await t.http().delete(`${API}/auth/apikey`).query({ first_eight }).set(bearer(bob.access_token)).expect(404);
    await t.http().delete(`${API}/auth/apikey`).set(bearer(alice.access_token)).expect(422);
    await t.http().delete(`${API}/auth/apikey`).query({ first_eight }).set(bearer(alice.access_token)).expect(204);
    const refused = await t.http().get(`${API}/users/me`).set('Authorization', `Apikey ${secret}`).expect(401);
    expect(refused.body.detail).toBe('Invalid API key');
    const who = await t.http().get(`${API}/auth/whoami`).set(bearer(alice.access_token)).expect(200);
    expect(who.body.api_keys.map((k: { first_eight: string }) => k.first_eight)).not.toContain(first_eight);
    const list = await t.http().get(`${API}/api-keys`).set(bearer(alice.access_token)).expect(200);
    expect(list.body.find((k: { first_eight: string }) => k.first_eight === first_eight).status).toBe('revoked');
  });

  it('revokes by id through /api-keys; unknown and malformed ids are 4xx', async () => {
    const { secret } = (await create(alice.access_token)).body;
    const list = await t.http().get(`${API}/api-keys`).set(bearer(alice.access_token)).expect(200);
    const id = list.body[0].id as string;
    await t.http().delete(`${API}/api-keys/not-a-uuid`).set(bearer(alice.access_token)).expect(400);
    await t.http().delete(`${API}/api-keys/00000000-0000-4000-8000-000000000000`).set(bearer(alice.access_token)).expect(404);
    await t.http().delete(`${API}/api-keys/${id}`).set(bearer(alice.access_token)).expect(204);
    await t.http().get(`${API}/users/me`).set('Authorization', `Apikey ${secret}`).expect(401);
  });

  it('a 1-second key is refused after it expires', async () => {
    const { secret } = (await create(alice.access_token, newKey({ expires_in: 1 }))).body;
    await t.http().get(`${API}/users/me`).set('Authorization', `Apikey ${secret}`).expect(200);
    await sleep(1500);
    await t.http().get(`${API}/users/me`).set('Authorization', `Apikey ${secret}`).expect(401);
  });

  it('refuses scopes beyond the caller\'s with a 403 naming them; a restricted key cannot mint a broader one', async () => {
    const res = await create(alice.access_token, newKey({ scopes: ['read:metadata', 'admin:apikeys'] })).then((r) => r);
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(/Requested scopes \[admin:apikeys\] must be a subset of the principal's scopes/);

    const limited = (await create(alice.access_token, newKey({ scopes: ['create:apikeys', 'read:metadata'] }))).body.secret;
    const widen = await t.http().post(`${API}/auth/apikey`).set('Authorization', `Apikey ${limited}`).send(newKey({ scopes: ['read:data'] }));
    expect(widen.status).toBe(403);
    const inherit = await t.http().post(`${API}/auth/apikey`).set('Authorization', `Apikey ${limited}`).send(newKey());
    expect(inherit.status).toBe(403);
    await t.http().post(`${API}/auth/apikey`).set('Authorization', `Apikey ${limited}`).send(newKey({ scopes: ['read:metadata'] })).expect(200);
  });

  it('a read:metadata key reads metadata and is refused where another scope is needed (401, as Tiled)', async () => {
    const { secret } = (await create(alice.access_token, newKey({ scopes: ['read:metadata'] }))).body;
    const meta = await t.http().get(`${API}/metadata/`).set('Authorization', `Apikey ${secret}`).expect(200);
    expect(meta.body.data.attributes.structure_family).toBe('container');
    const refused = await t.http().post(`${API}/auth/apikey`).set('Authorization', `Apikey ${secret}`).send(newKey());
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: 'INSUFFICIENT_SCOPE_TILED' });
    expect(refused.body.detail).toMatch(/^Not enough permissions. Requires scopes \[create:apikeys\]. Request had scopes \[read:metadata\]$/);
    expect(refused.headers['www-authenticate']).toBe('Bearer scope="create:apikeys"');

    const none = (await create(alice.access_token, newKey({ scopes: [] }))).body.secret;
    await t.http().get(`${API}/metadata/`).set('Authorization', `Apikey ${none}`).expect(401);
    await t.http().get(`${API}/metadata/`).query({ api_key: none, scopes: 'read:metadata' }).expect(401);
  });

  it('a leaked key cannot manage its owner\'s account: revoke-all and password change need a login; listing keys needs read:account, revoking them revoke:apikeys', async () => {
    const reader = (await create(alice.access_token, newKey({ scopes: ['read:metadata'] }))).body.secret;
    const full = (await create(alice.access_token)).body.secret; // inherit: every scope alice has
    for (const key of [reader, full]) {
      const res = await t.http().post(`${API}/users/me/revoke-all`).set('Authorization', `Apikey ${key}`).expect(403);
      expect(res.body.code).toBe('SESSION_REQUIRED');
      await t
        .http()
        .post(`${API}/users/me/password`)
        .set('Authorization', `Apikey ${key}`)
        .send({ current_password: 'x', new_password: 'a brand new password' })
        .expect(403);
    }
    await t.http().get(`${API}/api-keys`).set('Authorization', `Apikey ${reader}`).expect(403); // read:account
    const list = await t.http().get(`${API}/api-keys`).set(bearer(alice.access_token)).expect(200);
    const victim = list.body.find((k: { status: string }) => k.status === 'active').id;
    const denied = await t.http().delete(`${API}/api-keys/${victim}`).set('Authorization', `Apikey ${reader}`).expect(403);
    expect(denied.body.code).toBe('INSUFFICIENT_SCOPE');
  });

  it('a foreign Apikey credential is an invalid API key; a deploy token is not accepted on user routes', async () => {
    for (const secret of ['lk_rt_abc', 'f'.repeat(72)]) {
      const res = await t.http().get(`${API}/users/me`).set('Authorization', `Apikey ${secret}`).expect(401);
      expect(res.body.detail).toBe('Invalid API key');
    }
    const dpl = await t.http().get(`${API}/users/me`).set('Authorization', 'Apikey lk_dpl_abc').expect(401);
    expect(dpl.body.code).toBe('CREDENTIAL_NOT_ACCEPTED');
  });

  it('enforces MAX_API_KEYS_PER_USER with a 400; revoked keys free a place', async () => {
    const small = await createTestApp({ MAX_API_KEYS_PER_USER: '3' }, t.db);
    try {
      await small.createUser('carol');
      const carol = await small.login('carol');
      const make = () => small.http().post(`${API}/auth/apikey`).set(bearer(carol.access_token)).send(newKey());
      const keys = [];
      for (let i = 0; i < 3; i++) keys.push((await make().expect(200)).body);
      const res = await make().expect(400);
      expect(res.body.code).toBe('API_KEY_LIMIT_REACHED');
      await small.http().delete(`${API}/auth/apikey`).query({ first_eight: keys[0].first_eight }).set(bearer(carol.access_token)).expect(204);
      await make().expect(200);
    } finally {
      await small.close({ keepDatabase: true });
    }
  });

  it('validates the body as Tiled does: expires_in and scopes must be present (null allowed)', async () => {
    await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send({ scopes: null }).expect(422);
    await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send({ expires_in: null }).expect(422);
    await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send(newKey({ expires_in: 'soon' })).expect(422);
    await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send(newKey({ scopes: 'read:data' })).expect(422);
    const tags = await create(alice.access_token, newKey({ access_tags: ['beamline-1'] }));
    expect(tags.status).toBe(403); // inherit + access tags
  });

  it('rejects malformed keys (bad checksum, non-ASCII, 10 KB) without a database query; a hot key is served from cache', async () => {
    const { secret } = (await create(alice.access_token)).body;
    const flipped = secret.slice(0, 20) + (secret[20] === 'A' ? 'B' : 'A') + secret.slice(21);
    // The usage log's write-behind flush (once a second, off the request path) may land in either
    // window on a slow machine; it writes earlier requests' uses and is no lookup.
    const lookups = () => queries.filter((q) => !/^INSERT INTO \S*credential_uses\b/.test(q));
    queries.length = 0;
    await t.http().get(`${API}/users/me`).set('Authorization', `Apikey ${flipped}`).expect(401);
    await t.http().get(`${API}/users/me`).set('Authorization', `Apikey lk_pat_${'a'.repeat(10_000)}`).expect(400);
    await t.http().get(`${API}/users/me`).set('Authorization', Buffer.from(`Apikey lk_pat_\xe9\xe9`, 'latin1').toString('latin1')).expect(400);
    await t.http().get(`${API}/auth/credential`).query({ api_key: 'not-a-key' }).expect(401);
    expect(lookups()).toEqual([]);

    await t.http().get(`${API}/auth/credential`).set('Authorization', `Apikey ${secret}`).expect(200);
    queries.length = 0;
    for (let i = 0; i < 20; i++) await t.http().get(`${API}/auth/credential`).set('Authorization', `Apikey ${secret}`).expect(200);
    expect(lookups()).toEqual([]); // the key lookup is cached
  });

  it('records last use at once for a new key, then at most once per interval; whoami shows the newest', async () => {
    const { secret, first_eight } = (await create(alice.access_token)).body;
    await t.http().get(`${API}/auth/credential`).set('Authorization', `Apikey ${secret}`).set('X-Forwarded-For', '203.0.113.9').expect(200);
    await sleep(100);
    const row = async () =>
      t.dataSource.query(`SELECT last_used_at FROM ${t.table('api_keys')} WHERE first_eight = '${first_eight}'`);
    const first = (await row())[0].last_used_at;
    expect(first).not.toBeNull();
    await sleep(1100);
    await t.http().get(`${API}/auth/credential`).set('Authorization', `Apikey ${secret}`).expect(200);
    await sleep(100);
    expect(String((await row())[0].last_used_at)).toBe(String(first)); // not written again within the interval
    const who = await t.http().get(`${API}/auth/whoami`).set(bearer(alice.access_token)).expect(200);
    const shown = who.body.api_keys.find((k: { first_eight: string }) => k.first_eight === first_eight).latest_activity;
    expect(Date.parse(shown)).toBeGreaterThan(new Date(first).getTime() + 1000);
    expect(Date.parse(who.body.latest_activity)).toBeGreaterThanOrEqual(Date.parse(shown));
  });

  it('a disabled user\'s key and JWT are refused', async () => {
    const dave = await t.createUser('dave');
    const tokens = await t.login('dave');
    const { secret } = (await create(tokens.access_token)).body;
    await t.dataSource.getRepository(User).update({ id: dave.id }, { status: 'disabled' });
    // The change goes through the service on real deployments; here, age the cache out.
    const short = await createTestApp({ USER_CACHE_TTL: '0' }, t.db);
    try {
      const byKey = await short.http().get(`${API}/users/me`).set('Authorization', `Apikey ${secret}`).expect(401);
      expect(byKey.body.code).toBe('AUTH_USER_INACTIVE');
      const byJwt = await short.http().get(`${API}/users/me`).set(bearer(tokens.access_token)).expect(401);
      expect(byJwt.body.code).toBe('AUTH_USER_INACTIVE');
    } finally {
      await short.close({ keepDatabase: true });
    }
  });
});
