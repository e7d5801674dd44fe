import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditEvent } from '../src/audit/audit-event.entity';
import { loadConfig } from '../src/config/configuration';
import { PluginTokensService } from '../src/plugin-tokens/plugin-tokens.service';
import { PluginsService } from '../src/plugins/plugins.service';
import { bearer, createTestApp } from './utils/create-test-app';
import { cli } from './utils/run-cli';
import { createTestDatabase, TestDatabase } from './utils/test-database';

describe('operator CLI', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('creates an admin from a piped password, lists users, resets a password and ends sessions', async () => {
    const created = await cli(db, ['user:create', 'Root', '--admin', '--email', 'root@example.test'], 'a long passphrase\n');
    expect(created).toMatchObject({ code: 0, err: '' });
    expect(created.out).toMatch(/^Created user root \([0-9a-f-]{36}\) with roles user, admin\.\n$/);
    expect(created.out).not.toContain('a long passphrase');

    const dup = await cli(db, ['user:create', 'root'], 'another passphrase\n');
    expect(dup.code).toBe(1);
    expect(dup.err).toMatch(/taken/);

    const list = await cli(db, ['user:list']);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^USERNAME\s+ID\s+ROLES\s+STATUS/);
    expect(list.out).toMatch(/\nroot\s+[0-9a-f-]{36}\s+user,admin\s+active/);

    const t = await createTestApp({}, db);
    try {
      const tokens = await t.login('root', 'a long passphrase');
      const reset = await cli(db, ['user:set-password', 'root'], 'new long passphrase\n');
      expect(reset).toMatchObject({ code: 0 });
      expect(reset.out).toMatch(/1 session\(s\) ended/);
      await t.http().post('/api/v1/auth/session/refresh').send({ refresh_token: tokens.refresh_token }).expect(401);
      await t.login('root', 'new long passphrase');
    } finally {
      await t.close({ keepDatabase: true });
    }
  });

  it('disables and re-enables a user, and revokes everything they hold', async () => {
    expect((await cli(db, ['user:create', 'dora'], 'a long passphrase\n')).code).toBe(0);
    const t = await createTestApp({}, db);
    try {
      const tokens = await t.login('dora', 'a long passphrase');
      const disabled = await cli(db, ['user:disable', 'dora']);
      expect(disabled).toMatchObject({ code: 0, out: 'User dora is now disabled.\n' });
      // The CLI is another process: this app sees the change once its cache entry is stale.
      const fresh = await createTestApp({ USER_CACHE_TTL: '0' }, db);
      try {
        await fresh.http().get('/api/v1/users/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(401);
        await fresh.http().post('/api/v1/auth/provider/local/token').type('form').send({ username: 'dora', password: 'a long passphrase' }).expect(401);
        expect((await cli(db, ['user:enable', 'dora'])).out).toBe('User dora is now active.\n');
        await fresh.http().get('/api/v1/users/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);

        const revoked = await cli(db, ['user:revoke-all', 'dora']);
        expect(revoked.code).toBe(0);
        expect(revoked.out).toMatch(/1 session\(s\), 0 API key\(s\); epoch is now 1/);
        await fresh.http().get('/api/v1/users/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(401);
        await fresh.http().post('/api/v1/auth/session/refresh').send({ refresh_token: tokens.refresh_token }).expect(401);
      } finally {
        await fresh.close({ keepDatabase: true });
      }
    } finally {
      await t.close({ keepDatabase: true });
    }
    expect((await cli(db, ['user:disable', 'nobody'])).err).toMatch(/No user "nobody"/);
  });

  it('refuses passwords on argv, empty stdin, weak passwords, unknown commands and bad usernames', async () => {
    expect((await cli(db, ['user:create', 'eve', '--password', 'hunter22'])).code).toBe(2);
    const empty = await cli(db, ['user:create', 'eve'], '');
    expect(empty.code).toBe(1);
    expect(empty.err).toMatch(/No password on standard input/);
    const weak = await cli(db, ['user:create', 'eve'], 'short\n');
    expect(weak.code).toBe(1);
    expect(weak.err).toMatch(/8 to 1024 characters/);
    expect((await cli(db, ['user:delete', 'eve'])).code).toBe(2);
    expect((await cli(db, ['user:create', 'bad name!'], 'a long passphrase\n')).code).toBe(1);
    expect((await cli(db, ['user:set-password', 'nobody'], 'a long passphrase\n')).err).toMatch(/No user "nobody"/);
    expect((await cli(db, [])).code).toBe(2);
  });

  it('grants the admin role (user.roles_changed by the system), once; tails the audit log one event per line', async () => {
    expect((await cli(db, ['user:create', 'gus'], 'a long passphrase\n')).code).toBe(0);
    const granted = await cli(db, ['user:grant-admin', 'GUS']);
    expect(granted).toMatchObject({ code: 0, out: 'User gus now has roles user, admin.\n', err: '' });
    expect((await cli(db, ['user:grant-admin', 'gus'])).out).toBe('User gus is already an administrator.\n');
    expect((await cli(db, ['user:grant-admin', 'nobody'])).code).toBe(1);
    expect((await cli(db, ['user:grant-admin'])).code).toBe(2);

    const t = await createTestApp({}, db);
    try {
      const [event] = await t.dataSource.getRepository(AuditEvent).find({ where: { type: 'user.roles_changed' } });
      expect(event).toMatchObject({ actorType: 'system', actorLabel: 'cli', subjectLabel: 'gus', details: { before: ['user'], after: ['user', 'admin'] } });
      // The new administrator can use the admin API at once.
      const tokens = await t.login('gus', 'a long passphrase');
      await t.http().get('/api/v1/admin/users').set(bearer(tokens.access_token)).expect(200);
    } finally {
      await t.close({ keepDatabase: true });
    }

    const tail = await cli(db, ['audit:tail', '--limit', '3']);
    expect(tail.code).toBe(0);
    const lines = tail.out.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z login\.succeeded actor=user:gus subject=session:[0-9a-f-]{36} ip=\S+ request=\w+ \{"provider":"local","method":"password"\}$/);
    expect(lines[0]).toMatch(/ user\.created actor=system:cli subject=user:gus \{"roles":\["user"\],"password":true\}$/);
    expect(lines[1]).toMatch(/ user\.roles_changed actor=system:cli subject=user:gus \{"before":\["user"\],"after":\["user","admin"\]\}$/);
    const all = await cli(db, ['audit:tail']);
    expect(all.out.trimEnd().split('\n').length).toBeGreaterThan(5);
    expect(all.out).not.toMatch(/passphrase|lk_(rt|pat|dpl)_|eyJ|\$argon2/);
    for (const bad of [['--limit', '0'], ['--limit', 'ten'], ['--limit', '501'], ['--limit'], ['extra']]) {
      expect((await cli(db, ['audit:tail', ...bad])).code).toBe(2);
    }
  });

  it("lists and revokes a user's API keys and sessions and a plugin's deploy tokens, and never prints a secret", async () => {
    for (const name of ['kim', 'lee']) expect((await cli(db, ['user:create', name], 'a long passphrase\n')).code).toBe(0);
    const made = await cli(db, ['plugin:create', 'kim-plugin', '--maintainer', 'kim', '--display-name', 'Kim Plugin']);
    expect([made.code, made.out]).toEqual([0, expect.stringMatching(/^Created plugin kim-plugin \([0-9a-f-]{36}\) maintained by kim\.\n$/)]);
    expect((await cli(db, ['plugin:create', 'lee-plugin', '--maintainer', 'lee'])).code).toBe(0);

    const t = await createTestApp({}, db);
    let key: { first_eight: string; secret: string };
    let token: { id: string; token: string };
    let session: { access_token: string; refresh_token: string };
    try {
      session = await t.login('kim', 'a long passphrase');
      key = (await t.http().post('/api/v1/auth/apikey').set(bearer(session.access_token)).send({ scopes: null, expires_in: null, note: 'laptop' }).expect(200)).body;
      token = (await t.http().post('/api/v1/plugins/kim-plugin/tokens').set(bearer(session.access_token)).send({ description: 'release ci' }).expect(201)).body;
    } finally {
      await t.close({ keepDatabase: true });
    }

    const keys = await cli(db, ['key:list', 'kim']);
    expect(keys.out).toMatch(new RegExp(`^ID\\s+KEY\\s+NOTE\\s+SCOPES.*\\n[0-9a-f-]{36}\\s+lk_pat_${key.first_eight}…\\s+laptop\\s+inherit\\s.*\\sactive\\n$`));
    const tokens = await cli(db, ['token:list', 'kim-plugin']);
    expect(tokens.out).toMatch(new RegExp(`\\n${token.id}\\s+release ci\\s+kim\\s.*\\sactive\\n$`));
    const sid = JSON.parse(Buffer.from(session.access_token.split('.')[1], 'base64url').toString()).sid as string;
    const sessions = await cli(db, ['session:list', 'kim']);
    expect(sessions.out).toMatch(new RegExp(`\\n${sid}\\s+password\\s+\\S+\\s.*\\sactive\\n$`));
    for (const out of [keys.out, tokens.out, sessions.out]) expect(out).not.toMatch(/lk_pat_\w{9}|lk_dpl_|lk_rt_|eyJ/);

    // Revoke each: a key by its first eight, a token of its own plugin only, a session by id.
    expect((await cli(db, ['key:revoke', 'kim', 'nothere1'])).code).toBe(1);
    expect(await cli(db, ['key:revoke', 'kim', key.first_eight])).toMatchObject({ code: 0, out: `API key ${key.first_eight} of kim revoked.\n` });
    const wrongPlugin = await cli(db, ['token:revoke', 'lee-plugin', token.id]);
    expect([wrongPlugin.code, wrongPlugin.err]).toEqual([1, expect.stringContaining('lee-plugin has no deploy token')]);
    expect(await cli(db, ['token:revoke', 'kim-plugin', token.id])).toMatchObject({ code: 0, out: 'Deploy token "release ci" of kim-plugin revoked.\n' });
    expect((await cli(db, ['session:revoke', 'lee', sid])).code).toBe(1); // not lee's
    expect(await cli(db, ['session:revoke', 'kim', sid])).toMatchObject({ code: 0, out: `Session ${sid} of kim revoked.\n` });

    expect((await cli(db, ['key:list', 'kim'])).out).toMatch(/\(no live API keys\)\n$/);
    expect((await cli(db, ['key:list', 'kim', '--all'])).out).toMatch(/\srevoked\n$/);
    expect((await cli(db, ['token:list', 'kim-plugin', '--all'])).out).toMatch(/\srevoked\n$/);
    expect((await cli(db, ['session:list', 'kim'])).out).toMatch(/\(no live sessions\)\n$/);

    // A server that starts now refuses all three, and records who revoked them.
    const after = await createTestApp({}, db);
    try {
      await after.http().get('/api/v1/auth/whoami').set('Authorization', `Apikey ${key.secret}`).expect(401);
      const upload = await after.http().post('/api/v1/plugins/kim-plugin/versions').set(bearer(token.token)).field('version', '1.0.0').attach('file', Buffer.from('x'), 'a.tgz');
      expect(upload.status).toBe(401);
      await after.http().post('/api/v1/auth/session/refresh').send({ refresh_token: session.refresh_token }).expect(401);
      const events = await after.dataSource.getRepository(AuditEvent).find({ where: { actorType: 'system' } });
      expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['api_key.revoked', 'deploy_token.revoked', 'session.revoked', 'plugin.created']));
    } finally {
      await after.close({ keepDatabase: true });
    }
  });

  it('adds a maintainer directly (once), and refuses bad usage', async () => {
    expect((await cli(db, ['user:create', 'max'], 'a long passphrase\n')).code).toBe(0);
    expect((await cli(db, ['plugin:create', 'max-plugin', '--maintainer', 'max'])).code).toBe(0);
    expect((await cli(db, ['user:create', 'ned'], 'a long passphrase\n')).code).toBe(0);
    expect(await cli(db, ['plugin:add-maintainer', 'max-plugin', 'ned'])).toMatchObject({ code: 0, out: 'ned now maintains max-plugin.\n' });
    expect(await cli(db, ['plugin:add-maintainer', 'max-plugin', 'ned'])).toMatchObject({ code: 0, out: 'ned already maintains max-plugin.\n' });
    const t = await createTestApp({}, db);
    try {
      const { access_token } = await t.login('ned', 'a long passphrase');
      const plugin = (await t.http().get('/api/v1/plugins/max-plugin').set(bearer(access_token)).expect(200)).body;
      expect(plugin.maintainers.sort()).toEqual(['max', 'ned']);
      const [event] = await t.dataSource.getRepository(AuditEvent).find({ where: { type: 'plugin.maintainer_added' } });
      expect(event).toMatchObject({ actorType: 'system', actorLabel: 'cli', subjectLabel: 'ned' });
    } finally {
      await t.close({ keepDatabase: true });
    }
    expect((await cli(db, ['plugin:add-maintainer', 'no-such-plugin', 'ned'])).code).toBe(1);
    expect((await cli(db, ['plugin:create', 'taken', '--maintainer', 'nobody'])).code).toBe(1);
    expect((await cli(db, ['plugin:create', 'max-plugin', '--maintainer', 'max'])).err).toMatch(/exists already/);
    for (const argv of [['key:revoke', 'max'], ['token:list'], ['plugin:create', 'x'], ['session:list', 'max', 'extra'], ['key:list', 'max', '--all', 'x'], ['plugin:add-maintainer', 'max-plugin']]) {
      expect([argv.join(' '), (await cli(db, argv)).code]).toEqual([argv.join(' '), 2]);
    }
  });

  it("publisher:add, publisher:list and publisher:remove manage a plugin's trusted publishers, with the service's refusals", async () => {
    expect((await cli(db, ['user:create', 'pia'], 'a long passphrase\n')).code).toBe(0);
    expect((await cli(db, ['plugin:create', 'pia-plugin', '--maintainer', 'pia'])).code).toBe(0);
    const corp = { TRUSTED_PUBLISHING_ISSUERS: 'github,gitlab,corp', TRUSTED_ISSUER_CORP_URL: 'https://gitlab.corp.test', TRUSTED_ISSUER_CORP_CLAIMS: 'gitlab', TRUSTED_ISSUER_CORP_DISPLAY_NAME: 'Corp GitLab' };
    const env = { ...corp, TRUSTED_PUBLISHING_AUDIENCE: 'https://latchkey.test', PUBLIC_URL: 'https://latchkey.test' };
    expect((await cli(db, ['publisher:list', 'pia-plugin'])).out).toBe('ID  CI  REPOSITORY  WORKFLOW  ENVIRONMENT  REF  REPOSITORY ID  LAST USED\n(no trusted publishers)\n');

    const release = ['publisher:add', 'pia-plugin', '--issuer', 'github', '--repository', 'Acme/Pia-Plugin', '--workflow', 'release.yml', '--environment', 'pypi', '--ref', 'refs/tags/v*'];
    const added = await cli(db, release, '', env);
    expect([added.code, added.err]).toEqual([0, '']);
    const [line, hint, ...rest] = added.out.trimEnd().split('\n');
    expect(rest).toEqual([]);
    const id = /^Trusted publisher "acme\/pia-plugin · release\.yml · pypi" added to pia-plugin \(id ([0-9a-f-]{36})\)\.$/.exec(line)?.[1];
    expect(id).toBeDefined();
    expect(hint).toBe('Its CI job must request an ID token with audience "https://latchkey.test" and POST it to https://latchkey.test/api/v1/trusted-publishing/exchange as {"token": <ID token>, "plugin": "pia-plugin"}, which answers a deploy token that lives 15 minutes.');
    const gitlab = await cli(db, ['publisher:add', 'pia-plugin', '--issuer', 'corp', '--repository', 'tools/pia', '--workflow', '.gitlab-ci.yml'], '', corp);
    expect(gitlab.code).toBe(0);
    const corpId = /\(id ([0-9a-f-]{36})\)/.exec(gitlab.out)![1];
    expect(gitlab.out).toMatch(/\nIts CI job must request an ID token with audience "[^"]+" and POST it to \/api\/v1\/trusted-publishing\/exchange as /);

    const listed = await cli(db, ['publisher:list', 'pia-plugin'], '', corp);
    expect(listed.code).toBe(0);
    const [header, first, second, ...more] = listed.out.trimEnd().split('\n');
    expect(more).toEqual([]);
    expect(header).toMatch(/^ID\s+CI\s+REPOSITORY\s+WORKFLOW\s+ENVIRONMENT\s+REF\s+REPOSITORY ID\s+LAST USED$/);
    expect(first.split(/\s{2,}/)).toEqual([id, 'GitHub Actions', 'acme/pia-plugin', 'release.yml', 'pypi', 'refs/tags/v*', '-', 'never']);
    expect(second.split(/\s{2,}/)).toEqual([corpId, 'Corp GitLab', 'tools/pia', '.gitlab-ci.yml', 'any', 'any', '-', 'never']);
    // An issuer no longer configured shows by its name.
    expect((await cli(db, ['publisher:list', 'pia-plugin'])).out).toMatch(new RegExp(`\\n${corpId}\\s+corp\\s+tools/pia\\s`));

    // The service's refusals: exit 1, its message, nothing added.
    const dup = await cli(db, release);
    expect([dup.code, dup.out, dup.err]).toEqual([1, '', 'error: pia-plugin already trusts this publisher.\n']);
    const badRef = await cli(db, ['publisher:add', 'pia-plugin', '--issuer', 'github', '--repository', 'acme/pia-plugin', '--workflow', 'ci.yml', '--ref', 'v*']);
    expect([badRef.code, badRef.err]).toEqual([1, expect.stringMatching(/^error: Not a publisher: ref: a full ref or pattern, e\.g\. refs\/tags\/v\*/)]);
    const unknown = await cli(db, ['publisher:add', 'pia-plugin', '--issuer', 'jenkins', '--repository', 'acme/pia-plugin', '--workflow', 'ci.yml'], '', corp);
    expect([unknown.code, unknown.err]).toEqual([1, 'error: issuer must be one of: github, gitlab, corp.\n']);
    const off = await cli(db, ['publisher:add', 'pia-plugin', '--issuer', 'github', '--repository', 'acme/pia-plugin', '--workflow', 'ci.yml'], '', { TRUSTED_PUBLISHING_ISSUERS: 'none' });
    expect([off.code, off.err]).toEqual([1, expect.stringContaining('Trusted publishing is not enabled here')]);
    expect((await cli(db, ['publisher:add', 'no-such-plugin', '--issuer', 'github', '--repository', 'acme/x', '--workflow', 'ci.yml'])).code).toBe(1);
    expect((await cli(db, ['publisher:list', 'pia-plugin'], '', corp)).out.trimEnd().split('\n')).toHaveLength(3);
    // Usage errors (exit 2) before anything is opened.
    for (const argv of [
      ['publisher:add', 'pia-plugin', '--issuer', 'github', '--repository', 'acme/x'],
      ['publisher:add', 'pia-plugin', '--repository', 'acme/x', '--workflow', 'ci.yml'],
      ['publisher:add', 'pia-plugin', '--issuer', 'github', '--repository', 'acme/x', '--workflow'],
      ['publisher:add', '--issuer', 'github', '--repository', 'acme/x', '--workflow', 'ci.yml'],
      ['publisher:list'],
      ['publisher:remove', 'pia-plugin'],
    ]) {
      expect([argv.join(' '), (await cli(db, argv)).code]).toEqual([argv.join(' '), 2]);
    }
    expect((await cli(db, ['publisher:add', 'pia-plugin', '--issuer', 'github', '--repository', 'acme/x'])).err).toBe('publisher:add needs --workflow.\n');

    // A deploy token the GitHub publisher's job got: token:list says who made it; removing the publisher revokes it.
    const t = await createTestApp({}, db);
    let token: string;
    try {
      const plugin = await t.app.get(PluginsService).getByName('pia-plugin');
      token = (await t.app.get(PluginTokensService).createForPublisher(plugin, { id: id!, label: 'Trusted publisher acme/pia-plugin · release.yml · pypi' }, 900, {})).token.id;
    } finally {
      await t.close({ keepDatabase: true });
    }
    expect((await cli(db, ['token:list', 'pia-plugin'])).out).toMatch(new RegExp(`\\n${token}\\s+Trusted publisher acme/pia-plugin · release\\.yml · pypi\\s+trusted publisher\\s.*\\sactive\\n$`)); // no "expires soon": short by design

    const removed = await cli(db, ['publisher:remove', 'pia-plugin', id!]);
    expect(removed).toMatchObject({ code: 0, err: '', out: 'Trusted publisher "acme/pia-plugin · release.yml · pypi" removed from pia-plugin; 1 live deploy token(s) revoked.\n' });
    expect((await cli(db, ['token:list', 'pia-plugin', '--all'])).out).toMatch(new RegExp(`\\n${token}\\s.*\\srevoked\\n$`));
    expect((await cli(db, ['publisher:remove', 'pia-plugin', corpId])).out).toBe('Trusted publisher "tools/pia · .gitlab-ci.yml" removed from pia-plugin; 0 live deploy token(s) revoked.\n');
    expect((await cli(db, ['publisher:list', 'pia-plugin'])).out).toMatch(/\n\(no trusted publishers\)\n$/);
    const again = await cli(db, ['publisher:remove', 'pia-plugin', id!]);
    expect([again.code, again.err]).toEqual([1, `error: pia-plugin has no trusted publisher ${id}.\n`]);
    expect((await cli(db, ['publisher:remove', 'pia-plugin', 'not-a-uuid'])).err).toBe('error: pia-plugin has no trusted publisher not-a-uuid.\n');

    const after = await createTestApp({}, db);
    try {
      const events = await after.dataSource.getRepository(AuditEvent).find({ where: { subjectType: 'trusted_publisher' }, order: { occurredAt: 'ASC' } });
      expect(events.map((e) => [e.type, e.actorType, e.actorLabel])).toEqual([
        ['trusted_publisher.added', 'system', 'cli'],
        ['trusted_publisher.added', 'system', 'cli'],
        ['trusted_publisher.removed', 'system', 'cli'],
        ['trusted_publisher.removed', 'system', 'cli'],
      ]);
      expect(events[2].details).toMatchObject({ plugin: 'pia-plugin', issuer: 'github', tokens_revoked: 1 });
    } finally {
      await after.close({ keepDatabase: true });
    }
  });

  it('--help and help exit 0 with every command; no command at all is a usage error (2)', async () => {
    for (const argv of [['--help'], ['help'], ['user:create', '--help']]) {
      const res = await cli(db, argv);
      expect([argv.join(' '), res.code]).toEqual([argv.join(' '), 0]);
      for (const command of ['user:create', 'user:set-groups', 'role:set', 'keys:generate-signing', 'audit:tail', 'key:list', 'key:revoke', 'token:list', 'token:revoke', 'session:list', 'session:revoke', 'plugin:create', 'plugin:add-maintainer', 'publisher:list', 'publisher:add', 'publisher:remove']) {
        expect(res.out).toContain(command);
      }
    }
    const none = await cli(db, []);
    expect([none.code, none.err]).toEqual([2, expect.stringContaining('Usage:')]);
  });

  it('keys:generate prints a new signing key and the SECRET_KEYS value that rotates it in, without a database', async () => {
    const current = 'current-signing-key-0123456789abcdefghijklmnop;older-signing-key-0123456789abcdefghijklmnop';
    const unreachable = { DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none' };
    const res = await cli(db, ['keys:generate'], '', { ...unreachable, SECRET_KEYS: current });
    expect(res.code).toBe(0);
    const [keyLine, valueLine, explanation, ...rest] = res.out.trimEnd().split('\n');
    expect(rest).toEqual([]);
    const key = keyLine.replace(/^New signing key: /, '');
    expect(key).toMatch(/^[\w-]{64}$/);
    expect(valueLine).toBe(`SECRET_KEYS=${key};${current}`);
    expect(explanation).toMatch(/new key signs .* 2 current key\(s\) still verify/);
    // The printed value is a valid configuration: the new key signs, the old ones verify.
    const config = loadConfig({ ...process.env, ...unreachable, SECRET_KEYS: valueLine.slice('SECRET_KEYS='.length) });
    expect(config.auth.secretKeys).toHaveLength(3);
    expect((await cli(db, ['keys:generate'], '', { SECRET_KEYS: current })).out).not.toContain(key); // a new key each time

    // Development without SECRET_KEYS: the keys of the generated secrets file; none: just the new key.
    const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-keys-'));
    const bare = await cli(db, ['keys:generate'], '', { SECRET_KEYS: undefined, NODE_ENV: 'development', DATA_DIR: dataDir });
    expect(bare.out).toMatch(/^New signing key: ([\w-]{64})\nSECRET_KEYS=\1\nNo current key found/);
    expect(existsSync(join(dataDir, 'secrets.json'))).toBe(false); // nothing was written
    writeFileSync(join(dataDir, 'secrets.json'), JSON.stringify({ SECRET_KEYS: 'dev-generated-key-0123456789abcdefghijklmnop', TOKEN_PEPPER: 'x' }));
    const dev = await cli(db, ['keys:generate'], '', { SECRET_KEYS: undefined, NODE_ENV: 'development', DATA_DIR: dataDir });
    expect(dev.out).toMatch(/\nSECRET_KEYS=[\w-]{64};dev-generated-key-0123456789abcdefghijklmnop\n/);
    expect((await cli(db, ['keys:generate', 'now'])).code).toBe(2);
  });

  it('role:set, role:list, user:set-roles and role:delete manage custom roles, with the same refusals as the API', async () => {
    const set = await cli(db, ['role:set', 'notes-editor', '--scopes', 'notes:read,notes:write', '--description', 'Edits notes']);
    expect([set.code, set.out]).toEqual([0, 'Role notes-editor grants notes:read notes:write.\n']);
    const listed = await cli(db, ['role:list']);
    expect(listed.out).toMatch(/^ROLE\s+BUILT-IN\s+SCOPES\n/);
    expect(listed.out).toMatch(/\nadmin\s+yes\s+.*admin:apikeys/);
    expect(listed.out).toMatch(/\nnotes-editor\s+no\s+notes:read notes:write\n/);
    await cli(db, ['user:create', 'rolly'], 'a long passphrase\na long passphrase\n');
    expect((await cli(db, ['user:set-roles', 'rolly', '--roles', 'user,notes-editor'])).out).toBe('User rolly now has roles user, notes-editor.\n');
    const inUse = await cli(db, ['role:delete', 'notes-editor']);
    expect([inUse.code, inUse.err]).toEqual([1, expect.stringMatching(/1 user\(s\) hold the role notes-editor/)]);
    await cli(db, ['user:set-roles', 'rolly', '--roles', 'user']);
    expect((await cli(db, ['role:delete', 'notes-editor'])).code).toBe(0);
    expect((await cli(db, ['role:set', 'admin', '--scopes', 'notes:read'])).err).toMatch(/built-in role/);
    expect((await cli(db, ['role:set', 'x'])).code).toBe(2); // --scopes missing
    expect((await cli(db, ['user:set-roles', 'rolly', '--roles', 'user,nope'])).err).toMatch(/Unknown roles: nope/);
  });

  it('keys:generate-signing prints a new ES256 key and the SIGNING_KEYS value that publishes it before it signs', async () => {
    const current = process.env.SIGNING_KEYS!;
    const res = await cli(db, ['keys:generate-signing'], '', { DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none', SIGNING_KEYS: current });
    expect(res.code).toBe(0);
    const [keyLine, valueLine, explanation, ...rest] = res.out.trimEnd().split('\n');
    expect(rest).toEqual([]);
    const key = keyLine.replace(/^New signing key \(private, keep it secret\): /, '');
    expect(JSON.parse(key)).toMatchObject({ kty: 'EC', crv: 'P-256', d: expect.any(String) });
    expect(valueLine).toBe(`SIGNING_KEYS=${current};${key}`);
    expect(explanation).toMatch(/^Rotation, .*1\. .*published.*2\. .*3\. after ACCESS_TOKEN_MAX_AGE/);
    // Step 1 is a valid configuration: the current key still signs, both are published.
    const config = loadConfig({ ...process.env, SIGNING_KEYS: valueLine.slice('SIGNING_KEYS='.length) });
    expect(config.auth.tokenSigning.published).toHaveLength(2);
    expect(config.auth.tokenSigning.signing.kid).toBe(loadConfig(process.env).auth.tokenSigning.signing.kid);
    const bare = await cli(db, ['keys:generate-signing'], '', { SIGNING_KEYS: undefined, NODE_ENV: 'development', DATA_DIR: mkdtempSync(join(tmpdir(), 'latchkey-keys-')) });
    expect(bare.out).toMatch(/\nSIGNING_KEYS=\{"[^;]+\}\nNo current key found/);
  });
});
