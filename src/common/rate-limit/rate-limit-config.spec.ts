import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/configuration';

const base = (extra: Record<string, string> = {}) => ({
  SECRET_KEYS: 'Zq7vN2xLr9Tb4Wm8Kc1Hy6Pd3Fs5Gj0A',
  TOKEN_PEPPER: 'Xw4Bn8Rt2Ye6Uk0Ip3Oa7Sd1Fg5Hj9Lz',
  ACCESS_TOKEN_ALGORITHM: 'HS256',
  DATA_DIR: mkdtempSync(join(tmpdir(), 'lk-config-')),
  ...extra,
});

describe('rate-limit and hashing configuration', () => {
  it('defaults for a real deployment', () => {
    const c = loadConfig(base({ NODE_ENV: 'production' }));
    expect(c.rateLimit).toEqual({
      enabled: true,
      window: 60,
      loginPerIp: 30,
      loginPerUsername: 10,
      refreshPerIp: 120,
      createPerUser: 20,
      publicPerIp: 300,
      loginFailures: 5,
      loginFailureWindow: 900,
      loginMaxDelay: 900,
      authFailuresPerIp: 100,
    });
    const concurrency = Math.max(1, Math.min(availableParallelism() - 1, 3));
    expect(c.passwordHashing).toEqual({ concurrency, queueLimit: Math.max(64, 32 * concurrency) });
    expect(loadConfig(base()).rateLimit).toEqual(c.rateLimit); // development: the same
  });

  it('under NODE_ENV=test the limits default high; explicit values still apply', () => {
    const c = loadConfig(base({ NODE_ENV: 'test', RATE_LIMIT_LOGIN_PER_IP: '3' }));
    expect(c.rateLimit).toMatchObject({ enabled: true, loginPerIp: 3, loginPerUsername: 1_000_000, loginFailures: 1_000_000, authFailuresPerIp: 1_000_000 });
    expect(c.passwordHashing.queueLimit).toBe(10_000);
  });

  it('hashing: UV_THREADPOOL_SIZE bounds the default; explicit values win', () => {
    expect(loadConfig(base({ UV_THREADPOOL_SIZE: '2' })).passwordHashing.concurrency).toBe(1);
    expect(loadConfig(base({ HASH_CONCURRENCY: '6', HASH_QUEUE_LIMIT: '0' })).passwordHashing).toEqual({ concurrency: 6, queueLimit: 0 });
    expect(loadConfig(base({ RATE_LIMIT_ENABLED: 'off' })).rateLimit.enabled).toBe(false);
  });

  it.each([
    ['RATE_LIMIT_ENABLED', 'sometimes'],
    ['RATE_LIMIT_WINDOW', '0'],
    ['RATE_LIMIT_LOGIN_PER_IP', '0'],
    ['RATE_LIMIT_LOGIN_PER_USERNAME', 'ten'],
    ['RATE_LIMIT_REFRESH_PER_IP', '-1'],
    ['RATE_LIMIT_CREATE_PER_USER', '2.5'],
    ['RATE_LIMIT_PUBLIC_PER_IP', ''],
    ['RATE_LIMIT_LOGIN_FAILURES', '0'],
    ['RATE_LIMIT_LOGIN_FAILURE_WINDOW', '100000'],
    ['RATE_LIMIT_LOGIN_MAX_DELAY', '0'],
    ['AUTH_FAILURES_PER_IP', '0'],
    ['HASH_CONCURRENCY', '0'],
    ['HASH_QUEUE_LIMIT', '-1'],
  ])('refuses %s=%j, naming it', (name, value) => {
    expect(() => loadConfig(base({ [name]: value }))).toThrow(new RegExp(`^Invalid configuration:\\n.*${name}`, 's'));
  });
});
