import { hash } from 'node:crypto';
import { TtlCache } from '../cache/ttl-cache';
import { hashSecret } from './token-format';

/**
 * SHA-256 of a presented secret (base64): the key under which in-memory caches remember a
 * long-lived secret seen lately, so that no cache holds its text. One-shot `crypto.hash`.
 */
export function secretDigest(secret: string): string {
  return hash('sha256', secret, 'base64');
}

/**
 * The keyed hashes (`hashSecret`: HMAC-SHA-256 with the pepper) of the secrets presented lately,
 * remembered under their `secretDigest`. A credential sent on every request (API key, deploy
 * token, IdP offline token) then costs one HMAC, not one per request. Measured per request in
 * the server (bench/README.md), where a crypto call costs far more than in a tight loop: the HMAC
 * 15–25 µs, the one-shot SHA-256 ~8 µs, of a ~400–600 µs request. A secret that
 * `wellFormed` rejects is neither hashed nor remembered, and a remembered one is not checked
 * again (it passed). Bounded: past `size` entries the oldest goes.
 */
export class KeyedHashes {
  /** Without expiry: a keyed hash never goes stale; only the bound drops entries. */
  private readonly known: TtlCache<string>;

  constructor(
    private readonly pepper: Buffer,
    private readonly wellFormed: (secret: string) => boolean = () => true,
    size = 10_000,
  ) {
    this.known = new TtlCache(Infinity, size);
  }

  /** The keyed hash of `secret`, or null when `wellFormed` rejects it. */
  of(secret: string): string | null {
    const digest = secretDigest(secret);
    const known = this.known.get(digest);
    if (known !== undefined) return known;
    if (!this.wellFormed(secret)) return null;
    const keyed = hashSecret(this.pepper, secret);
    this.known.set(digest, keyed);
    return keyed;
  }
}
