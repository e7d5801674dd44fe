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
});
