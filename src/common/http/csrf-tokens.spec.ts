import { CsrfTokens } from './csrf-tokens';

describe('CsrfTokens', () => {
  const tokens = new CsrfTokens(Buffer.alloc(32, 7), false);

  it('makes a 43-character random token without a session (as Tiled), never valid for a session', () => {
    const plain = tokens.create();
    expect(plain).toMatch(/^[\w-]{43}$/);
    expect(tokens.isBoundTo(plain, 'lk_bs_session')).toBe(false);
  });

  it('binds a token to one session: not another session, not another server key, not a tampered nonce', () => {
    const bound = tokens.create('lk_bs_alice');
    expect(bound).toMatch(/^[\w-]{43}\.[\w-]{43}$/);
    expect(tokens.isBoundTo(bound, 'lk_bs_alice')).toBe(true);
    expect(tokens.isBoundTo(bound, 'lk_bs_mallory')).toBe(false);
    expect(new CsrfTokens(Buffer.alloc(32, 8), false).isBoundTo(bound, 'lk_bs_alice')).toBe(false);
    const [nonce, mac] = bound.split('.');
    expect(tokens.isBoundTo(`${nonce.slice(1)}x.${mac}`, 'lk_bs_alice')).toBe(false);
    expect(tokens.isBoundTo(`.${mac}`, 'lk_bs_alice')).toBe(false);
    expect(tokens.create('lk_bs_alice')).not.toBe(bound);
  });
});
