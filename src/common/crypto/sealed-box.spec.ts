import { createSecretKey } from 'node:crypto';
import { keyId } from '../../config/configuration';
import { SealedBox } from './sealed-box';

const key = (secret: string) => ({ kid: keyId(secret), key: createSecretKey(Buffer.from(secret)) });
const OLD = key('old-secret-key-of-at-least-32-characters');
const NEW = key('new-secret-key-of-at-least-32-characters');

describe('SealedBox', () => {
  it('opens what it sealed, and nothing else', () => {
    const box = new SealedBox([OLD], 'test');
    const sealed = box.sealJson({ refresh: 'secret-token' });
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('secret-token');
    expect(box.openJson(sealed)).toEqual({ refresh: 'secret-token' });
    expect(box.seal('same')).not.toBe(box.seal('same')); // a fresh IV each time
  });

  it('refuses tampered, truncated or foreign values', () => {
    const box = new SealedBox([OLD], 'test');
    const sealed = box.seal('hello');
    const [v, kid, data] = sealed.split('.');
    const flipped = Buffer.from(data, 'base64url');
    flipped[flipped.length - 20] ^= 1;
    for (const bad of [`${v}.${kid}.${flipped.toString('base64url')}`, `${v}.${kid}.${data.slice(0, 20)}`, `v2.${kid}.${data}`, `${v}.nope.${data}`, 'garbage', `${sealed}.x`]) {
      expect(box.open(bad)).toBeUndefined();
    }
    expect(new SealedBox([OLD], 'other purpose').open(sealed)).toBeUndefined();
    expect(box.openJson(box.seal('not json'))).toBeUndefined();
  });

  it('key rotation: NEW;OLD opens what OLD sealed and seals with NEW; dropping OLD ends it', () => {
    const sealedOld = new SealedBox([OLD], 'test').seal('kept');
    const rotated = new SealedBox([NEW, OLD], 'test');
    expect(rotated.open(sealedOld)).toBe('kept');
    expect(rotated.seal('x').split('.')[1]).toBe(NEW.kid);
    expect(new SealedBox([NEW], 'test').open(sealedOld)).toBeUndefined();
  });
});
