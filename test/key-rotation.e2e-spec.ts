import { bearer, createTestApp, TestApp } from './utils/create-test-app';
import { createTestDatabase, TestDatabase } from './utils/test-database';

const API = '/api/v1';
const OLD = 'old-signing-key-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const NEW = 'new-signing-key-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

const HS256 = { ACCESS_TOKEN_ALGORITHM: 'HS256' };
const kidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString()).kid as string;

/**
 * Restarts on one database with SECRET_KEYS = OLD, then NEW;OLD, then NEW (Tiled checklist #8), with
 * access tokens signed HS256 by SECRET_KEYS. ES256 rotation (SIGNING_KEYS) is in jwks.e2e-spec.ts.
 */
describe('signing-key rotation across restarts', () => {
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

  it('keeps old tokens valid while the old key is listed, signs with the first key, drops old tokens when it goes', async () => {
    t = await createTestApp({ ...HS256, SECRET_KEYS: OLD }, db);
    await t.createUser('alice');
    const before = await t.login('alice');
    const oldKid = kidOf(before.access_token);
    await t.close({ keepDatabase: true });

    t = await createTestApp({ ...HS256, SECRET_KEYS: `${NEW};${OLD}` }, db);
    await t.http().get(`${API}/users/me`).set(bearer(before.access_token)).expect(200);
    const refreshed = await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: before.refresh_token }).expect(200);
    const newKid = kidOf(refreshed.body.access_token);
    expect(newKid).not.toBe(oldKid);
    const fresh = await t.login('alice');
    expect(kidOf(fresh.access_token)).toBe(newKid);
    await t.close({ keepDatabase: true });

    t = await createTestApp({ ...HS256, SECRET_KEYS: NEW }, db);
    await t.http().get(`${API}/users/me`).set(bearer(refreshed.body.access_token)).expect(200);
    await t.http().get(`${API}/users/me`).set(bearer(fresh.access_token)).expect(200);
    const rejected = await t.http().get(`${API}/users/me`).set(bearer(before.access_token)).expect(401);
    expect(rejected.body.detail).toBe('Could not validate credentials');
    // Refresh tokens are opaque and keyed by TOKEN_PEPPER, not SECRET_KEYS: they survive the rotation.
    const again = await t.http().post(`${API}/auth/session/refresh`).send({ refresh_token: refreshed.body.refresh_token }).expect(200);
    expect(kidOf(again.body.access_token)).toBe(newKid);
  });
});
