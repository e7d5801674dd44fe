import jwt from 'jsonwebtoken';
import { createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { loadConfig } from '../config/configuration';
import { AccessTokenService } from './access-token.service';

const KEY = 'k'.repeat(40);
const config = (keys = KEY, extra: Record<string, string> = {}) =>
  loadConfig({ SECRET_KEYS: keys, TOKEN_PEPPER: 'p'.repeat(40), DATA_DIR: '/tmp/lk-unit', ACCESS_TOKEN_ALGORITHM: 'HS256', ...extra });
const subject = { sub: 'u1', sid: 's1', preferred_username: 'alice', roles: ['user'], groups: ['g'], scp: ['read:data'], epoch: 2 };

function status(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as { code: string }).code;
  }
}

describe('AccessTokenService (ACCESS_TOKEN_ALGORITHM=HS256)', () => {
  const service = new AccessTokenService(config());

  it('signs HS256 with kid and verifies its own tokens', () => {
    const token = service.sign(subject);
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    expect(header).toEqual({ alg: 'HS256', typ: 'at+jwt', kid: config().auth.secretKeys[0].kid });
    expect(service.verify(token)).toMatchObject({ ...subject, type: 'access', iss: 'latchkey', aud: 'latchkey', client_id: 'latchkey', scope: 'read:data' });
  });

  it('rejects alg none, another key, an unknown kid, another issuer and a non-access type', () => {
    const token = service.sign(subject);
    const [, payload] = token.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: config().auth.secretKeys[0].kid })).toString('base64url')}.${payload}.`;
    expect(status(() => service.verify(none))).toBe('AUTH_INVALID_TOKEN');
    expect(status(() => new AccessTokenService(config('z'.repeat(40))).verify(token))).toBe('AUTH_INVALID_TOKEN');
    const kid = config().auth.secretKeys[0].kid;
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
    const kid = config().auth.secretKeys[0].kid;
    const expired = jwt.sign({ ...subject, type: 'access', iss: 'latchkey', exp: Math.floor(Date.now() / 1000) - 10 }, createSecretKey(Buffer.from(KEY)), {
      algorithm: 'HS256',
      keyid: kid,
    });
    expect(status(() => service.verify(expired))).toBe('AUTH_TOKEN_EXPIRED');
  });

  it('accepts exactly the signed bytes: any change to a segment, another encoding of the signature, another algorithm, or claims out of shape is invalid', () => {
    const kid = config().auth.secretKeys[0].kid;
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
      'an audience that is not ours': jwt.sign({ ...good, aud: 'another-api' }, secret, { algorithm: 'HS256', keyid: kid }),
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

describe('AccessTokenService (ES256, the default)', () => {
  const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const current = pair();
  const next = pair();
  const jwk = (key: KeyObject) => JSON.stringify(key.export({ format: 'jwk' }));
  const es = (signingKeys: string) => config(KEY, { ACCESS_TOKEN_ALGORITHM: 'ES256', SIGNING_KEYS: signingKeys });
  const service = new AccessTokenService(es(jwk(current.privateKey)));
  const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { kid: string }).kid;
  const now = () => Math.floor(Date.now() / 1000);

  it('signs ES256 as RFC 9068 asks (typ at+jwt, kid = the key thumbprint, aud, client_id, scope) and verifies with the public key alone', () => {
    const token = service.sign({ ...subject, scp: ['read:data', 'write:data'] });
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: es(jwk(current.privateKey)).auth.tokenSigning.published[0].kid });
    expect(jwt.verify(token, current.publicKey, { algorithms: ['ES256'], audience: 'latchkey', issuer: 'latchkey' })).toMatchObject({
      client_id: 'latchkey',
      scope: 'read:data write:data',
      scp: ['read:data', 'write:data'],
    });
    expect(status(() => service.verify(token))).toBe('ok');
  });

  it('keeps verifying HS256 tokens signed before the switch, and a retired key listed as a public key only', () => {
    const before = new AccessTokenService(config()).sign(subject);
    expect(status(() => service.verify(before))).toBe('ok');
    const rotated = new AccessTokenService(es(`${jwk(next.privateKey)};${current.publicKey.export({ format: 'pem', type: 'spki' }).toString()}`));
    expect(status(() => rotated.verify(service.sign(subject)))).toBe('ok');
    expect(kidOf(rotated.sign(subject))).not.toBe(kidOf(service.sign(subject)));
  });

  it('refuses alg confusion (HS256 keyed with the public key under its kid), another private key under our kid, none, and a critical header', () => {
    const token = service.sign(subject);
    const kid = kidOf(token);
    const claims = { ...subject, type: 'access', iss: 'latchkey', exp: now() + 60 };
    const publicPem = current.publicKey.export({ format: 'pem', type: 'spki' });
    const cases = {
      'HS256 with the public key as secret': jwt.sign(claims, createSecretKey(Buffer.from(publicPem)), { algorithm: 'HS256', keyid: kid }),
      'another EC key under our kid': jwt.sign(claims, next.privateKey, { algorithm: 'ES256', keyid: kid }),
      'ES384 with a P-384 key under our kid': jwt.sign(claims, generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, { algorithm: 'ES384', keyid: kid }),
      none: `${Buffer.from(JSON.stringify({ alg: 'none', kid })).toString('base64url')}.${token.split('.')[1]}.`,
      crit: jwt.sign(claims, current.privateKey, { algorithm: 'ES256', keyid: kid, header: { alg: 'ES256', crit: ['x'] } as jwt.JwtHeader }),
      'the HS256 kid signed by an EC key': jwt.sign(claims, current.privateKey, { algorithm: 'ES256', keyid: config().auth.secretKeys[0].kid }),
    };
    for (const [name, value] of Object.entries(cases)) expect([name, status(() => service.verify(value))]).toEqual([name, 'AUTH_INVALID_TOKEN']);
    expect(status(() => service.verify(jwt.sign(claims, current.privateKey, { algorithm: 'ES256', keyid: kid })))).toBe('ok');
  });

  it('validates SIGNING_KEYS: the first must be private, every one EC P-256, no kid twice', () => {
    const publicPem = current.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(() => es(publicPem)).toThrow(/key #1 signs, so it must be a private key/);
    expect(() => es('not a key')).toThrow(/key #1 is neither a PEM key nor a JWK/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(() => es(rsa)).toThrow(/key #1 is not an EC P-256 key/);
    expect(() => es(`${jwk(current.privateKey)};${publicPem}`)).toThrow(/listed twice/);
    expect(() => es(`${jwk(current.privateKey)};not a key`)).toThrow(/key #2/);
    // PEM with its line breaks written as \n (one-line environment files) works as well.
    const pem = current.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString().replace(/\n/g, '\\n');
    expect(es(pem).auth.tokenSigning.published[0].kid).toBe(es(jwk(current.privateKey)).auth.tokenSigning.published[0].kid);
  });
});
