import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { RedisService } from '../common/redis/redis.service';
import { AppConfig, InjectConfig } from '../config/app.config';

/** How long one IdP probe result is reused: readiness is polled every few seconds by every balancer. */
const IDP_PROBE_TTL_MS = 5000;
/** A "down" result is reused only this long, so an IdP that comes back is reported within a second or so. */
const IDP_DOWN_TTL_MS = 1000;
/** Upper bound of a probe, so a hanging IdP or Redis cannot make readiness itself hang. */
const PROBE_TIMEOUT_MS = 2000;

/**
 * The dependencies that do NOT decide readiness (see HealthController): Redis, when configured,
 * and each configured IdP. Every instance shares them, so taking instances out of the load
 * balancer because one is down would help nobody, and would stop what still works (Redis down:
 * local caches and the database; an IdP down: passwords, tokens, API keys, cached IdP tokens).
 * They are reported, so an operator sees the instance is degraded.
 */
@Injectable()
export class DependencyProbes {
  private readonly idps: readonly { key: string; issuer: string }[];
  private readonly idpTimeoutMs: number;
  private readonly cached = new Map<string, { result: HealthIndicatorResult; until: number }>();
  private readonly flights = new Map<string, Promise<HealthIndicatorResult>>();

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisService,
    @InjectConfig() config: AppConfig,
  ) {
    this.idps = config.oidc.providers.map((p) => ({ key: `idp:${p.name}`, issuer: p.issuer }));
    this.idpTimeoutMs = Math.min(PROBE_TIMEOUT_MS, config.oidc.httpTimeoutMs);
  }

  /** `{ redis?: …, 'idp:<name>': … }`, each `{ status: 'up' | 'down', message? }`. Never throws. */
  async check(): Promise<HealthIndicatorResult> {
    const results = await Promise.all([this.redisCheck(), ...this.idps.map((idp) => this.idpCheck(idp.key, idp.issuer))]);
    return Object.assign({}, ...results) as HealthIndicatorResult;
  }

  private async redisCheck(): Promise<HealthIndicatorResult> {
    if (!this.redis.enabled) return {};
    const check = this.indicators.check('redis');
    if (!this.redis.available) return check.down({ message: 'not connected; using local caches and the database' });
    try {
      await withTimeout(this.redis.client!.ping(), PROBE_TIMEOUT_MS);
      return check.up();
    } catch (error) {
      return check.down({ message: (error as Error).message.slice(0, 200) });
    }
  }

  /** The IdP's discovery document, fetched afresh (OidcClient keeps the first one it got). */
  private idpCheck(key: string, issuer: string): Promise<HealthIndicatorResult> {
    const hit = this.cached.get(key);
    if (hit && hit.until > Date.now()) return Promise.resolve(hit.result);
    let flight = this.flights.get(key);
    if (!flight) {
      // A failed probe is tried once more at once: the first request to an IdP that restarted may
      // meet a pooled keep-alive connection it closed ("other side closed"), which says nothing.
      flight = this.probeIdp(key, issuer)
        .then((result) => (result[key]?.status === 'down' ? this.probeIdp(key, issuer) : result))
        .then((result) => {
          this.cached.set(key, { result, until: Date.now() + (result[key]?.status === 'down' ? IDP_DOWN_TTL_MS : IDP_PROBE_TTL_MS) });
          return result;
        })
        .finally(() => this.flights.delete(key));
      this.flights.set(key, flight);
    }
    return flight;
  }

  private async probeIdp(key: string, issuer: string): Promise<HealthIndicatorResult> {
    const check = this.indicators.check(key);
    try {
      const res = await fetch(`${issuer}/.well-known/openid-configuration`, {
        headers: { Accept: 'application/json' },
        signal: AbortSignal.timeout(this.idpTimeoutMs),
      });
      if (!res.ok) {
        await res.body?.cancel();
        return check.down({ message: `discovery answered HTTP ${res.status}` });
      }
      const doc = (await res.json()) as { issuer?: unknown };
      if (typeof doc.issuer !== 'string' || doc.issuer.replace(/\/+$/, '') !== issuer) {
        return check.down({ message: 'discovery document does not name this issuer' });
      }
      return check.up();
    } catch (error) {
      const cause = (error as { cause?: { code?: unknown } }).cause?.code;
      const reason =
        (error as Error).name === 'TimeoutError' ? `no answer within ${this.idpTimeoutMs} ms` : typeof cause === 'string' ? cause : (error as Error).message;
      return check.down({ message: `discovery unreachable: ${reason}`.slice(0, 200) });
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
