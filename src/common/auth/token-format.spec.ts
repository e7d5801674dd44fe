import { generateToken, hashSecret, isWellFormedToken, TOKEN_PREFIXES } from './token-format';

describe('token format', () => {
  it('generates prefixed \\w+ tokens that pass their own checksum', () => {
    const token = generateToken('refreshToken');
    expect(token.startsWith(TOKEN_PREFIXES.refreshToken)).toBe(true);
    expect(token).toMatch(/^\w+$/);
    expect(isWellFormedToken(token, 'refreshToken')).toBe(true);
  });

  it('produces distinct tokens', () => {
    const tokens = new Set(Array.from({ length: 200 }, () => generateToken('personalApiKey')));
    expect(tokens.size).toBe(200);
  });

  it('rejects a single changed character, a wrong prefix, truncation and non-ASCII', () => {
    const token = generateToken('deployToken');
    const i = 12;
    const swapped = token.slice(0, i) + (token[i] === 'a' ? 'b' : 'a') + token.slice(i + 1);
    expect(isWellFormedToken(swapped, 'deployToken')).toBe(false);
    expect(isWellFormedToken(token, 'refreshToken')).toBe(false);
    expect(isWellFormedToken(token.slice(0, -1), 'deployToken')).toBe(false);
    expect(isWellFormedToken(token.slice(0, -1) + 'é', 'deployToken')).toBe(false);
  });

  it('hashes with the pepper: same secret, other pepper, other hash', () => {
    const a = hashSecret(Buffer.from('p'.repeat(32)), 'secret');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(hashSecret(Buffer.from('p'.repeat(32)), 'secret')).toBe(a);
    expect(hashSecret(Buffer.from('q'.repeat(32)), 'secret')).not.toBe(a);
  });
});
