import type { IncomingMessage } from 'node:http';

/** Deepest nesting of arrays and objects a JSON body may have (`{}` is depth 1, `[[1]]` depth 2). */
export const MAX_JSON_DEPTH = 32;

/**
 * Longest multipart field name (multer `fieldNameSize`). multer nests fields by bracket names
 * (`a[b][c]=…` becomes `{a: {b: {c: …}}}`), so a long name is a deep value: 64 bytes allow at most
 * 32 levels (`a[][]…`), and a longer name is a 400 before anything reads the body.
 */
export const MULTIPART_FIELD_NAME_BYTES = 64;

/** Thrown by `refuseDeepJson`; app.setup.ts answers it with `JSON_TOO_DEEP` (400). */
export class JsonTooDeepError extends Error {
  constructor() {
    super(`The request body is nested deeper than ${MAX_JSON_DEPTH} levels.`);
  }
}

/** Thrown by `refuseDeepJson` for a JSON charset it cannot scan; answered with 415. */
export class JsonCharsetError extends Error {
  constructor() {
    super('A JSON request body must be UTF-8 (or UTF-16).');
  }
}

/**
 * True when `text` opens more than `max` arrays/objects inside one another. One pass over the
 * characters with an early exit, no recursion and no parse: a 100,000-deep body costs the same as a
 * flat one of its size. Brackets inside strings do not count; the scan does not judge validity
 * (JSON.parse does that next).
 */
export function jsonDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * body-parser's `verify` hook for JSON: runs on the raw bytes before `JSON.parse`, so nothing
 * downstream (validation, class-transformer, the logger) ever walks a deeply nested value.
 * `charset` is what body-parser accepted (utf-8 unless the client said otherwise).
 */
export function refuseDeepJson(_req: IncomingMessage, _res: unknown, body: Buffer, charset: string | null): void {
  let text: string;
  try {
    text = !charset || charset === 'utf-8' ? body.toString('utf8') : new TextDecoder(charset).decode(body);
  } catch {
    // A charset body-parser accepts but the scan cannot read (utf-32): refuse rather than guess.
    throw new JsonCharsetError();
  }
  if (jsonDeeperThan(text, MAX_JSON_DEPTH)) throw new JsonTooDeepError();
}
