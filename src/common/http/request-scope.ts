import { AsyncLocalStorage } from 'node:async_hooks';
import type { NextFunction, Response } from 'express';
import type { LatchkeyRequest } from './request-context';

const scope = new AsyncLocalStorage<LatchkeyRequest>();

/**
 * Makes the current request reachable from code that does not receive it (the audit log reads
 * who acted, from where, with which request id). Express middleware, installed right after the
 * request id. Outside a request (CLI, timers) `currentRequest()` is undefined.
 */
export function requestScope(req: LatchkeyRequest, _res: Response, next: NextFunction): void {
  scope.run(req, next);
}

export function currentRequest(): LatchkeyRequest | undefined {
  return scope.getStore();
}
