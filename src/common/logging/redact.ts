/**
 * What never reaches a log line, whoever logs: applied by the root logger to every logged object
 * (`formatters.log`) and message (`hooks.logMethod`), so a careless `logger.debug({ body })`
 * cannot leak a password either.
 *
 * - A field whose name says it holds a secret is replaced by `[redacted]`, at any depth:
 *   `authorization`, `cookie`, `set-cookie`, `password`, `*_token`, `*secret`, `api_key`,
 *   `*hash`, `code`/`*_code` (OAuth), `csrf`, `pepper`, `code_verifier`, … (see SECRET_KEY).
 * - Strings shaped like a secret are masked wherever they appear, e.g. inside a message:
 *   Latchkey tokens (`lk_pat_…`), JWTs, `Bearer …`/`Apikey …`/`Basic …`, secret query parameters.
 * - Errors keep their type, message and stack only (a TypeORM error's own properties include
 *   the query parameters: password and token hashes).
 */

export const REDACTED = '[redacted]';

/** Field names (case-insensitive) whose values are secrets. `statusCode`, `tokenId`, `credential` stay. */
const SECRET_KEY =
  /(^|[-_])code$|pass(word|wd|phrase)?$|secrets?$|tokens?$|authorization$|cookies?$|api[-_]?keys?$|pepper$|verifier$|hash(es)?$|csrf$|signature$|private[-_]?key$|credentials$/i;

const SECRET_SHAPES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\blk_([a-z]+)_[0-9A-Za-z]{8,}/g, `lk_$1_${REDACTED}`],
  [/\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g, REDACTED],
  // At least 8 characters, so `GET /auth/apikey 200` stays readable.
  [/\b(Bearer|Apikey|Basic)(\s+)[^\s,;"']{8,}/gi, `$1$2${REDACTED}`],
  [
    /([?&;\s](?:api_key|access_token|refresh_token|id_token|id_token_hint|token|code|device_code|password|client_secret|code_verifier)=)[^&\s#"']+/gi,
    `$1${REDACTED}`,
  ],
  [/\$argon2[\w$=,+/.-]+/g, REDACTED],
];

const MAX_DEPTH = 8;

/** True when a field of this name must not be logged. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Masks secret-shaped substrings. Cheap when there is nothing to mask (a few regex scans). */
export function scrub(text: string): string {
  let out = text;
  for (const [shape, replacement] of SECRET_SHAPES) {
    shape.lastIndex = 0;
    if (shape.test(out)) {
      shape.lastIndex = 0;
      out = out.replace(shape, replacement);
    }
  }
  return out;
}

/**
 * A copy of `value` fit for a log: secret fields replaced, strings scrubbed, errors reduced to
 * type/message/stack/code, buffers and functions left out, cycles and depth bounded.
 */
export function redact(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return scrub(value);
  if (value === null || typeof value !== 'object') {
    return typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
  }
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  seen.add(value);
  try {
    if (value instanceof Error) return errorFields(value);
    if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return '[binary]';
    if (value instanceof Date) return value;
    if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, seen));
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = isSecretKey(key) && v !== null && v !== undefined && v !== '' ? REDACTED : redact(v, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/** An error as logged: what happened and where, never its attached data. */
export function errorFields(error: Error): { type: string; message: string; stack?: string; code?: string } {
  const code = (error as { code?: unknown }).code;
  return {
    type: error.name,
    message: scrub(String(error.message)),
    ...(error.stack ? { stack: scrub(error.stack) } : {}),
    ...(typeof code === 'string' ? { code } : {}),
  };
}
