import { isSecretKey, redact, REDACTED, scrub } from './redact';

describe('log redaction', () => {
  it('knows secret field names and leaves ordinary ones', () => {
    for (const key of ['authorization', 'Authorization', 'cookie', 'set-cookie', 'password', 'current_password', 'new_password', 'refresh_token', 'access_token', 'token', 'csrfToken', 'client_secret', 'secret', 'api_key', 'apiKey', 'x-api-key', 'tokenHash', 'secret_hash', 'code', 'device_code', 'code_verifier', 'x-csrf', 'pepper']) {
      expect({ key, secret: isSecretKey(key) }).toEqual({ key, secret: true });
    }
    for (const key of ['statusCode', 'errorCode', 'tokenId', 'credential', 'principal', 'route', 'username', 'reqId', 'status', 'expires_in', 'scopes']) {
      expect({ key, secret: isSecretKey(key) }).toEqual({ key, secret: false });
    }
  });

  it('replaces secret fields at any depth, in arrays too, and keeps the rest', () => {
    const out = redact({
      user: 'alice',
      req: { headers: { authorization: 'Bearer abc', cookie: 'a=b', host: 'x' } },
      list: [{ password: 'p' }, { refresh_token: 'r', note: 'n' }],
      empty: { password: '' },
    });
    expect(out).toEqual({
      user: 'alice',
      req: { headers: { authorization: REDACTED, cookie: REDACTED, host: 'x' } },
      list: [{ password: REDACTED }, { refresh_token: REDACTED, note: 'n' }],
      empty: { password: '' },
    });
  });

  it('masks secret-shaped strings wherever they are', () => {
    const key = 'lk_pat_' + 'A1b2C3d4'.repeat(5) + 'Zz9Yy8';
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
    expect(scrub(`using ${key} now`)).toBe(`using lk_pat_${REDACTED} now`);
    expect(scrub(`got ${jwt}`)).toBe(`got ${REDACTED}`);
    expect(scrub('Authorization: Bearer opaque-offline-token-123')).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(scrub('/api/v1/x?api_key=abc&y=1&code=zzz')).toBe(`/api/v1/x?api_key=${REDACTED}&y=1&code=${REDACTED}`);
    expect(scrub('GET /api/v1/auth/apikey 200 3ms')).toBe('GET /api/v1/auth/apikey 200 3ms');
    expect(scrub('$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA')).toBe(REDACTED);
  });

  it('reduces errors to type, message and stack (never their attached data), and survives cycles', () => {
    const error = Object.assign(new Error('duplicate key lk_rt_' + 'x'.repeat(46)), { parameters: ['hash-of-a-token'], code: '23505' });
    const out = redact({ err: error }) as { err: Record<string, unknown> };
    expect(Object.keys(out.err).sort()).toEqual(['code', 'message', 'stack', 'type']);
    expect(out.err.message).toBe(`duplicate key lk_rt_${REDACTED}`);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(redact(cyclic)).toEqual({ a: 1, self: '[circular]' });
  });
});
