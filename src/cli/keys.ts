import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * `keys:generate`: a new JWT signing key, and the SECRET_KEYS value that rotates it in (the new
 * key first, so it signs; the current ones after it, so what they signed still verifies). The
 * current keys come from SECRET_KEYS (the environment or ./.env), else, outside production, from
 * the development secrets file the server generated (DATA_DIR/secrets.json). Reads no database
 * and writes nothing.
 */
export function generateSigningKey(env: NodeJS.ProcessEnv): { key: string; secretKeys: string; current: number } {
  const key = randomBytes(48).toString('base64url'); // 64 characters, no ';'
  const current = currentKeys(env);
  return { key, secretKeys: [key, ...current].join(';'), current: current.length };
}

function currentKeys(env: NodeJS.ProcessEnv): string[] {
  const split = (value: string) =>
    value
      .split(';')
      .map((k) => k.trim())
      .filter((k) => k.length > 0);
  if (env.SECRET_KEYS?.trim()) return split(env.SECRET_KEYS);
  if (env.NODE_ENV === 'production') return [];
  const file = join(resolve(env.DATA_DIR ?? './data'), 'secrets.json');
  if (!existsSync(file)) return [];
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { SECRET_KEYS?: unknown };
    return typeof parsed.SECRET_KEYS === 'string' ? split(parsed.SECRET_KEYS) : [];
  } catch {
    return [];
  }
}
