/** Deepest nesting of arrays and objects a JSON body may have (`{}` is depth 1, `[[1]]` depth 2). */
export const MAX_JSON_DEPTH = 32;

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
