import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** What a bench server reports once it listens: its live heap after full collections, its RSS, the modules it loaded. */
export interface StartupMemory {
  heapMiB: number;
  rssMiB: number;
  modules: number;
}

/**
 * Measured the same way in every server the bench starts (Latchkey and the peer), whatever node
 * options they run with: two full collections (V8's `gc`, reached without `--expose-gc` on the
 * command line), then `process.memoryUsage()` and the CommonJS module cache.
 */
export function startupMemory(): StartupMemory {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapMiB: heapUsed / 2 ** 20, rssMiB: rss / 2 ** 20, modules: Object.keys(require.cache).length };
}
