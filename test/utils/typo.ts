/**
 * The string with one character changed to another: a mistyped or tampered credential that can never equal
 * the original. The default position is the middle, never the last character, which in base64url can carry
 * padding bits (a changed last character may decode to the same bytes). For a JWT, `typo(jwt, jwt.length - 20)`
 * lands in the signature.
 */
export function typo(s: string, at = Math.floor(s.length / 2)): string {
  return s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
}
