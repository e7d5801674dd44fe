import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateEs256Jwk } from '../config/token-signing';

/**
 * `keys:generate`: a new secret key, and the SECRET_KEYS value that rotates it in (the new key
 * first, so it seals, and signs under ACCESS_TOKEN_ALGORITHM=HS256; the current ones after it, so
 * what they sealed or signed still opens). The current keys come from SECRET_KEYS (the
 * environment or ./.env), else, outside production, from the development secrets file the server
 * generated (DATA_DIR/secrets.json). Reads no database and writes nothing.
 */
export function generateSigningKey(env: NodeJS.ProcessEnv): { key: string; secretKeys: string; current: number } {
  const key = randomBytes(48).toString('base64url'); // 64 characters, no ';'
  const current = currentKeys(env, 'SECRET_KEYS');
  return { key, secretKeys: [key, ...current].join(';'), current: current.length };
}

/**
 * `keys:generate-signing`: a new ES256 key (a private JWK on one line), and the SIGNING_KEYS value
 * of the first rotation step: the new key listed *after* the current ones, so it is published at
 * /.well-known/jwks.json before it signs anything (services cache the key set). Same sources as
 * above; reads no database and writes nothing.
 */
export function generateTokenSigningKey(env: NodeJS.ProcessEnv): { key: string; signingKeys: string; current: string[] } {
  const key = generateEs256Jwk();
  const current = currentKeys(env, 'SIGNING_KEYS');
  return { key, signingKeys: [...current, key].join(';'), current };
}

function currentKeys(env: NodeJS.ProcessEnv, name: 'SECRET_KEYS' | 'SIGNING_KEYS'): string[] {
  const split = (value: string) =>
    value
      .split(';')
      .map((k) => k.trim())
      .filter((k) => k.length > 0);
  const fromEnv = env[name];
  if (fromEnv?.trim()) return split(fromEnv);
  if (env.NODE_ENV === 'production') return [];
  const file = join(resolve(env.DATA_DIR ?? './data'), 'secrets.json');
  if (!existsSync(file)) return [];
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const stored = parsed[name];
    return typeof stored === 'string' ? split(stored) : [];
  } catch {
    return [];
  }
}
