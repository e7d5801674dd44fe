import { AuditEvent } from '../src/audit/audit-event.entity';
import { AuditRetentionService } from '../src/audit/audit-retention.service';
import { UsersService } from '../src/users/users.service';
import { bearer, createTestApp, DEFAULT_PASSWORD, LoginBody, TestApp } from './utils/create-test-app';

const API = '/api/v1';

/**
 * The audit log: every security-relevant action leaves one event with who, what, from where and
 * the request id, and no event ever holds a secret. Each test drives real HTTP calls and reads
 * what the admin, the user and the plugin's maintainers can see.
 */
describe('audit log', () => {
  let t: TestApp;
  let root: LoginBody;
  let alice: LoginBody;
  let aliceId: string;
  /** Every secret the tests create or send: none may appear in the audit table. */
  const secrets = new Set<string>([DEFAULT_PASSWORD]);
  const keep = <T extends string>(secret: T): T => {
    secrets.add(secret);
    return secret;
  };

  beforeAll(async () => {
    t = await createTestApp({ REFRESH_REUSE_GRACE: '0', USER_CACHE_TTL: '0', CREDENTIAL_CACHE_TTL: '0' });
    await t.createUser('root', undefined, ['admin']);
    aliceId = (await t.createUser('alice')).id;
    await t.createUser('bob');
    root = await t.login('root');
    alice = await t.login('alice');
    for (const tokens of [root, alice]) [tokens.access_token, tokens.refresh_token].forEach(keep);
  });
  afterAll(() => t.close());

  const all = async () => t.dataSource.getRepository(AuditEvent).find({ order: { id: 'ASC' } });
  const ofType = async (type: string) => (await all()).filter((e) => e.type === type);
  const admin = (query: Record<string, string | number> = {}) =>
    t.http().get(`${API}/admin/audit`).query(query).set(bearer(root.access_token)).expect(200);

  it('a login records who, from where, with which request id; a failed one concerns the account it named', async () => {
    const res = await t.http().post(`${API}/auth/provider/local/token`).set('User-Agent', 'audit-test/1.0').type('form').send({ username: 'bob', password: DEFAULT_PASSWORD });
    keep(res.body.access_token);
    keep(res.body.refresh_token);
    const [event] = (await ofType('login.succeeded')).slice(-1);
    expect(event).toMatchObject({
      actorType: 'user',
      actorLabel: 'bob',
      subjectType: 'session',
      userAgent: 'audit-test/1.0',
      requestId: res.headers['x-request-id'],
      details: { provider: 'local', method: 'password' },
    });
    expect(event.ip).toBe('127.0.0.1'); // plain IPv4, not the socket's ::ffff:127.0.0.1

    await t.http().post(`${API}/auth/provider/local/token`).type('form').send({ username: 'alice', password: keep('wrong password 1') }).expect(401);
    await t.http().post(`${API}/auth/provider/local/token`).type('form').send({ username: keep('nobody-or-a-password'), password: keep('wrong password 2') }).expect(401);
    const failed = await ofType('login.failed');
    expect(failed.slice(-2).map((e) => [e.actorType, e.userId, e.subjectLabel, e.details?.reason])).toEqual([
      ['anonymous', aliceId, 'alice', 'invalid_credentials'],
      ['anonymous', null, null, 'invalid_credentials'], // the name typed for an unknown account is not kept
    ]);
  });

  it('refresh reuse, logout, API keys, password change and revoke-all each leave their event', async () => {
    const login = await t.login('alice');
    keep(login.access_token);
    const rotated = await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: keep(login.refresh_token) }).expect(200);
    keep(rotated.body.access_token);
    keep(rotated.body.refresh_token);
    await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: login.refresh_token }).expect(401); // reuse
    expect((await ofType('session.refresh_reuse')).slice(-1)[0]).toMatchObject({ userId: aliceId, details: { reason: 'refresh_reuse' } });

    const other = await t.login('alice');
    [other.access_token, other.refresh_token].forEach(keep);
    await t.http().post(`${API}/auth/session/revoke`).send({ refresh_token: other.refresh_token }).expect(204);
    // A logout by refresh token is the session's own user acting, not "anonymous".
    expect((await ofType('session.revoked')).slice(-1)[0]).toMatchObject({ userId: aliceId, actorType: 'user', actorId: aliceId, actorLabel: 'alice', details: { reason: 'logout' } });

    const key = await t.http().post(`${API}/auth/apikey`).set(bearer(alice.access_token)).send({ scopes: null, expires_in: null, note: 'laptop' }).expect(200);
    keep(key.body.secret);
    await t.http().delete(`${API}/auth/apikey`).query({ first_eight: key.body.first_eight }).set(bearer(alice.access_token)).expect(204);
    const keyEvents = (await all()).filter((e) => e.type.startsWith('api_key.'));
    expect(keyEvents.map((e) => [e.type, e.subjectLabel, e.actorLabel])).toEqual([
      ['api_key.created', key.body.first_eight, 'alice'],
      ['api_key.revoked', key.body.first_eight, 'alice'],
    ]);
    expect(keyEvents[0].details).toMatchObject({ scopes: ['inherit'], note: 'laptop' });

    const fresh = await t.login('alice');
    [fresh.access_token, fresh.refresh_token].forEach(keep);
    const changed = await t.http().post(`${API}/users/me/password`).set(bearer(fresh.access_token)).send({ current_password: DEFAULT_PASSWORD, new_password: keep('a new long password') }).expect(200);
    [changed.body.access_token, changed.body.refresh_token].forEach(keep);
    expect((await ofType('session.rotated')).slice(-1)[0]).toMatchObject({
      userId: aliceId,
      actorLabel: 'alice',
      subjectType: 'session',
      details: { reason: 'password_change', other_sessions_revoked: 1 },
    });
    await t.http().post(`${API}/users/me/revoke-all`).set(bearer(fresh.access_token)).expect(200);
    expect((await ofType('user.password_changed')).map((e) => e.userId)).toEqual([aliceId]);
    expect((await ofType('user.revoke_all')).slice(-1)[0]).toMatchObject({ userId: aliceId, actorLabel: 'alice', details: { epoch: 1 } });
    alice = await t.login('alice', 'a new long password');
    [alice.access_token, alice.refresh_token].forEach(keep);
  });

  it('plugins: creation, maintainers, deploy tokens and uploads, with the token as the uploader', async () => {
    await t.http().post(`${API}/plugins`).set(bearer(alice.access_token)).send({ name: 'audited' }).expect(201);
    const bobTokens = await t.login('bob');
    [bobTokens.access_token, bobTokens.refresh_token].forEach(keep);
    const invited = await t.http().post(`${API}/plugins/audited/invitations`).set(bearer(alice.access_token)).send({ username: 'bob' }).expect(201);
    await t.http().post(`${API}/plugin-invitations/${invited.body.id}/accept`).set(bearer(bobTokens.access_token)).expect(200);
    await t.http().delete(`${API}/plugins/audited/maintainers/bob`).set(bearer(alice.access_token)).expect(204);
    const tok = await t.http().post(`${API}/plugins/audited/tokens`).set(bearer(alice.access_token)).send({ description: 'github action' }).expect(201);
    keep(tok.body.token);
    await t.http().patch(`${API}/plugins/audited/tokens/${tok.body.id}`).set(bearer(alice.access_token)).send({ description: 'ci' }).expect(200);
    const rotated = await t.http().post(`${API}/plugins/audited/tokens/${tok.body.id}/rotate`).set(bearer(alice.access_token)).send({ overlap_seconds: 0 }).expect(200);
    keep(rotated.body.token);
    await t.http().post(`${API}/plugins/audited/versions`).set(bearer(rotated.body.token)).field('version', '1.0.0').attach('file', Buffer.from('pkg'), 'audited-1.0.0.tar.gz').expect(201);
    await t.http().delete(`${API}/plugins/audited/tokens/${tok.body.id}`).set(bearer(alice.access_token)).expect(204);

    const page = await t.http().get(`${API}/plugins/audited/audit`).set(bearer(alice.access_token)).expect(200);
    expect(page.body.events.map((e: { type: string }) => e.type).reverse()).toEqual([
      'plugin.created',
      'plugin.maintainer_invited',
      'plugin.invitation_accepted',
      'plugin.maintainer_added',
      'plugin.maintainer_removed',
      'deploy_token.created',
      'deploy_token.renamed',
      'deploy_token.rotated',
      'plugin.version_uploaded',
      'deploy_token.revoked',
    ]);
    const upload = page.body.events.find((e: { type: string }) => e.type === 'plugin.version_uploaded');
    expect(upload.actor).toEqual({ type: 'plugin_token', id: tok.body.id, label: 'Token ci' });
    expect(upload.details).toMatchObject({ plugin: 'audited', version: '1.0.0', replaced: false });
    // Not a maintainer: the plugin's events are not theirs to read.
    const bob = await t.login('bob');
    [bob.access_token, bob.refresh_token].forEach(keep);
    await t.http().get(`${API}/plugins/audited/audit`).set(bearer(bob.access_token)).expect(403);
  });

  it('disabling and enabling an account (here from the CLI side: the system actor)', async () => {
    const users = t.app.get(UsersService);
    await users.setStatus(aliceId, 'disabled');
    await users.setStatus(aliceId, 'active');
    const events = (await all()).filter((e) => e.type === 'user.disabled' || e.type === 'user.enabled');
    expect(events.map((e) => [e.type, e.actorType, e.actorLabel, e.subjectLabel])).toEqual([
      ['user.disabled', 'system', 'cli', 'alice'],
      ['user.enabled', 'system', 'cli', 'alice'],
    ]);
  });

  it('admins filter and page through everything; users see what concerns them; others get 403', async () => {
    const types = (await admin({ type: 'user.created' })).body.events.map((e: { subject: { label: string } }) => e.subject.label);
    expect(types.sort()).toEqual(['alice', 'bob', 'root']);
    expect((await admin({ actor: 'alice', type: 'api_key.created' })).body.events).toHaveLength(1);
    expect((await admin({ user: aliceId, type: 'login.failed' })).body.events).toHaveLength(1);
    expect((await admin({ since: new Date(Date.now() + 60_000).toISOString() })).body.events).toEqual([]);

    // Cursor paging: pages of 3 cover every event once, newest first.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { events: { id: string }[]; next_cursor: string | null } } = await admin({ limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.body.events.map((e) => e.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    const ids = (await all()).map((e) => String(e.id)).reverse();
    expect(seen).toEqual(ids);

    const mine = await t.http().get(`${API}/users/me/audit`).set(bearer(alice.access_token)).query({ limit: 500 }).expect(200);
    const concern = mine.body.events.map((e: { user_id: string | null; actor: { id: string | null } }) => e.user_id === aliceId || e.actor.id === aliceId);
    expect(concern.length).toBeGreaterThan(10);
    expect(concern.every(Boolean)).toBe(true);
    expect(mine.body.events.some((e: { type: string }) => e.type === 'login.failed')).toBe(true);

    await t.http().get(`${API}/admin/audit`).set(bearer(alice.access_token)).expect(403);
    await t.http().get(`${API}/admin/audit`).query({ cursor: 'x' }).set(bearer(root.access_token)).expect(422);
    await t.http().get(`${API}/admin/audit`).query({ type: 'no.such.type' }).set(bearer(root.access_token)).expect(422);
  });

  it('no event holds a secret, or a hash of one', async () => {
    const dump = JSON.stringify(await all());
    expect(secrets.size).toBeGreaterThan(15);
    for (const secret of secrets) expect(dump).not.toContain(secret);
    expect(dump).not.toMatch(/lk_(rt|pat|dpl|bs)_\w{20}|eyJ[\w-]+\.eyJ|\$argon2/);
    // Hashes: the stored keyed hashes of the API key and the refresh tokens do not appear either.
    const hashes = await t.dataSource.query(`SELECT secret_hash FROM ${t.table('api_keys')}`);
    for (const { secret_hash } of hashes) expect(dump).not.toContain(secret_hash);
  });

  it('retention: events older than AUDIT_RETENTION_DAYS are deleted by the job', async () => {
    const repo = t.dataSource.getRepository(AuditEvent);
    const before = await repo.count();
    await repo.insert(repo.create({ occurredAt: new Date(Date.now() - 400 * 86_400_000), type: 'user.enabled', actorType: 'system' }));
    expect(await t.app.get(AuditRetentionService).run()).toBe(1); // default retention: 365 days
    expect(await repo.count()).toBe(before);
  });
});
