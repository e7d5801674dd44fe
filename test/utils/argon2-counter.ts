// The real module object password-hasher.ts calls into (its named imports are looked up on it at
// call time; `import * as` would give a copy), so a spy sees every argon2 operation it starts.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const argon2 = require('@node-rs/argon2') as typeof import('@node-rs/argon2');

/**
 * Spies on `@node-rs/argon2`'s `hash` and `verify` (still running them) and counts calls and the
 * most in flight at once. Undo with `jest.restoreAllMocks()`.
 */
export function countArgon2(): { peak: number; calls: number } {
  let inFlight = 0;
  const counter = { peak: 0, calls: 0 };
  for (const name of ['verify', 'hash'] as const) {
    const real = argon2[name] as (...args: unknown[]) => Promise<unknown>;
    jest.spyOn(argon2, name).mockImplementation(((...args: unknown[]) => {
      counter.calls++;
      counter.peak = Math.max(counter.peak, ++inFlight);
      return real(...args).finally(() => inFlight--);
    }) as never);
  }
  return counter;
}
