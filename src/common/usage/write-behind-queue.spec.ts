import { WriteBehindQueue } from './write-behind-queue';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('WriteBehindQueue', () => {
  const make = (persist: (batch: number[]) => Promise<unknown>, over: Partial<ConstructorParameters<typeof WriteBehindQueue>[1]> = {}) => {
    const q = new WriteBehindQueue<number>('test', { intervalMs: 20, batchSize: 3, capacity: 5, retryMs: 30, ...over }, persist);
    (q as unknown as { logger: { warn: jest.Mock } }).logger.warn = jest.fn();
    return q;
  };
  const warnings = (q: WriteBehindQueue<number>) => (q as unknown as { logger: { warn: jest.Mock } }).logger.warn.mock.calls.map((c) => String(c[0]));

  it('writes nothing on push; a lone item is written after the interval', async () => {
    const written: number[][] = [];
    const q = make(async (b) => written.push(b));
    q.push(1);
    expect(written).toEqual([]);
    expect(q.queued(() => true)).toEqual([1]);
    await sleep(150);
    expect(written).toEqual([[1]]);
    expect(q.size).toBe(0);
  });

  it('writes in batches of batchSize, at once when a batch is full, one write at a time', async () => {
    const written: number[][] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const q = make(async (b) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await sleep(5);
      written.push(b);
      inFlight--;
    });
    for (const i of [1, 2, 3]) q.push(i);
    q.push(4);
    q.push(5);
    await q.flush();
    expect(written).toEqual([[1, 2, 3], [4, 5]]);
    expect(maxInFlight).toBe(1);
  });

  it('a timed write takes what was queued when it began; what arrives during it waits for the next interval', async () => {
    const written: number[][] = [];
    let release!: () => void;
    const q = make(
      async (b) => {
        written.push(b);
        if (b[0] === 1) await new Promise<void>((r) => (release = r));
      },
      { intervalMs: 40, batchSize: 100, capacity: 100 },
    );
    q.push(1);
    await sleep(60); // the first write is under way, and held
    q.push(2);
    q.push(3);
    release();
    await sleep(10);
    expect(written).toEqual([[1]]); // 2 and 3 were not written straight after it
    await sleep(80);
    expect(written).toEqual([[1], [2, 3]]);
  });

  it('keeps at most capacity items, dropping the oldest, and says how many', async () => {
    const written: number[][] = [];
    const q = make(async (b) => written.push(b), { batchSize: 100 });
    for (let i = 1; i <= 8; i++) q.push(i);
    expect(q.size).toBe(5);
    await q.flush();
    expect(written).toEqual([[4, 5, 6, 7, 8]]);
    expect(warnings(q)).toEqual([expect.stringContaining('dropped the 3 oldest entries')]);
  });

  it('puts a failed batch back in front and retries it after retryMs', async () => {
    const written: number[][] = [];
    let fail = true;
    const q = make(async (b) => {
      if (fail) throw new Error('database down');
      written.push(b);
    });
    q.push(1);
    await q.flush();
    expect(q.queued(() => true)).toEqual([1]);
    expect(warnings(q)).toEqual([expect.stringContaining('database down')]);
    q.push(2); // no immediate attempt while the retry is pending
    fail = false;
    await sleep(200);
    expect(written).toEqual([[1, 2]]);
  });

  it('writes what is queued on close, and ignores later pushes', async () => {
    const written: number[][] = [];
    const q = make(async (b) => written.push(b), { intervalMs: 60_000 });
    q.push(1);
    await q.close();
    q.push(2);
    await q.flush();
    expect(written).toEqual([[1]]);
  });
});
