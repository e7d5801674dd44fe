import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Clock } from '../src/common/clock';
import { User } from '../src/users/user.entity';
import { bearer, createTestApp, LoginBody, TestApp } from './utils/create-test-app';
import { FakeClock } from './utils/fake-clock';
import { pluginFiles } from './utils/plugin-files';

const API = '/api/v1';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * The deploy-token story of the issue, end to end over HTTP: Anna creates FancyPlugin and a
 * token for CI; Bob joins and sees it; CI uploads; Anna leaves and is disabled; CI still
 * uploads; Bob rotates with an overlap, then revokes. The token never works elsewhere.
 */
describe('plugins and deploy tokens: the CI story', () => {
  let t: TestApp;
  const clock = new FakeClock();
  let anna: LoginBody;
  let bob: LoginBody;

  beforeAll(async () => {
    t = await createTestApp({ USER_CACHE_TTL: '0', CREDENTIAL_CACHE_TTL: '0', LAST_USED_INTERVAL: '0' }, undefined, [
      { provide: Clock, useValue: clock },
    ]);
    await t.createUser('anna');
    await t.createUser('bob');
    await t.createUser('mallory');
    anna = await t.login('anna');
    bob = await t.login('bob');
  });
  afterAll(() => t.close());

  const upload = (auth: Record<string, string>, plugin: string, version: string, content: Buffer | string = `pkg ${version}`) =>
    t
      .http()
      .post(`${API}/plugins/${plugin}/versions`)
      .set(auth)
      .field('version', version)
      .attach('file', Buffer.isBuffer(content) ? content : Buffer.from(content), `${plugin}-${version}.tar.gz`);
  const storedFiles = () => pluginFiles(t).stored();
  const incomingFiles = () => pluginFiles(t).incoming();

  it('runs the whole story', async () => {
    // Anna creates FancyPlugin and a deploy token for GitHub Actions.
    const created = await t.http().post(`${API}/plugins`).set(bearer(anna.access_token)).send({ name: 'fancy-plugin', display_name: 'FancyPlugin' }).expect(201);
    expect(created.body).toMatchObject({ name: 'fancy-plugin', display_name: 'FancyPlugin', maintainers: ['anna'], created_by: 'anna' });
    const tok = await t.http().post(`${API}/plugins/fancy-plugin/tokens`).set(bearer(anna.access_token)).send({ description: 'github action' }).expect(201);
    const secret = tok.body.token as string;
    expect(secret).toMatch(/^lk_dpl_\w+$/);
    expect(tok.body).toMatchObject({ description: 'github action', created_by: 'anna', expires_at: null, status: 'active', last_used_at: null });
    const tokenId = tok.body.id as string;

    // An unrelated plugin, to show the token is bound to its own.
    await t.http().post(`${API}/plugins`).set(bearer(bob.access_token)).send({ name: 'other-plugin' }).expect(201);

    // Bob is added as maintainer and sees Anna's token (no secret, no internal id).
    await t.http().get(`${API}/plugins/fancy-plugin/tokens`).set(bearer(bob.access_token)).expect(403);
    const invited = await t.http().post(`${API}/plugins/fancy-plugin/invitations`).set(bearer(anna.access_token)).send({ username: 'bob' }).expect(201);
    await t.http().get(`${API}/plugins/fancy-plugin/tokens`).set(bearer(bob.access_token)).expect(403);
    await t.http().post(`${API}/plugin-invitations/${invited.body.id}/accept`).set(bearer(bob.access_token)).expect(200);
    const seen = await t.http().get(`${API}/plugins/fancy-plugin/tokens`).set(bearer(bob.access_token)).expect(200);
    expect(seen.body).toEqual([expect.objectContaining({ id: tokenId, description: 'github action', created_by: 'anna' })]);
    expect(JSON.stringify(seen.body)).not.toContain(secret);
    expect(Object.keys(seen.body[0])).not.toEqual(expect.arrayContaining(['jti', 'secret', 'token', 'secret_hash']));
    const mine = await t.http().get(`${API}/plugin-tokens`).set(bearer(bob.access_token)).expect(200);
    expect(mine.body.map((x: { plugin: string }) => x.plugin)).toEqual(['fancy-plugin']);

    // CI uploads 1.0.0 with the token, as Bearer; it is listed as uploaded by the token.
    const v1 = await upload(bearer(secret), 'fancy-plugin', '1.0.0', 'release one').expect(201);
    expect(v1.body).toMatchObject({ version: '1.0.0', uploaded_by: 'Token github action', uploaded_by_token_id: tokenId, size: 11 });
    expect(v1.body.sha256).toBe(sha256(Buffer.from('release one')));
    const used = await t.http().get(`${API}/plugins/fancy-plugin/tokens`).set(bearer(bob.access_token)).expect(200);
    expect(Date.parse(used.body[0].last_used_at)).toBeGreaterThan(Date.now() - 60_000);
    expect(used.body[0].last_used_ip).toBeTruthy();

    // The token never works on another plugin (403) nor on user routes (401).
    const elsewhere = await upload(bearer(secret), 'other-plugin', '1.0.0').expect(403);
    expect(elsewhere.body.code).toBe('PLUGIN_TOKEN_SCOPE_DENIED');
    await t.http().get(`${API}/users/me`).set(bearer(secret)).expect(401);
    await t.http().get(`${API}/plugins/fancy-plugin/tokens`).set(bearer(secret)).expect(401);
    await t.http().post(`${API}/plugins/fancy-plugin/tokens`).set(bearer(secret)).send({ description: 'x' }).expect(401);

    // Anna leaves the team and her account is disabled; the token still uploads (as Apikey too).
    await t.http().delete(`${API}/plugins/fancy-plugin/maintainers/anna`).set(bearer(bob.access_token)).expect(204);
    await t.dataSource.getRepository(User).update({ username: 'anna' }, { status: 'disabled' });
    await t.http().get(`${API}/users/me`).set(bearer(anna.access_token)).expect(401);
    await upload({ Authorization: `Apikey ${secret}` }, 'fancy-plugin', '1.0.1').expect(201);
    const versions = await t.http().get(`${API}/plugins/fancy-plugin/versions`).set(bearer(bob.access_token)).expect(200);
    expect(versions.body.map((v: { version: string; uploaded_by: string }) => [v.version, v.uploaded_by])).toEqual([
      ['1.0.1', 'Token github action'],
      ['1.0.0', 'Token github action'],
    ]);
    const still = await t.http().get(`${API}/plugins/fancy-plugin/tokens`).set(bearer(bob.access_token)).expect(200);
    expect(still.body[0]).toMatchObject({ id: tokenId, created_by: 'anna', status: 'active' });

    // Bob rotates with a 60 s overlap: both secrets work, then only the new one.
    const rotated = await t.http().post(`${API}/plugins/fancy-plugin/tokens/${tokenId}/rotate`).set(bearer(bob.access_token)).send({ overlap_seconds: 60 }).expect(200);
    const fresh = rotated.body.token as string;
    expect(fresh).not.toBe(secret);
    expect(rotated.body.id).toBe(tokenId);
    await upload(bearer(secret), 'fancy-plugin', '1.0.2').expect(201);
    await upload(bearer(fresh), 'fancy-plugin', '1.0.3').expect(201);
    clock.advance(61);
    const late = await upload(bearer(secret), 'fancy-plugin', '1.0.4').expect(401);
    expect(late.body.detail).toBe('Invalid deploy token');
    await upload(bearer(fresh), 'fancy-plugin', '1.0.4').expect(201);

    // Bob revokes it: 401 from then on, and it is listed as revoked.
    await t.http().delete(`${API}/plugins/fancy-plugin/tokens/${tokenId}`).set(bearer(bob.access_token)).expect(204);
    await upload(bearer(fresh), 'fancy-plugin', '1.0.5').expect(401);
    const after = await t.http().get(`${API}/plugins/fancy-plugin/tokens`).set(bearer(bob.access_token)).expect(200);
    expect(after.body[0].status).toBe('revoked');

    // The file downloads intact.
    const dl = await t.http().get(`${API}/plugins/fancy-plugin/versions/1.0.0/download`).set(bearer(bob.access_token)).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    }).expect(200);
    expect((dl.body as Buffer).toString()).toBe('release one');
    expect(dl.headers['x-checksum-sha256']).toBe(sha256(Buffer.from('release one')));
    expect(await incomingFiles()).toEqual([]);
  });

  it('lets any maintainer rename a token; the new description is what later uploads record', async () => {
    await t.http().post(`${API}/plugins`).set(bearer(bob.access_token)).send({ name: 'renamed-plugin' }).expect(201);
    const tok = await t.http().post(`${API}/plugins/renamed-plugin/tokens`).set(bearer(bob.access_token)).send({ description: 'old name' }).expect(201);
    await t.http().patch(`${API}/plugins/renamed-plugin/tokens/${tok.body.id}`).set(bearer(bob.access_token)).send({ description: 'gitlab ci' }).expect(200);
    const v = await upload(bearer(tok.body.token), 'renamed-plugin', '0.1.0').expect(201);
    expect(v.body.uploaded_by).toBe('Token gitlab ci');
    await t.http().patch(`${API}/plugins/renamed-plugin/tokens/not-a-uuid`).set(bearer(bob.access_token)).send({ description: 'x' }).expect(404);
    // Shaped like a UUID, but not one: PostgreSQL would refuse it in the uuid column (a 500).
    await t.http().patch(`${API}/plugins/renamed-plugin/tokens/${'-'.repeat(36)}`).set(bearer(bob.access_token)).send({ description: 'x' }).expect(404);
  });

  it('a token outlives its creator\'s account being deleted', async () => {
    const zed = await t.createUser('zed');
    const z = await t.login('zed');
    await t.http().post(`${API}/plugins`).set(bearer(z.access_token)).send({ name: 'zeds-plugin' }).expect(201);
    const tok = await t.http().post(`${API}/plugins/zeds-plugin/tokens`).set(bearer(z.access_token)).send({ description: 'ci' }).expect(201);
    const invited = await t.http().post(`${API}/plugins/zeds-plugin/invitations`).set(bearer(z.access_token)).send({ username: 'bob' }).expect(201);
    await t.http().post(`${API}/plugin-invitations/${invited.body.id}/accept`).set(bearer(bob.access_token)).expect(200);
    await t.dataSource.getRepository(User).delete({ id: zed.id });
    await upload(bearer(tok.body.token), 'zeds-plugin', '1.0.0').expect(201);
    const list = await t.http().get(`${API}/plugins/zeds-plugin/tokens`).set(bearer(bob.access_token)).expect(200);
    expect(list.body[0]).toMatchObject({ id: tok.body.id, created_by: null, status: 'active' });
    const plugin = await t.http().get(`${API}/plugins/zeds-plugin`).set(bearer(bob.access_token)).expect(200);
    expect(plugin.body).toMatchObject({ maintainers: ['bob'], created_by: null });
  });

  it('applies the server-wide limits: maximum token lifetime and maximum rotation overlap; expired tokens are refused', async () => {
    const limited = await createTestApp({ PLUGIN_TOKEN_MAX_LIFETIME: '3600', PLUGIN_TOKEN_MAX_OVERLAP: '120', CREDENTIAL_CACHE_TTL: '0' }, t.db, [
      { provide: Clock, useValue: clock },
    ]);
    try {
      const b = (await limited.login('bob')).access_token;
      const capped = await limited.http().post(`${API}/plugins/renamed-plugin/tokens`).set(bearer(b)).send({ description: 'capped' }).expect(201);
      expect(Date.parse(capped.body.expires_at) - Date.parse(capped.body.created_at)).toBe(3600 * 1000);
      await limited.http().post(`${API}/plugins/renamed-plugin/tokens`).set(bearer(b)).send({ description: 'too long', expires_in: 7200 }).expect(422);
      await limited.http().post(`${API}/plugins/renamed-plugin/tokens/${capped.body.id}/rotate`).set(bearer(b)).send({ overlap_seconds: 121 }).expect(422);
      await limited.http().post(`${API}/plugins/renamed-plugin/tokens/${capped.body.id}/rotate`).set(bearer(b)).send({ overlap_seconds: -1 }).expect(422);
      const short = await limited.http().post(`${API}/plugins/renamed-plugin/tokens`).set(bearer(b)).send({ description: 'short', expires_in: 30 }).expect(201);
      clock.advance(31);
      await limited
        .http()
        .post(`${API}/plugins/renamed-plugin/versions`)
        .set(bearer(short.body.token))
        .field('version', '7.0.0')
        .attach('file', Buffer.from('x'), 'x.bin')
        .expect(401);
      const listed = await limited.http().get(`${API}/plugins/renamed-plugin/tokens`).set(bearer(b)).expect(200);
      expect(listed.body.find((x: { id: string }) => x.id === short.body.id).status).toBe('expired');
    } finally {
      await limited.close({ keepDatabase: true });
    }
  });

  it('a maintainer uploads and replaces with their own credentials; others cannot; the last maintainer stays', async () => {
    await t.http().post(`${API}/plugins`).set(bearer(bob.access_token)).send({ name: 'bobs-tool' }).expect(201);
    const mallory = await t.login('mallory');
    await upload(bearer(mallory.access_token), 'bobs-tool', '1.0.0').expect(403);
    const v = await upload(bearer(bob.access_token), 'bobs-tool', '1.0.0', 'first').expect(201);
    expect(v.body.uploaded_by).toBe('bob');
    const replaced = await t
      .http()
      .put(`${API}/plugins/bobs-tool/versions/1.0.0`)
      .set(bearer(bob.access_token))
      .field('notes', 'fixed packaging')
      .attach('file', Buffer.from('second'), 'bobs-tool-1.0.0.tar.gz')
      .expect(200);
    expect(replaced.body).toMatchObject({ notes: 'fixed packaging', sha256: sha256(Buffer.from('second')), size: 6 });
    await t.http().delete(`${API}/plugins/bobs-tool/maintainers/bob`).set(bearer(bob.access_token)).expect(409);

    // A maintainer's restricted API key cannot mint deploy tokens or upload; an inherit key can.
    const key = async (scopes: string[] | null) =>
      (await t.http().post(`${API}/auth/apikey`).set(bearer(bob.access_token)).send({ scopes, expires_in: null }).expect(200)).body.secret as string;
    const reader = { Authorization: `Apikey ${await key(['read:metadata'])}` };
    const denied = await t.http().post(`${API}/plugins/bobs-tool/tokens`).set(reader).send({ description: 'sneaky' }).expect(403);
    expect(denied.body.code).toBe('INSUFFICIENT_SCOPE');
    await upload(reader, 'bobs-tool', '1.1.0').expect(403);
    const full = { Authorization: `Apikey ${await key(null)}` };
    await t.http().post(`${API}/plugins/bobs-tool/tokens`).set(full).send({ description: 'from a script' }).expect(201);
    await upload(full, 'bobs-tool', '1.1.0').expect(201);
    // An invitation to a name nobody has is answered like any other (no username enumeration).
    await t.http().post(`${API}/plugins/bobs-tool/invitations`).set(bearer(bob.access_token)).send({ username: 'nobody' }).expect(201);
    const list = await t.http().get(`${API}/plugins`).set(bearer(mallory.access_token)).expect(200);
    expect(list.body.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['bobs-tool', 'fancy-plugin']));
  });

  it('answers bad input with clear 4xx errors and leaves nothing behind', async () => {
    const before = (await storedFiles()).length;
    const auth = bearer(bob.access_token);
    // Bad package names.
    for (const name of ['Fancy Plugin', '../etc', 'UPPER', '-x', 'a'.repeat(101), 'dots..two']) {
      const res = await t.http().post(`${API}/plugins`).set(auth).send({ name });
      expect(res.status).toBe(422);
    }
    await t.http().post(`${API}/plugins`).set(auth).send({ name: 'fancy-plugin' }).expect(409);
    await t.http().get(`${API}/plugins/NoSuch`).set(auth).expect(404);
    // Bad versions, missing file, duplicate version, oversize file.
    for (const version of ['', 'latest', '1.0.0/../../x', '1 0', 'v1.0', '1.0.0;rm', 'x'.repeat(65)]) {
      const res = await upload(auth, 'bobs-tool', version);
      expect([400, 422]).toContain(res.status);
      expect(res.body.code).toBe('INVALID_VERSION');
    }
    const noFile = await t.http().post(`${API}/plugins/bobs-tool/versions`).set(auth).field('version', '2.0.0').expect(400);
    expect(noFile.body.code).toBe('FILE_REQUIRED');
    const dup = await upload(auth, 'bobs-tool', '1.0.0').expect(409);
    expect(dup.body.code).toBe('VERSION_EXISTS');
    const wrongField = await t.http().post(`${API}/plugins/bobs-tool/versions`).set(auth).field('version', '2.0.0').attach('upload', Buffer.from('x'), 'x.bin').expect(400);
    expect(wrongField.body.message).toMatch(/form field "file"/);
    // Malformed deploy tokens.
    for (const token of ['lk_dpl_short', `lk_dpl_${'A'.repeat(46)}`, 'lk_dpl_' + 'é'.repeat(3)]) {
      const res = await upload({ Authorization: `Bearer ${Buffer.from(token).toString('latin1')}` }, 'bobs-tool', '3.0.0');
      expect([400, 401]).toContain(res.status);
    }
    expect((await storedFiles()).length).toBe(before);
    expect(await incomingFiles()).toEqual([]);
    const versions = await t.http().get(`${API}/plugins/bobs-tool/versions`).set(auth).expect(200);
    expect(versions.body.map((v: { version: string }) => v.version)).toEqual(['1.1.0', '1.0.0']);
  });

  it('answers hostile version strings at once (no catastrophic backtracking)', async () => {
    const started = Date.now();
    for (const v of ['1' + 'a'.repeat(60) + '!', '1' + 'a'.repeat(5000) + '!', '1.0.0' + '-a'.repeat(30) + '!']) {
      await t.http().get(`${API}/plugins/bobs-tool/versions/${v}/download`).set(bearer(bob.access_token)).expect(404);
    }
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a second rotation retires the first secret at once; concurrent rotations end cleanly; listing tokens needs write:plugins', async () => {
    await t.http().post(`${API}/plugins`).set(bearer(bob.access_token)).send({ name: 'rota' }).expect(201);
    const first = await t.http().post(`${API}/plugins/rota/tokens`).set(bearer(bob.access_token)).send({ description: 'ci' }).expect(201);
    const rotate = () => t.http().post(`${API}/plugins/rota/tokens/${first.body.id}/rotate`).set(bearer(bob.access_token)).send({ overlap_seconds: 600 });
    const second = await rotate().expect(200);
    await upload(bearer(first.body.token), 'rota', '1.0.0').expect(201); // within the overlap
    await rotate().expect(200);
    await upload(bearer(first.body.token), 'rota', '1.0.1').expect(401); // retired by the second rotation
    await upload(bearer(second.body.token), 'rota', '1.0.1').expect(201); // the previous one overlaps now
    // Two rotations at once: each either wins or is told it lost (409); never a 500 or a half-done rotation.
    const [a, b] = await Promise.all([rotate(), rotate()]);
    expect([a.status, b.status]).toContain(200);
    for (const r of [a, b]) expect([200, 409]).toContain(r.status);

    const reader = (await t.http().post(`${API}/auth/apikey`).set(bearer(bob.access_token)).send({ scopes: ['read:metadata'], expires_in: null }).expect(200)).body.secret;
    await t.http().get(`${API}/plugins/rota/tokens`).set('Authorization', `Apikey ${reader}`).expect(403);
    await t.http().get(`${API}/plugin-tokens`).set('Authorization', `Apikey ${reader}`).expect(403);
  });

  it('refuses a file larger than MAX_UPLOAD_BYTES with 413 and keeps no partial file', async () => {
    const small = await createTestApp({ MAX_UPLOAD_BYTES: '1024', PLUGIN_STORAGE_DIR: join(process.env.DATA_DIR!, 'small-store') }, t.db);
    const files = pluginFiles(small); // on the database store, the same tables as t's
    const storedBefore = await files.stored();
    try {
      const token = (await small.login('bob')).access_token;
      const big = await small
        .http()
        .post(`${API}/plugins/bobs-tool/versions`)
        .set(bearer(token))
        .field('version', '9.0.0')
        .attach('file', Buffer.alloc(64 * 1024, 1), 'big.bin');
      expect(big.status).toBe(413);
      expect(big.body.code).toBe('PAYLOAD_TOO_LARGE');
      await new Promise((r) => setTimeout(r, 100));
      expect(await files.stored()).toEqual(storedBefore);
      expect(await files.incoming()).toEqual([]);
      const versions = await small.http().get(`${API}/plugins/bobs-tool/versions`).set(bearer(token)).expect(200);
      expect(versions.body.map((v: { version: string }) => v.version)).not.toContain('9.0.0');
      // Permission is checked before the body is read: a non-maintainer's oversize upload is a 403, not a 413.
      const mallory = (await small.login('mallory')).access_token;
      const denied = await small
        .http()
        .post(`${API}/plugins/bobs-tool/versions`)
        .set(bearer(mallory))
        .field('version', '9.0.0')
        .attach('file', Buffer.alloc(64 * 1024, 1), 'big.bin');
      expect(denied.status).toBe(403);
    } finally {
      await small.close({ keepDatabase: true });
    }
  });
});
