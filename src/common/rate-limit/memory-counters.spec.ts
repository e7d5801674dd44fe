import { failureDelayMs, MemoryCounters } from './memory-counters';

describe('MemoryCounters', () => {
  let now = 1_000_000;
  let counters: MemoryCounters;
  beforeEach(() => {
    now = 1_000_000;
    counters = new MemoryCounters(5, () => now);
  });
  afterEach(() => counters.close());

  it('counts hits in a fixed window and refuses past the limit until the window ends', () => {
    expect(counters.hit('k', 60_000, 2, 0)).toEqual({ hits: 1, ttlMs: 60_000, blocked: false, retryMs: 0 });
    now += 10_000;
    expect(counters.hit('k', 60_000, 2, 0).blocked).toBe(false);
    expect(counters.hit('k', 60_000, 2, 0)).toEqual({ hits: 3, ttlMs: 50_000, blocked: true, retryMs: 50_000 });
    now += 50_000;
    expect(counters.hit('k', 60_000, 2, 0)).toEqual({ hits: 1, ttlMs: 60_000, blocked: false, retryMs: 0 });
  });

  it('with a block duration, blocks for that long, then starts a fresh window', () => {
    counters.hit('k', 1_000, 1, 5_000);
    expect(counters.hit('k', 1_000, 1, 5_000)).toMatchObject({ blocked: true, retryMs: 5_000 });
    now += 4_000;
    expect(counters.hit('k', 1_000, 1, 5_000)).toMatchObject({ blocked: true, retryMs: 1_000 });
    now += 1_000;
    expect(counters.hit('k', 1_000, 1, 5_000)).toMatchObject({ hits: 1, blocked: false });
  });

  it('failures: a lock from the threshold on, 1 s doubling up to the cap; the window slides', () => {
    const fail = () => counters.fail('f', 'l', 900_000, 3, 8_000);
    expect([fail(), fail()].map((r) => r.delayMs)).toEqual([0, 0]);
    expect(counters.remaining('l')).toBe(0);
    expect(fail()).toEqual({ failures: 3, delayMs: 1_000 });
    expect(counters.remaining('l')).toBe(1_000);
    expect([fail(), fail(), fail(), fail()].map((r) => r.delayMs)).toEqual([2_000, 4_000, 8_000, 8_000]);
    now += 899_000;
    expect(fail().failures).toBe(8); // within the window of the previous failure
    now += 900_000;
    expect(fail()).toEqual({ failures: 1, delayMs: 0 });
    counters.delete('f', 'l');
    expect(counters.remaining('l')).toBe(0);
  });

  it('keeps at most maxEntries, dropping the oldest', () => {
    for (let i = 0; i < 8; i++) counters.hit(`k${i}`, 60_000, 10, 0);
    expect(counters.size).toBe(5);
    expect(counters.hit('k0', 60_000, 10, 0).hits).toBe(1);
    expect(counters.hit('k7', 60_000, 10, 0).hits).toBe(2);
  });

  it('failureDelayMs never overflows', () => {
    expect(failureDelayMs(4, 5, 900_000)).toBe(0);
    expect(failureDelayMs(5, 5, 900_000)).toBe(1_000);
    expect(failureDelayMs(10_000, 5, 900_000)).toBe(900_000);
  });
});
