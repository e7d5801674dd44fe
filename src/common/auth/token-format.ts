import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Opaque secrets: `lk_<kind>_` + 40 base62 random characters (≈238 bits) + 6 base62 characters
 * of CRC-32 over everything before them. The prefix tells a secret scanner (and a human) what
 * leaked; the checksum lets the server reject a look-alike or a typo without a database query.
 * All characters match `\w`, as the Tiled client requires of API keys.
 */
export const TOKEN_PREFIXES = Object.freeze({
  refreshToken: 'lk_rt_',
  personalApiKey: 'lk_pat_',
  deployToken: 'lk_dpl_',
  browserSession: 'lk_bs_',
} as const);

export type TokenKind = keyof typeof TOKEN_PREFIXES;

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 40;
const CHECKSUM_LENGTH = 6;

export function generateToken(kind: TokenKind): string {
  const prefix = TOKEN_PREFIXES[kind];
  let body = '';
  for (let i = 0; i < BODY_LENGTH; i++) body += ALPHABET[randomInt(ALPHABET.length)];
  return prefix + body + checksum(prefix + body);
}

/** True when `token` has the shape and a valid checksum of a `kind` token. No I/O. */
export function isWellFormedToken(token: string, kind: TokenKind): boolean {
  const prefix = TOKEN_PREFIXES[kind];
  if (token.length !== prefix.length + BODY_LENGTH + CHECKSUM_LENGTH || !token.startsWith(prefix)) return false;
  for (let i = prefix.length; i < token.length; i++) {
    const c = token.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!ok) return false;
  }
  const cut = token.length - CHECKSUM_LENGTH;
  return safeEqual(token.slice(cut), checksum(token.slice(0, cut)));
}

function checksum(text: string): string {
  let n = crc32(text);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/** The keyed hash (HMAC-SHA-256 with the server pepper) under which secrets are stored, hex. */
export function hashSecret(pepper: Buffer, secret: string): string {
  return createHmac('sha256', pepper).update(secret, 'utf8').digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
