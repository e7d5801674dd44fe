import { PassThrough, Readable } from 'node:stream';
import { runCli } from '../src/cli/cli';
import { createTestApp } from './utils/create-test-app';
import { createTestDatabase, TestDatabase } from './utils/test-database';

/** Runs the operator CLI in-process, with the password piped on stdin as an operator would. */
async function cli(db: TestDatabase, argv: string[], stdin = '') {
  const saved = { ...process.env };
  Object.assign(process.env, db.env);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  try {
    const code = await runCli(argv, { stdin: Readable.from([stdin]), stdout, stderr });
    return { code, out, err };
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

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
});
