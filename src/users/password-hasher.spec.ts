import { AppError } from '../common/errors/app-error';
import type { AppConfig } from '../config/app.config';
import { PasswordHasher } from './password-hasher';
import { countArgon2 } from '../../test/utils/argon2-counter';


const hasher = (concurrency: number, queueLimit: number) =>
  new PasswordHasher({ passwordHashing: { concurrency, queueLimit } } as unknown as AppConfig);


describe('PasswordHasher', () => {
  afterEach(() => jest.restoreAllMocks());

  it('never runs more argon2 operations at once than HASH_CONCURRENCY, under 50 concurrent checks', async () => {
    const h = hasher(2, 100);
    const stored = await h.hash('correct horse');
    const counter = countArgon2();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 5 === 0 ? h.verify(null, 'x') : h.verify(stored, i % 2 ? 'correct horse' : 'wrong'))),
    );
    expect(counter.calls).toBeGreaterThanOrEqual(50);
    expect(counter.peak).toBe(2);
    expect(results.filter(Boolean)).toHaveLength(20);
    expect(h.load).toEqual({ running: 0, queued: 0, limit: 2, queueLimit: 100 });
  });

  it('refuses beyond the queue with 503 SERVICE_UNAVAILABLE and Retry-After; the rest complete', async () => {
    const h = hasher(1, 3);
    const stored = await h.hash('correct horse');
    const settled = await Promise.allSettled(Array.from({ length: 10 }, () => h.verify(stored, 'correct horse')));
    const refused = settled.filter((s) => s.status === 'rejected').map((s) => (s as PromiseRejectedResult).reason as AppError);
    expect(settled.filter((s) => s.status === 'fulfilled' && s.value === true)).toHaveLength(4);
    expect(refused).toHaveLength(6);
    for (const e of refused) {
      expect(e).toBeInstanceOf(AppError);
      expect([e.code, e.status, e.options.headers]).toEqual(['SERVICE_UNAVAILABLE', 503, { 'Retry-After': '1' }]);
    }
    expect(await h.verify(stored, 'correct horse')).toBe(true);
  });
});
