import { bearer, createTestApp, type LoginBody, type TestApp } from './utils/create-test-app';
import { TaggedDatasetsModule } from './utils/tagged-datasets.module';

const API = '/api/v1';
const apikey = (secret: string) => ({ Authorization: `Apikey ${secret}` });

/**
 * Access tags reach a consumer module (docs/guards.md, "API key scopes and inherit"): a module
 * that tags its data reads the request's tags with `@AccessTags()` and filters by them. The module
 * here is test-only (Latchkey has no tagged data of its own); it is written as another team's
 * module would be, and runs behind the real guards, API-key verification and its caches.
 */
describe('access tags, as a consumer module enforces them', () => {
  let t: TestApp;
  let alice: LoginBody;

  beforeAll(async () => {
    t = await createTestApp({}, undefined, [], [TaggedDatasetsModule]);
    await t.createUser('alice');
    alice = await t.login('alice');
  });
  afterAll(() => t?.close());

  const mint = async (access_tags: string[] | null) =>
    (await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send({ scopes: ['read:metadata'], expires_in: null, note: null, access_tags }).expect(200)).body.secret as string;
  const datasets = async (app: TestApp, headers: Record<string, string>) => (await app.http().get(`${API}/test-datasets`).set(headers).expect(200)).body;

  it('a tagged key sees only entries with one of its tags, on every request (the verification cache keeps them)', async () => {
    const seven = await mint(['beamline-7']);
    const both = await mint(['beamline-7', 'public']);
    const none = await mint([]);
    for (let i = 0; i < 3; i++) {
      expect(await datasets(t, apikey(seven))).toEqual(['scan-7', 'shared']);
      expect(await datasets(t, apikey(both))).toEqual(['calibration', 'scan-7', 'shared']);
      expect(await datasets(t, apikey(none))).toEqual([]);
    }
  });

  it('untagged keys, access tokens and ?api_key= see everything; anonymous callers are refused by the guard', async () => {
    const all = ['calibration', 'scan-7', 'scan-8', 'shared'];
    expect(await datasets(t, apikey(await mint(null)))).toEqual(all);
    expect(await datasets(t, bearer(alice.access_token))).toEqual(all);
    const seven = await mint(['beamline-7']);
    expect((await t.http().get(`${API}/test-datasets`).query({ api_key: seven }).expect(200)).body).toEqual(['scan-7', 'shared']);
    await t.http().get(`${API}/test-datasets`).expect(401);
  });

  it('another instance on the same database (and Redis, when set) restricts the key the same way', async () => {
    const eight = await mint(['beamline-8']);
    expect(await datasets(t, apikey(eight))).toEqual(['scan-8', 'shared']);
    const other = await createTestApp({}, t.db, [], [TaggedDatasetsModule]);
    try {
      for (let i = 0; i < 2; i++) expect(await datasets(other, apikey(eight))).toEqual(['scan-8', 'shared']);
    } finally {
      await other.close({ keepDatabase: true });
    }
  });
});
