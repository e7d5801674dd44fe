import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createPublicKey, createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { join, resolve } from 'node:path';
import { bearer, createIntrospectorKey, createTestApp, type LoginBody, type TestApp } from './utils/create-test-app';
import { createTestDatabase, type TestDatabase } from './utils/test-database';
import { freePort } from './utils/server-process';
import { typo } from './utils/typo';

const ROOT = resolve(__dirname, '..');
const API = '/api/v1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const jwk = (key: KeyObject) => JSON.stringify(key.export({ format: 'jwk' }));
const CURRENT = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const NEXT = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

/** Compiles the package and the example in place (their own tsconfig), as `npm run build:packages` does. */
function buildExample(): void {
  const tsc = require.resolve('typescript/bin/tsc');
  for (const project of ['packages/nest-latchkey/tsconfig.json', 'examples/notes/tsconfig.json']) {
    execFileSync(process.execPath, [tsc, '-p', project], { cwd: ROOT, stdio: 'pipe' });
  }
}

/**
 * Another Nest service protected only by `@latchkey/nest` (examples/notes, its own scopes
 * `notes:read` and `notes:write`, granted by custom roles at Latchkey), as its own process, with
 * Latchkey in this one: access tokens verified by passport-jwt against Latchkey's keys, API keys
 * by introspection, revocations from the feed within a second, Latchkey down and a signing-key
 * rotation.
 */
describe('a resource server protected by @latchkey/nest (examples/notes)', () => {
  let db: TestDatabase;
  let latchkey: TestApp;
  let latchkeyPort: number;
  let notes: ChildProcess | undefined;
  let notesUrl: string;
  let root: LoginBody;
  let writer: LoginBody;
  let reader: LoginBody;
  let readerId: string;
  let writerId: string;

  async function startLatchkey(signingKeys: string): Promise<void> {
    latchkey = await createTestApp({ SIGNING_KEYS: signingKeys }, db);
    await latchkey.app.listen(latchkeyPort, '127.0.0.1');
  }

  const call = (method: 'GET' | 'POST', path: string, auth?: Record<string, string>, body?: unknown) =>
    fetch(`${notesUrl}${path}`, {
      method,
      headers: { ...auth, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    }).then(async (res) => ({ status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, unknown> }));

  beforeAll(async () => {
    buildExample();
    db = await createTestDatabase();
    latchkeyPort = await freePort();
    await startLatchkey(jwk(CURRENT));
    await latchkey.createUser('root', undefined, ['user', 'admin']);
    root = await latchkey.login('root');
    const as = bearer(root.access_token);
    await latchkey.http().put(`${API}/admin/roles/notes-editor`).set(as).send({ scopes: ['notes:read', 'notes:write'] }).expect(200);
    await latchkey.http().put(`${API}/admin/roles/notes-reader`).set(as).send({ scopes: ['notes:read'] }).expect(200);
    writerId = (await latchkey.createUser('wanda', undefined, ['user', 'notes-editor'])).id;
    readerId = (await latchkey.createUser('rex', undefined, ['user', 'notes-reader'])).id;
    writer = await latchkey.login('wanda');
    reader = await latchkey.login('rex');
    const apiKey = await createIntrospectorKey(latchkey, root.access_token);

    const port = await freePort();
    notesUrl = `http://127.0.0.1:${port}`;
    notes = spawn(process.execPath, [join(ROOT, 'examples/notes/dist/main.js')], {
      env: { PATH: process.env.PATH, PORT: String(port), LATCHKEY_URL: `http://127.0.0.1:${latchkeyPort}`, LATCHKEY_API_KEY: apiKey, LATCHKEY_INTROSPECTION_CACHE_TTL: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((ready, fail) => {
      let out = '';
      notes!.stdout!.on('data', (chunk: Buffer) => ((out += chunk.toString()), out.includes('listening') && ready()));
      notes!.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
      notes!.once('exit', (code) => fail(new Error(`notes exited ${code}: ${out}`)));
    });
  }, 60_000);

  afterAll(async () => {
    notes?.kill('SIGTERM');
    await latchkey?.close({ keepDatabase: true });
    await db?.drop();
  });

  it('takes Latchkey access tokens: its own scopes decide (403 in Latchkey\'s error shape), no credential is a 401', async () => {
    expect(await call('GET', '/health')).toEqual({ status: 200, body: { status: 'ok' } });
    const none = await call('GET', '/notes');
    expect(none).toMatchObject({ status: 401, body: { statusCode: 401, code: 'AUTH_REQUIRED' } });
    expect((await call('POST', '/notes', bearer(writer.access_token), { text: 'hello' })).status).toBe(201);
    expect(await call('GET', '/notes', bearer(reader.access_token))).toEqual({ status: 200, body: [{ id: 1, text: 'hello', author: 'wanda' }] as unknown as Record<string, unknown> });
    const refused = await call('POST', '/notes', bearer(reader.access_token), { text: 'nope' });
    expect(refused).toMatchObject({ status: 403, body: { statusCode: 403, code: 'INSUFFICIENT_SCOPE' } });
    const who = await call('GET', '/whoami', bearer(writer.access_token));
    expect(who.body).toMatchObject({ kind: 'user', sub: writerId, username: 'wanda', credential: 'access_token', roles: ['user', 'notes-editor'] });
    const [h, p, s] = writer.access_token.split('.');
    expect((await call('GET', '/notes', bearer(`${h}.${p}.${typo(s)}`))).body).toMatchObject({ code: 'AUTH_INVALID_TOKEN' });
  });

  it('takes API keys (through introspection), with the key\'s own scopes', async () => {
    const key = (await latchkey.http().post(`${API}/auth/apikey`).set(bearer(reader.access_token)).send({ scopes: ['notes:read'], expires_in: null, note: 'script' }).expect(200)).body.secret as string;
    expect((await call('GET', '/notes', { Authorization: `Apikey ${key}` })).status).toBe(200);
    expect((await call('POST', '/notes', { Authorization: `Apikey ${key}` }, { text: 'x' })).body).toMatchObject({ code: 'INSUFFICIENT_SCOPE' });
    const who = await call('GET', '/whoami', { Authorization: `Apikey ${key}` });
    expect(who.body).toMatchObject({ sub: readerId, credential: 'api_key', scopes: ['notes:read'] });
    expect((await call('GET', '/notes', { Authorization: 'Apikey lk_pat_not-a-real-key' })).body).toMatchObject({ code: 'AUTH_INVALID_TOKEN' });
  });

  it('a revoke-all at Latchkey is refused here within a second (the revocation feed)', async () => {
    const token = (await latchkey.login('wanda')).access_token;
    expect((await call('GET', '/notes', bearer(token))).status).toBe(200); // verified and cached here
    const revoked = Date.now();
    await latchkey.http().post(`${API}/admin/users/${writerId}/revoke-all`).set(bearer(root.access_token)).expect(200);
    let answer = await call('GET', '/notes', bearer(token));
    while (answer.status === 200 && Date.now() - revoked < 3000) {
      await sleep(50);
      answer = await call('GET', '/notes', bearer(token));
    }
    expect(Date.now() - revoked).toBeLessThan(1000);
    expect(answer).toMatchObject({ status: 401, body: { code: 'AUTH_INVALID_TOKEN', message: 'This token has been revoked.' } });
    writer = await latchkey.login('wanda');
  });

  it('attack: forged and foreign tokens get 401 at the service, a deploy token or a narrow key gets 403', async () => {
    const claims = jwt.decode(reader.access_token) as jwt.JwtPayload;
    const kid = (JSON.parse(Buffer.from(reader.access_token.split('.')[0], 'base64url').toString()) as { kid: string }).kid;
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const published = (await latchkey.http().get('/.well-known/jwks.json').expect(200)).body.keys[0];
    const publicPem = createPublicKey({ key: published, format: 'jwk' }).export({ format: 'pem', type: 'spki' });
    const now = Math.floor(Date.now() / 1000);
    const forged = {
      'signed by another key under Latchkey\'s kid': jwt.sign({ ...claims, scp: ['notes:read', 'notes:write'] }, attacker, { algorithm: 'ES256', keyid: kid }),
      'HS256 keyed with the published public key': jwt.sign({ ...claims }, createSecretKey(Buffer.from(publicPem)), { algorithm: 'HS256', keyid: kid }),
      'alg none': `${Buffer.from(JSON.stringify({ alg: 'none', kid })).toString('base64url')}.${reader.access_token.split('.')[1]}.`,
      'a real signature, another issuer': jwt.sign({ ...claims, iss: 'https://elsewhere.example' }, CURRENT, { algorithm: 'ES256', keyid: kid }),
      'a real signature, another audience': jwt.sign({ ...claims, aud: 'https://another-api.example' }, CURRENT, { algorithm: 'ES256', keyid: kid }),
    };
    for (const [name, token] of Object.entries(forged)) {
      const res = await call('GET', '/notes', bearer(token));
      expect([name, res.status, res.body?.code]).toEqual([name, 401, 'AUTH_INVALID_TOKEN']);
    }
    const expired = jwt.sign({ ...claims, iat: now - 2000, exp: now - 1000 }, CURRENT, { algorithm: 'ES256', keyid: kid });
    expect((await call('GET', '/notes', bearer(expired))).body).toMatchObject({ statusCode: 401, code: 'AUTH_TOKEN_EXPIRED' });
    // A deploy token and a key without the service's scopes are credentials, not permissions.
    await latchkey.http().post(`${API}/plugins`).set(bearer(writer.access_token)).send({ name: 'notes-plugin' }).expect(201);
    const deploy = (await latchkey.http().post(`${API}/plugins/notes-plugin/tokens`).set(bearer(writer.access_token)).send({ description: 'ci' }).expect(201)).body.token as string;
    expect(await call('GET', '/notes', bearer(deploy))).toMatchObject({ status: 403, body: { code: 'INSUFFICIENT_SCOPE' } });
    const narrow = (await latchkey.http().post(`${API}/auth/apikey`).set(bearer(writer.access_token)).send({ scopes: ['read:metadata'], expires_in: null, note: 'narrow' }).expect(200)).body.secret as string;
    expect(await call('GET', '/notes', { Authorization: `Apikey ${narrow}` })).toMatchObject({ status: 403, body: { code: 'INSUFFICIENT_SCOPE' } });
  });

  it('Latchkey down: access tokens still verify (cached keys), API keys answer 503; back up, and a signing-key rotation is picked up', async () => {
    const key = (await latchkey.http().post(`${API}/auth/apikey`).set(bearer(reader.access_token)).send({ scopes: ['notes:read'], expires_in: null, note: 'down' }).expect(200)).body.secret as string;
    const unseen = (await latchkey.login('rex')).access_token; // never shown to the notes service yet
    await latchkey.close({ keepDatabase: true });
    expect((await call('GET', '/notes', bearer(unseen))).status).toBe(200);
    expect((await call('GET', '/notes', bearer(writer.access_token))).status).toBe(200);
    expect(await call('GET', '/notes', { Authorization: `Apikey ${key}` })).toMatchObject({ status: 503, body: { code: 'SERVICE_UNAVAILABLE' } });

    // Rotation step 2 straight away (NEXT signs, CURRENT verifies): a token with the new kid makes
    // the service fetch the key set again.
    await startLatchkey(`${jwk(NEXT)};${jwk(CURRENT)}`);
    const rotated = (await latchkey.login('wanda')).access_token;
    expect(JSON.parse(Buffer.from(rotated.split('.')[0], 'base64url').toString()).kid).not.toBe(JSON.parse(Buffer.from(writer.access_token.split('.')[0], 'base64url').toString()).kid);
    await sleep(5100); // the service looks for unknown keys at most every 5 s
    expect((await call('POST', '/notes', bearer(rotated), { text: 'after rotation' })).status).toBe(201);
    expect((await call('GET', '/notes', bearer(writer.access_token))).status).toBe(200); // signed by CURRENT, still listed
    expect((await call('GET', '/notes', { Authorization: `Apikey ${key}` })).status).toBe(200);
  });
});
