import { FakeRedis } from '../../../test/utils/fake-redis';
import { CacheStats } from './cache-stats';
import { LookupCache } from './lookup-cache';

interface Key {
  id: string;
  revoked: boolean;
}

const TTL = 10_000;
let now = 1_000_000;

beforeEach(() => {
  now = 1_000_000;
  jest.spyOn(Date, 'now').mockImplementation(() => now);
});
afterEach(() => jest.restoreAllMocks());

/** A "database" of keys and a cache in front of it, as one instance has. */
function instance(db: Map<string, Key>, redis?: FakeRedis, name = 'test-lookup') {
  const load = jest.fn(async (hash: string) => db.get(hash) ?? null);
  const cache = new LookupCache<Key>({ name, ttlMs: TTL, maxHits: 100, maxMisses: 10, redis: redis?.connect() });
  return { cache, load, get: (hash: string) => cache.get(hash, () => load(hash)) };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('LookupCache without Redis', () => {
  it('answers hits and misses from memory for the TTL, and counts them', async () => {
    const db = new Map([['h1', { id: 'k1', revoked: false }]]);
    const a = instance(db, undefined, 'test-lookup-local');
    expect(await a.get('h1')).toEqual({ id: 'k1', revoked: false });
    expect(await a.get('h1')).toEqual({ id: 'k1', revoked: false });
    expect(await a.get('nope')).toBeNull();
    expect(await a.get('nope')).toBeNull();
    expect(a.load).toHaveBeenCalledTimes(2);
    expect(CacheStats.for('test-lookup-local')).toEqual({ hits: 2, misses: 2 });
    now += TTL;
    await a.get('h1');
    expect(a.load).toHaveBeenCalledTimes(3);
  });

  it('forget drops the entry at once', async () => {
    const db = new Map([['h1', { id: 'k1', revoked: false }]]);
    const a = instance(db);
    await a.get('h1');
    db.set('h1', { id: 'k1', revoked: true });
    await a.cache.forget('h1');
    expect(await a.get('h1')).toEqual({ id: 'k1', revoked: true });
  });

  it('a load that a forget overtook does not store its (old) answer', async () => {
    const db = new Map([['h1', { id: 'k1', revoked: false }]]);
    const slow = deferred<Key | null>();
    const cache = new LookupCache<Key>({ name: 'test-lookup', ttlMs: TTL, maxHits: 100, maxMisses: 10 });
    const racing = cache.get('h1', () => slow.promise); // read the row before the revocation...
    await cache.forget('h1'); // ...which lands meanwhile
    slow.resolve({ id: 'k1', revoked: false });
    expect(await racing).toEqual({ id: 'k1', revoked: false }); // that request was concurrent
    db.set('h1', { id: 'k1', revoked: true });
    expect(await cache.get('h1', async () => db.get('h1')!)).toEqual({ id: 'k1', revoked: true });
  });
});

describe('LookupCache with Redis', () => {
  it('shares found credentials: the second instance asks Redis, not the database', async () => {
    const redis = new FakeRedis();
    const db = new Map([['h1', { id: 'k1', revoked: false }]]);
    const [a, b] = [instance(db, redis), instance(db, redis)];
    await a.get('h1');
    expect(await b.get('h1')).toEqual({ id: 'k1', revoked: false });
    expect(b.load).not.toHaveBeenCalled();
    // Misses stay local: nothing written for made-up secrets.
    await a.get('made-up');
    await b.get('made-up');
    expect(b.load).toHaveBeenCalledTimes(1);
  });

  it('forget on one instance drops the entry on every instance at once', async () => {
    const redis = new FakeRedis();
    const db = new Map([['h1', { id: 'k1', revoked: false }]]);
    const [a, b] = [instance(db, redis), instance(db, redis)];
    await a.get('h1');
    await b.get('h1');
    db.set('h1', { id: 'k1', revoked: true });
    await a.cache.forget('h1');
    expect(await b.get('h1')).toEqual({ id: 'k1', revoked: true });
    expect(b.load).toHaveBeenCalledTimes(1); // the tombstone sent it to the database
  });

  it('a load that read the database before a revocation cannot put the old value into Redis', async () => {
    const redis = new FakeRedis();
    const db = new Map([['h1', { id: 'k1', revoked: false }]]);
    const a = instance(db, redis);
    const c = instance(db, redis);
    const slow = deferred<Key | null>();
    const b = new LookupCache<Key>({ name: 'test-lookup', ttlMs: TTL, maxHits: 100, maxMisses: 10, redis: redis.connect() });
    const racing = b.get('h1', () => slow.promise);
    await new Promise((r) => setImmediate(r)); // B has asked Redis (nothing) and is reading the database
    db.set('h1', { id: 'k1', revoked: true });
    await a.cache.forget('h1');
    slow.resolve({ id: 'k1', revoked: false }); // B's read from before the revocation
    await racing;
    expect(await c.get('h1')).toEqual({ id: 'k1', revoked: true });
    expect(await b.get('h1', async () => db.get('h1')!)).toEqual({ id: 'k1', revoked: true });
  });

  it('a copy from Redis is trusted only until the original read + TTL, not a TTL from the copy', async () => {
    const redis = new FakeRedis();
    const db = new Map([['h1', { id: 'k1', revoked: false }]]);
    const [a, b] = [instance(db, redis), instance(db, redis)];
    await a.get('h1'); // read at t0, trusted until t0 + TTL
    now += TTL - 1000;
    await b.get('h1'); // copied from Redis with 1 s left
    expect(b.load).not.toHaveBeenCalled();
    now += 1000;
    await b.get('h1');
    expect(b.load).toHaveBeenCalledTimes(1);
  });

  it('Redis down: lookups fall back to the database; a forget made meanwhile reaches the others when it returns', async () => {
    const redis = new FakeRedis();
    const db = new Map([['h1', { id: 'k1', revoked: false }]]);
    const [a, b] = [instance(db, redis), instance(db, redis)];
    await a.get('h1');
    await b.get('h1');
    redis.down();
    expect(await a.get('h2')).toBeNull(); // no error: a miss from the database
    db.set('h1', { id: 'k1', revoked: true });
    await a.cache.forget('h1'); // cannot be published now
    expect((await b.get('h1'))!.revoked).toBe(false); // B's entry lives on (at most its TTL)
    await redis.restore();
    expect((await b.get('h1'))!.revoked).toBe(true);
  });
});
