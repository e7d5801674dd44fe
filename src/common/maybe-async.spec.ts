import { andThen } from './maybe-async';

describe('andThen', () => {
  it('calls next at once with a value that is there, and returns its result as it is', () => {
    const seen: number[] = [];
    const out = andThen(2, (v) => {
      seen.push(v);
      return v * 10;
    });
    expect(out).toBe(20);
    expect(seen).toEqual([2]);
  });

  it('waits for a promise, and passes a rejection or a throw on', async () => {
    await expect(andThen(Promise.resolve(3), (v) => v + 1)).resolves.toBe(4);
    await expect(andThen(Promise.reject(new Error('load failed')), () => 1)).rejects.toThrow('load failed');
    const refuse = (): number => {
      throw new Error('refused');
    };
    expect(() => andThen(1, refuse)).toThrow('refused');
  });
});
