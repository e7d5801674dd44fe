import jwt from 'jsonwebtoken';
import { Clock } from '../src/common/clock';
import { RevocationFeed } from '../src/revocation-feed/revocation-feed.service';
import { RedisService } from '../src/common/redis/redis.service';
import { bearer, createIntrospectorKey, createTestApp, type LoginBody, type TestApp } from './utils/create-test-app';
import { FakeClock } from './utils/fake-clock';

const API = '/api/v1';
const apikey = (key: string) => ({ Authorization: `Apikey ${key}` });
const newKey = (scopes: string[] | null) => ({ scopes, expires_in: null, note: null });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const onPostgres = /^postgres/.test(process.env.DATABASE_URL ?? '');

interface Page {
  events: Record<string, unknown>[];
  cursor: string;
  has_more: boolean;
}

/** An administrator, and an introspector service principal's API key (the feed needs `introspect`). */
async function setUp(t: TestApp): Promise<{ admin: LoginBody; service: string }> {
  await t.createUser('root', undefined, ['user', 'admin']);
  const admin = await t.login('root');
  return { admin, service: await createIntrospectorKey(t, admin.access_token) };
}

/**
 * The revocation feed, `GET /api/v1/auth/revocations?since=<cursor>&wait=<s>`: what was revoked
 * since a cursor, for services that verify access tokens themselves and would otherwise accept a
 * revoked user's token until its `exp`.
 */
describe('revocation feed', () => {
  let t: TestApp;
  let admin: LoginBody;
  let service: string;
  const clock = new FakeClock();
  const feed = (query: Record<string, string | number> = {}, caller = apikey(service)) => t.http().get(`${API}/auth/revocations`).query(query).set(caller);
  const page = async (query: Record<string, string | number> = {}): Promise<Page> => {
    const res = await feed(query).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    return res.body as Page;
  };

  beforeAll(async () => {
    t = await createTestApp({ REVOCATION_FEED_RETENTION: '3600' }, undefined, [{ provide: Clock, useValue: clock }]);
    ({ admin, service } = await setUp(t));
  });
  afterAll(() => t.close());

  it('starts from now, then lists every kind of revocation in order, with what a service needs to refuse tokens', async () => {
    const start = await page();
    expect(start).toEqual({ events: [], cursor: expect.stringMatching(/^\d+\.\d+$/), has_more: false });

    const vic = await t.createUser('vic');
    const first = await t.login('vic');
    const second = await t.login('vic');
    const sid = (token: string) => (jwt.decode(token) as { sid: string }).sid;
    const as = bearer(admin.access_token);
    // A session revoked by an administrator, one by RFC 7009: their access tokens are refused.
    await t.http().delete(`${API}/admin/credentials/sessions/${sid(first.access_token)}`).set(as).expect(204);
    await t.http().post(`${API}/auth/revoke`).type('form').send({ token: second.refresh_token }).expect(200);
    // An API key, a deploy token.
    const third = await t.login('vic');
    const key = (await t.http().post(`${API}/auth/apikey`).set(bearer(third.access_token)).send(newKey(['read:metadata'])).expect(200)).body.secret;
    const keyId = (await t.http().get(`${API}/api-keys`).set(bearer(third.access_token)).expect(200)).body[0].id;
    await t.http().post(`${API}/auth/revoke`).type('form').send({ token: key }).expect(200);
    await t.http().post(`${API}/plugins`).set(bearer(third.access_token)).send({ name: 'fed' }).expect(201);
    const deploy = (await t.http().post(`${API}/plugins/fed/tokens`).set(bearer(third.access_token)).send({ description: 'ci' }).expect(201)).body;
    await t.http().delete(`${API}/plugins/fed/tokens/${deploy.id}`).set(bearer(third.access_token)).expect(204);
    // The user: revoke-all, roles, disable, enable, delete.
    await t.http().post(`${API}/admin/users/${vic.id}/revoke-all`).set(as).expect(200);
    await t.http().put(`${API}/admin/users/${vic.id}/roles`).set(as).send({ roles: [] }).expect(200);
    await t.http().post(`${API}/admin/users/${vic.id}/disable`).set(as).expect(200);
    await t.http().post(`${API}/admin/users/${vic.id}/enable`).set(as).expect(200);
    await t.http().delete(`${API}/admin/users/${vic.id}`).set(as).expect((r) => expect([200, 204]).toContain(r.status));

    const { events, cursor, has_more } = await page({ since: start.cursor });
    expect(has_more).toBe(false);
    const shapes = events.map(({ id: _id, at: _at, ...rest }) => rest);
    expect(shapes).toEqual([
      { kind: 'session', sid: sid(first.access_token) },
      { kind: 'session', sid: sid(second.access_token) },
      { kind: 'api_key', key_id: keyId, sub: vic.id },
      { kind: 'deploy_token', token_id: deploy.id, plugin_id: expect.any(String) },
      { kind: 'user', sub: vic.id, epoch: 1, status: 'active', roles: ['user'] },
      // revoke-all also ends the live sessions: their ids follow
      ...shapes.filter((e) => e.kind === 'session' && e.sid === sid(third.access_token)),
      { kind: 'user', sub: vic.id, epoch: 1, status: 'active', roles: [] },
      { kind: 'user', sub: vic.id, epoch: 1, status: 'disabled', roles: [] },
      { kind: 'user', sub: vic.id, epoch: 1, status: 'active', roles: [] },
      { kind: 'user', sub: vic.id, epoch: 1, status: 'deleted', roles: [] },
    ]);
    const ids = events.map((e) => Number(e.id));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    for (const e of events) expect(Math.abs((e.at as number) - clock.nowMs() / 1000)).toBeLessThan(60);
    // Asking again from the new cursor: nothing new.
    expect((await page({ since: cursor })).events).toEqual([]);
  });

  it('long-polls: answers within a second of a revocation, or empty with the same position when the wait is over', async () => {
    const { cursor } = await page();
    const pat = await t.createUser('pat');
    const started = Date.now();
    const waiting = feed({ since: cursor, wait: 10 }).then((r) => ({ body: r.body as Page, at: Date.now() }));
    await sleep(300);
    const revokedAt = Date.now();
    await t.http().post(`${API}/admin/users/${pat.id}/revoke-all`).set(bearer(admin.access_token)).expect(200);
    const answer = await waiting;
    expect(answer.at - revokedAt).toBeLessThan(1000);
    expect(answer.at - started).toBeGreaterThanOrEqual(300);
    expect(answer.body.events).toEqual([expect.objectContaining({ kind: 'user', sub: pat.id, epoch: 1 })]);

    const quiet = Date.now();
    const empty = await page({ since: answer.body.cursor, wait: 1 });
    expect(Date.now() - quiet).toBeGreaterThanOrEqual(900);
    expect(empty.events).toEqual([]);
    expect(empty.cursor.split('.')[0]).toBe(answer.body.cursor.split('.')[0]);
  });

  it('pages: at most 500 events an answer, has_more until caught up', async () => {
    const { cursor } = await page();
    const revocations = Array.from({ length: 620 }, (_, i) => ({ kind: 'session' as const, sid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }));
    await t.app.get(RevocationFeed).record(...revocations);
    const one = await page({ since: cursor });
    expect([one.events.length, one.has_more]).toEqual([500, true]);
    const two = await page({ since: one.cursor });
    expect([two.events.length, two.has_more]).toEqual([120, false]);
    expect(two.events.at(-1)).toMatchObject({ sid: revocations.at(-1)!.sid });
  });

  it('needs the introspect scope; bad input is a 422; a cursor older than the history, or from another feed, is a 410', async () => {
    await t.createUser('mo');
    const mo = await t.login('mo');
    await feed({}, bearer(mo.access_token)).expect(403);
    await t.http().get(`${API}/auth/revocations`).expect(401);
    const bad: Record<string, string | number>[] = [{ since: 'abc' }, { since: '1.2.3' }, { since: '-1.5' }, { wait: 31 }, { wait: 'soon' }, { wait: -1 }];
    for (const query of bad) {
      const res = await feed(query);
      expect([JSON.stringify(query), res.status]).toEqual([JSON.stringify(query), 422]);
    }
    const { cursor } = await page();
    const [id, at] = cursor.split('.');
    const future = await feed({ since: `${Number(id) + 1000}.${at}` }).expect(410);
    expect(future.body.code).toBe('REVOCATION_CURSOR_EXPIRED');
    clock.advance(3601);
    const old = await feed({ since: cursor }).expect(410);
    expect(old.body).toMatchObject({ code: 'REVOCATION_CURSOR_EXPIRED', detail: expect.stringMatching(/older than the feed's history \(3600 s\).*Start again without `since`/) });
    // A consumer that kept polling is fine: its cursor moved on with each answer.
    const fresh = await page();
    expect((await page({ since: fresh.cursor })).events).toEqual([]);
    // Events past the history (and a margin) are deleted.
    expect(await t.app.get(RevocationFeed).purge(new Date(clock.nowMs() + 3600_000))).toBeGreaterThan(0);
  });
});

(onPostgres ? describe : describe.skip)('revocation feed across instances (PostgreSQL + Redis)', () => {
  let a: TestApp;
  let b: TestApp;
  let service: string;
  let admin: LoginBody;

  beforeAll(async () => {
    a = await createTestApp();
    b = await createTestApp({}, a.db);
    for (const x of [a, b]) while (process.env.REDIS_URL && !x.app.get(RedisService).available) await sleep(20);
    ({ admin, service } = await setUp(a));
  });
  afterAll(async () => {
    await b?.close({ keepDatabase: true });
    await a?.close();
  });

  it("a revoke-all on one instance reaches a long poll held open on the other within a second, and that user's token is refused there", async () => {
    const ana = await a.createUser('ana');
    const token = (await a.login('ana')).access_token;
    const { cursor } = (await b.http().get(`${API}/auth/revocations`).set(apikey(service)).expect(200)).body as Page;
    const waiting = b
      .http()
      .get(`${API}/auth/revocations`)
      .query({ since: cursor, wait: 10 })
      .set(apikey(service))
      .then((r) => ({ body: r.body as Page, at: Date.now() }));
    await sleep(500);
    const revokedAt = Date.now();
    await a.http().post(`${API}/admin/users/${ana.id}/revoke-all`).set(bearer(admin.access_token)).expect(200);
    const answer = await waiting;
    expect(answer.at - revokedAt).toBeLessThan(1000);
    // The user's new epoch first; her login session's id may follow in the same answer.
    expect(answer.body.events[0]).toMatchObject({ kind: 'user', sub: ana.id, epoch: 1 });
    await b.http().get(`${API}/auth/credential`).set(bearer(token)).expect(401);
  });

  it('concurrent revocations on both instances: a consumer following the feed sees every one, each once', async () => {
    const { cursor } = (await a.http().get(`${API}/auth/revocations`).set(apikey(service)).expect(200)).body as Page;
    const users = await Promise.all(Array.from({ length: 12 }, (_, i) => a.createUser(`race${i}`)));
    const seen: Record<string, unknown>[] = [];
    let position = cursor;
    const follow = (async () => {
      while (seen.length < users.length) {
        const res = await (seen.length % 2 ? a : b).http().get(`${API}/auth/revocations`).query({ since: position, wait: 2 }).set(apikey(service)).expect(200);
        seen.push(...(res.body as Page).events);
        position = (res.body as Page).cursor;
      }
    })();
    await Promise.all(users.map((u, i) => (i % 2 ? a : b).http().post(`${API}/admin/users/${u.id}/revoke-all`).set(bearer(admin.access_token)).expect(200)));
    await follow;
    expect(seen.map((e) => e.sub).sort()).toEqual(users.map((u) => u.id).sort());
  });
});
