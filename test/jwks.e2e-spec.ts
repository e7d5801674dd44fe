import { execFile } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import { bearer, createTestApp, TestApp } from './utils/create-test-app';
import { createTestDatabase, TestDatabase } from './utils/test-database';

const API = '/api/v1';
const run = promisify(execFile);
const jwk = (key: KeyObject) => JSON.stringify(key.export({ format: 'jwk' }));
const A = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const B = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { kid: string }).kid;

interface Verdict {
  ok: boolean;
  sub?: string;
  kid?: string;
  scope?: string;
  code?: string;
}

/** Verifies tokens in another process with `jose`'s remote JWK set, from jwks_uri alone. */
async function joseVerify(jwksUri: string, issuer: string, audience: string, ...tokens: string[]): Promise<Verdict[]> {
  const { stdout } = await run(process.execPath, [join(__dirname, 'utils', 'jose-verify.mjs'), jwksUri, issuer, audience, ...tokens]);
  return JSON.parse(stdout) as Verdict[];
}

/** Listens on a real port, so the verifier fetches the key set over HTTP like any other service. */
async function listening(t: TestApp): Promise<string> {
  await t.app.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
}

describe('tokens other services verify with a public key (JWKS, RFC 8414)', () => {
  let db: TestDatabase;
  let t: TestApp | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await t?.close({ keepDatabase: true });
    t = undefined;
  });
  afterAll(() => db.drop());

  it('publishes the public keys and the metadata; a standard library verifies a token from jwks_uri alone, before and after a rotation, and refuses a tampered one', async () => {
    t = await createTestApp({ SIGNING_KEYS: jwk(A.privateKey) }, db);
    let base = await listening(t);
    await t.createUser('alice');
    const before = await t.login('alice');

    const keys = await t.http().get('/.well-known/jwks.json').expect(200);
    expect(keys.headers['cache-control']).toBe('public, max-age=300');
    expect(keys.body.keys).toEqual([{ kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: kidOf(before.access_token), alg: 'ES256', use: 'sig' }]);
    const meta = await t.http().get('/.well-known/oauth-authorization-server').expect(200);
    const claims = jwt.decode(before.access_token) as jwt.JwtPayload;
    expect(meta.body).toMatchObject({
      issuer: claims.iss,
      jwks_uri: `${base}/.well-known/jwks.json`,
      token_endpoint: `${base}${API}/auth/provider/local/token`,
      introspection_endpoint: `${base}${API}/auth/introspect`,
      revocation_endpoint: `${base}${API}/auth/revoke`,
      grant_types_supported: ['password'],
      access_token_signing_alg_values_supported: ['ES256'],
    });
    expect(meta.body.scopes_supported).toEqual(expect.arrayContaining(['read:data', 'introspect', 'admin:apikeys']));
    // What RFC 9068 asks of the token itself.
    expect(claims).toMatchObject({ sub: expect.any(String), client_id: 'latchkey', aud: claims.iss, scope: (claims.scp as string[]).join(' ') });

    const [payload, signature] = before.access_token.split('.').slice(1);
    const forgedClaims = Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url');
    const tampered = `${before.access_token.split('.')[0]}.${forgedClaims}.${signature}`;
    const otherKey = jwt.sign({ ...claims }, B.privateKey, { algorithm: 'ES256', keyid: kidOf(before.access_token), header: { alg: 'ES256', typ: 'at+jwt' } });
    expect(payload).not.toBe(forgedClaims);
    const first = await joseVerify(meta.body.jwks_uri, meta.body.issuer, claims.iss!, before.access_token, tampered, otherKey);
    expect(first).toEqual([
      { ok: true, sub: claims.sub, kid: kidOf(before.access_token), scope: claims.scope },
      { ok: false, code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
      { ok: false, code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
    ]);
    await t.http().get(`${API}/users/me`).set(bearer(tampered)).expect(401);
    await t.close({ keepDatabase: true });

    // Rotation: B signs, A still verifies (listed after it; a public key is enough).
    t = await createTestApp({ SIGNING_KEYS: `${jwk(B.privateKey)};${A.publicKey.export({ format: 'pem', type: 'spki' }).toString()}` }, db);
    base = await listening(t);
    const after = await t.login('alice');
    expect(kidOf(after.access_token)).not.toBe(kidOf(before.access_token));
    expect((await t.http().get('/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid)).toEqual([kidOf(after.access_token), kidOf(before.access_token)]);
    const rotated = await joseVerify(`${base}/.well-known/jwks.json`, claims.iss!, claims.iss!, before.access_token, after.access_token);
    expect(rotated.map((v) => v.ok)).toEqual([true, true]);
    await t.http().get(`${API}/users/me`).set(bearer(before.access_token)).expect(200);
    await t.close({ keepDatabase: true });

    // A removed: its tokens verify nowhere.
    t = await createTestApp({ SIGNING_KEYS: jwk(B.privateKey) }, db);
    base = await listening(t);
    const removed = await joseVerify(`${base}/.well-known/jwks.json`, claims.iss!, claims.iss!, before.access_token, after.access_token);
    expect(removed).toEqual([{ ok: false, code: 'ERR_JWKS_NO_MATCHING_KEY' }, expect.objectContaining({ ok: true })]);
    await t.http().get(`${API}/users/me`).set(bearer(before.access_token)).expect(401);
  });

  it('verifies with jsonwebtoken (what @nestjs/jwt and passport-jwt use) given the published JWK, pinned to ES256 and the audience', async () => {
    t = await createTestApp({ SIGNING_KEYS: jwk(A.privateKey), ACCESS_TOKEN_AUDIENCE: 'https://data.example.org' }, db);
    await t.createUser('bob');
    const { access_token } = await t.login('bob');
    const [published] = (await t.http().get('/.well-known/jwks.json')).body.keys;
    const key = createPublicKey({ key: published, format: 'jwk' });
    expect(jwt.verify(access_token, key, { algorithms: ['ES256'], audience: 'https://data.example.org', issuer: 'latchkey' })).toMatchObject({
      preferred_username: 'bob',
    });
    expect(() => jwt.verify(access_token, key, { algorithms: ['ES256'], audience: 'latchkey' })).toThrow(/audience invalid/);
  });

  it('upgrading from HS256: tokens signed before keep working until they expire, and no secret key is ever published', async () => {
    t = await createTestApp({ ACCESS_TOKEN_ALGORITHM: 'HS256', SIGNING_KEYS: '' }, db);
    await t.createUser('carol');
    const old = await t.login('carol');
    expect(jwt.decode(old.access_token, { complete: true })?.header.alg).toBe('HS256');
    const hsKeys = await t.http().get('/.well-known/jwks.json').expect(200);
    expect(hsKeys.body).toEqual({ keys: [] });
    expect((await t.http().get('/.well-known/oauth-authorization-server')).body.access_token_signing_alg_values_supported).toEqual(['HS256']);
    await t.close({ keepDatabase: true });

    t = await createTestApp({ SIGNING_KEYS: jwk(A.privateKey) }, db);
    await t.http().get(`${API}/users/me`).set(bearer(old.access_token)).expect(200);
    const fresh = await t.login('carol');
    expect(jwt.decode(fresh.access_token, { complete: true })?.header.alg).toBe('ES256');
    const published = JSON.stringify((await t.http().get('/.well-known/jwks.json')).body);
    expect(published).not.toMatch(/"(d|k)"/);
    expect(published).not.toContain(process.env.SECRET_KEYS!);
  });
});
