import { bearer, createTestApp, LoginBody, TestApp } from './utils/create-test-app';
import { cli } from './utils/run-cli';
import { loginInBrowser } from './utils/test-browser';

const API = '/api/v1';
const DAY = 24 * 3600;

interface Listed {
  id: string;
  expires_at: string | null;
  status: string;
  expires_soon: boolean;
}

/**
 * Issue 22, "Expiry warnings": API keys and deploy tokens that still work but expire within 14
 * days are flagged in whoami, the token lists and the pages, and an operator command lists them
 * across users. Each credential here sits on one side of the line: 3 days (flagged), 13.9 days
 * (flagged), 15 days and no expiry (not flagged), revoked or expired (never flagged: nothing to renew).
 */
describe('expiry warnings', () => {
  let t: TestApp;
  let base: string;
  let anna: LoginBody;
  const keys: Record<string, { first_eight: string }> = {};
  const tokens: Record<string, { id: string }> = {};

  const newKey = async (who: LoginBody, expiresIn: number | null) =>
    (await t.http().post(`${API}/auth/apikey`).set(bearer(who.access_token)).send({ scopes: null, expires_in: expiresIn, note: null }).expect(200)).body as { first_eight: string };
  const newToken = async (plugin: string, description: string, expiresIn: number | null) =>
    (await t.http().post(`${API}/plugins/${plugin}/tokens`).set(bearer(anna.access_token)).send({ description, expires_in: expiresIn }).expect(201)).body as { id: string };

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
    await t.createUser('anna');
    await t.createUser('bert');
    anna = await t.login('anna');
    const bert = await t.login('bert');
    keys.soon = await newKey(anna, 3 * DAY);
    keys.edge = await newKey(anna, 14 * DAY - 3600);
    keys.later = await newKey(anna, 15 * DAY);
    keys.never = await newKey(anna, null);
    keys.revoked = await newKey(anna, 2 * DAY);
    await t.http().delete(`${API}/auth/apikey`).query({ first_eight: keys.revoked.first_eight }).set(bearer(anna.access_token)).expect(204);
    keys.expired = await newKey(anna, 1);
    keys.berts = await newKey(bert, 5 * DAY); // another user's: not in anna's whoami

    await t.http().post(`${API}/plugins`).set(bearer(anna.access_token)).send({ name: 'annas-plugin' }).expect(201);
    tokens.soon = await newToken('annas-plugin', 'release job', 2 * DAY);
    tokens.later = await newToken('annas-plugin', 'nightly job', 60 * DAY);
    tokens.never = await newToken('annas-plugin', 'forever job', null);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the 1-second key has expired
  });
  afterAll(() => t.close());

  it('flags live keys and tokens within 14 days in the lists, and nothing else', async () => {
    const listedKeys = (await t.http().get(`${API}/api-keys`).set(bearer(anna.access_token)).expect(200)).body as (Listed & { first_eight: string })[];
    const flagged = (name: string) => listedKeys.find((k) => k.first_eight === keys[name].first_eight)!;
    expect(Object.fromEntries(['soon', 'edge', 'later', 'never', 'revoked', 'expired'].map((n) => [n, [flagged(n).status, flagged(n).expires_soon]]))).toEqual({
      soon: ['active', true],
      edge: ['active', true],
      later: ['active', false],
      never: ['active', false],
      revoked: ['revoked', false],
      expired: ['expired', false],
    });

    const listedTokens = (await t.http().get(`${API}/plugins/annas-plugin/tokens`).set(bearer(anna.access_token)).expect(200)).body as Listed[];
    const byId = Object.fromEntries(listedTokens.map((x) => [x.id, x.expires_soon]));
    expect([byId[tokens.soon.id], byId[tokens.later.id], byId[tokens.never.id]]).toEqual([true, false, false]);
  });

  it("whoami lists the caller's expiring keys and their plugins' expiring deploy tokens, soonest first", async () => {
    const me = (await t.http().get(`${API}/auth/whoami`).set(bearer(anna.access_token)).expect(200)).body;
    expect(me.expiring_credentials.map((c: { type: string; name: string; plugin: string | null }) => [c.type, c.name, c.plugin])).toEqual([
      ['deploy_token', 'release job', 'annas-plugin'],
      ['api_key', keys.soon.first_eight, null],
      ['api_key', keys.edge.first_eight, null],
    ]);
    for (const c of me.expiring_credentials) expect(new Date(c.expires_at).getTime()).toBeGreaterThan(Date.now());
    // Tiled's part of the answer is unchanged.
    expect(me.api_keys.map((k: { first_eight: string }) => k.first_eight)).toContain(keys.later.first_eight);
  });

  it('the /account page and the plugin token page badge what expires soon', async () => {
    const browser = await loginInBrowser(base, 'anna');
    const account = (await browser.request(`${base}/account`)).body;
    const keyRow = (firstEight: string) => account.slice(account.indexOf(`data-first-eight="${firstEight}"`), account.indexOf('</tr>', account.indexOf(`data-first-eight="${firstEight}"`)));
    expect(keyRow(keys.soon.first_eight)).toContain('expires soon');
    expect(keyRow(keys.edge.first_eight)).toContain('expires soon');
    expect(keyRow(keys.later.first_eight)).not.toContain('expires soon');
    expect(keyRow(keys.never.first_eight)).not.toContain('expires soon');
    expect(keyRow(keys.revoked.first_eight)).not.toContain('expires soon');

    const page = (await browser.request(`${base}/plugins/annas-plugin/tokens`)).body;
    const tokenRow = (id: string) => page.slice(page.indexOf(`data-token="${id}"`), page.indexOf('</tr>', page.indexOf(`data-token="${id}"`)));
    expect(tokenRow(tokens.soon.id)).toContain('expires soon');
    expect(tokenRow(tokens.later.id)).not.toContain('expires soon');
  });

  it('credentials:expiring lists them across users and plugins for an operator; --days widens the window', async () => {
    const run = (argv: string[]) => cli(t.db, argv);
    const listed = await run(['credentials:expiring']);
    expect(listed).toMatchObject({ code: 0, err: '' });
    const lines = listed.out.trim().split('\n');
    expect(lines[0]).toMatch(/^KIND\s+ID\s+NAME\s+OF\s+EXPIRES/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[2])).toEqual(['release job', `lk_pat_${keys.soon.first_eight}…`, `lk_pat_${keys.berts.first_eight}…`, `lk_pat_${keys.edge.first_eight}…`]);
    expect(listed.out).toContain('user bert');
    expect(listed.out).toContain('plugin annas-plugin');

    const wider = await run(['credentials:expiring', '--days', '30']);
    expect(wider.out).toContain(`lk_pat_${keys.later.first_eight}…`);
    expect(wider.out).not.toContain('nightly job'); // 60 days
    expect((await run(['credentials:expiring', '--days', 'soon'])).code).toBe(2);

    const keyList = await run(['key:list', 'anna']);
    expect(keyList.out).toMatch(new RegExp(`lk_pat_${keys.soon.first_eight}….*active, expires soon`));
    expect(keyList.out).toMatch(new RegExp(`lk_pat_${keys.never.first_eight}….*active\\n`));
  });
});
