/** A value that is there now, or a promise of it (a cache hit or a load). */
export type MaybePromise<T> = T | Promise<T>;

/**
 * `next(value)`: at once when the value is already there, once it resolves otherwise. Lets the
 * credential checks stay synchronous on their cached paths (no promise, no microtask) without
 * writing each step twice.
 */
export function andThen<T, R>(value: MaybePromise<T>, next: (value: T) => MaybePromise<R>): MaybePromise<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}
