import { readJson, readTimestamp } from './raw-sql';

describe('raw SQL readers', () => {
  it('reads timestamps from both databases as UTC milliseconds', () => {
    const at = Date.parse('2026-12-03T10:15:30.123Z');
    expect(readTimestamp(new Date(at))).toBe(at);
    expect(readTimestamp('2026-12-03 10:15:30.123')).toBe(at);
    expect(readTimestamp('2026-12-03 10:15:30')).toBe(at - 123);
    expect(readTimestamp(null)).toBeNull();
    expect(() => readTimestamp('yesterday')).toThrow('unreadable timestamp');
  });

  it('reads simple-json text', () => {
    expect(readJson<string[]>('["a","b"]')).toEqual(['a', 'b']);
    expect(readJson<string[]>(['a'])).toEqual(['a']);
  });
});
