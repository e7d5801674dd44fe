import { ApiKey } from '../src/api-keys/api-key.entity';
import { CredentialUse } from '../src/credential-usage/credential-use.entity';
import { CredentialUsageRecorder } from '../src/credential-usage/credential-usage.recorder';
import { bearer, createTestApp, LoginBody, TestApp } from './utils/create-test-app';
import { spyOnQueries } from './utils/query-spy';
import { typo } from './utils/typo';

const API = '/api/v1';
const N = 5;

interface Use {
  used_at: string;
  method: string;
  route: string | null;
  ip: string | null;
  status: number;
}

/**
 * The per-credential usage log (issue 7): the last USAGE_LOG_SIZE uses of each API key and
 * deploy token, written behind, visible to the key's owner, the plugin's maintainers and admins.
 */
describe('per-credential usage log', () => {
  let t: TestApp;
  let recorder: CredentialUsageRecorder;
  let alice: LoginBody;
  let bob: LoginBody;
  let root: LoginBody;
  let queries: string[];

  beforeAll(async () => {
    t = await createTestApp({ USAGE_LOG_SIZE: String(N), CREDENTIAL_CACHE_TTL: '0', LAST_USED_INTERVAL: '0' });
    recorder = t.app.get(CredentialUsageRecorder);
    await t.createUser('alice');
    await t.createUser('bob');
    await t.createUser('root', undefined, ['admin']);
    alice = await t.login('alice');
    bob = await t.login('bob');
    root = await t.login('root');
    // Count SQL statements, to show what a flush costs.
    queries = [];
    spyOnQueries(t.dataSource, (sql) => queries.push(sql));
  });
  afterAll(() => t.close());

  const newKey = async (owner: LoginBody, scopes: string[] | null = null): Promise<{ id: string; secret: string }> => {
    const created = await t.http().post(`${API}/auth/apikey`).set(bearer(owner.access_token)).send({ scopes, expires_in: null }).expect(200);
    const list = await t.http().get(`${API}/api-keys`).set(bearer(owner.access_token)).expect(200);
    const id = (list.body as { id: string; first_eight: string }[]).find((k) => k.first_eight === created.body.first_eight)!.id;
    return { id, secret: created.body.secret as string };
  };
  const apikey = (secret: string) => ({ Authorization: `Apikey ${secret}` });
  const rowsOf = (where: { apiKeyId?: string; pluginTokenId?: string }) => t.dataSource.getRepository(CredentialUse).find({ where, order: { id: 'ASC' } });
  const upload = (auth: Record<string, string>, plugin: string, version: string) =>
    t.http().post(`${API}/plugins/${plugin}/versions`).set(auth).field('version', version).attach('file', Buffer.from(`pkg ${version}`), `${plugin}-${version}.tar.gz`);

  it(`keeps only the newest N uses of a key after N+10 uses, newest first, with method, route, IP and status`, async () => {
    const key = await newKey(alice);
    for (let i = 0; i < N + 9; i++) await t.http().get(`${API}/auth/whoami`).set(apikey(key.secret)).expect(200);
    await t.http().get(`${API}/users/me`).set(apikey(key.secret)).expect(200); // the newest
    expect(await rowsOf({ apiKeyId: key.id })).toHaveLength(0); // written behind, not on the request path

    queries.length = 0;
    await recorder.flush();
    // One multi-row INSERT and one trimming DELETE for the whole batch.
    expect(queries.filter((q) => /^\s*(INSERT|DELETE)/i.test(q))).toHaveLength(2);
    expect(queries.filter((q) => !/^\s*(INSERT|DELETE|BEGIN|COMMIT|START TRANSACTION)/i.test(q))).toEqual([]);

    const rows = await rowsOf({ apiKeyId: key.id });
    expect(rows).toHaveLength(N);

    const res = await t.http().get(`${API}/api-keys/${key.id}/usage`).set(bearer(alice.access_token)).expect(200);
    expect(res.body.limit).toBe(N);
    const uses = res.body.uses as Use[];
    expect(uses).toHaveLength(N);
    expect(uses[0]).toEqual({ used_at: expect.any(String), method: 'GET', route: `${API}/users/me`, ip: expect.stringMatching(/127\.0\.0\.1$/), status: 200 });
    for (const use of uses.slice(1)) expect(use).toMatchObject({ method: 'GET', route: `${API}/auth/whoami`, status: 200 });
    const times = uses.map((u) => Date.parse(u.used_at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    // More uses later: still N rows, the newest ones.
    for (let i = 0; i < 3; i++) await t.http().get(`${API}/api-keys`).set(apikey(key.secret)).expect(200);
    await recorder.flush();
    const after = await rowsOf({ apiKeyId: key.id });
    expect(after.map((r) => r.route)).toEqual([`${API}/auth/whoami`, `${API}/users/me`, `${API}/api-keys`, `${API}/api-keys`, `${API}/api-keys`]);
  });

  it('records refused outcomes with their status: 403 from the scope check, 404 and 422 from handlers', async () => {
    const narrow = await newKey(alice, ['read:metadata']);
    await t.http().get(`${API}/plugin-tokens`).set(apikey(narrow.secret)).expect(403);
    const full = await newKey(alice);
    await t.http().get(`${API}/plugins/no-such-plugin`).set(apikey(full.secret)).expect(404);
    await t.http().post(`${API}/plugins`).set(apikey(full.secret)).send({ name: 'Not A Valid Name!' }).expect(422);
    // A key that does not authenticate is no use of anything.
    await t.http().get(`${API}/auth/whoami`).set(apikey(typo(full.secret))).expect(401);
    await recorder.flush();

    expect((await rowsOf({ apiKeyId: narrow.id })).map((r) => [r.method, r.route, r.status])).toEqual([['GET', `${API}/plugin-tokens`, 403]]);
    expect((await rowsOf({ apiKeyId: full.id })).map((r) => [r.method, r.route, r.status])).toEqual([
      ['GET', `${API}/plugins/:package`, 404],
      ['POST', `${API}/plugins`, 422],
    ]);
  });

  it("shows a key's usage to its owner and admins only; another user gets the 404 of an unknown key", async () => {
    const key = await newKey(alice);
    await t.http().get(`${API}/auth/whoami`).set(apikey(key.secret)).expect(200);
    // Not flushed yet: the instance that served the use reports it at once.
    const own = await t.http().get(`${API}/api-keys/${key.id}/usage`).set(bearer(alice.access_token)).expect(200);
    expect(own.body.uses).toEqual([expect.objectContaining({ route: `${API}/auth/whoami`, status: 200 })]);
    await recorder.flush();

    const other = await t.http().get(`${API}/api-keys/${key.id}/usage`).set(bearer(bob.access_token)).expect(404);
    const unknown = await t.http().get(`${API}/api-keys/00000000-0000-4000-8000-000000000000/usage`).set(bearer(bob.access_token)).expect(404);
    expect(other.body.code).toBe('API_KEY_NOT_FOUND');
    expect({ ...other.body, requestId: null }).toEqual({ ...unknown.body, requestId: null });
    await t.http().get(`${API}/api-keys/not-a-uuid/usage`).set(bearer(alice.access_token)).expect(400);

    const admin = await t.http().get(`${API}/admin/credentials/api-keys/${key.id}/usage`).set(bearer(root.access_token)).expect(200);
    expect(admin.body).toEqual({ ...own.body });
    const denied = await t.http().get(`${API}/admin/credentials/api-keys/${key.id}/usage`).set(bearer(alice.access_token)).expect(403);
    expect(denied.body.code).toBe('INSUFFICIENT_ROLE');
    await t.http().get(`${API}/admin/credentials/api-keys/00000000-0000-4000-8000-000000000000/usage`).set(bearer(root.access_token)).expect(404);
    await t.http().get(`${API}/admin/credentials/sessions/${key.id}/usage`).set(bearer(root.access_token)).expect(404);
  });

  it("shows a deploy token's usage to the plugin's maintainers and admins, not to others", async () => {
    await t.http().post(`${API}/plugins`).set(bearer(alice.access_token)).send({ name: 'usage-plugin' }).expect(201);
    await t.http().post(`${API}/plugins`).set(bearer(bob.access_token)).send({ name: 'bobs-plugin' }).expect(201);
    const tok = await t.http().post(`${API}/plugins/usage-plugin/tokens`).set(bearer(alice.access_token)).send({ description: 'ci' }).expect(201);
    const bobs = await t.http().post(`${API}/plugins/bobs-plugin/tokens`).set(bearer(bob.access_token)).send({ description: 'ci' }).expect(201);
    const { id, token: secret } = tok.body as { id: string; token: string };

    await upload(bearer(secret), 'usage-plugin', '1.0.0').expect(201);
    await upload(bearer(secret), 'bobs-plugin', '1.0.0').expect(403); // another plugin: a use, refused
    await t.http().get(`${API}/plugins`).set(bearer(secret)).expect(401); // not accepted here: not a use
    await recorder.flush();

    const res = await t.http().get(`${API}/plugins/usage-plugin/tokens/${id}/usage`).set(bearer(alice.access_token)).expect(200);
    expect(res.body.limit).toBe(N);
    expect((res.body.uses as Use[]).map((u) => [u.method, u.route, u.status])).toEqual([
      ['POST', `${API}/plugins/:package/versions`, 403],
      ['POST', `${API}/plugins/:package/versions`, 201],
    ]);

    // Not a maintainer: 403 as on the other token routes; another plugin's token or junk: 404.
    const denied = await t.http().get(`${API}/plugins/usage-plugin/tokens/${id}/usage`).set(bearer(bob.access_token)).expect(403);
    expect(denied.body.code).toBe('PLUGIN_MAINTAINER_REQUIRED');
    const foreign = await t.http().get(`${API}/plugins/usage-plugin/tokens/${bobs.body.id}/usage`).set(bearer(alice.access_token)).expect(404);
    expect(foreign.body.code).toBe('PLUGIN_TOKEN_NOT_FOUND');
    await t.http().get(`${API}/plugins/usage-plugin/tokens/not-a-uuid/usage`).set(bearer(alice.access_token)).expect(404);
    await t.http().get(`${API}/plugins/no-such-plugin/tokens/${id}/usage`).set(bearer(alice.access_token)).expect(404);
    // A second maintainer sees it too.
    const invited = await t.http().post(`${API}/plugins/usage-plugin/invitations`).set(bearer(alice.access_token)).send({ username: 'bob' }).expect(201);
    await t.http().post(`${API}/plugin-invitations/${invited.body.id}/accept`).set(bearer(bob.access_token)).expect(200);
    await t.http().get(`${API}/plugins/usage-plugin/tokens/${id}/usage`).set(bearer(bob.access_token)).expect(200);

    const admin = await t.http().get(`${API}/admin/credentials/deploy-tokens/${id}/usage`).set(bearer(root.access_token)).expect(200);
    expect(admin.body).toEqual(res.body);
    await t.http().get(`${API}/admin/credentials/deploy-tokens/${id}/usage`).set(bearer(bob.access_token)).expect(403);
  });

  it('never stores a secret, a query string or a header value', async () => {
    const key = await newKey(alice);
    await t.http().get(`${API}/auth/whoami`).query({ api_key: key.secret }).expect(200);
    await t.http().get(`${API}/auth/whoami`).set('Cookie', `tiled_api_key=${key.secret}`).set('User-Agent', 'secret-agent/1.0').expect(200);
    await t.http().post(`${API}/plugins`).set(bearer(alice.access_token)).send({ name: 'secret-plugin' }).expect(201);
    const tok = await t.http().post(`${API}/plugins/secret-plugin/tokens`).set(bearer(alice.access_token)).send({ description: 'ci' }).expect(201);
    await upload({ Authorization: `Apikey ${tok.body.token}` }, 'secret-plugin', '1.0.0').expect(201);
    await t.http().post(`${API}/plugins/secret-plugin/versions?api_key=${tok.body.token}`).field('version', '1.0.1').attach('file', Buffer.from('x'), 'x.bin').expect(201);
    await recorder.flush();

    const rows = await t.dataSource.query(`SELECT * FROM ${t.table('credential_uses')}`);
    expect(rows.length).toBeGreaterThanOrEqual(4);
    const dump = JSON.stringify(rows.map((r: Record<string, unknown>) => Object.values(r)));
    const hashes = (await t.dataSource.query(`SELECT secret_hash FROM ${t.table('api_keys')}`)) as { secret_hash: string }[];
    for (const secret of [key.secret, tok.body.token, ...hashes.map((h) => h.secret_hash)]) expect(dump).not.toContain(secret);
    expect(dump).not.toMatch(/lk_(pat|dpl)_|api_key|\?|secret-agent|tiled_api_key/);
    expect((await rowsOf({ apiKeyId: key.id })).map((r) => r.route)).toEqual([`${API}/auth/whoami`, `${API}/auth/whoami`]);
  });

  it('goes with its credential: a deleted key loses its log, and a use of a key deleted before the flush does not sink the batch', async () => {
    const gone = await newKey(alice);
    const kept = await newKey(alice);
    await t.http().get(`${API}/auth/whoami`).set(apikey(gone.secret)).expect(200);
    await recorder.flush();
    expect(await rowsOf({ apiKeyId: gone.id })).toHaveLength(1);

    await t.http().get(`${API}/auth/whoami`).set(apikey(gone.secret)).expect(200);
    await t.http().get(`${API}/auth/whoami`).set(apikey(kept.secret)).expect(200);
    await t.dataSource.getRepository(ApiKey).delete({ id: gone.id }); // as when its owner is deleted
    expect(await rowsOf({ apiKeyId: gone.id })).toHaveLength(0); // ON DELETE CASCADE
    await recorder.flush();
    expect(recorder.size).toBe(0);
    expect(await rowsOf({ apiKeyId: gone.id })).toHaveLength(0);
    expect(await rowsOf({ apiKeyId: kept.id })).toHaveLength(1);
  });
});

describe('per-credential usage log: large flushes', () => {
  let t: TestApp;
  afterAll(() => t?.close());

  it('writes a flush of more rows than one INSERT takes in several INSERTs of one transaction, and trims to USAGE_LOG_SIZE', async () => {
    const keep = 1200;
    t = await createTestApp({ USAGE_LOG_SIZE: String(keep), CREDENTIAL_CACHE_TTL: '0', LAST_USED_INTERVAL: '0' });
    const recorder = t.app.get(CredentialUsageRecorder);
    await t.createUser('carol');
    const carol = await t.login('carol');
    await t.http().post(`${API}/auth/apikey`).set(bearer(carol.access_token)).send({ scopes: null, expires_in: null }).expect(200);
    const [key] = (await t.http().get(`${API}/api-keys`).set(bearer(carol.access_token)).expect(200)).body as { id: string }[];
    const credential = { type: 'api_key' as const, id: key.id };
    const start = Date.parse('2026-12-01T00:00:00Z');
    const use = (i: number) => ({ credential, usedAt: new Date(start + i * 1000), method: 'GET', route: `${API}/n/${i}`, ip: '127.0.0.1', status: 200 });
    for (let i = 0; i < 1300; i++) recorder.record(use(i)); // the newest 1200 are written: 500 + 500 + 200 rows
    await recorder.flush();
    const rows = await t.dataSource.getRepository(CredentialUse).find({ where: { apiKeyId: key.id }, order: { usedAt: 'ASC' } });
    expect(rows).toHaveLength(keep);
    expect(rows[0].route).toBe(`${API}/n/100`);
    expect(rows.at(-1)!.route).toBe(`${API}/n/1299`);
    expect(rows.at(-1)!.usedAt.toISOString()).toBe(new Date(start + 1299 * 1000).toISOString());
    // Another 400 later: the log keeps the newest 1200 once the trim is due (a quarter of the log).
    for (let i = 1300; i < 1700; i++) recorder.record(use(i));
    await recorder.flush();
    const after = await t.dataSource.getRepository(CredentialUse).find({ where: { apiKeyId: key.id }, order: { usedAt: 'ASC' } });
    expect(after).toHaveLength(keep);
    expect(after[0].route).toBe(`${API}/n/500`);
  });
});
