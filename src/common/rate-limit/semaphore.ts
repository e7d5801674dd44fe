/** Thrown by `Semaphore.run` when every slot is busy and the queue is full. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
}

/**
 * At most `limit` tasks run at once; up to `queueLimit` more wait in arrival order; beyond
 * that `run` rejects at once with `QueueFullError` (the caller answers 503), so a flood cannot
 * build an unbounded backlog of waiting requests.
 */
export class Semaphore {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly limit: number,
    readonly queueLimit: number,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`Semaphore limit must be a positive integer, got ${limit}`);
  }

  /** Tasks running now. */
  get active(): number {
    return this.running;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.limit) {
      this.running++;
    } else {
      if (this.waiting.length >= this.queueLimit) throw new QueueFullError('every slot is busy and the queue is full');
      // release() hands its slot straight to the first waiter, so `running` is unchanged.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
