import { TrimSchedule } from './credential-usage.recorder';

const key = (id: string) => ({ type: 'api_key' as const, id });

describe('TrimSchedule', () => {
  it('trims a credential once a quarter of the log size was written for it, then counts again', () => {
    const s = new TrimSchedule(100); // every 25 rows
    expect([10, 10].map((n) => s.due(key('a'), n))).toEqual([false, false]);
    expect(s.due(key('a'), 5)).toBe(true);
    expect(s.due(key('a'), 24)).toBe(false);
    expect(s.due(key('a'), 1)).toBe(true);
    expect(s.due(key('b'), 100)).toBe(true); // a full batch at once
    expect(s.due({ type: 'deploy_token', id: 'a' }, 1)).toBe(false); // another credential kind, same id: its own count
  });

  it('with a tiny log, every write is due', () => {
    const s = new TrimSchedule(3);
    expect([1, 1, 1].map(() => s.due(key('a'), 1))).toEqual([true, true, true]);
  });

  it('keeps at most 50,000 counts', () => {
    const s = new TrimSchedule(100);
    for (let i = 0; i < 50_000; i++) s.due(key(`k${i}`), 1);
    expect(s.due(key('one more'), 1)).toBe(true);
    expect(s.due(key('k1'), 1)).toBe(false); // counts started afresh
  });
});
