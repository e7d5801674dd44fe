import jwt from 'jsonwebtoken';
import { createSecretKey } from 'node:crypto';
import { loadConfig } from '../config/configuration';
import { AccessTokenService } from './access-token.service';

const KEY = 'k'.repeat(40);
const config = (keys = KEY, extra: Record<string, string> = {}) =>
  loadConfig({ SECRET_KEYS: keys, TOKEN_PEPPER: 'p'.repeat(40), DATA_DIR: '/tmp/lk-unit', ...extra });
const subject = { sub: 'u1', sid: 's1', preferred_username: 'alice', roles: ['user'], groups: ['g'], scp: ['read:data'], epoch: 2 };

function status(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as { code: string }).code;
  }
}

describe('AccessTokenService', () => {
  const service = new AccessTokenService(config());

  it('signs HS256 with kid and verifies its own tokens', () => {
    const token = service.sign(subject);
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT', kid: config().auth.signingKeys[0].kid });
    expect(service.verify(token)).toMatchObject({ ...subject, type: 'access', iss: 'latchkey' });
  });

  it('rejects alg none, another key, an unknown kid, another issuer and a non-access type', () => {
    const token = service.sign(subject);
    const [, payload] = token.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: config().auth.signingKeys[0].kid })).toString('base64url')}.${payload}.`;
    expect(status(() => service.verify(none))).toBe('AUTH_INVALID_TOKEN');
    expect(status(() => new AccessTokenService(config('z'.repeat(40))).verify(token))).toBe('AUTH_INVALID_TOKEN');
    const kid = config().auth.signingKeys[0].kid;
    const secret = createSecretKey(Buffer.from(KEY));
    const forge = (claims: object) => jwt.sign({ ...claims }, secret, { algorithm: 'HS256', keyid: kid });
    const exp = Math.floor(Date.now() / 1000) + 60;
    expect(status(() => service.verify(forge({ ...subject, type: 'refresh', iss: 'latchkey', exp })))).toBe('AUTH_INVALID_TOKEN');
    expect(status(() => service.verify(forge({ ...subject, type: 'access', iss: 'elsewhere', exp })))).toBe('AUTH_INVALID_TOKEN');
    expect(status(() => service.verify(jwt.sign({ ...subject, type: 'access', iss: 'latchkey', exp }, secret, { algorithm: 'HS256', keyid: 'nope' })))).toBe(
      'AUTH_INVALID_TOKEN',
    );
    // Tokens minted before `groups` existed still verify.
    const { groups: _g, ...older } = subject;
    expect(status(() => service.verify(forge({ ...older, type: 'access', iss: 'latchkey', exp })))).toBe('ok');
  });

  it('reports an expired token as expired, not as invalid', () => {
    const kid = config().auth.signingKeys[0].kid;
    const expired = jwt.sign({ ...subject, type: 'access', iss: 'latchkey', exp: Math.floor(Date.now() / 1000) - 10 }, createSecretKey(Buffer.from(KEY)), {
      algorithm: 'HS256',
      keyid: kid,
    });
    expect(status(() => service.verify(expired))).toBe('AUTH_TOKEN_EXPIRED');
  });

  it('accepts exactly the signed bytes: any change to a segment, another encoding of the signature, another algorithm, or claims out of shape is invalid', () => {
    const kid = config().auth.signingKeys[0].kid;
    const secret = createSecretKey(Buffer.from(KEY));
    const now = Math.floor(Date.now() / 1000);
    const good = { ...subject, type: 'access', iss: 'latchkey', exp: now + 60 };
    const token = jwt.sign(good, secret, { algorithm: 'HS256', keyid: kid });
    const [h, p, sig] = token.split('.');
    const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const reencoded = `${sig.slice(0, -1)}${B64URL[B64URL.indexOf(sig[42]) ^ 1]}`;
    expect(Buffer.from(reencoded, 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true); // same bytes, other text
    const flip = (c: string) => (c === 'A' ? 'B' : 'A');
    const cases = {
      'signature changed': `${h}.${p}.${sig.slice(0, -2)}${flip(sig.at(-2)!)}${sig.at(-1)}`,
      // 32 bytes take 43 characters: the last one carries 2 spare bits that decoders ignore.
      'signature re-encoded': `${h}.${p}.${sig.slice(0, -1)}${B64URL[B64URL.indexOf(sig[42]) ^ 1]}`,
      'signature padded': `${h}.${p}.${sig}=`,
      'signature missing': `${h}.${p}.`,
      'payload changed': `${h}.${Buffer.from(JSON.stringify({ ...good, roles: ['admin'] })).toString('base64url')}.${sig}`,
      'a fourth segment': `${token}.x`,
      'HS512 with the same key': jwt.sign(good, secret, { algorithm: 'HS512', keyid: kid }),
      'not before later': jwt.sign({ ...good, nbf: now + 60 }, secret, { algorithm: 'HS256', keyid: kid }),
      'no expiry': jwt.sign({ ...subject, type: 'access', iss: 'latchkey' }, secret, { algorithm: 'HS256', keyid: kid, noTimestamp: true }),
      'a critical header': jwt.sign(good, secret, { algorithm: 'HS256', keyid: kid, header: { alg: 'HS256', crit: ['x'] } as jwt.JwtHeader }),
      'expired and forged': jwt.sign({ ...good, exp: now - 10 }, createSecretKey(Buffer.from('z'.repeat(40))), { algorithm: 'HS256', keyid: kid }),
      'payload not JSON': `${h}.${Buffer.from('not json').toString('base64url')}.${sig}`,
      'not a JWT': 'eyJhbGciOiJIUzI1NiJ9',
    };
    for (const [name, value] of Object.entries(cases)) expect([name, status(() => service.verify(value))]).toEqual([name, 'AUTH_INVALID_TOKEN']);
    expect(status(() => service.verify(token))).toBe('ok');
  });

  it('remembers a verified token until its expiry, never past it, and never for a different token', () => {
    jest.useFakeTimers({ now: new Date('2026-12-03T10:00:00Z') });
    try {
      const short = new AccessTokenService(config(KEY, { ACCESS_TOKEN_MAX_AGE: '60' }));
      const token = short.sign(subject);
      expect(status(() => short.verify(token))).toBe('ok');
      const first = short.verify(token);
      expect(short.verify(token)).toBe(first); // the same claims object: not verified again
      expect(Object.isFrozen(first) && Object.isFrozen(first.roles)).toBe(true);
      const [h, p, sig] = token.split('.');
      expect(status(() => short.verify(`${h}.${p}.${sig.slice(0, -2)}${sig.at(-2) === 'A' ? 'B' : 'A'}${sig.at(-1)}`))).toBe('AUTH_INVALID_TOKEN');
      jest.setSystemTime(new Date('2026-12-03T10:00:59Z'));
      expect(status(() => short.verify(token))).toBe('ok');
      jest.setSystemTime(new Date('2026-12-03T10:01:00Z'));
      expect(status(() => short.verify(token))).toBe('AUTH_TOKEN_EXPIRED');
    } finally {
      jest.useRealTimers();
    }
  });
});
