import { randomFromPool } from './random-pool';

describe('randomFromPool', () => {
  it('gives distinct values of the asked length, across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const b = randomFromPool(32); // 64,000 bytes: several refills of the 8 KiB pool
      expect(b.length).toBe(32);
      seen.add(b.toString('hex'));
    }
    expect(seen.size).toBe(2000);
  });

  it('returns copies: changing one leaves the next values alone', () => {
    const a = randomFromPool(16);
    const copy = Buffer.from(a);
    a.fill(0);
    expect(randomFromPool(16).equals(Buffer.alloc(16))).toBe(false);
    expect(copy.equals(Buffer.alloc(16))).toBe(false);
  });

  it('refuses large requests (those should call randomBytes)', () => {
    expect(() => randomFromPool(65)).toThrow(RangeError);
  });
});
