import { Logger } from '@nestjs/common';

export interface WriteBehindOptions {
  /** A lone item waits at most this long before it is written. */
  intervalMs: number;
  /** Items per `persist` call; this many queued items are written at once, without waiting. */
  batchSize: number;
  /** Most items held in memory; beyond it the oldest are dropped (and counted in a warning). */
  capacity: number;
  /** After a failed write, the next attempt waits this long (explicit `flush()` calls do not). */
  retryMs: number;
}

/**
 * Items to write to the database behind the request: `push()` only appends to an in-memory
 * queue, and batches are written by `persist` from a timer, one batch at a time. The queue is
 * bounded, so a flood or a database outage costs at most `capacity` items of memory; a failed
 * batch goes back to the front of the queue and is retried. Where `LastUseRecorder` keeps only
 * the newest value per key, this keeps every item (the per-credential usage log). Call
 * `close()` before the database closes.
 */
export class WriteBehindQueue<T> {
  protected readonly logger: Logger;
  private queue: T[] = [];
  private timer?: NodeJS.Timeout;
  private draining?: Promise<boolean>;
  private retryAfter = 0;
  private dropped = 0;
  private closed = false;

  constructor(
    name: string,
    private readonly options: WriteBehindOptions,
    private readonly persist: (batch: T[], logger: Logger) => Promise<unknown>,
  ) {
    this.logger = new Logger(name);
  }

  /** Queues an item. Never waits and never throws. Ignored once `close()` was called. */
  push(item: T): void {
    if (this.closed) return;
    if (this.queue.length >= this.options.capacity) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(item);
    if (Date.now() < this.retryAfter) return; // the retry timer is set
    if (this.queue.length >= this.options.batchSize) void this.tick();
    else this.schedule(this.options.intervalMs);
  }

  /** The queued (not yet written) items that match, oldest first. */
  queued(match: (item: T) => boolean): T[] {
    return this.queue.filter(match);
  }

  get size(): number {
    return this.queue.length;
  }

  /**
   * Writes everything queued, including what is pushed meanwhile; resolves when the queue is
   * empty or a write failed (the items stay queued). One drain runs at a time.
   */
  async flush(): Promise<void> {
    for (;;) {
      this.draining ??= this.drain(Infinity).finally(() => (this.draining = undefined));
      const written = await this.draining;
      if (!written || this.queue.length === 0) return;
    }
  }

  /**
   * The timer's (and a full batch's) write: what is queued now, not what arrives meanwhile,
   * which waits for the next tick. Otherwise a busy queue is written back to back, as fast as
   * the database answers (in a benchmark, 20 small writes a second instead of one).
   */
  private tick(): Promise<boolean> {
    this.draining ??= this.drain(this.queue.length).finally(() => (this.draining = undefined));
    return this.draining;
  }

  /** Stops the timer and writes what is queued (call before the database closes). */
  async close(): Promise<void> {
    this.closed = true;
    this.retryAfter = 0;
    await this.flush();
    this.clearTimer();
    if (this.queue.length > 0) this.logger.warn(`${this.queue.length} queued entries could not be written before shutdown`);
  }

  /**
   * Writes batches until `limit` items are written or the queue is empty (true), or a write
   * fails (false); what is left waits for the next tick.
   */
  private async drain(limit: number): Promise<boolean> {
    this.clearTimer();
    let left = limit;
    while (this.queue.length > 0 && left > 0) {
      const batch = this.queue.splice(0, Math.min(this.options.batchSize, left));
      left -= batch.length;
      try {
        await this.persist(batch, this.logger);
        this.retryAfter = 0;
      } catch (error) {
        // Back to the front, still within capacity; the retry timer tries again.
        this.queue.unshift(...batch);
        const excess = this.queue.length - this.options.capacity;
        if (excess > 0) {
          this.queue.splice(0, excess);
          this.dropped += excess;
        }
        this.logger.warn(`could not write ${batch.length} entries (retrying in ${this.options.retryMs} ms): ${(error as Error).message}`);
        this.retryAfter = Date.now() + this.options.retryMs;
        this.clearTimer();
        this.schedule(this.options.retryMs);
        this.reportDropped();
        return false;
      }
    }
    this.reportDropped();
    if (this.queue.length > 0 && !this.closed) this.schedule(this.options.intervalMs);
    return true;
  }

  private reportDropped(): void {
    if (this.dropped === 0) return;
    this.logger.warn(`dropped the ${this.dropped} oldest entries: more than ${this.options.capacity} were waiting (database slow or unreachable)`);
    this.dropped = 0;
  }

  private schedule(ms: number): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, ms).unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
