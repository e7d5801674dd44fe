import { jsonDeeperThan } from './json-depth';

describe('jsonDeeperThan', () => {
  const arrays = (n: number) => '['.repeat(n) + ']'.repeat(n);

  it('counts arrays and objects, and stops at the limit', () => {
    expect(jsonDeeperThan(arrays(32), 32)).toBe(false);
    expect(jsonDeeperThan(arrays(33), 32)).toBe(true);
    expect(jsonDeeperThan('{"a":[{"b":[1]}]}', 4)).toBe(false);
    expect(jsonDeeperThan('{"a":[{"b":[1]}]}', 3)).toBe(true);
    expect(jsonDeeperThan('[[],[],[[]]]', 3)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonDeeperThan(JSON.stringify({ a: '[[[[{{{{', b: 'x\\"[[[["' }), 1)).toBe(false);
    expect(jsonDeeperThan('["\\\\", [[]]]', 2)).toBe(true);
  });

  it('handles a million-deep input without recursion', () => {
    expect(jsonDeeperThan(arrays(1_000_000), 32)).toBe(true);
  });
});
