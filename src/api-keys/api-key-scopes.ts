import { scopesForRoles } from '../common/auth/scopes';

/** API-key-only meta-scope: the key may do whatever its owner may do at the time of use. */
export const INHERIT = 'inherit';

/**
 * The scopes a key grants now: its stored scopes, limited to what the owner's current roles
 * allow (a role taken away is taken from the owner's keys too); `inherit` grants all of those.
 */
export function effectiveKeyScopes(keyScopes: readonly string[], ownerRoles: readonly string[]): readonly string[] {
  const owner = scopesForRoles(ownerRoles);
  if (keyScopes.includes(INHERIT)) return owner;
  return keyScopes.filter((s) => owner.includes(s)).sort();
}

/**
 * What a caller may put in a new key: the scopes of the credential it is using, plus `inherit`
 * only when that credential already holds every scope of the owner's roles (so a restricted key
 * cannot mint a broader one).
 */
export function requestableScopes(callerScopes: readonly string[], ownerRoles: readonly string[]): string[] {
  const owner = scopesForRoles(ownerRoles);
  const full = owner.every((s) => callerScopes.includes(s));
  return full ? [...callerScopes, INHERIT] : [...callerScopes];
}
