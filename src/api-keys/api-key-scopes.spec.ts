import { effectiveKeyScopes, requestableScopes } from './api-key-scopes';

describe('API key scopes', () => {
  it('inherit follows the owner\'s current roles', () => {
    expect(effectiveKeyScopes(['inherit'], ['user'])).toContain('create:apikeys');
    expect(effectiveKeyScopes(['inherit'], ['user', 'admin'])).toContain('read:principals');
    expect(effectiveKeyScopes(['inherit'], [])).toEqual([]);
  });

  it('explicit scopes are capped by what the owner may still do', () => {
    expect(effectiveKeyScopes(['read:metadata', 'read:principals'], ['user'])).toEqual(['read:metadata']);
    expect(effectiveKeyScopes(['read:principals'], ['user', 'admin'])).toEqual(['read:principals']);
    expect(effectiveKeyScopes([], ['user'])).toEqual([]);
  });

  it('a restricted credential cannot ask for inherit; a full one can', () => {
    expect(requestableScopes(['read:metadata'], ['user'])).toEqual(['read:metadata']);
    const full = effectiveKeyScopes(['inherit'], ['user']);
    expect(requestableScopes(full, ['user'])).toContain('inherit');
  });
});
