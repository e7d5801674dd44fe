import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { CacheStats } from '../cache/cache-stats';

/**
 * Metrics that describe the process rather than one Nest app: Node's default process metrics
 * (`process_*`, `nodejs_*`), the cache counters of `CacheStats` (process-wide by design) and the
 * IdP exchange latency (recorded by OidcClient, which is not a provider). One registry per
 * process, created on first use, so that several apps in one test process do not register the
 * default metrics twice. `/metrics` serves it together with the app's own HTTP metrics.
 */
interface ProcessMetrics {
  readonly registry: Registry;
  readonly idpExchange: Histogram<'provider' | 'grant' | 'outcome'>;
  readonly trustedExchanges: Counter<'issuer' | 'outcome'>;
}

let metrics: ProcessMetrics | undefined;

export type IdpExchangeOutcome = 'ok' | 'refused' | 'unavailable';

/** How a trusted-publishing exchange ended (the refusals by their error code). */
export type TrustedExchangeOutcome = 'ok' | 'token_invalid' | 'no_publisher' | 'replayed' | 'unavailable';

function init(): ProcessMetrics {
  if (metrics) return metrics;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const idpExchange = new Histogram({
    name: 'latchkey_idp_exchange_duration_seconds',
    help: 'Token requests to an identity provider (offline-token exchange, code exchange), by provider, grant type and outcome.',
    labelNames: ['provider', 'grant', 'outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // Counters whose values live in CacheStats: copied on scrape, nothing on the hot path.
  new Counter({
    name: 'latchkey_cache_hits_total',
    help: 'Lookups answered from a cache of this process, by cache.',
    labelNames: ['cache'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [cache, counts] of CacheStats.snapshot()) this.inc({ cache }, counts.hits);
    },
  });
  new Counter({
    name: 'latchkey_cache_misses_total',
    help: 'Lookups a cache of this process could not answer (the database, Redis or the IdP was asked), by cache.',
    labelNames: ['cache'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [cache, counts] of CacheStats.snapshot()) this.inc({ cache }, counts.misses);
    },
  });
  const trustedExchanges = new Counter({
    name: 'latchkey_trusted_publishing_exchanges_total',
    help: "CI ID tokens presented for a deploy token (trusted publishing), by configured issuer (`unknown`: none of them) and outcome.",
    labelNames: ['issuer', 'outcome'] as const,
    registers: [registry],
  });
  metrics = { registry, idpExchange, trustedExchanges };
  return metrics;
}

export function processMetricsRegistry(): Registry {
  return init().registry;
}

/** Records one token request to an IdP: `grant` is the OAuth grant type, `seconds` its duration. */
export function observeIdpExchange(provider: string, grant: string, outcome: IdpExchangeOutcome, seconds: number): void {
  init().idpExchange.observe({ provider, grant, outcome }, seconds);
}

/** Counts one trusted-publishing exchange; `issuer` is a configured issuer's name or `unknown`. */
export function countTrustedExchange(issuer: string, outcome: TrustedExchangeOutcome): void {
  init().trustedExchanges.inc({ issuer, outcome });
}
