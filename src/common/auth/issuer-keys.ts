import { Logger } from '@nestjs/common';
import { createPublicKey, type KeyObject } from 'node:crypto';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import { AppError } from '../errors/app-error';

/** The fields of an OpenID Connect discovery document Latchkey reads (OIDC Discovery §3). */
export interface Discovery {
  issuer: string;
  jwks_uri: string;
  token_endpoint?: string;
  authorization_endpoint?: string;
  end_session_endpoint?: string;
  userinfo_endpoint?: string;
  claims_supported?: unknown;
}

/** The signature algorithms accepted from any external issuer: asymmetric only (no `none`, no HS*). */
export const ISSUER_ALGORITHMS: jwt.Algorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];

/** The issuer cannot be reached or failed (5xx, timeout): 503 with Retry-After, never 401. */
export function issuerUnavailable(name: string): AppError {
  return new AppError('SERVICE_UNAVAILABLE', `The identity provider "${name}" is not reachable; retry shortly.`, {
    headers: { 'Retry-After': '10' },
  });
}

export interface IssuerKeysOptions {
  /** What logs and errors call the issuer (a provider name). */
  name: string;
  /** Timeout of each HTTP request, ms. */
  timeoutMs: number;
  /** Extra checks of the discovery document (throw to refuse it); issuer and jwks_uri are always checked. */
  checkDiscovery?: (doc: Discovery) => void;
  /** An unknown `kid` refetches the JWKS at most this often (ms; default 30 s). */
  refetchCooldownMs?: number;
  /** Keys are refetched once older than this (ms; default 1 h), so a key the issuer dropped stops working. */
  maxAgeMs?: number;
  /** Milliseconds since the epoch (a test's clock). */
  now?: () => number;
}

/**
 * One external issuer's discovery document and signing keys (JWKS), over plain HTTPS (Node's fetch,
 * bounded by a timeout), kept in memory. An unknown `kid` refetches the keys (at most every 30 s),
 * so a key the issuer rotated in works at once; keys are also refetched every hour, so a key it
 * rotated away stops working. Used by the OIDC login providers and by trusted publishing.
 */
export class IssuerKeys {
  private readonly logger: Logger;
  private discoveryDoc?: Promise<Discovery>;
  private keys = new Map<string, KeyObject>();
  private keysFetchedAt = -Infinity;
  private readonly now: () => number;

  constructor(
    readonly issuer: string,
    private readonly options: IssuerKeysOptions,
  ) {
    this.logger = new Logger(`IssuerKeys:${options.name}`);
    this.now = options.now ?? Date.now;
  }

  /** The discovery document (fetched once, refetched after a failure). Unreachable → 503. */
  discovery(): Promise<Discovery> {
    this.discoveryDoc ??= this.getJson<Discovery>(`${this.issuer}/.well-known/openid-configuration`).then(
      (doc) => {
        if (doc?.issuer?.replace(/\/+$/, '') !== this.issuer || !doc.jwks_uri) {
          throw new AppError('SERVICE_UNAVAILABLE', `The discovery document of "${this.options.name}" does not match its issuer.`);
        }
        this.options.checkDiscovery?.(doc);
        return doc;
      },
      (error: unknown) => {
        this.discoveryDoc = undefined; // try again next time
        throw error;
      },
    );
    return this.discoveryDoc;
  }

  /**
   * Verifies a JWT's signature with the issuer's key its `kid` names, and its `iss`; the claims
   * checks are the caller's (`verifyOptions`). Throws `InvalidIssuerToken` with the reason (for
   * the log) when the token is not good; 503 when the issuer cannot be reached.
   */
  async verify(token: string, verifyOptions: jwt.VerifyOptions = {}): Promise<JwtPayload> {
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload !== 'object') throw new InvalidIssuerToken('not a JWT');
    const key = await this.key(decoded.header.kid);
    if (!key) throw new InvalidIssuerToken(`unknown signing key ${String(decoded.header.kid ?? '(none)').slice(0, 64)}`);
    try {
      return jwt.verify(token, key, { algorithms: ISSUER_ALGORITHMS, ...verifyOptions, issuer: this.issuer }) as JwtPayload;
    } catch (error) {
      throw new InvalidIssuerToken((error as Error).message);
    }
  }

  /** The key `kid` names (the only key when the token names none and the issuer has one). */
  async key(kid: string | undefined): Promise<KeyObject | undefined> {
    const find = () => (kid ? this.keys.get(kid) : this.keys.size === 1 ? [...this.keys.values()][0] : undefined);
    if (this.now() - this.keysFetchedAt > (this.options.maxAgeMs ?? 3_600_000)) {
      // Stale keys: refetch; an unreachable issuer leaves the keys we have in use (none yet: 503).
      await this.fetchKeys().catch((error: unknown) => {
        if (this.keys.size === 0) throw error;
      });
    }
    let key = find();
    if (!key && this.now() - this.keysFetchedAt > (this.options.refetchCooldownMs ?? 30_000)) {
      await this.fetchKeys();
      key = find();
    }
    return key;
  }

  private async fetchKeys(): Promise<void> {
    const { jwks_uri } = await this.discovery();
    const jwks = await this.getJson<{ keys?: Array<Record<string, unknown>> }>(jwks_uri);
    const keys = new Map<string, KeyObject>();
    for (const jwk of Array.isArray(jwks?.keys) ? jwks.keys : []) {
      if (jwk?.use === 'enc' || typeof jwk?.kty !== 'string' || jwk.kty === 'oct') continue;
      try {
        keys.set(String(jwk.kid ?? ''), createPublicKey({ key: jwk as never, format: 'jwk' }));
      } catch {
        /* a key type Node cannot read: skip it */
      }
    }
    this.keys = keys;
    this.keysFetchedAt = this.now();
  }

  private async getJson<T>(url: string): Promise<T> {
    try {
      const res = await fetch(url, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(this.options.timeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return (await res.json()) as T;
    } catch (error) {
      this.discoveryDoc = undefined;
      this.logger.warn(`GET ${url} failed: ${(error as Error).message}`);
      throw issuerUnavailable(this.options.name);
    }
  }
}

/** A token the issuer's keys and the checks asked for refuse; `message` is the reason, for logs only. */
export class InvalidIssuerToken extends Error {
  override readonly name = 'InvalidIssuerToken';
}
