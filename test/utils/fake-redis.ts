import { randomBytes } from 'node:crypto';
import type { RedisService } from '../../src/common/redis/redis.service';

/**
 * An in-memory stand-in for one Redis server, for unit specs of the shared caches: the commands
 * they use (GET, SET with PX/NX, pipelines, sorted sets, PUBLISH) and switches to take the server,
 * or one instance's connection, away and bring it back. `connect()` gives each simulated instance
 * its own `RedisService`-shaped object; messages are delivered synchronously to every subscriber,
 * the publisher included (callers filter their own). Unknown commands are not there, so a spec
 * notices what it does not cover.
 */
export type FakeConnection = RedisService & { cut(): void; reconnect(): Promise<void> };

export class FakeRedis {
  private readonly strings = new Map<string, { value: string; expiresAt: number }>();
  private readonly zsets = new Map<string, Map<string, number>>();
  private readonly channels = new Map<string, Set<(message: string) => void>>();
  private readonly connections: { linkUp: boolean; handlers: (() => void)[] }[] = [];
  up = true;
  /** Every PUBLISH, for assertions: [channel, message]. */
  readonly published: [string, string][] = [];

  /** Takes the server away: every command fails, nothing is delivered. */
  down(): void {
    this.up = false;
  }

  /** Brings it back and runs every instance's reconnect handlers, as RedisService does. */
  async restore(): Promise<void> {
    this.up = true;
    for (const connection of this.connections) if (connection.linkUp) for (const handler of connection.handlers) handler();
    await new Promise((r) => setImmediate(r));
  }

  /** The raw value of a key (no prefix added), or undefined. */
  peek(key: string): string | undefined {
    return this.get(key);
  }

  /**
   * One instance's connection. `cut()` / `reconnect()` take only this connection away and back
   * (messages published meanwhile are lost for it, as with real pub/sub).
   */
  connect(prefix = 'fake:'): FakeConnection {
    const self = this;
    const link = { linkUp: true, handlers: [] as (() => void)[] };
    this.connections.push(link);
    const isUp = () => self.up && link.linkUp;
    const check = () => {
      if (!isUp()) throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
    };
    const client = {
      async get(key: string) {
        check();
        return self.get(key) ?? null;
      },
      async set(key: string, value: string, ...args: (string | number)[]) {
        check();
        return self.set(key, value, args);
      },
      async zadd(key: string, ...args: (string | number)[]) {
        check();
        return self.zadd(key, args);
      },
      async zremrangebyscore(key: string, min: string | number, max: string | number) {
        check();
        return self.zrem(key, min, max);
      },
      async zrangebyscore(key: string, min: string | number, max: string | number, withScores?: string) {
        check();
        if (withScores !== 'WITHSCORES') throw new Error('fake: WITHSCORES only');
        return self.zrange(key, min, max);
      },
      pipeline() {
        const ops: (() => unknown)[] = [];
        const pipeline = {
          set: (key: string, value: string, ...args: (string | number)[]) => (ops.push(() => self.set(key, value, args)), pipeline),
          zadd: (key: string, ...args: (string | number)[]) => (ops.push(() => self.zadd(key, args)), pipeline),
          zremrangebyscore: (key: string, min: string | number, max: string | number) => (ops.push(() => self.zrem(key, min, max)), pipeline),
          async exec() {
            check();
            return ops.map((op) => [null, op()] as [null, unknown]);
          },
        };
        return pipeline;
      },
    };
    const service = {
      enabled: true,
      get available() {
        return isUp();
      },
      get connected() {
        return isUp();
      },
      prefix,
      instanceId: randomBytes(6).toString('hex'),
      client,
      key: (name: string) => prefix + name,
      async publish(channel: string, message: string) {
        if (!isUp()) return false;
        self.published.push([prefix + channel, message]);
        for (const handler of self.channels.get(prefix + channel) ?? []) handler(message);
        return true;
      },
      subscribe(channel: string, handler: (message: string) => void) {
        const name = prefix + channel;
        if (!self.channels.has(name)) self.channels.set(name, new Set());
        self.channels.get(name)!.add((message) => {
          if (isUp()) handler(message);
        });
      },
      onReconnect(handler: () => void) {
        link.handlers.push(handler);
      },
      cut() {
        link.linkUp = false;
      },
      async reconnect() {
        link.linkUp = true;
        if (self.up) for (const handler of link.handlers) handler();
        await new Promise((r) => setImmediate(r));
      },
    };
    return service as unknown as FakeConnection;
  }

  private get(key: string): string | undefined {
    const entry = this.strings.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > Date.now()) return entry.value;
    this.strings.delete(key);
    return undefined;
  }

  private set(key: string, value: string, args: (string | number)[]): 'OK' | null {
    let ttl = Infinity;
    let nx = false;
    for (let i = 0; i < args.length; i++) {
      if (args[i] === 'PX') ttl = Number(args[++i]);
      else if (args[i] === 'NX') nx = true;
      else throw new Error(`fake: SET option ${args[i]}`);
    }
    if (nx && this.get(key) !== undefined) return null;
    this.strings.set(key, { value, expiresAt: Date.now() + ttl });
    return 'OK';
  }

  private zadd(key: string, args: (string | number)[]): number {
    const set = this.zsets.get(key) ?? new Map<string, number>();
    this.zsets.set(key, set);
    let added = 0;
    for (let i = 0; i + 1 < args.length; i += 2) {
      if (!set.has(String(args[i + 1]))) added++;
      set.set(String(args[i + 1]), Number(args[i]));
    }
    return added;
  }

  private zrem(key: string, min: string | number, max: string | number): number {
    const set = this.zsets.get(key);
    if (!set) return 0;
    let removed = 0;
    for (const [member, score] of set) {
      if (inRange(score, min, max)) {
        set.delete(member);
        removed++;
      }
    }
    return removed;
  }

  private zrange(key: string, min: string | number, max: string | number): string[] {
    const set = this.zsets.get(key) ?? new Map<string, number>();
    return [...set]
      .filter(([, score]) => inRange(score, min, max))
      .sort((x, y) => x[1] - y[1])
      .flatMap(([member, score]) => [member, String(score)]);
  }
}

function bound(value: string | number): { n: number; open: boolean } {
  if (typeof value === 'number') return { n: value, open: false };
  if (value === '-inf') return { n: -Infinity, open: false };
  if (value === '+inf') return { n: Infinity, open: false };
  return value.startsWith('(') ? { n: Number(value.slice(1)), open: true } : { n: Number(value), open: false };
}

function inRange(score: number, min: string | number, max: string | number): boolean {
  const lo = bound(min);
  const hi = bound(max);
  return (lo.open ? score > lo.n : score >= lo.n) && (hi.open ? score < hi.n : score <= hi.n);
}
