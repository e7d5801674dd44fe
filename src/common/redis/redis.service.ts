import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig, InjectConfig } from '../../config/app.config';

type Handler = (message: string) => void;

/**
 * The optional shared Redis (REDIS_URL). Two connections: one for commands, one subscribed to
 * channels. Built so that Redis going away never breaks a request:
 * - commands fail fast instead of queueing while disconnected (`enableOfflineQueue: false`,
 *   one retry per request, 1 s connect timeout), and callers treat a failure as a miss and fall
 *   back to their local cache and the database;
 * - ioredis reconnects on its own (backoff up to 2 s) and resubscribes the channels;
 * - every transition is logged once ("Redis unavailable" / "Redis available again").
 * Without REDIS_URL, `enabled` is false and nothing connects. Keys and channels carry
 * REDIS_KEY_PREFIX.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisService.name);
  readonly client?: Redis;
  private readonly subscriber?: Redis;
  private readonly handlers = new Map<string, Set<Handler>>();
  private up = false;
  readonly prefix: string;

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
    this.client = new Redis(config.redis.url, options);
    this.subscriber = new Redis(config.redis.url, { ...options, commandTimeout: undefined });
    this.client.on('ready', () => this.transition(true));
    this.client.on('close', () => this.transition(false));
    this.client.on('error', () => undefined); // reported once by transition(); ioredis retries
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

  get enabled(): boolean {
    return this.client !== undefined;
  }

  /** Connected and ready for commands right now. */
  get available(): boolean {
    return this.client?.status === 'ready';
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
      this.subscriber.subscribe(name).catch((error: Error) => this.logger.warn(`subscribe ${name}: ${error.message}`));
    }
    set.add(handler);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.client, this.subscriber].map((c) => c?.quit().catch(() => c.disconnect())));
  }

  private transition(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    if (up) this.logger.log('Redis available');
    else this.logger.warn('Redis unavailable: using local caches and the database until it returns');
  }
}
