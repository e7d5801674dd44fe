import { AsyncLocalStorage } from 'node:async_hooks';
import type { LatchkeyReply, LatchkeyRequest } from './request-context';

const scope = new AsyncLocalStorage<LatchkeyRequest>();

/**
 * Makes the current request reachable from code that does not receive it (the audit log reads
 * who acted, from where, with which request id). A `preHandler` hook: it runs after the body is
 * read (whose stream events would not carry a scope entered before), and the handler (guards,
 * pipes, interceptors, the controller) runs from within its `done`. Outside a request (CLI,
 * timers) `currentRequest()` is undefined.
 */
export function requestScope(req: LatchkeyRequest, _reply: LatchkeyReply, done: () => void): void {
  scope.run(req, done);
}

export function currentRequest(): LatchkeyRequest | undefined {
  return scope.getStore();
}
