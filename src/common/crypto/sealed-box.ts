import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { SecretKey } from '../../config/app.config';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Authenticated encryption (AES-256-GCM) with keys derived from SECRET_KEYS by HKDF, one key
 * per purpose. The first secret key seals, every listed key opens: rotating SECRET_KEYS
 * (NEW;OLD) keeps what was sealed under OLD readable until OLD is dropped. The purpose is bound
 * into the key and the additional data, so a value sealed for one use never opens for another.
 *
 * Sealed form (URL- and cookie-safe): `v1.<kid>.<base64url(iv | ciphertext | tag)>`.
 */
export class SealedBox {
  private readonly keys: ReadonlyMap<string, Buffer>;
  private readonly sealingKid: string;
  private readonly aad: Buffer;

  constructor(secretKeys: readonly SecretKey[], purpose: string) {
    if (secretKeys.length === 0) throw new Error('SealedBox needs at least one key');
    this.aad = Buffer.from(`latchkey:${purpose}`, 'utf8');
    this.keys = new Map(
      secretKeys.map((k) => [k.kid, Buffer.from(hkdfSync('sha256', k.key.export(), Buffer.alloc(0), this.aad, 32))]),
    );
    this.sealingKid = secretKeys[0].kid;
  }

  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.sealingKid)!, iv);
    cipher.setAAD(this.aad);
    const body = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${this.sealingKid}.${body.toString('base64url')}`;
  }

  /** The plaintext, or undefined when the value is malformed, tampered with or sealed by an unknown key. */
  open(sealed: string): string | undefined {
    const [version, kid, data, extra] = sealed.split('.');
    if (version !== VERSION || extra !== undefined || !kid || !data) return undefined;
    const key = this.keys.get(kid);
    if (!key) return undefined;
    const body = Buffer.from(data, 'base64url');
    if (body.length < IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, IV_BYTES));
      decipher.setAAD(this.aad);
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }

  sealJson(value: unknown): string {
    return this.seal(JSON.stringify(value));
  }

  openJson<T>(sealed: string): T | undefined {
    const text = this.open(sealed);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch {
      return undefined;
    }
  }
}
