import { randomBytes } from 'node:crypto';
import { KeyedHashes, secretDigest } from './presented-secrets';
import { generateToken, hashSecret, isWellFormedToken } from './token-format';

const pepper = randomBytes(32);

describe('KeyedHashes', () => {
  it('gives the keyed hash a secret is stored under, the same on every call', () => {
    const hashes = new KeyedHashes(pepper);
    const secret = generateToken('personalApiKey');
    expect(hashes.of(secret)).toBe(hashSecret(pepper, secret));
    expect(hashes.of(secret)).toBe(hashSecret(pepper, secret));
    expect(hashes.of(secret + 'x')).toBe(hashSecret(pepper, secret + 'x'));
  });

  it('checks the shape of a secret it has not seen, and remembers only the well-formed', () => {
    const wellFormed = jest.fn((s: string) => isWellFormedToken(s, 'deployToken'));
    const hashes = new KeyedHashes(pepper, wellFormed);
    const good = generateToken('deployToken');
    const bad = good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A'); // checksum broken
    expect(hashes.of(bad)).toBeNull();
    expect(hashes.of(bad)).toBeNull();
    expect(wellFormed).toHaveBeenCalledTimes(2);
    expect(hashes.of(good)).toBe(hashSecret(pepper, good));
    expect(hashes.of(good)).toBe(hashSecret(pepper, good));
    expect(wellFormed).toHaveBeenCalledTimes(3);
  });

  it('keeps at most `size` secrets, dropping the oldest first', () => {
    const wellFormed = jest.fn(() => true);
    const hashes = new KeyedHashes(pepper, wellFormed, 2);
    const [a, b, c] = ['a', 'b', 'c'].map((s) => s.repeat(20));
    hashes.of(a);
    hashes.of(b);
    hashes.of(c); // a goes
    wellFormed.mockClear();
    hashes.of(c);
    hashes.of(b);
    expect(wellFormed).not.toHaveBeenCalled();
    expect(hashes.of(a)).toBe(hashSecret(pepper, a));
    expect(wellFormed).toHaveBeenCalledTimes(1);
  });

  it('keys its memory by digest, not by the secret', () => {
    const hashes = new KeyedHashes(pepper);
    const secret = generateToken('personalApiKey');
    hashes.of(secret);
    const known = (hashes as unknown as { known: { entries: Map<string, { value: string }> } }).known.entries;
    expect([...known.keys()]).toEqual([secretDigest(secret)]);
    expect(JSON.stringify([...known])).not.toContain(secret);
  });
});
