import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { AppConfig, InjectConfig } from '../../config/app.config';

type Handler = (message: string) => void;

/** How long start-up waits for Redis before going on without it (it is picked up later). */
const STARTUP_WAIT_MS = 1500;

/**
 * The optional shared Redis (REDIS_URL). Two connections: one for commands, one subscribed to
 * channels. Built so that Redis going away never breaks a request:
 * - commands fail fast instead of queueing while disconnected (`enableOfflineQueue: false`,
 *   one retry per request, 1 s connect and command timeouts), and callers treat a failure as a
 *   miss and fall back to their local cache and the database;
 * - ioredis reconnects on its own (backoff up to 2 s); the channels are subscribed again on
 *   every (re)connection, and `onReconnect` handlers run once both connections are back, so
 *   state that may have missed messages meanwhile can be re-read;
 * - every transition is logged once ("Redis unavailable" / "Redis available").
 * Without REDIS_URL, `enabled` is false and nothing connects. Keys and channels carry
 * REDIS_KEY_PREFIX.
 */
@Injectable()
export class RedisService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RedisService.name);
  readonly client?: Redis;
  private readonly subscriber?: Redis;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly reconnectHandlers = new Set<() => void>();
  private readonly waiters = new Set<() => void>();
  /** The subscriber connection is ready and every channel is subscribed (confirmed by a PING). */
  private subscribed = false;
  private up = false;
  private closing = false;
  readonly prefix: string;
  /** Tags this process's messages, so it can ignore its own. */
  readonly instanceId = randomBytes(6).toString('hex');

  constructor(@InjectConfig() config: AppConfig) {
    this.prefix = config.redis?.keyPrefix ?? 'latchkey:';
    if (!config.redis) return;
    const options = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 1000,
      commandTimeout: 1000,
      retryStrategy: (times: number) => Math.min(times * 200, 2000),
      lazyConnect: false,
    };
    // Loaded only when configured: without REDIS_URL, ioredis is never loaded.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { default: RedisClient } = require('ioredis') as typeof import('ioredis');
    this.client = new RedisClient(config.redis.url, options);
    // Channels are (re)subscribed by resubscribe() on every ready, including ones added while down.
    this.subscriber = new RedisClient(config.redis.url, { ...options, commandTimeout: undefined, autoResubscribe: false });
    this.client.on('ready', () => this.update());
    this.client.on('close', () => this.update());
    this.client.on('error', () => undefined); // reported once by update(); ioredis retries
    this.subscriber.on('ready', () => void this.resubscribe());
    this.subscriber.on('close', () => {
      this.subscribed = false;
      this.update();
    });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (channel: string, message: string) => {
      for (const handler of this.handlers.get(channel) ?? []) {
        try {
          handler(message);
        } catch (error) {
          this.logger.warn(`handler for ${channel} failed: ${(error as Error).message}`);
        }
      }
    });
  }

  /** Start-up waits briefly for the connection, so caches and the CLI begin with Redis when it is there. */
  async onModuleInit(): Promise<void> {
    if (this.enabled && !(await this.whenConnected(STARTUP_WAIT_MS))) {
      this.logger.warn(`Redis not reachable at start; going on without it until it answers`);
    }
  }

  get enabled(): boolean {
    return this.client !== undefined;
  }

  /** Connected and ready for commands right now. */
  get available(): boolean {
    return this.client?.status === 'ready';
  }

  /** Commands work and every channel is subscribed: messages published from now on arrive. */
  get connected(): boolean {
    return this.available && this.subscribed;
  }

  /** Resolves true once `connected`, false after `timeoutMs` (or at once without Redis). */
  whenConnected(timeoutMs: number): Promise<boolean> {
    if (!this.enabled) return Promise.resolve(false);
    if (this.connected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(this.connected);
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref?.();
      this.waiters.add(done);
    });
  }

  key(name: string): string {
    return this.prefix + name;
  }

  /** Publishes on a (prefixed) channel; false when Redis is off or down (never throws). */
  async publish(channel: string, message: string): Promise<boolean> {
    if (!this.available) return false;
    try {
      await this.client!.publish(this.key(channel), message);
      return true;
    } catch {
      return false;
    }
  }

  /** Calls `handler` for every message on a (prefixed) channel, across reconnects. */
  subscribe(channel: string, handler: Handler): void {
    if (!this.subscriber) return;
    const name = this.key(channel);
    let set = this.handlers.get(name);
    if (!set) {
      set = new Set();
      this.handlers.set(name, set);
      if (this.subscriber.status === 'ready') {
        this.subscriber.subscribe(name).catch((error: Error) => this.logger.warn(`subscribe ${name}: ${error.message}`));
      } // else: resubscribe() subscribes it when the connection is ready
    }
    set.add(handler);
  }

  /**
   * Runs `handler` every time both connections are back after Redis was unreachable (and on
   * the first connection): messages published meanwhile were lost, so re-read what matters.
   */
  onReconnect(handler: () => void): void {
    this.reconnectHandlers.add(handler);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    await Promise.all([this.client, this.subscriber].map((c) => c?.quit().catch(() => c.disconnect())));
  }

  private async resubscribe(): Promise<void> {
    const subscriber = this.subscriber!;
    try {
      const channels = [...this.handlers.keys()];
      if (channels.length > 0) await subscriber.subscribe(...channels);
      await subscriber.ping(); // answered after the SUBSCRIBE: from here on, messages arrive
      if (subscriber.status !== 'ready') return;
      this.subscribed = true;
      this.update();
    } catch (error) {
      this.logger.warn(`subscribing to Redis channels failed: ${(error as Error).message}`);
    }
  }

  private update(): void {
    const up = this.connected;
    if (up === this.up) return;
    this.up = up;
    if (up) {
      this.logger.log('Redis available');
      for (const handler of this.reconnectHandlers) {
        try {
          handler();
        } catch (error) {
          this.logger.warn(`Redis reconnect handler failed: ${(error as Error).message}`);
        }
      }
      for (const waiter of [...this.waiters]) waiter();
    } else if (!this.closing) {
      this.logger.warn('Redis unavailable: using local caches and the database until it returns');
    }
  }
}
