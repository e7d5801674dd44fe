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

  /**
   * What httpx sends for `client.get(link, params={**parse_qs(urlparse(link).query), **params})`:
   * the link's own query merged with the client's parameters, re-encoded (brackets as %5B/%5D),
   * on the link's path (the app answers on a random port; links carry its origin).
   */
  function httpxUrl(link: string, params: Record<string, string>): string {
    const url = new URL(link);
    const query = new URLSearchParams(url.search);
    for (const [name, value] of Object.entries(params)) query.set(name, value);
    url.search = query.toString();
    return url.pathname + url.search;
  }

  const get = (link: string, params: Record<string, string>, headers: Record<string, string>) =>
    t.http().get(httpxUrl(link, params)).set(headers).set(MSGPACK);

  /** The root node `from_uri` reads, then its `links.search`. */
  async function searchLink(headers: Record<string, string>): Promise<string> {
    const root = await t.http().get(`${API}/metadata/`).set(headers).set(MSGPACK).expect(200);
    expect(root.headers['content-type']).toBe('application/json');
    // No ETag (README, "JSON only, no ETag"): Express's own, a hash of every body sent, is off.
    expect(root.headers.etag).toBeUndefined();
    return root.body.data.links.search;
  }

  /**
   * Container._keys_slice(0, N) (what `repr` and `list` read): `{search}?page[offset]=0` plus
   * `fields=` and `sort=`, then every `links.next` with the same parameters, until it is null.
   */
  async function listKeys(headers: Record<string, string>): Promise<{ keys: string[]; count: number; pages: number }> {
    let next: string | null = `${await searchLink(headers)}?page[offset]=0`;
    const keys: string[] = [];
    let count = -1;
    let pages = 0;
    while (next !== null && pages < 10) {
      const page: { body: any; headers: Record<string, string> } = await get(next, { fields: '', sort: '' }, headers).expect(200);
      expect(page.headers['content-type']).toBe('application/json');
      count = page.body.meta.count;
      keys.push(...page.body.data.map((item: { id: string }) => item.id));
      next = page.body.links.next;
      pages++;
    }
    return { keys, count, pages };
  }

  /** Container.__len__: `links.search` with `fields=` and `sort=`, reading `meta.count`. */
  async function len(headers: Record<string, string>): Promise<number> {
    const res = await get(await searchLink(headers), { fields: '', sort: '' }, headers).expect(200);
    expect(res.headers['content-type']).toBe('application/json');
    return res.body.meta.count;
  }

  it('repr, list and len of the root: an empty page in Tiled\'s shape, with a token or an API key', async () => {
    const key = (await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send({ scopes: ['read:metadata'], expires_in: null, note: null }).expect(200)).body.secret;
    for (const headers of [bearer(alice.access_token), { Authorization: `Apikey ${key}` }]) {
      expect(await listKeys(headers)).toEqual({ keys: [], count: 0, pages: 1 });
      expect(await len(headers)).toBe(0);
      // fields=count, and the page shape Tiled's own server answers.
      for (const query of ['?fields=count', '?fields=count&page[offset]=0&page[limit]=0']) {
        const res = await t.http().get(`${API}/search/${query}`).set(headers).expect(200);
        expect(res.headers['content-type']).toBe('application/json');
        const limit = query.includes('page[limit]=0') ? 0 : 100;
        const at = (offset: number) => expect.stringMatching(new RegExp(`^http://[^/]+/api/v1/search/\\?page\\[offset\\]=${offset}&page\\[limit\\]=${limit}$`));
        expect(res.body).toEqual({
          data: [],
          error: null,
          meta: { count: 0 },
          links: { self: at(0), first: limit ? at(0) : null, last: limit ? at(0) : null, next: null, prev: null },
        });
      }
    }
  });

  it('pages the way Tiled does: defaults, limits, prev links, filters ignored; bad paging is a 422 with a detail', async () => {
    const at = (q: string) => t.http().get(`${API}/search/${q}`).set(bearer(alice.access_token));
    const first = (await at('').expect(200)).body;
    expect(first.links).toMatchObject({ self: expect.stringMatching(/\/search\/\?page\[offset\]=0&page\[limit\]=100$/), next: null, prev: null });
    const later = (await at('?page[offset]=250&page[limit]=100&filter[fulltext][condition][text]=x&include_data_sources=true').expect(200)).body;
    expect(later.links.prev).toMatch(/page\[offset\]=150&page\[limit\]=100$/);
    for (const bad of ['?page[limit]=301', '?page[offset]=-1', '?page[limit]=abc', '?page[offset]=1e3', '?page[offset]=1&page[offset]=2', '?page[offset]=99999999999', '?page[limit]=%00', '?page%5Blimit%5D=1.5']) {
      const res = await at(bad).expect(422);
      expect(clientErrorMessage(res)).toMatch(/^422: Invalid request: page\[(offset|limit)\] must be an integer from 0 to \d+$/);
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: expect.stringMatching(/^page\[(offset|limit)\]$/) }] });
    }
    // Both wrong: both named, as the other routes' validation errors do.
    expect((await at('?page[offset]=x&page[limit]=y').expect(422)).body.errors.map((e: { field: string }) => e.field)).toEqual(['page[offset]', 'page[limit]']);
    // Whatever else the client or a stranger sends is read as Tiled reads it: no match, never a 500.
    for (const odd of ['?page[offset]=', '?fields=count&fields=metadata', '?sort=-x,y', '?filter[eq][condition][key]=a&filter[eq][condition][value]=%22b%22', '?page=1&page[]=2&include_data_sources=maybe', `?${'x'.repeat(2000)}=1`]) {
      expect((await at(odd).expect(200)).body).toMatchObject({ data: [], meta: { count: 0 } });
    }
    for (const missing of [`${API}/search/nothing/here`, `${API}/metadata/nothing`]) {
      const res = await t.http().get(missing).set(bearer(alice.access_token)).set(MSGPACK).expect(404);
      expect(clientErrorMessage(res)).toMatch(/^404: No such entry: \/nothing/);
    }
  });

  it('anonymous, bad-key and under-scoped callers of repr/list/len see why, as the client prints it', async () => {
    const link = 'http://127.0.0.1/api/v1/search/?page[offset]=0';
    const anonymous = await get(link, { fields: '', sort: '' }, {}).expect(401);
    expect(clientErrorMessage(anonymous)).toBe('401: Not authenticated. Send "Authorization: Bearer <token>" or an API key.');
    const badKey = await get(link, { fields: '', sort: '' }, { Authorization: 'Apikey not-a-key' }).expect(401);
    expect(clientErrorMessage(badKey)).toBe('401: Invalid API key');
    // A key without read:metadata: as Tiled, a missing scope is a 401 that names it (not a 403).
    const narrow = (await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send({ scopes: ['read:account'], expires_in: null, note: null }).expect(200)).body.secret;
    for (const url of [`${API}/metadata/`, httpxUrl(link, { fields: '', sort: '' })]) {
      const res = await t.http().get(url).set({ Authorization: `Apikey ${narrow}` }).set(MSGPACK).expect(401);
      expect(clientErrorMessage(res)).toBe('401: Not enough permissions. Requires scopes [read:metadata]. Request had scopes [read:account]');
      expect(res.headers['www-authenticate']).toBe('Bearer scope="read:metadata"');
    }
  });

  it('every JSON answer is exactly application/json, errors included, so the client shows Latchkey\'s message', async () => {
    const answers: [string, { status: number; headers: Record<string, string>; text: string }, string][] = [
      ['wrong password', await t.http().post(`${API}/auth/provider/local/token`).type('form').send({ username: 'alice', password: 'nope' }), '401: Incorrect username or password'],
      ['forged token', await t.http().get(`${API}/auth/whoami`).set(bearer('eyJhbGciOiJIUzI1NiJ9.e30.x')).set(MSGPACK), '401: Could not validate credentials'],
      ['key broader than the caller', await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send({ scopes: ['read:principals'], expires_in: null, note: null }), "403: Requested scopes [read:principals] must be a subset of the principal's scopes ["],
      ['no such node', await t.http().get(`${API}/metadata/nothing`).set(bearer(alice.access_token)).set(MSGPACK), '404: No such entry: /nothing'],
      ['no such route', await t.http().get(`${API}/no/such/route`).set(bearer(alice.access_token)), '404: '],
      ['bad paging', await t.http().get(`${API}/search/?page[limit]=301`).set(bearer(alice.access_token)).set(MSGPACK), '422: Invalid request: page[limit] must be an integer from 0 to 300'],
      ['missing form field', await t.http().post(`${API}/auth/provider/local/token`).type('form').send({ username: 'alice' }), '422: '],
    ];
    for (const [what, res, message] of answers) {
      expect({ what, type: res.headers['content-type'], detail: typeof JSON.parse(res.text).detail }).toEqual({ what, type: 'application/json', detail: 'string' });
      expect({ what, shown: clientErrorMessage(res) }).toEqual({ what, shown: expect.stringContaining(message) });
    }
    for (const url of [`${API}/auth/whoami`, `${API}/metadata/`, `${API}/search/`]) {
      const ok = await t.http().get(url).set(bearer(alice.access_token)).set(MSGPACK).expect(200);
      expect({ url, type: ok.headers['content-type'] }).toEqual({ url, type: 'application/json' });
    }
    // Non-ASCII survives (UTF-8, no charset parameter needed) and HEAD still answers without a body.
    await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send({ scopes: ['read:metadata'], expires_in: null, note: 'clé de Zoë ✓' }).expect(200);
    const keys = await t.http().get(`${API}/api-keys`).set(bearer(alice.access_token)).expect(200);
    expect(keys.body.map((k: { note: string }) => k.note)).toContain('clé de Zoë ✓');
    const head = await t.http().head(`${API}/auth/whoami`).set(bearer(alice.access_token)).expect(200);
    expect(head.headers['content-type']).toBe('application/json');
    expect(head.text ?? '').toBe('');
    // Pages for people keep their charset; the OpenAPI documents are what Swagger serves.
    expect((await t.http().get('/login').expect(200)).headers['content-type']).toBe('text/html; charset=utf-8');
    expect((await t.http().get('/openapi.json').expect(200)).headers['content-type']).toBe('application/json');
    expect((await t.http().get('/openapi.yaml').expect(200)).headers['content-type']).toMatch(/^text\/yaml/);
  });
});
