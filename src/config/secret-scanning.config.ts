import { createPublicKey, type KeyObject } from 'node:crypto';
import { ConfigError } from './env.validation';

/** Leaked-token reports (src/leaked-tokens). */
export interface LeakReportsConfig {
  /**
   * GitHub's secret-scanning public keys by `key_identifier` (SECRET_SCANNING_KEYS); empty: the
   * partner endpoint answers 404.
   */
  readonly githubKeys: ReadonlyMap<string, KeyObject>;
}

const WHAT = 'SECRET_SCANNING_KEYS must be the JSON that https://api.github.com/meta/public_keys/secret_scanning returns';

/**
 * SECRET_SCANNING_KEYS: the document GitHub publishes, `{"public_keys": [{"key_identifier",
 * "key" (PEM), "is_current"}]}`, pasted as it is. Every key must be an ECDSA P-256 public key
 * (GitHub signs with ECDSA-NIST-P256V1-SHA256); anything else stops the start-up.
 */
export function loadLeakReportsConfig(raw: string | undefined): LeakReportsConfig {
  const githubKeys = new Map<string, KeyObject>();
  if (raw?.trim()) {
    let list: unknown;
    try {
      list = (JSON.parse(raw) as { public_keys?: unknown } | null)?.public_keys;
    } catch {
      throw new ConfigError(`${WHAT} (it is not JSON).`);
    }
    if (!Array.isArray(list) || list.length === 0) throw new ConfigError(`${WHAT} (no "public_keys" list).`);
    for (const entry of list as { key_identifier?: unknown; key?: unknown }[]) {
      const id = entry?.key_identifier;
      if (typeof id !== 'string' || id.length === 0 || id.length > 256 || typeof entry.key !== 'string') {
        throw new ConfigError(`${WHAT} (each entry needs a "key_identifier" and a PEM "key").`);
      }
      let key: KeyObject;
      try {
        key = createPublicKey(entry.key);
      } catch {
        throw new ConfigError(`SECRET_SCANNING_KEYS: the key ${id.slice(0, 64)} is not a PEM public key.`);
      }
      if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
        throw new ConfigError(`SECRET_SCANNING_KEYS: the key ${id.slice(0, 64)} is not an ECDSA P-256 key.`);
      }
      githubKeys.set(id, key);
    }
  }
  return Object.freeze({ githubKeys });
}
