import { Injectable, Logger, type INestApplication } from '@nestjs/common';
import type { Server, ServerResponse } from 'node:http';
import type { AnsweredCallback } from '../common/http/answered';
import type { LatchkeyReply, LatchkeyRequest } from '../common/http/request-context';

/** Close hooks (flushes, Redis, the database) get this long after the drain before the process gives up. */
const CLOSE_HOOKS_TIMEOUT_MS = 10_000;

/**
 * Graceful shutdown on SIGTERM (and SIGINT), for rolling deploys:
 * 1. the listening socket is closed: new connections are refused (a proxy retries another
 *    instance), idle keep-alive connections are closed;
 * 2. requests in flight run to completion, for at most SHUTDOWN_GRACE_MS; their answers carry
 *    `Connection: close` when not yet started, so clients do not reuse the connection;
 * 3. a request that still arrives on a kept-alive connection meanwhile is answered 503
 *    `SERVICE_UNAVAILABLE` with `Connection: close` and `Retry-After: 1`, never half-served;
 * 4. once nothing is in flight (or the grace period is over: the remaining connections are cut),
 *    Nest's close hooks run (write-behind buffers flushed, Redis and the database closed), and the
 *    process exits 0 (1 if the hooks fail or take longer than 10 s).
 * The gate costs one Set insertion and one deletion per request (`gate`, then `answered`).
 */
@Injectable()
export class GracefulShutdown {
  private readonly logger = new Logger('Shutdown');
  private drainingSince?: number;
  private readonly inFlight = new Set<ServerResponse>();
  private onIdle?: () => void;
  private readonly drainListeners: (() => void)[] = [];

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** Called once when draining starts: a request that waits on purpose (a long poll) answers now. */
  onDrain(listener: () => void): void {
    this.drainListeners.push(listener);
  }

  /**
   * Lets a request in (true), or answers it 503 while draining (false). Called by configureApp's
   * `onRequest` hook ahead of everything that does work.
   */
  readonly gate = (req: LatchkeyRequest, reply: LatchkeyReply): boolean => {
    if (this.drainingSince !== undefined) {
      const message = 'This instance is shutting down; retry the request.';
      req.errorCode = 'SERVICE_UNAVAILABLE';
      reply
        .code(503)
        .headers({ Connection: 'close', 'Retry-After': '1' })
        .send({ statusCode: 503, code: 'SERVICE_UNAVAILABLE', message, detail: message, requestId: req.id ?? '' });
      return false;
    }
    this.inFlight.add(reply.raw);
    return true;
  };

  /** The other half of the gate, at `whenAnswered`: a request let in is no longer in flight. */
  readonly answered: AnsweredCallback = (_req, res) => {
    if (this.inFlight.delete(res) && this.inFlight.size === 0) this.onIdle?.();
  };

  /**
   * Stops accepting, lets requests in flight finish for at most `graceMs`, then cuts whatever
   * connection is left. Resolves with how many requests were still running when it gave up.
   */
  async drain(server: Server, graceMs: number): Promise<{ cut: number }> {
    if (this.drainingSince === undefined) {
      this.drainingSince = Date.now();
      for (const listener of this.drainListeners) listener();
    }
    for (const res of this.inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      if (this.inFlight.size === 0) return resolve();
      this.onIdle = resolve;
      timer = setTimeout(resolve, graceMs);
    });
    clearTimeout(timer);
    this.onIdle = undefined;
    const cut = this.inFlight.size;
    // Idle keep-alive connections left over, and requests past the grace period.
    server.closeAllConnections();
    await closed;
    return { cut };
  }

  /** main.ts: drain and close on SIGTERM/SIGINT, then exit; a second signal exits at once. */
  exitOnSignals(app: INestApplication, graceMs: number, exit: (code: number) => void = (code) => process.exit(code)): void {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        this.logger.warn(`${signal} again: exiting without waiting`);
        exit(1);
        return;
      }
      stopping = true;
      this.stop(app, graceMs, signal).then(
        () => exit(0),
        (error: unknown) => {
          this.logger.error(`shutdown failed: ${(error as Error)?.message ?? String(error)}`, (error as Error)?.stack);
          exit(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  private async stop(app: INestApplication, graceMs: number, signal: string): Promise<void> {
    const started = Date.now();
    this.logger.log(`${signal}: no new connections; ${this.inFlight.size} request(s) in flight, waiting up to ${graceMs} ms`);
    const { cut } = await this.drain(app.getHttpServer() as Server, graceMs);
    if (cut > 0) this.logger.warn(`grace period over: ${cut} request(s) cut off`);
    else this.logger.log(`requests drained in ${Date.now() - started} ms`);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      app.close(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`close hooks did not finish within ${CLOSE_HOOKS_TIMEOUT_MS} ms`)), CLOSE_HOOKS_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    this.logger.log(`stopped in ${Date.now() - started} ms`);
  }
}
