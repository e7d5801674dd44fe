/**
 * A UUID from a path or a body: hyphenated or 32 hex digits (Tiled clients send either), any
 * case. Returns it lower-cased and hyphenated, or undefined for anything else, so nothing
 * malformed reaches a uuid column (PostgreSQL would answer with an error, i.e. a 500).
 */
export function parseUuid(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw.length > 36) return undefined;
  const hex = raw.replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
