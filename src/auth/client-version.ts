/**
 * Parses `python-tiled/<version>` user agents. Old Tiled clients (< 0.1.0b17) expect internal
 * providers to be reported with `mode: "password"` (Tiled contract §2).
 */
export function reportsLegacyPasswordMode(userAgent: string | undefined): boolean {
  const match = /^python-tiled\/(\d+)\.(\d+)\.(\d+)(?:(a|b|rc)(\d+))?/.exec(userAgent ?? '');
  if (!match) return false;
  return compare(match, [0, 1, 0, 'b', 17]) < 0;
}

const PRE_RANK: Record<string, number> = { a: 0, b: 1, rc: 2, final: 3 };

function compare(m: RegExpExecArray, ref: [number, number, number, string, number]): number {
  const v: [number, number, number, string, number] = [Number(m[1]), Number(m[2]), Number(m[3]), m[4] ?? 'final', Number(m[5] ?? 0)];
  for (let i = 0; i < 3; i++) if (v[i] !== ref[i]) return (v[i] as number) - (ref[i] as number);
  if (v[3] !== ref[3]) return PRE_RANK[v[3]] - PRE_RANK[ref[3]];
  return v[4] - ref[4];
}
