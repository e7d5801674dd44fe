/**
 * One measurement, in a process of its own (the load generator must not share an event loop with
 * the orchestrator): autocannon with a fixed number of connections, a warm-up that is thrown
 * away, then a fixed duration. Latencies are taken from autocannon's per-response hrtime (its
 * own histogram rounds to whole milliseconds). Prints one JSON line: LoadResult.
 *
 *   node dist/bench/load.js '<LoadSpec as JSON>'   (or @<file holding it>)
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';

export interface LoadSpec {
  url: string;
  connections: number;
  durationS: number;
  warmupS: number;
  headers?: Record<string, string>;
  /** Sends `header: prefix + values[i]`, i going round the list: many credentials, not one. */
  rotate?: { header: string; prefix: string; values: string[] };
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Answers that were not 2xx, and socket errors/timeouts. */
  non2xx: number;
  /** How many answers had each status (to tell a 401 from a 429 when a run fails). */
  statuses?: Record<string, number>;
  errors: number;
  /** Filled in by the runner: the server's CPU time per request, main thread and whole process. */
  cpuMainUs?: number;
  cpuAllUs?: number;
}

function options(spec: LoadSpec, durationS: number): autocannon.Options {
  const rotate = spec.rotate;
  let i = 0;
  return {
    url: spec.url,
    connections: spec.connections,
    duration: durationS,
    headers: spec.headers,
    timeout: 10,
    requests: rotate
      ? [
          {
            setupRequest: (req: any) => {
              req.headers = { ...(req.headers ?? {}), [rotate.header]: rotate.prefix + rotate.values[i++ % rotate.values.length] };
              return req;
            },
          },
        ]
      : undefined,
  };
}

async function measure(spec: LoadSpec): Promise<LoadResult> {
  if (spec.warmupS > 0) await autocannon(options(spec, spec.warmupS));
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options(spec, spec.durationS), (error, r) => (error ? reject(error) : resolve(r)));
    instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  });
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);
  return {
    requests: result.requests.total,
    rps: result.requests.total / spec.durationS,
    p50: at(0.5),
    p99: at(0.99),
    non2xx: result.non2xx,
    statuses: Object.fromEntries(Object.entries((result as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {}).map(([k, v]) => [k, v.count])),
    errors: result.errors + result.timeouts,
  };
}

if (require.main === module) {
  const arg = process.argv[2];
  measure(JSON.parse(arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg) as LoadSpec).then(
    (r) => process.stdout.write(JSON.stringify(r) + '\n'),
    (e) => {
      process.stderr.write(`${(e as Error).stack}\n`);
      process.exit(1);
    },
  );
}
