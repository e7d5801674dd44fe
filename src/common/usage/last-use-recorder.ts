import { Logger } from '@nestjs/common';

export interface LastUse {
  at: Date;
  ip: string | null;
}

/**
 * Records when and from where a credential was last used, written behind: the first use is
 * written at once, later uses at most once per `intervalMs` (the newest one wins), never one
 * write per request. `latest()` exposes the not-yet-written use so this instance can report it
 * immediately. Shared by API keys and deploy tokens; each passes its own `write`.
 */
export class LastUseRecorder {
  private readonly logger: Logger;
  private readonly pending = new Map<string, LastUse>();
  private readonly lastWritten = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(
    name: string,
    private readonly intervalMs: number,
    private readonly persist: (id: string, use: LastUse) => Promise<unknown>,
  ) {
    this.logger = new Logger(name);
  }

  record(id: string, ip: string | null): void {
    const now = Date.now();
    this.pending.set(id, { at: new Date(now), ip: ip?.slice(0, 64) ?? null });
    if (now - (this.lastWritten.get(id) ?? 0) >= this.intervalMs) {
      void this.write(id, now);
    } else {
      this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
    }
  }

  /** The newest use of `id` seen by this instance that is not in the database yet. */
  latest(id: string): LastUse | undefined {
    return this.pending.get(id);
  }

  /** Writes every pending use now. */
  async flush(): Promise<void> {
    this.timer = undefined;
    const now = Date.now();
    await Promise.all([...this.pending.keys()].map((id) => this.write(id, now)));
    for (const [id, at] of this.lastWritten) if (now - at > this.intervalMs) this.lastWritten.delete(id);
  }

  /** Stops the timer and writes what is pending (call before the database closes). */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.flush();
  }

  private async write(id: string, now: number): Promise<void> {
    const use = this.pending.get(id);
    if (!use) return;
    this.lastWritten.set(id, now);
    try {
      await this.persist(id, use);
      if (this.pending.get(id) === use) this.pending.delete(id);
    } catch (error) {
      // Keep it pending: the next flush retries (e.g. after a database outage).
      this.logger.warn(`could not record the last use of ${id}: ${(error as Error).message}`);
      this.timer ??= setTimeout(() => void this.flush(), Math.max(this.intervalMs, 5000)).unref();
    }
  }
}
