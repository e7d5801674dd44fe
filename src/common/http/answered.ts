import { Global, Injectable, Module } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { LatchkeyRequest } from './request-context';

/**
 * Called once a response is closed: answered, or the client went away. `res` is Node's response
 * (status, `writableFinished`); `started` is `performance.now()` at arrival.
 */
export type AnsweredCallback = (req: LatchkeyRequest, res: ServerResponse, started: number) => void;

/** Starts watching one request; configureApp's `onRequest` hook calls it first. */
export type AnsweredWatch = (req: LatchkeyRequest, res: ServerResponse) => void;

/**
 * One watch for everything that looks at a request once it is over (metrics, the request
 * log line, the shutdown gate's count): one clock read and one `close` listener per request,
 * however many watch it, instead of one listener each (an EventEmitter `once` allocates a
 * wrapper and, from the second listener on, an array per response). A callback that throws does
 * not keep the others from running; the first error is then thrown on, as from its own listener.
 */
export function whenAnswered(callbacks: readonly AnsweredCallback[]): AnsweredWatch {
  return (req, res) => {
    const started = performance.now();
    res.once('close', () => {
      let failure: { error: unknown } | undefined;
      for (const callback of callbacks) {
        try {
          callback(req, res, started);
        } catch (error) {
          failure ??= { error };
        }
      }
      if (failure) throw failure.error;
    });
  };
}

/**
 * The callbacks of feature modules that look at every answered request (the credential usage
 * log), and the one watch that runs them: `configureApp` calls `watcher` on every request, after the
 * app's own watchers (metrics, the request line, the shutdown gate). A module registers in its
 * constructor, so it needs no place in the app's hooks.
 */
@Injectable()
export class AnsweredRequests {
  private readonly callbacks: AnsweredCallback[] = [];

  /** Adds `callback` for every request answered from now on. */
  watch(callback: AnsweredCallback): void {
    this.callbacks.push(callback);
  }

  /** Runs the app's own `first` callbacks, then those watched. */
  watcher(first: readonly AnsweredCallback[]): AnsweredWatch {
    this.callbacks.unshift(...first);
    return whenAnswered(this.callbacks);
  }
}

@Global()
@Module({ providers: [AnsweredRequests], exports: [AnsweredRequests] })
export class AnsweredRequestsModule {}
