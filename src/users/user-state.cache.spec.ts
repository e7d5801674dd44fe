import type { Repository } from 'typeorm';
import { FakeRedis } from '../../test/utils/fake-redis';
import type { AppConfig } from '../config/app.config';
import type { User } from './user.entity';
import { UserStateCache } from './user-state.cache';

function setup(ttlSeconds: number, redis?: FakeRedis) {
  const findOne = jest.fn();
  const repo = { findOne } as unknown as Repository<User>;
  const cache = new UserStateCache(repo, { auth: { userCacheTtl: ttlSeconds } } as AppConfig, redis?.connect());
  return { cache, findOne };
}

const row = (epoch: number, status = 'active') => ({ id: 'u1', epoch, status, username: 'alice', roles: ['user'], groups: [] });
const state = (epoch: number, status = 'active') => ({ epoch, status, exists: true, username: 'alice', roles: ['user'], groups: [] });
const dbDown = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('UserStateCache', () => {
  it('answers from memory while fresh: one query for many checks', async () => {
    const { cache, findOne } = setup(60);
    findOne.mockResolvedValue(row(3));
    expect(await cache.get('u1')).toEqual(state(3));
    expect(cache.get('u1')).toEqual(state(3)); // synchronous now
    expect(findOne).toHaveBeenCalledTimes(1);
  });

  it('collapses concurrent loads of one user into one query', async () => {
    const { cache, findOne } = setup(60);
    findOne.mockResolvedValue(row(1));
    await Promise.all(Array.from({ length: 20 }, () => cache.get('u1')));
    expect(findOne).toHaveBeenCalledTimes(1);
  });

  it('reloads when stale, and keeps serving the stale entry while the database is unreachable', async () => {
    const { cache, findOne } = setup(0);
    findOne.mockResolvedValueOnce(row(1));
    await cache.get('u1');
    findOne.mockRejectedValueOnce(dbDown);
    expect(await cache.get('u1')).toEqual(state(1));
    findOne.mockResolvedValueOnce(row(2, 'disabled'));
    expect(await cache.get('u1')).toEqual(state(2, 'disabled'));
  });

  it('fails (does not vouch) when there is no entry and the database is unreachable, or on other errors', async () => {
    const { cache, findOne } = setup(0);
    findOne.mockRejectedValueOnce(dbDown);
    await expect(cache.get('u1')).rejects.toBe(dbDown);
    findOne.mockResolvedValueOnce(row(1));
    await cache.get('u1');
    const bug = new Error('syntax error at or near');
    findOne.mockRejectedValueOnce(bug);
    await expect(cache.get('u1')).rejects.toBe(bug);
  });

  it('reports a deleted user as gone, and applies local changes at once', async () => {
    const { cache, findOne } = setup(60);
    findOne.mockResolvedValue(null);
    expect(await cache.get('u2')).toMatchObject({ exists: false });
    await cache.set('u1', state(9) as never);
    expect(cache.get('u1')).toEqual(state(9));
  });
});

describe('UserStateCache with Redis', () => {
  it('an instance without an entry takes the state another instance loaded, without a query', async () => {
    const redis = new FakeRedis();
    const [a, b] = [setup(60, redis), setup(60, redis)];
    a.findOne.mockResolvedValue(row(3));
    await a.cache.get('u1');
    expect(await b.cache.get('u1')).toEqual(state(3));
    expect(b.cache.get('u1')).toEqual(state(3)); // and keeps it in memory
    expect(b.findOne).not.toHaveBeenCalled();
  });

  it('a change on one instance makes every other one re-read the database at once', async () => {
    const redis = new FakeRedis();
    const [a, b] = [setup(60, redis), setup(60, redis)];
    a.findOne.mockResolvedValue(row(1));
    b.findOne.mockResolvedValue(row(1));
    await a.cache.get('u1');
    await b.cache.get('u1');
    b.findOne.mockResolvedValue(row(2, 'disabled'));
    await a.cache.set('u1', state(2, 'disabled') as never);
    expect(a.cache.get('u1')).toEqual(state(2, 'disabled'));
    expect(await b.cache.get('u1')).toEqual(state(2, 'disabled'));
    expect(b.findOne).toHaveBeenCalledTimes(1); // Redis held a tombstone, not the old state
  });

  it('after such a change, an entry of another instance still serves while the database is unreachable', async () => {
    const redis = new FakeRedis();
    const [a, b] = [setup(60, redis), setup(60, redis)];
    b.findOne.mockResolvedValueOnce(row(1));
    await b.cache.get('u1');
    await a.cache.set('u1', state(2) as never);
    b.findOne.mockRejectedValueOnce(dbDown);
    expect(await b.cache.get('u1')).toEqual(state(1));
  });

  it('Redis down: loads go to the database and nothing fails', async () => {
    const redis = new FakeRedis();
    const a = setup(60, redis);
    redis.down();
    a.findOne.mockResolvedValue(row(4));
    expect(await a.cache.get('u1')).toEqual(state(4));
    await a.cache.set('u1', state(5) as never);
    expect(a.cache.get('u1')).toEqual(state(5));
  });
});
