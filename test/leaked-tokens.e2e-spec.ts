import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { bearer, createTestApp, LoginBody, TestApp } from './utils/create-test-app';
import { spyOnQueries } from './utils/query-spy';
import { csrfOf, loginInBrowser, TestBrowser } from './utils/test-browser';
import { typo } from './utils/typo';

const API = '/api/v1';
const GITHUB = `${API}/leaks/github-secret-scanning`;
const KEY_ID = 'test-key-1';

/**
 * Issue 22, "Leaked-token reports": GitHub's secret-scanning partner reports (signed, verified
 * against SECRET_SCANNING_KEYS) and the public report endpoint revoke every live token of ours
 * they carry, at once; the owner or the plugin's maintainers see it in their audit log. Attacks:
 * an unsigned, forged, re-used or unknown-key report changes nothing.
 */
describe('leaked-token reports', () => {
  let t: TestApp;
  let base: string;
  let github: KeyObject; // GitHub's signing key, as a test stands in for it
  let anna: LoginBody;
  let queries: string[] = [];

  const githubKeys = (pem: string, id = KEY_ID) => JSON.stringify({ public_keys: [{ key_identifier: id, key: pem, is_current: true }] });
  const signed = (body: string, key = github, id = KEY_ID) => ({
    'Content-Type': 'application/json',
    'Github-Public-Key-Identifier': id,
    'Github-Public-Key-Signature': sign('sha256', Buffer.from(body), key).toString('base64'),
  });
  const report = (body: string, headers: Record<string, string>) =>
    t.http().post(GITHUB).set(headers).serialize((b) => b as unknown as string).send(body);
  const matches = (...tokens: string[]) =>
    JSON.stringify(tokens.map((token) => ({ token, type: 'latchkey_token', url: 'https://github.com/octo/leaky/blob/abc/config.yml', source: 'content' })));
  const newKey = async () =>
    (await t.http().post(`${API}/auth/apikey`).set(bearer(anna.access_token)).send({ scopes: null, expires_in: null }).expect(200)).body.secret as string;
  const works = async (apiKey: string) => {
    const { status } = await t.http().get(`${API}/auth/credential`).set('Authorization', `Apikey ${apiKey}`);
    if (status !== 200 && status !== 401) throw new Error(`unexpected ${status}`);
    return status === 200;
  };

  beforeAll(async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    github = pair.privateKey;
    t = await createTestApp({ SECRET_SCANNING_KEYS: githubKeys(pair.publicKey.export({ type: 'spki', format: 'pem' }) as string) });
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
    await t.createUser('anna');
    anna = await t.login('anna');
    await t.http().post(`${API}/plugins`).set(bearer(anna.access_token)).send({ name: 'leaky-plugin' }).expect(201);
    spyOnQueries(t.dataSource, (sql) => queries.push(sql));
  });
  afterAll(() => t.close());

  it("revokes each of our tokens in a signed report and answers GitHub's format; the owners see it", async () => {
    const apiKey = await newKey();
    const deploy = (await t.http().post(`${API}/plugins/leaky-plugin/tokens`).set(bearer(anna.access_token)).send({ description: 'ci' }).expect(201)).body.token as string;
    const session = await t.login('anna');
    const lookAlike = typo(apiKey); // right prefix, wrong checksum
    const body = matches(apiKey, deploy, session.refresh_token, lookAlike, 'ghp_notoursatall');

    const res = await report(body, signed(body)).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual(
      [apiKey, deploy, session.refresh_token, lookAlike, 'ghp_notoursatall'].map((token, i) => ({
        token_hash: createHash('sha256').update(token).digest('hex'),
        token_type: 'latchkey_token',
        label: i < 3 ? 'true_positive' : 'false_positive',
      })),
    );

    // All three stopped working at once: the key, the deploy token, the session (refresh and access).
    expect(await works(apiKey)).toBe(false);
    await t.http().post(`${API}/plugins/leaky-plugin/versions`).set(bearer(deploy)).field('version', '1.0.0').attach('file', Buffer.from('x'), 'p.tar.gz').expect(401);
    await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: session.refresh_token }).expect(401);
    await t.http().get(`${API}/auth/credential`).set(bearer(session.access_token)).expect(401);
    await t.http().get(`${API}/auth/credential`).set(bearer(anna.access_token)).expect(200); // another session of hers

    // Anna sees her key and session reported, with where they were found; the plugin's maintainers see the token.
    const mine = (await t.http().get(`${API}/users/me/audit`).set(bearer(anna.access_token)).expect(200)).body.events as { type: string; details: Record<string, unknown> }[];
    const leaks = mine.filter((e) => e.type === 'credential.leak_reported');
    expect(leaks.map((e) => [e.details.kind, e.details.was_live, e.details.url, e.details.reporter])).toEqual(
      expect.arrayContaining([
        ['api_key', true, 'https://github.com/octo/leaky/blob/abc/config.yml', 'github_secret_scanning'],
        ['refresh_token', true, 'https://github.com/octo/leaky/blob/abc/config.yml', 'github_secret_scanning'],
      ]),
    );
    const plugin = (await t.http().get(`${API}/plugins/leaky-plugin/audit`).set(bearer(anna.access_token)).expect(200)).body.events as { type: string; details: Record<string, unknown> }[];
    expect(plugin.find((e) => e.type === 'credential.leak_reported')?.details).toMatchObject({ kind: 'deploy_token', was_live: true, source: 'content' });

    // And on the pages: /account for her key and session, the token page for the plugin's token.
    const browser = await loginInBrowser(base, 'anna');
    const account = (await browser.request(`${base}/account`)).body;
    const alerts = account.slice(account.indexOf('id="leaks"'), account.indexOf('</section>', account.indexOf('id="leaks"')));
    expect(alerts).toContain(`lk_pat_${apiKey.slice(7, 15)}…</span> was reported leaked`);
    expect(alerts).toContain('found at <span class="mono small">https://github.com/octo/leaky/blob/abc/config.yml</span>');
    expect(alerts).toContain('by GitHub secret scanning');
    expect(alerts).toContain('A login session (its refresh token) was reported leaked');
    const tokensPage = (await browser.request(`${base}/plugins/leaky-plugin/tokens`)).body;
    expect(tokensPage).toContain('Deploy token <strong>ci</strong> was reported leaked');

    // A second report of the same (now revoked) key is still ours, and no longer live.
    const again = matches(apiKey);
    expect((await report(again, signed(again)).expect(200)).body[0].label).toBe('true_positive');
  });

  it('a report of look-alikes only costs no database query', async () => {
    const apiKey = await newKey();
    const body = matches(typo(apiKey), 'lk_dpl_' + 'a'.repeat(46), 'lk_rt_short', 'x'.repeat(1024));
    queries = [];
    const res = await report(body, signed(body)).expect(200);
    expect(res.body.map((v: { label: string }) => v.label)).toEqual(['false_positive', 'false_positive', 'false_positive', 'false_positive']);
    expect(queries).toEqual([]);
    expect(await works(apiKey)).toBe(true);
  });

  describe('attack: a report not signed by a configured GitHub key changes nothing', () => {
    let apiKey: string;
    let body: string;
    beforeAll(async () => {
      apiKey = await newKey();
      body = matches(apiKey);
    });
    afterEach(async () => expect(await works(apiKey)).toBe(true));

    it('unsigned', async () => {
      const res = await report(body, { 'Content-Type': 'application/json' }).expect(401);
      expect(res.body.code).toBe('SIGNATURE_INVALID');
    });

    it("signed by the attacker's own key under GitHub's key id", async () => {
      const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      expect((await report(body, signed(body, attacker)).expect(401)).body.code).toBe('SIGNATURE_INVALID');
    });

    it("GitHub's signature of another report, replayed over this one", async () => {
      const other = matches('ghp_harmless');
      const headers = signed(other);
      expect((await report(body, headers).expect(401)).body.code).toBe('SIGNATURE_INVALID');
      // The same bytes re-serialised (spacing) are another body too.
      expect((await report(JSON.stringify(JSON.parse(body), null, 1), signed(body)).expect(401)).body.code).toBe('SIGNATURE_INVALID');
    });

    it('an unknown key id, a malformed or oversized signature', async () => {
      await report(body, signed(body, github, 'another-key')).expect(401);
      await report(body, { ...signed(body), 'Github-Public-Key-Signature': 'not base64!' }).expect(401);
      await report(body, { ...signed(body), 'Github-Public-Key-Signature': 'A'.repeat(4000) }).expect(401);
    });
  });

  it('refuses a malformed report with 422 (after the signature), and answers 404 where no key is configured', async () => {
    for (const body of ['{}', '[]', '[1]', JSON.stringify([{ token: 5, type: 'x' }]), JSON.stringify([{ token: '', type: 'x' }]), JSON.stringify(Array.from({ length: 1001 }, () => ({ token: 'a', type: 'x' })))]) {
      const res = await report(body, signed(body));
      expect([body.slice(0, 30), res.status, res.body.code]).toEqual([body.slice(0, 30), 422, 'VALIDATION_FAILED']);
    }
    const plain = await createTestApp({}, t.db);
    try {
      const body = matches('ghp_x');
      expect((await plain.http().post(GITHUB).set(signed(body)).serialize((b) => b as unknown as string).send(body)).status).toBe(404);
    } finally {
      await plain.close({ keepDatabase: true });
    }
  });

  it("accepts GitHub's published example report, signed by GitHub's published test key", async () => {
    // From GitHub's secret scanning partner program documentation ("Implement signature verification").
    const testKey = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEsz9ugWDj5jK5ELBK42ynytbo38gP\nHzZFI03Exwz8Lh/tCfL3YxwMdLjB+bMznsanlhK0RwcGP3IDb34kQDIo3Q==\n-----END PUBLIC KEY-----\n';
    const keyId = 'f9525bf080f75b3506ca1ead061add62b8633a346606dc5fe544e29231c6ee0d';
    const example = await createTestApp({ SECRET_SCANNING_KEYS: githubKeys(testKey, keyId) }, t.db);
    try {
      const body = '[{"token":"some_token","type":"some_type","url":"some_url","source":"some_source"}]';
      const res = await example
        .http()
        .post(GITHUB)
        .set({
          'Content-Type': 'application/json',
          'Github-Public-Key-Identifier': keyId,
          'Github-Public-Key-Signature': 'MEUCIFLZzeK++IhS+y276SRk2Pe5LfDrfvTXu6iwKKcFGCrvAiEAhHN2kDOhy2I6eGkOFmxNkOJ+L2y8oQ9A2T9GGJo6WJY=',
        })
        .serialize((b) => b as unknown as string)
        .send(body)
        .expect(200);
      expect(res.body).toEqual([{ token_hash: createHash('sha256').update('some_token').digest('hex'), token_type: 'some_type', label: 'false_positive' }]);
    } finally {
      await example.close({ keepDatabase: true });
    }
  });

  it('the public report revokes a live token; the answer is the same whatever was sent', async () => {
    const apiKey = await newKey();
    const answers = [];
    for (const token of [apiKey, typo(apiKey), 'lk_pat_nothing', 'hello']) {
      const res = await t.http().post(`${API}/leaks/report`).send({ token, url: 'https://pastebin.example/abc' }).expect(202);
      answers.push([res.body, res.headers['cache-control']]);
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    // Processed after the answer: the key is revoked first, then the audit event written.
    const reported = async () =>
      ((await t.http().get(`${API}/users/me/audit`).set(bearer(anna.access_token)).expect(200)).body.events as { type: string; details: Record<string, unknown> }[]).find(
        (e) => e.type === 'credential.leak_reported' && e.details.reporter === 'public_report',
      );
    for (let i = 0; i < 50 && !(await reported()); i++) await new Promise((r) => setTimeout(r, 40));
    expect(await works(apiKey)).toBe(false);
    expect((await reported())?.details).toMatchObject({ url: 'https://pastebin.example/abc', was_live: true });
    await t.http().post(`${API}/leaks/report`).send({ url: 'x' }).expect(422);
    await t.http().post(`${API}/leaks/report`).send({ token: 'x'.repeat(1025) }).expect(422);
  });

  it('the /report-leak page: a CSRF-checked form, the same thank-you whatever was sent; a reported URL is shown as text', async () => {
    const apiKey = await newKey();
    const browser = new TestBrowser();
    const form = await browser.request(`${base}/report-leak`);
    expect(form.status).toBe(200);
    const csrf = csrfOf(form.body)!;
    // Attack: a cross-site form post (no CSRF value) is refused and revokes nothing.
    const forged = await new TestBrowser().request(`${base}/report-leak`, { form: { token: apiKey, csrf: 'x' } });
    expect(forged.status).toBe(403);
    expect(await works(apiKey)).toBe(true);

    const xss = 'https://evil.example/<script>alert(1)</script>';
    const pages = [];
    for (const token of [apiKey, 'lk_pat_nothing']) {
      const res = await browser.request(`${base}/report-leak`, { form: { token, url: xss, csrf } });
      expect(res.status).toBe(200);
      pages.push(res.body.replace(/name="csrf" value="[^"]*"/g, ''));
    }
    expect(pages[0]).toContain('id="report-received"');
    expect(pages[0]).toBe(pages[1]);
    for (let i = 0; i < 50 && (await works(apiKey)); i++) await new Promise((r) => setTimeout(r, 40));
    expect(await works(apiKey)).toBe(false);
    // The owner's alert shows the reporter's URL escaped, never as markup.
    const owner = await loginInBrowser(base, 'anna');
    let account = '';
    for (let i = 0; i < 50 && !account.includes('evil.example'); i++) {
      account = (await owner.request(`${base}/account`)).body;
      if (!account.includes('evil.example')) await new Promise((r) => setTimeout(r, 40));
    }
    expect(account).toContain('https://evil.example/&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(account).not.toContain('<script>alert(1)</script>');
  });
});
