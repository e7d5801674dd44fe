import { bearer, createTestApp, LoginBody, TestApp } from './utils/create-test-app';

const API = '/api/v1';
const MSGPACK = { Accept: 'application/x-msgpack' };

/**
 * What the unmodified Tiled Python client (0.2.x) reads, request by request: `repr`, `list` and
 * `len` of the client `from_uri` returns walk `links.search` of `/metadata/` with
 * `?page[offset]=…&fields=&sort=` and follow `links.next`; its `handle_error` shows an error's
 * `detail` only when the content type is exactly `application/json`.
 */
describe('the Tiled Python client browses', () => {
  let t: TestApp;
  let alice: LoginBody;

  beforeAll(async () => {
    t = await createTestApp();
    await t.createUser('alice');
    alice = await t.login('alice');
  });
  afterAll(() => t.close());

  /** tiled.client.utils.handle_error: "STATUS: DETAIL URL", DETAIL only for exactly application/json. */
  function clientErrorMessage(res: { status: number; headers: Record<string, string>; text: string }): string {
    const detail = res.headers['content-type'] === 'application/json' ? (JSON.parse(res.text) as { detail?: string }).detail ?? '' : '';
    return `${res.status}: ${detail}`;
  }

  /** The path part of an absolute link (the app answers on a random port; links carry its origin). */
  const pathOf = (link: string) => {
    const url = new URL(link);
    return url.pathname + url.search;
  };

  /** Container.__iter__ / _keys_slice: every id of every page, as the client collects them. */
  async function listKeys(headers: Record<string, string>): Promise<{ keys: string[]; count: number; pages: number }> {
    const root = await t.http().get(`${API}/metadata/`).set(headers).set(MSGPACK).expect(200);
    let next: string | null = `${root.body.data.links.search}?page[offset]=0`;
    const keys: string[] = [];
    let count = -1;
    let pages = 0;
    while (next !== null && pages < 10) {
      const sep: string = next.includes('?') ? '&' : '?';
      const page: { body: any; headers: Record<string, string> } = await t.http().get(pathOf(`${next}${sep}fields=&sort=`)).set(headers).set(MSGPACK).expect(200);
      expect(page.headers['content-type']).toBe('application/json');
      count = page.body.meta.count;
      keys.push(...page.body.data.map((item: { id: string }) => item.id));
      next = page.body.links.next;
      pages++;
    }
    return { keys, count, pages };
  }

  it('repr, list and len of the root: an empty page in Tiled\'s shape, with a token or an API key', async () => {
    const key = (await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send({ scopes: ['read:metadata'], expires_in: null, note: null }).expect(200)).body.secret;
    for (const headers of [bearer(alice.access_token), { Authorization: `Apikey ${key}` }]) {
      expect(await listKeys(headers)).toEqual({ keys: [], count: 0, pages: 1 });
      // len(): fields=count, and the page shape the client and Tiled's own server use.
      const res = await t.http().get(`${API}/search/?fields=count&page[offset]=0&page[limit]=0`).set(headers).expect(200);
      expect(res.body).toEqual({
        data: [],
        error: null,
        meta: { count: 0 },
        links: expect.objectContaining({ next: null, prev: null, first: null, last: null, self: expect.stringContaining('/api/v1/search/?page[offset]=0&page[limit]=0') }),
      });
    }
  });

  it('pages the way Tiled does: defaults, limits, prev links, filters ignored; bad paging is a 422 with a detail', async () => {
    const at = (q: string) => t.http().get(`${API}/search/${q}`).set(bearer(alice.access_token));
    const first = (await at('').expect(200)).body;
    expect(first.links).toMatchObject({ self: expect.stringMatching(/\/search\/\?page\[offset\]=0&page\[limit\]=100$/), next: null, prev: null });
    const later = (await at('?page[offset]=250&page[limit]=100&filter[fulltext][condition][text]=x&include_data_sources=true').expect(200)).body;
    expect(later.links.prev).toMatch(/page\[offset\]=150&page\[limit\]=100$/);
    for (const bad of ['?page[limit]=301', '?page[offset]=-1', '?page[limit]=abc', '?page[offset]=1e3']) {
      const res = await at(bad).expect(422);
      expect(clientErrorMessage(res)).toMatch(/^422: page\[(offset|limit)\] must be an integer/);
    }
    await at('nothing/here').expect(404);
    await t.http().get(`${API}/metadata/nothing`).set(bearer(alice.access_token)).expect(404);
  });

  it('anonymous and under-scoped callers see why, as the client prints it', async () => {
    const anonymous = await t.http().get(`${API}/search/`).set(MSGPACK).expect(401);
    expect(clientErrorMessage(anonymous)).toMatch(/^401: \S/);
    const narrow = (await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send({ scopes: ['read:account'], expires_in: null, note: null }).expect(200)).body.secret;
    // As Tiled: a missing scope is a 401 that names it.
    const forbidden = await t.http().get(`${API}/search/`).set({ Authorization: `Apikey ${narrow}` }).expect(401);
    expect(clientErrorMessage(forbidden)).toMatch(/^401: .*read:metadata/);
  });

  it('every JSON answer is exactly application/json, errors included, so the client shows Latchkey\'s message', async () => {
    const wrongPassword = await t.http().post(`${API}/auth/provider/local/token`).type('form').send({ username: 'alice', password: 'nope' });
    expect(wrongPassword.status).toBe(401);
    expect(clientErrorMessage(wrongPassword)).toMatch(/^401: \w+/);
    const expired = await t.http().get(`${API}/auth/whoami`).set(bearer('eyJhbGciOiJIUzI1NiJ9.e30.x'));
    expect(expired.status).toBe(401);
    expect(clientErrorMessage(expired)).not.toBe('401: ');
    const notFound = await t.http().get(`${API}/no/such/route`).set(bearer(alice.access_token)).expect(404);
    expect(clientErrorMessage(notFound)).not.toBe('404: ');
    const ok = await t.http().get(`${API}/auth/whoami`).set(bearer(alice.access_token)).expect(200);
    expect(ok.headers['content-type']).toBe('application/json');
    expect(ok.body.type).toBe('user');
    // Non-ASCII survives (UTF-8, no charset parameter needed) and HEAD still answers without a body.
    await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send({ scopes: ['read:metadata'], expires_in: null, note: 'clé de Zoë ✓' }).expect(200);
    const keys = await t.http().get(`${API}/api-keys`).set(bearer(alice.access_token)).expect(200);
    expect(keys.body.map((k: { note: string }) => k.note)).toContain('clé de Zoë ✓');
    const head = await t.http().head(`${API}/auth/whoami`).set(bearer(alice.access_token)).expect(200);
    expect(head.headers['content-type']).toBe('application/json');
    // Pages for people keep their charset.
    const page = await t.http().get('/login').expect(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
  });
});
