import { accessTagsRefusal, effectiveKeyScopes, mintRefusal, requestableScopes } from './api-key-scopes';

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

  it('what may be minted for a principal is bounded by the target and by the calling credential', () => {
    // An admin key restricted to admin:apikeys, minting for an admin: only admin:apikeys, no inherit.
    expect(requestableScopes(['admin:apikeys'], ['admin'])).toEqual(['admin:apikeys']);
    // A full admin credential minting for a user: the user scopes the admin holds, and no inherit
    // (the admin role lacks create:apikeys, revoke:apikeys, write:plugins).
    const admin = effectiveKeyScopes(['inherit'], ['admin']);
    expect(requestableScopes(admin, ['user'])).toContain('read:data');
    expect(requestableScopes(admin, ['user'])).not.toContain('inherit');
    expect(requestableScopes(admin, ['user'])).not.toContain('create:apikeys');
  });

  it('a refusal keeps Tiled\'s wording and says what the credential lacks', () => {
    expect(mintRefusal(['admin:apikeys'], ['admin:apikeys'], ['admin'])).toBeNull();
    const inherit = mintRefusal(['inherit'], ['admin:apikeys'], ['admin'])!;
    expect(inherit).toMatch(/^Requested scopes \[inherit\] must be a subset of the principal's scopes \[admin:apikeys\]\./);
    expect(inherit).toContain('"inherit" needs a credential that holds every scope of the principal; this one lacks [');
    expect(mintRefusal(['write:principals'], ['admin:apikeys'], ['admin'])).toContain('does not hold [write:principals]');
    expect(mintRefusal(['read:principals'], effectiveKeyScopes(['inherit'], ['admin']), ['user'])).not.toContain('does not hold');
  });

  it('access tags: never with inherit or admin:apikeys, and a tagged credential mints only keys within its tags', () => {
    expect(accessTagsRefusal(['read:metadata'], ['a'], null)).toBeNull();
    expect(accessTagsRefusal(['inherit'], null, null)).toBeNull();
    expect(accessTagsRefusal(['inherit'], [], null)).toMatch(/cannot be combined with access tag restrictions/);
    expect(accessTagsRefusal(['read:metadata', 'admin:apikeys'], ['a'], null)).toMatch(/cannot be combined with access tag restrictions/);
    expect(accessTagsRefusal(['read:metadata'], ['a'], ['a', 'b'])).toBeNull();
    expect(accessTagsRefusal(['read:metadata'], [], ['a'])).toBeNull();
    expect(accessTagsRefusal(['read:metadata'], null, ['a'])).toMatch(/restricted to the access tags \[a\]/);
    expect(accessTagsRefusal(['read:metadata'], ['a', 'c'], ['a', 'b'])).toMatch(/^Requested access tags \[c\] are not among/);
  });
});
