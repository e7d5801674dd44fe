import { Clock } from '../src/common/clock';
import { CiIssuer, newSigningKey, startCiIssuer, type CiJobSpec } from './utils/ci-issuer';
import { bearer, createTestApp, type LoginBody, type TestApp } from './utils/create-test-app';
import { FakeClock } from './utils/fake-clock';

const API = '/api/v1';
const EXCHANGE = `${API}/trusted-publishing/exchange`;
const AUDIENCE = 'https://latchkey.test';

/**
 * Issue 22, "Trusted publishing": a CI job exchanges its OIDC ID token (GitHub Actions or GitLab
 * CI, played by local issuers that sign tokens with those CIs' claims) for a 15-minute deploy token
 * of the plugin its maintainers trust it for, and uploads with it as "Trusted publisher …". Each
 * attack (another repository, workflow, environment, ref, audience or issuer, an expired, replayed
 * or forged token, a key the issuer rotated away, a re-created repository) is refused.
 */
describe('trusted publishing', () => {
  let t: TestApp;
  let github: CiIssuer;
  let gitlab: CiIssuer;
  let stranger: CiIssuer; // a CI issuer Latchkey does not trust, GitHub-shaped
  let buildkite: CiIssuer; // another CI, whose claims the operator names (custom)
  const clock = new FakeClock();
  let anna: LoginBody; // maintains napari-foo
  let bob: LoginBody; // maintains nothing

  const release: CiJobSpec = { repository: 'Acme/napari-foo', workflow: 'release.yml', ref: 'refs/tags/v1.0.0', environment: 'pypi' };
  const exchange = (token: string, plugin = 'napari-foo') => t.http().post(EXCHANGE).send({ token, plugin });
  const refusedWith = async (token: string, code: string, plugin?: string) => {
    const res = await exchange(token, plugin);
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code });
    return res;
  };
  const upload = (token: string, version: string) =>
    t.http().post(`${API}/plugins/napari-foo/versions`).set(bearer(token)).field('version', version).attach('file', Buffer.from(`v${version}`), 'p.tar.gz');
  const addPublisher = (body: Record<string, unknown>, who = anna, plugin = 'napari-foo') =>
    t.http().post(`${API}/plugins/${plugin}/trusted-publishers`).set(bearer(who.access_token)).send(body);

  beforeAll(async () => {
    const now = () => clock.nowMs();
    [github, gitlab, stranger, buildkite] = await Promise.all([startCiIssuer('github', now), startCiIssuer('gitlab', now), startCiIssuer('github', now), startCiIssuer('github', now)]);
    t = await createTestApp(
      {
        TRUSTED_PUBLISHING_ISSUERS: 'github,gitlab,down,buildkite',
        TRUSTED_ISSUER_GITHUB_URL: github.issuer,
        TRUSTED_ISSUER_GITLAB_URL: gitlab.issuer,
        TRUSTED_ISSUER_DOWN_URL: 'http://127.0.0.1:9', // nothing listens there
        TRUSTED_ISSUER_DOWN_CLAIMS: 'github',
        // Buildkite's ID tokens: pipeline_slug, step_key, build_branch (no repository id).
        TRUSTED_ISSUER_BUILDKITE_URL: buildkite.issuer,
        TRUSTED_ISSUER_BUILDKITE_CLAIMS: 'custom',
        TRUSTED_ISSUER_BUILDKITE_DISPLAY_NAME: 'Buildkite',
        TRUSTED_ISSUER_BUILDKITE_REPOSITORY_CLAIM: 'pipeline_slug',
        TRUSTED_ISSUER_BUILDKITE_WORKFLOW_CLAIM: 'step_key',
        TRUSTED_ISSUER_BUILDKITE_REF_CLAIM: 'build_branch',
        TRUSTED_PUBLISHING_AUDIENCE: AUDIENCE,
        METRICS_TOKEN: 'prometheus-scrape-token-0123456789abcdef',
      },
      undefined,
      [{ provide: Clock, useValue: clock }],
    );
    await t.createUser('anna');
    await t.createUser('bob');
    [anna, bob] = await Promise.all([t.login('anna'), t.login('bob')]);
    await t.http().post(`${API}/plugins`).set(bearer(anna.access_token)).send({ name: 'napari-foo' }).expect(201);
    await t.http().post(`${API}/plugins`).set(bearer(bob.access_token)).send({ name: 'bobs-plugin' }).expect(201);
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([github, gitlab, stranger, buildkite].map((i) => i?.stop()));
  });

  it('says what to ask the CI for', async () => {
    const res = await t.http().get(`${API}/trusted-publishing`).expect(200);
    expect(res.body).toEqual({
      enabled: true,
      audience: AUDIENCE,
      token_ttl: 900,
      issuers: [
        { name: 'github', display_name: 'GitHub Actions', issuer: github.issuer, claims: 'github', claim_names: null },
        { name: 'gitlab', display_name: 'GitLab CI/CD', issuer: gitlab.issuer, claims: 'gitlab', claim_names: null },
        { name: 'down', display_name: 'down', issuer: 'http://127.0.0.1:9', claims: 'github', claim_names: null },
        {
          name: 'buildkite',
          display_name: 'Buildkite',
          issuer: buildkite.issuer,
          claims: 'custom',
          claim_names: { repository: 'pipeline_slug', workflow: 'step_key', ref: 'build_branch', environment: null, repository_id: null },
        },
      ],
    });
  });

  let githubPublisher: string;

  it('a GitHub Actions release job gets a 15-minute deploy token and uploads as the publisher', async () => {
    const added = await addPublisher({ issuer: 'github', repository: 'Acme/napari-foo', workflow: 'release.yml', environment: 'pypi', ref: 'refs/tags/v*' }).expect(201);
    githubPublisher = added.body.id;
    expect(added.body).toMatchObject({
      plugin: 'napari-foo',
      issuer: 'github',
      repository: 'acme/napari-foo',
      workflow: 'release.yml',
      environment: 'pypi',
      ref: 'refs/tags/v*',
      repository_id: null,
      label: 'Trusted publisher acme/napari-foo · release.yml · pypi',
      created_by: 'anna',
      last_used_at: null,
    });

    const res = await exchange(github.mint(github.job(release), { aud: AUDIENCE })).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.token).toMatch(/^lk_dpl_/);
    expect(res.body).toMatchObject({ plugin: 'napari-foo', description: 'Trusted publisher acme/napari-foo · release.yml · pypi', created_by: null, trusted_publisher_id: githubPublisher, publisher_id: githubPublisher, status: 'active' });
    // Short by design, so no "expires soon" warning (its CI gets a new one every run).
    expect(res.body.expires_soon).toBe(false);
    const whoami = await t.http().get(`${API}/auth/whoami`).set(bearer(anna.access_token)).expect(200);
    expect(whoami.body.expiring_credentials).toEqual([]);
    expect(Date.parse(res.body.expires_at) - clock.nowMs()).toBeGreaterThan(899_000);
    expect(Date.parse(res.body.expires_at) - clock.nowMs()).toBeLessThanOrEqual(900_000);

    const version = await upload(res.body.token, '1.0.0').expect(201);
    expect(version.body).toMatchObject({ uploaded_by: 'Trusted publisher acme/napari-foo · release.yml · pypi', uploaded_by_token_id: res.body.id });
    // It is a deploy token of this plugin only.
    await t.http().post(`${API}/plugins/bobs-plugin/versions`).set(bearer(res.body.token)).field('version', '1.0.0').attach('file', Buffer.from('x'), 'p.tar.gz').expect(403);

    // Maintainers neither rename it (its name is the publisher's) nor rotate it (it lives minutes): 409; they may revoke it.
    await t.http().patch(`${API}/plugins/napari-foo/tokens/${res.body.id}`).set(bearer(anna.access_token)).send({ description: 'renamed' }).expect(409);
    await t.http().post(`${API}/plugins/napari-foo/tokens/${res.body.id}/rotate`).set(bearer(anna.access_token)).send({}).expect(409);
    // …and it cannot make itself a longer life: no new deploy token, no new publisher.
    await t.http().post(`${API}/plugins/napari-foo/tokens`).set(bearer(res.body.token)).send({ description: 'forever' }).expect(401);
    await t.http().post(`${API}/plugins/napari-foo/trusted-publishers`).set(bearer(res.body.token)).send({ issuer: 'github', repository: 'mallory/x', workflow: 'r.yml' }).expect(401); // deploy tokens work on the upload routes only

    // The maintainers see who got it and who uploaded: the publisher and the job, in the audit log.
    const events = (await t.http().get(`${API}/plugins/napari-foo/audit`).set(bearer(anna.access_token)).expect(200)).body.events as Record<string, any>[];
    const created = events.find((e) => e.type === 'deploy_token.created' && e.subject.id === res.body.id)!;
    expect(created.actor).toMatchObject({ type: 'publisher', id: githubPublisher, label: 'Trusted publisher acme/napari-foo · release.yml · pypi' });
    expect(created.details).toMatchObject({ issuer: 'github', repository: 'acme/napari-foo', workflow: 'release.yml', environment: 'pypi', ref: 'refs/tags/v1.0.0', run: '9000000001', actor: 'octocat' });
    const uploaded = events.find((e) => e.type === 'plugin.version_uploaded')!;
    expect(uploaded.actor).toMatchObject({ type: 'plugin_token', id: res.body.id, label: 'Trusted publisher acme/napari-foo · release.yml · pypi' });
    // …and in the token list and its usage log.
    const tokens = (await t.http().get(`${API}/plugins/napari-foo/tokens`).set(bearer(anna.access_token)).expect(200)).body as Record<string, unknown>[];
    expect(tokens.find((tk) => tk.id === res.body.id)).toMatchObject({ trusted_publisher_id: githubPublisher, created_by: null });
    await new Promise((resolve) => setTimeout(resolve, 1200)); // the usage log is written behind, once a second
    const usage = await t.http().get(`${API}/plugins/napari-foo/tokens/${res.body.id}/usage`).set(bearer(anna.access_token)).expect(200);
    expect(usage.body.uses.length).toBeGreaterThanOrEqual(1);

    // The repository's id is pinned at the first exchange.
    const [listed] = (await t.http().get(`${API}/plugins/napari-foo/trusted-publishers`).set(bearer(anna.access_token)).expect(200)).body;
    expect(listed).toMatchObject({ id: githubPublisher, repository_id: '740001' });
    expect(listed.last_used_at).not.toBeNull();

    // 15 minutes later it is over.
    clock.advance(901);
    await upload(res.body.token, '1.0.1').expect(401);
  });

  it('a GitLab CI job gets one too (project path, CI config file, ref_path)', async () => {
    await addPublisher({ issuer: 'gitlab', repository: 'acme-group/sub/napari-foo', workflow: '.gitlab-ci.yml', ref: 'refs/heads/main' }).expect(201);
    const job = { repository: 'acme-group/sub/napari-foo', workflow: '.gitlab-ci.yml', ref: 'refs/heads/main' };
    const res = await exchange(gitlab.mint(gitlab.job(job), { aud: AUDIENCE })).expect(200);
    expect(res.body.description).toBe('Trusted publisher acme-group/sub/napari-foo · .gitlab-ci.yml');
    const version = await upload(res.body.token, '2.0.0').expect(201);
    expect(version.body.uploaded_by).toBe('Trusted publisher acme-group/sub/napari-foo · .gitlab-ci.yml');
    // The CI config kept in another project is not this project's pipeline.
    await refusedWith(gitlab.mint(gitlab.job({ ...job, configProject: 'evil/project' }), { aud: AUDIENCE }), 'TRUSTED_PUBLISHING_TOKEN_INVALID');
  });

  it("another CI, by the claims the operator named (Buildkite's pipeline, step and branch)", async () => {
    await addPublisher({ issuer: 'buildkite', repository: 'napari-foo', workflow: 'publish', ref: 'release-*' }).expect(201);
    await addPublisher({ issuer: 'buildkite', repository: 'napari-foo', workflow: 'publish', environment: 'prod' }).expect(422); // Buildkite sends none
    const job = (over: Record<string, unknown> = {}) =>
      buildkite.mint({ sub: 'organization:acme:pipeline:napari-foo:ref:refs/heads/release-1:step:publish', organization_slug: 'acme', pipeline_slug: 'napari-foo', step_key: 'publish', build_branch: 'release-1', ...over }, { aud: AUDIENCE });
    const res = await exchange(job()).expect(200);
    expect(res.body.description).toBe('Trusted publisher napari-foo · publish');
    await refusedWith(job({ step_key: 'test' }), 'TRUSTED_PUBLISHING_NO_PUBLISHER');
    await refusedWith(job({ pipeline_slug: 'Napari-Foo' }), 'TRUSTED_PUBLISHING_NO_PUBLISHER'); // compared exactly
    await refusedWith(job({ build_branch: 'main' }), 'TRUSTED_PUBLISHING_NO_PUBLISHER');
    await refusedWith(job({ build_branch: undefined }), 'TRUSTED_PUBLISHING_TOKEN_INVALID'); // a claim it was told to expect is missing
  });

  it('refuses a job its publisher does not name: repository, workflow, environment, ref, plugin', async () => {
    const cases: [CiJobSpec, string?][] = [
      [{ ...release, repository: 'Mallory/napari-foo' }],
      [{ ...release, workflow: 'ci.yml' }],
      [{ ...release, environment: 'staging' }],
      [{ ...release, environment: undefined }],
      [{ ...release, ref: 'refs/heads/main' }],
      [{ ...release, ref: 'refs/heads/refs/tags/v1' }],
      [release, 'bobs-plugin'], // right job, but bob's plugin trusts no one
      [release, 'no-such-plugin'], // the same answer as a plugin that exists
    ];
    for (const [job, plugin] of cases) {
      const res = await refusedWith(github.mint(github.job(job), { aud: AUDIENCE }), 'TRUSTED_PUBLISHING_NO_PUBLISHER', plugin);
      expect(res.body.detail).toBe('No trusted publisher of this plugin matches the ID token.');
    }
    // The environment's case does not matter on GitHub (it ignores it too).
    await exchange(github.mint(github.job({ ...release, environment: 'PyPI' }), { aud: AUDIENCE })).expect(200);
  });

  it('refuses tokens for another audience, from another issuer, expired, not yet valid, or without jti', async () => {
    const job = github.job(release);
    const invalid = async (token: string) => {
      const res = await refusedWith(token, 'TRUSTED_PUBLISHING_TOKEN_INVALID');
      expect(res.body.detail).toBe('The ID token is not one Latchkey accepts (issuer, signature, audience or lifetime).');
    };
    await invalid(github.mint(job)); // the default audience, not ours
    await invalid(github.mint(job, { aud: 'https://pypi.org' }));
    await invalid(stranger.mint(job, { aud: AUDIENCE })); // an issuer Latchkey does not trust
    await invalid(stranger.mint({ ...job, iss: github.issuer }, { aud: AUDIENCE, key: stranger.currentKey })); // claims GitHub's iss, signed by another key
    await invalid(github.mint(job, { aud: AUDIENCE, key: { kid: github.currentKey.kid, privateKey: newSigningKey().privateKey } })); // GitHub's kid, a forger's key
    await invalid(github.mint(job, { aud: AUDIENCE, shift: -400 })); // expired 100 s ago (> 60 s skew)
    await invalid(github.mint(job, { aud: AUDIENCE, shift: 300 })); // issued 5 minutes from now
    await invalid(github.mint(job, { aud: AUDIENCE, omit: ['jti'] }));
    await invalid(github.mint({ ...job, repository_id: undefined }, { aud: AUDIENCE })); // not a CI job's claims
    // Unsigned (alg none) and HMAC-signed with the issuer's public key (the algorithm-confusion attack).
    const [h, p] = github.mint(job, { aud: AUDIENCE }).split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid: github.currentKey.kid })).toString('base64url')}.${p}.`;
    await invalid(none);
    const { createHmac } = await import('node:crypto');
    const pem = github.currentKey.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const hsHeader = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: github.currentKey.kid })).toString('base64url');
    await invalid(`${hsHeader}.${p}.${createHmac('sha256', pem).update(`${hsHeader}.${p}`).digest('base64url')}`);
    expect(h).toBeDefined();
    await invalid('not-a-jwt');
  });

  it('accepts each ID token once, also when it arrives twice at the same moment', async () => {
    const token = github.mint(github.job(release), { aud: AUDIENCE });
    await exchange(token).expect(200);
    const replay = await refusedWith(token, 'TRUSTED_PUBLISHING_TOKEN_REPLAYED');
    expect(replay.body.detail).toBe('This ID token was already exchanged; request a new one.');

    const racing = github.mint(github.job(release), { aud: AUDIENCE });
    const answers = await Promise.all([exchange(racing), exchange(racing), exchange(racing)]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 401, 401]);
  });

  it('follows the issuer’s key rotation: the new key works, the key it rotated away does not', async () => {
    const retired = github.rotateKey();
    clock.advance(31); // past the refetch cooldown (an unknown kid refetches the JWKS at most every 30 s)
    const before = github.fetches.jwks;
    await exchange(github.mint(github.job(release), { aud: AUDIENCE })).expect(200);
    expect(github.fetches.jwks).toBe(before + 1);
    await refusedWith(github.mint(github.job(release), { aud: AUDIENCE, key: retired }), 'TRUSTED_PUBLISHING_TOKEN_INVALID');
    // A flood of unknown kids does not make Latchkey hammer the issuer.
    const forged = newSigningKey();
    for (let i = 0; i < 5; i++) await refusedWith(github.mint(github.job(release), { aud: AUDIENCE, key: forged }), 'TRUSTED_PUBLISHING_TOKEN_INVALID');
    expect(github.fetches.jwks).toBe(before + 1);
  });

  it('refuses a repository deleted and re-created under the same name (another repository id)', async () => {
    await refusedWith(github.mint(github.job({ ...release, repositoryId: '990099' }), { aud: AUDIENCE }), 'TRUSTED_PUBLISHING_NO_PUBLISHER');
  });

  it('an unreachable issuer is a 503 to retry, not a refusal', async () => {
    const down = new CiIssuer('github');
    down.issuer = 'http://127.0.0.1:9';
    const res = await exchange(down.mint(github.job(release), { aud: AUDIENCE })).expect(503);
    expect(res.headers['retry-after']).toBe('10');
  });

  it('only maintainers manage publishers, and only sensible ones', async () => {
    await addPublisher({ issuer: 'github', repository: 'bob/napari-foo', workflow: 'release.yml' }, bob).expect(403);
    await t.http().get(`${API}/plugins/napari-foo/trusted-publishers`).set(bearer(bob.access_token)).expect(403);
    await t.http().delete(`${API}/plugins/napari-foo/trusted-publishers/${githubPublisher}`).set(bearer(bob.access_token)).expect(403);
    const bad: [Record<string, unknown>, string][] = [
      [{ issuer: 'bitbucket', repository: 'a/b', workflow: 'r.yml' }, 'issuer must be one of: github, gitlab, down, buildkite.'],
      [{ issuer: 'github', repository: 'no-slash', workflow: 'r.yml' }, 'Not a publisher: repository: owner/repo.'],
      [{ issuer: 'github', repository: 'a/b', workflow: '../../evil.yml' }, 'Not a publisher: workflow: the workflow file name in .github/workflows, e.g. release.yml.'],
      [{ issuer: 'gitlab', repository: 'g/p', workflow: 'ci/../../x.yml' }, 'Not a publisher: workflow: the CI config path in the project, e.g. .gitlab-ci.yml.'],
      [{ issuer: 'github', repository: 'a/b', workflow: 'r.yml', ref: 'v*' }, 'Not a publisher: ref: a full ref or pattern, e.g. refs/tags/v* or refs/heads/main.'],
      [{ issuer: 'github', repository: 'a/b', workflow: 'r.yml', environment: 'prod\u00e9' }, 'Not a publisher: environment: up to 255 visible ASCII characters.'],
    ];
    for (const [body, message] of bad) {
      const res = await addPublisher(body).expect(422);
      expect(res.body.detail).toBe(message);
    }
    await addPublisher({ issuer: 'github', repository: 'a/b' }).expect(422);
    await addPublisher({ issuer: 'github', repository: 'Acme/napari-foo', workflow: 'release.yml', environment: 'pypi', ref: 'refs/tags/v*' }).expect(409);
  });

  it('removing a publisher revokes the tokens it got and refuses its next job', async () => {
    const res = await exchange(github.mint(github.job(release), { aud: AUDIENCE })).expect(200);
    const listTokens = async () => (await t.http().get(`${API}/plugins/napari-foo/tokens`).set(bearer(anna.access_token)).expect(200)).body as Record<string, unknown>[];
    const live = (await listTokens()).filter((tk) => tk.trusted_publisher_id === githubPublisher && tk.status === 'active').map((tk) => tk.id);
    expect(live.length).toBeGreaterThan(1); // this job's and the earlier tests' that have not expired
    await t.http().delete(`${API}/plugins/napari-foo/trusted-publishers/${githubPublisher}`).set(bearer(anna.access_token)).expect(204);
    await upload(res.body.token, '3.0.0').expect(401);
    expect((await listTokens()).filter((tk) => live.includes(tk.id)).map((tk) => tk.status)).toEqual(live.map(() => 'revoked'));
    await refusedWith(github.mint(github.job(release), { aud: AUDIENCE }), 'TRUSTED_PUBLISHING_NO_PUBLISHER');
    await t.http().delete(`${API}/plugins/napari-foo/trusted-publishers/${githubPublisher}`).set(bearer(anna.access_token)).expect(404);
    const events = (await t.http().get(`${API}/plugins/napari-foo/audit`).set(bearer(anna.access_token)).expect(200)).body.events as Record<string, any>[];
    expect(events.find((e) => e.type === 'trusted_publisher.removed')).toMatchObject({ actor: { type: 'user', label: 'anna' }, details: { tokens_revoked: live.length, repository: 'acme/napari-foo' } });
  });

  it('counts the exchanges for /metrics, by issuer and outcome', async () => {
    const text = (await t.http().get('/metrics').set('Authorization', 'Bearer prometheus-scrape-token-0123456789abcdef').expect(200)).text;
    const count = (issuer: string, outcome: string) =>
      Number(new RegExp(`^latchkey_trusted_publishing_exchanges_total\\{issuer="${issuer}",outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    expect(count('github', 'ok')).toBeGreaterThanOrEqual(5);
    expect(count('gitlab', 'ok')).toBe(1);
    expect(count('github', 'no_publisher')).toBeGreaterThanOrEqual(8);
    expect(count('github', 'replayed')).toBeGreaterThanOrEqual(3);
    expect(count('github', 'token_invalid')).toBeGreaterThanOrEqual(5);
    expect(count('unknown', 'token_invalid')).toBeGreaterThanOrEqual(2); // another issuer, not a JWT
    expect(count('down', 'unavailable')).toBe(1);
  });
});
