import type { Logger } from '@nestjs/common';

/**
 * A housekeeping job (purges, retention) run every `intervalMs` on a timer that never keeps the
 * process alive; a failure is logged as a warning and the next run tries again. Services start it
 * in `onApplicationBootstrap` (not under NODE_ENV=test: suites call the job themselves) and stop
 * it in `onApplicationShutdown`.
 */
export class PeriodicJob {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly what: string,
    private readonly logger: Logger,
    private readonly job: () => Promise<unknown>,
  ) {}

  start(intervalMs: number, options: { runNow?: boolean } = {}): void {
    if (this.timer) return;
    const tick = () => void this.job().catch((error: Error) => this.logger.warn(`${this.what} failed: ${error.message}`));
    if (options.runNow) tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
