import { QueueFullError, Semaphore } from './semaphore';

/** A task that stays running until released by the test. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

describe('Semaphore', () => {
  it('runs at most `limit` tasks at once; the others wait in order and all finish', async () => {
    const s = new Semaphore(2, 10);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const gates = Array.from({ length: 6 }, gate);
    const done = gates.map((g, i) =>
      s.run(async () => {
        peak = Math.max(peak, ++running);
        order.push(i);
        await g.opened;
        running--;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect([s.active, s.queued]).toEqual([2, 4]);
    for (const g of gates) g.open();
    expect(await Promise.all(done)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect([s.active, s.queued]).toEqual([0, 0]);
  });

  it('refuses at once beyond the queue limit, and frees the slot of a task that throws', async () => {
    const s = new Semaphore(1, 1);
    const g = gate();
    const first = s.run(() => g.opened);
    const second = s.run(async () => 'second');
    await expect(s.run(async () => 'third')).rejects.toBeInstanceOf(QueueFullError);
    g.open();
    await first;
    expect(await second).toBe('second');
    await expect(s.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await s.run(async () => 'after')).toBe('after');
    expect(s.active).toBe(0);
  });

  it('with a queue limit of 0, only the running slots exist', async () => {
    const s = new Semaphore(1, 0);
    const g = gate();
    const first = s.run(() => g.opened);
    await expect(s.run(async () => 1)).rejects.toBeInstanceOf(QueueFullError);
    g.open();
    await first;
  });
});
