import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { LATCHKEY_OPTIONS, type LatchkeyMetadata, type LatchkeyOptions } from './options';

/** Latchkey's RFC 7662 answer. */
export interface Introspection {
  active: boolean;
  token_type?: string;
  scope?: string;
  sub?: string;
  username?: string;
  exp?: number;
  roles?: string[];
  groups?: string[];
  sid?: string;
  access_tags?: string[];
  plugin?: { id: string; name: string };
}

/** Latchkey could not be reached, or answered 5xx: the caller answers 503, never 401. */
export class LatchkeyUnreachable extends Error {}

/** A new key is looked for at most this often when a token names an unknown `kid`. */
const UNKNOWN_KID_COOLDOWN_MS = 5_000;
/** The key set is fetched again in the background this long after the last fetch (Latchkey sends max-age=300). */
const KEYS_MAX_AGE_MS = 300_000;

/**
 * Everything this package asks Latchkey: its metadata (RFC 8414), its public keys (by `kid`,
 * as `KeyObject`s, kept when Latchkey is down), and introspection (RFC 7662, answers cached for
 * `introspectionCacheTtl` seconds under the SHA-256 of the token, never the token itself).
 */
@Injectable()
export class LatchkeyClient {
  private readonly logger = new Logger('Latchkey');
  private readonly base: string;
  private metadataPromise?: Promise<LatchkeyMetadata>;
  private keys = new Map<string, KeyObject>();
  private keysFetchedAt = 0;
  private keysAttemptAt = 0;
  private keysInflight?: Promise<void>;
  private readonly introspected = new Map<string, { answer: Introspection; until: number }>();

  constructor(@Inject(LATCHKEY_OPTIONS) private readonly options: LatchkeyOptions) {
    this.base = options.url.replace(/\/+$/, '');
  }

  get apiKey(): string | undefined {
    return this.options.apiKey;
  }

  /** Latchkey's metadata, fetched once (again after a failure). */
  metadata(): Promise<LatchkeyMetadata> {
    this.metadataPromise ??= this.getJson<LatchkeyMetadata>(`${this.base}/.well-known/oauth-authorization-server`).catch((error: Error) => {
      this.metadataPromise = undefined;
      throw error;
    });
    return this.metadataPromise;
  }

  /** The public key of `kid`, from the cached set; an unknown kid fetches the set again (at most every 5 s). */
  async keyFor(kid: string): Promise<KeyObject | undefined> {
    const now = Date.now();
    const known = this.keys.get(kid);
    if (known) {
      if (now - this.keysFetchedAt > KEYS_MAX_AGE_MS && now - this.keysAttemptAt > UNKNOWN_KID_COOLDOWN_MS) void this.refreshKeys().catch(() => undefined);
      return known;
    }
    if (now - this.keysAttemptAt > UNKNOWN_KID_COOLDOWN_MS || this.keys.size === 0) await this.refreshKeys();
    return this.keys.get(kid);
  }

  /** True when `kid` names one of Latchkey's keys as last fetched (no I/O). */
  knowsKid(kid: string): boolean {
    return this.keys.has(kid);
  }

  refreshKeys(): Promise<void> {
    this.keysInflight ??= (async () => {
      this.keysAttemptAt = Date.now();
      try {
        const { jwks_uri } = await this.metadata();
        const { keys } = await this.getJson<{ keys: (JsonWebKey & { kid?: string; alg?: string })[] }>(jwks_uri);
        const next = new Map<string, KeyObject>();
        for (const jwk of keys ?? []) if (jwk.kid && jwk.alg === 'ES256') next.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
        this.keys = next;
        this.keysFetchedAt = Date.now();
      } finally {
        this.keysInflight = undefined;
      }
    })();
    return this.keysInflight;
  }

  /** Introspects `token` (cached); throws LatchkeyUnreachable when Latchkey cannot answer. */
  async introspect(token: string): Promise<Introspection> {
    const key = createHash('sha256').update(token).digest('base64url');
    const now = Date.now();
    const cached = this.introspected.get(key);
    if (cached && cached.until > now) return cached.answer;
    if (!this.options.apiKey) return { active: false };
    const { introspection_endpoint } = await this.metadata();
    const answer = await this.request<Introspection>(introspection_endpoint, {
      method: 'POST',
      headers: { Authorization: `Apikey ${this.options.apiKey}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
    const ttlMs = (this.options.introspectionCacheTtl ?? 10) * 1000;
    if (ttlMs > 0) {
      const until = Math.min(now + ttlMs, answer.exp ? answer.exp * 1000 : Infinity);
      if (this.introspected.size >= 10_000) this.introspected.delete(this.introspected.keys().next().value!);
      this.introspected.set(key, { answer, until });
    }
    return answer;
  }

  /** Forgets every cached introspection answer (a revocation the feed reported, or a feed gap). */
  forgetIntrospections(): void {
    this.introspected.clear();
  }

  getJson<T>(url: string, init: RequestInit = {}): Promise<T> {
    return this.request<T>(url, init);
  }

  /** One call to Latchkey with the configured timeout; network errors and 5xx become LatchkeyUnreachable. */
  async request<T>(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<T & { status?: never }> {
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(init.timeoutMs ?? this.options.timeoutMs ?? 5000) });
    } catch (error) {
      throw new LatchkeyUnreachable(`Latchkey is unreachable (${url}): ${(error as Error).message}`);
    }
    if (res.status >= 500) throw new LatchkeyUnreachable(`Latchkey answered ${res.status} (${url})`);
    const body = (await res.json().catch(() => undefined)) as T | undefined;
    if (!res.ok || body === undefined) throw new LatchkeyHttpError(res.status, body);
    return body as T & { status?: never };
  }
}

/** A 4xx from Latchkey (a misconfigured API key: 401/403; a feed cursor too old: 410). */
export class LatchkeyHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`Latchkey answered ${status}: ${JSON.stringify(body)?.slice(0, 200)}`);
  }
}
