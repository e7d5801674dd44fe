import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { PeriodicJob } from '../common/periodic-job';
import { AppError } from '../common/errors/app-error';
import { AppConfig, InjectConfig } from '../config/app.config';
import { GracefulShutdown } from '../health/graceful-shutdown';
import { inTransaction } from '../database/transactions';
import { RevocationEvent } from './revocation-event.entity';

/** What a revocation says, as the revoking module reports it. */
export type Revocation =
  /** A user's state changed: refuse their tokens with an older `epoch`, all of them unless `status` is active. */
  | { kind: 'user'; sub: string; epoch: number; status: 'active' | 'disabled' | 'deleted'; roles: readonly string[] }
  /** A session's access tokens are refused (their `sid`). */
  | { kind: 'session'; sid: string }
  | { kind: 'api_key'; keyId: string; sub: string }
  | { kind: 'deploy_token'; tokenId: string; pluginId: string };

/** One event as the feed answers it (snake_case, `at` in Unix seconds). */
export type FeedEvent = { id: string; at: number } & (
  | { kind: 'user'; sub: string; epoch: number; status: string; roles: string[] }
  | { kind: 'session'; sid: string }
  | { kind: 'api_key'; key_id: string; sub: string }
  | { kind: 'deploy_token'; token_id: string; plugin_id: string }
);

/** Where a consumer is: everything up to event `id` seen, as of `at` (Unix seconds). */
export interface FeedCursor {
  id: number;
  at: number;
}

export interface FeedPage {
  events: FeedEvent[];
  cursor: string;
  hasMore: boolean;
}

/** Longest answer; a consumer behind by more gets `has_more` and asks again at once. */
export const FEED_PAGE_SIZE = 500;
/** How often, while someone waits, an instance looks for events other instances wrote. */
const POLL_MS = 200;
/** The purge keeps this much beyond the retention: clocks of instances and database may differ. */
const PURGE_MARGIN_MS = 3600_000;
const PURGE_INTERVAL_MS = 3600_000;
/** Serialises feed inserts on PostgreSQL, so ids become visible in the order they grow. */
const FEED_LOCK = 0x6c6b7266; // "lkrf"

const CURSOR = /^(\d{1,15})\.(\d{1,12})$/;

export function parseCursor(text: string): FeedCursor | undefined {
  const m = CURSOR.exec(text);
  return m ? { id: Number(m[1]), at: Number(m[2]) } : undefined;
}

function formatCursor(cursor: FeedCursor): string {
  return `${cursor.id}.${cursor.at}`;
}

/**
 * The revocation feed: what was revoked, in order, for services that verify access tokens
 * themselves and would otherwise honour a revoked token until its `exp`. Modules report each
 * revocation (`record`) right after it is committed; the events are kept in `revocation_events`
 * for `REVOCATION_FEED_RETENTION` (at least one access-token lifetime), so any instance serves
 * them. A consumer long-polls `GET /auth/revocations?since=<cursor>&wait=<s>`: answered at once
 * when there is something newer, else when something arrives (written on this instance: at once;
 * on another: within POLL_MS, one `max(id)` query per instance per tick however many wait), else
 * empty when the wait is over. A cursor older than the history is refused (410): the consumer has
 * missed events and must treat what it cached as stale.
 */
@Injectable()
export class RevocationFeed implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(RevocationFeed.name);
  private readonly postgres: boolean;
  private readonly retentionMs: number;
  /** Requests waiting for an event after their cursor's id. */
  private readonly waiters = new Set<{ after: number; wake: () => void }>();
  /** Shutting down: answer at once, never wait (a consumer's next poll would hold the server open). */
  private closing = false;

  /** True once the server is shutting down: answers also close their connection. */
  get shuttingDown(): boolean {
    return this.closing;
  }
  private poller?: NodeJS.Timeout;
  private readonly purgeJob = new PeriodicJob('purging the revocation feed', this.logger, () => this.purge());

  constructor(
    @InjectRepository(RevocationEvent) private readonly events: Repository<RevocationEvent>,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
    private readonly moduleRef: ModuleRef,
  ) {
    this.postgres = events.manager.connection.options.type === 'postgres';
    this.retentionMs = config.auth.revocationFeedRetention * 1000;
  }

  onApplicationBootstrap(): void {
    // The server drains on SIGTERM: waiting requests answer at once (the CLI has no such thing).
    let shutdown: GracefulShutdown | undefined;
    try {
      shutdown = this.moduleRef.get(GracefulShutdown, { strict: false });
    } catch {
      shutdown = undefined;
    }
    shutdown?.onDrain(() => {
      this.closing = true;
      this.wakeAll();
    });
    if (this.config.env === 'test') return; // tests call purge() themselves
    this.purgeJob.start(PURGE_INTERVAL_MS);
  }

  /** Before the HTTP server closes (it waits for requests in flight): waiting requests answer now. */
  beforeApplicationShutdown(): void {
    this.closing = true;
    this.wakeAll();
  }

  onApplicationShutdown(): void {
    this.purgeJob.stop();
    this.wakeAll();
  }

  /**
   * Appends revocations that have just been committed. Never throws: the revocation itself has
   * happened; a failure here is logged (the event is then missing from the feed, and consumers
   * learn it at the token's `exp` or from introspection).
   */
  async record(...revocations: Revocation[]): Promise<void> {
    if (revocations.length === 0) return;
    const createdAt = this.clock.now();
    const rows = revocations.map((r) => ({ createdAt, ...stored(r) }));
    try {
      await inTransaction(this.events.manager.connection, async (manager) => {
        if (this.postgres) await manager.query('SELECT pg_advisory_xact_lock($1)', [FEED_LOCK]);
        await manager.insert(RevocationEvent, rows);
      });
    } catch (error) {
      this.logger.error(`revocation feed: could not record ${revocations.map((r) => r.kind).join(', ')}: ${(error as Error).message}`);
      return;
    }
    // Every request waiting now waits for something after an id below the ones just committed.
    this.wake(Number.POSITIVE_INFINITY);
  }

  /**
   * The events after `since` (none: no events, the cursor of "now"), waiting up to `waitMs` for
   * one when there is none yet. `gone` aborts when the client goes away (stop waiting).
   */
  async read(since: FeedCursor | undefined, waitMs: number, gone: AbortSignal): Promise<FeedPage> {
    const now = this.clock.nowMs();
    const latest = await this.latestId();
    if (!since) return { events: [], cursor: formatCursor({ id: latest, at: Math.floor(now / 1000) }), hasMore: false };
    if (since.at * 1000 < now - this.retentionMs || since.id > latest) {
      throw new AppError(
        'REVOCATION_CURSOR_EXPIRED',
        since.id > latest
          ? 'This cursor is not from this feed. Start again without `since`, and treat every decision cached so far as stale.'
          : `This cursor is older than the feed's history (${this.retentionMs / 1000} s). Start again without \`since\`, and treat every decision cached so far as stale.`,
      );
    }
    if (latest <= since.id && waitMs > 0 && !gone.aborted && !this.closing) await this.waitAfter(since.id, waitMs, gone);
    const rows = await this.events
      .createQueryBuilder('e')
      .where('e.id > :after', { after: since.id })
      .orderBy('e.id', 'ASC')
      .limit(FEED_PAGE_SIZE + 1)
      .getMany();
    const hasMore = rows.length > FEED_PAGE_SIZE;
    const page = rows.slice(0, FEED_PAGE_SIZE).map(toFeedEvent);
    const last = page.at(-1);
    const at = hasMore && last ? last.at : Math.floor(this.clock.nowMs() / 1000);
    return { events: page, cursor: formatCursor({ id: last ? Number(last.id) : since.id, at }), hasMore };
  }

  /** Deletes events older than the retention (plus a margin); returns how many. */
  async purge(now = this.clock.now()): Promise<number> {
    const result = await this.events.delete({ createdAt: LessThan(new Date(now.getTime() - this.retentionMs - PURGE_MARGIN_MS)) });
    return result.affected ?? 0;
  }

  private async latestId(): Promise<number> {
    const row = await this.events.createQueryBuilder('e').select('MAX(e.id)', 'latest').getRawOne<{ latest: string | number | null }>();
    return Number(row?.latest ?? 0);
  }

  private waitAfter(after: number, waitMs: number, gone: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const waiter = {
        after,
        wake: () => {
          clearTimeout(timer);
          gone.removeEventListener('abort', waiter.wake);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, waitMs);
      gone.addEventListener('abort', waiter.wake, { once: true });
      this.waiters.add(waiter);
      this.startPolling();
    });
  }

  /** Wakes the requests waiting for something after an id below `latest`. */
  private wake(latest: number): void {
    for (const waiter of this.waiters) if (latest > waiter.after) waiter.wake();
    if (this.waiters.size === 0) this.stopPolling();
  }

  private wakeAll(): void {
    for (const waiter of this.waiters) waiter.wake();
    this.stopPolling();
  }

  /** One `max(id)` query per tick for all the waiting requests: events other instances wrote. */
  private startPolling(): void {
    if (this.poller) return;
    let busy = false;
    this.poller = setInterval(() => {
      if (busy) return;
      busy = true;
      this.latestId()
        .then((latest) => this.wake(latest))
        .catch((error: Error) => this.logger.warn(`revocation feed: polling failed: ${error.message}`))
        .finally(() => (busy = false));
    }, POLL_MS);
    this.poller.unref();
  }

  private stopPolling(): void {
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
  }
}

function stored(r: Revocation): { kind: string; subject: string; data: string } {
  switch (r.kind) {
    case 'user':
      return { kind: r.kind, subject: r.sub, data: JSON.stringify({ sub: r.sub, epoch: r.epoch, status: r.status, roles: [...r.roles] }) };
    case 'session':
      return { kind: r.kind, subject: r.sid, data: JSON.stringify({ sid: r.sid }) };
    case 'api_key':
      return { kind: r.kind, subject: r.keyId, data: JSON.stringify({ key_id: r.keyId, sub: r.sub }) };
    case 'deploy_token':
      return { kind: r.kind, subject: r.tokenId, data: JSON.stringify({ token_id: r.tokenId, plugin_id: r.pluginId }) };
  }
}

function toFeedEvent(row: RevocationEvent): FeedEvent {
  return { id: String(row.id), at: Math.floor(new Date(row.createdAt).getTime() / 1000), kind: row.kind, ...(JSON.parse(row.data) as object) } as FeedEvent;
}
