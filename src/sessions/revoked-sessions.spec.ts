import { FakeRedis } from '../../test/utils/fake-redis';
import type { AppConfig } from '../config/app.config';
import { RevokedSessions, REVOKED_SESSION_MARGIN_MS } from './revoked-sessions';

const MAX_AGE_S = 900;
const WINDOW = MAX_AGE_S * 1000 + REVOKED_SESSION_MARGIN_MS;
const config = { auth: { accessTokenMaxAge: MAX_AGE_S } } as AppConfig;
let now = 5_000_000;
const started: RevokedSessions[] = [];

async function start(redis?: FakeRedis): Promise<RevokedSessions> {
  const list = new RevokedSessions(config, redis?.connect());
  await list.onModuleInit();
  started.push(list);
  return list;
}

beforeEach(() => {
  now = 5_000_000;
  jest.spyOn(Date, 'now').mockImplementation(() => now);
});
afterEach(() => {
  for (const list of started.splice(0)) list.onModuleDestroy();
  jest.restoreAllMocks();
});

describe('RevokedSessions', () => {
  it('refuses a revoked session until its access tokens can no longer be valid, then forgets it', async () => {
    const list = await start();
    await list.add(['s1']);
    expect(list.has('s1')).toBe(true);
    expect(list.has('s2')).toBe(false);
    now += WINDOW - 1;
    expect(list.has('s1')).toBe(true);
    now += 1;
    expect(list.has('s1')).toBe(false);
    expect(list.size).toBe(0);
  });

  it('with Redis: a revocation on one instance reaches the others at once, and an instance started later loads it', async () => {
    const redis = new FakeRedis();
    const [a, b] = [await start(redis), await start(redis)];
    await a.add(['s1', 's2']);
    expect(b.has('s1') && b.has('s2')).toBe(true);
    now += 60_000;
    const c = await start(redis);
    expect(c.has('s1')).toBe(true);
    // Entries past their window are dropped from Redis and not loaded.
    now += WINDOW;
    const d = await start(redis);
    expect(d.has('s1')).toBe(false);
  });

  it('Redis down: the revocation holds here at once and reaches the others when Redis returns', async () => {
    const redis = new FakeRedis();
    const [a, b] = [await start(redis), await start(redis)];
    redis.down();
    await a.add(['s1']);
    expect(a.has('s1')).toBe(true);
    expect(b.has('s1')).toBe(false);
    await redis.restore();
    expect(b.has('s1')).toBe(true);
    const c = await start(redis);
    expect(c.has('s1')).toBe(true);
  });

  it('an instance that missed messages while cut off re-reads the list when it reconnects', async () => {
    const redis = new FakeRedis();
    const a = await start(redis);
    const connection = redis.connect();
    const b = new RevokedSessions(config, connection);
    await b.onModuleInit();
    started.push(b);
    connection.cut();
    await a.add(['s1']); // published while B was away: lost for B
    expect(b.has('s1')).toBe(false);
    await connection.reconnect();
    expect(b.has('s1')).toBe(true);
  });

  it('ignores malformed messages', async () => {
    const redis = new FakeRedis();
    const a = await start(redis);
    const other = redis.connect();
    await other.publish('revoked-sessions', 'garbage s2:notanumber :123 s3:' + (now + 1000));
    expect(a.has('garbage')).toBe(false);
    expect(a.has('s2')).toBe(false);
    expect(a.has('s3')).toBe(true);
  });
});
