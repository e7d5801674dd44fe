import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type Redis from 'ioredis';
import { RedisService } from '../redis/redis.service';
import { FailureResult, HitResult, MemoryCounters } from './memory-counters';

/**
 * One hit on a fixed-window counter, atomically: INCR, PEXPIRE on the first hit of a window,
 * and past the limit either a block of its own length (KEYS[2], the counter starts afresh after
 * it) or, with blockMs 0, a refusal until the window ends.
 * KEYS: counter, block. ARGV: ttlMs, limit, blockMs. Returns {hits, ttlMs, blocked, retryMs}.
 */
const HIT_SCRIPT = `
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then
  return {tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('PTTL', KEYS[1]), 1, blocked}
end
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  ttl = tonumber(ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ttl)
end
if hits <= tonumber(ARGV[2]) then return {hits, ttl, 0, 0} end
local block = tonumber(ARGV[3])
if block > 0 then
  redis.call('SET', KEYS[2], '1', 'PX', block)
  redis.call('DEL', KEYS[1])
  return {hits, ttl, 1, block}
end
return {hits, ttl, 1, ttl}
`;

/**
 * One failed login: the failure count (its window restarts at every failure) and, from the
 * threshold on, a lock of 1 s doubling per further failure, capped (see failureDelayMs).
 * KEYS: failures, lock. ARGV: windowMs, threshold, maxDelayMs. Returns {failures, delayMs}.
 */
const FAILURE_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local over = n - tonumber(ARGV[2])
if over < 0 then return {n, 0} end
local delay = math.floor(math.min(1000 * 2 ^ math.min(over, 40), tonumber(ARGV[3])))
if delay > 0 then redis.call('SET', KEYS[2], '1', 'PX', delay) end
return {n, delay}
`;

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

interface RateLimitCommands {
  latchkeyRateLimitHit(counter: string, block: string, ttlMs: number, limit: number, blockMs: number): Promise<number[]>;
  latchkeyLoginFailure(failures: string, lock: string, windowMs: number, threshold: number, maxDelayMs: number): Promise<number[]>;
}

/** After a Redis command fails, count in memory for this long before trying Redis again. */
const REDIS_RETRY_MS = 2000;

/**
 * Where rate-limit counters live: in Redis when REDIS_URL is set (shared by every instance; one
 * Lua script per hit), in memory otherwise. Redis going away never fails a request: a command
 * that cannot run (not connected, timed out, refused) falls back to this instance's memory
 * counters, logged once per outage, and Redis is used again as soon as it answers. While
 * degraded each instance counts alone, so a client may get up to N times the limit across N
 * instances.
 */
@Injectable()
export class RateLimitStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly logger = new Logger(RateLimitStorage.name);
  private readonly memory = new MemoryCounters();
  private readonly client?: Redis & RateLimitCommands;
  private retryRedisAt = 0;
  private degraded = false;

  constructor(private readonly redis: RedisService) {
    if (!redis.client) return;
    const client = redis.client;
    client.defineCommand('latchkeyRateLimitHit', { numberOfKeys: 2, lua: HIT_SCRIPT });
    client.defineCommand('latchkeyLoginFailure', { numberOfKeys: 2, lua: FAILURE_SCRIPT });
    this.client = client as Redis & RateLimitCommands;
  }

  /** Where the next count goes (tests, health). */
  get backend(): 'redis' | 'memory' {
    return this.client && this.redis.available && Date.now() >= this.retryRedisAt ? 'redis' : 'memory';
  }

  /** ThrottlerStorage: one hit on `key`; times in the record are seconds, as the guard expects. */
  async increment(key: string, ttl: number, limit: number, blockDuration: number): Promise<ThrottlerStorageRecord> {
    const r = await this.hit(key, ttl, limit, blockDuration);
    return {
      totalHits: r.hits,
      timeToExpire: Math.ceil(Math.max(r.ttlMs, 0) / 1000),
      isBlocked: r.blocked,
      timeToBlockExpire: Math.ceil(Math.max(r.retryMs, 0) / 1000),
    };
  }

  /** One hit on a fixed-window counter (milliseconds). */
  hit(key: string, ttlMs: number, limit: number, blockMs: number): Promise<HitResult> {
    return this.use(
      async (c) => {
        const [hits, ttl, blocked, retryMs] = await c.latchkeyRateLimitHit(this.redisKey(key), this.redisKey(`${key}:block`), ttlMs, limit, blockMs);
        return { hits, ttlMs: ttl, blocked: blocked === 1, retryMs };
      },
      () => this.memory.hit(key, ttlMs, limit, blockMs),
    );
  }

  /** Milliseconds until `key` expires (0: absent). */
  remaining(key: string): Promise<number> {
    return this.use(
      async (c) => Math.max(await c.pttl(this.redisKey(key)), 0),
      () => this.memory.remaining(key),
    );
  }

  /** Records a failure; from `threshold` failures on, sets `lockKey` for a growing delay. */
  recordFailure(failuresKey: string, lockKey: string, windowMs: number, threshold: number, maxDelayMs: number): Promise<FailureResult> {
    return this.use(
      async (c) => {
        const [failures, delayMs] = await c.latchkeyLoginFailure(this.redisKey(failuresKey), this.redisKey(lockKey), windowMs, threshold, maxDelayMs);
        return { failures, delayMs };
      },
      () => this.memory.fail(failuresKey, lockKey, windowMs, threshold, maxDelayMs),
    );
  }

  /** Deletes counters (in Redis and in memory: a reset must also clear what an outage counted). */
  async delete(...keys: string[]): Promise<void> {
    this.memory.delete(...keys);
    await this.use(
      async (c) => {
        await c.del(...keys.map((k) => this.redisKey(k)));
      },
      () => undefined,
    );
  }

  onApplicationShutdown(): void {
    this.memory.close();
  }

  private redisKey(key: string): string {
    return this.redis.key(`rl:${key}`);
  }

  private async use<T>(inRedis: (client: Redis & RateLimitCommands) => Promise<T>, inMemory: () => T): Promise<T> {
    if (this.client && this.redis.available && Date.now() >= this.retryRedisAt) {
      try {
        const result = await inRedis(this.client);
        if (this.degraded) {
          this.degraded = false;
          this.logger.log('Rate limits: counting in Redis again');
        }
        return result;
      } catch (error) {
        this.retryRedisAt = Date.now() + REDIS_RETRY_MS;
        this.degrade((error as Error).message);
      }
    } else if (this.client && !['wait', 'connecting', 'connect'].includes(this.client.status)) {
      this.degrade('not connected'); // (still connecting at boot is not an outage worth a warning)
    }
    return inMemory();
  }

  private degrade(reason: string): void {
    if (this.degraded) return;
    this.degraded = true;
    this.logger.warn(`Rate limits: Redis unavailable (${reason}); counting in memory on this instance until it returns`);
  }
}
