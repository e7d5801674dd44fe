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
 * What a caller may put in a new key for a principal (itself or another): the scopes both the
 * principal's roles grant and the calling credential carries, plus `inherit` only when that
 * credential holds every scope of the principal. So a key can never mint a broader key, for its
 * owner or for anyone (issue 16 §3).
 */
export function requestableScopes(callerScopes: readonly string[], targetRoles: readonly string[]): string[] {
  const target = scopesForRoles(targetRoles);
  const both = target.filter((s) => callerScopes.includes(s));
  return both.length === target.length ? [...both, INHERIT] : both;
}

/**
 * Why `requested` cannot be minted, or null when it can: Tiled's wording ("must be a subset of the
 * principal's scopes"), plus what the calling credential lacks when that is the reason.
 */
export function mintRefusal(requested: readonly string[], callerScopes: readonly string[], targetRoles: readonly string[]): string | null {
  const allowed = requestableScopes(callerScopes, targetRoles);
  const extra = requested.filter((s) => !allowed.includes(s));
  if (extra.length === 0) return null;
  const target = [...scopesForRoles(targetRoles), INHERIT];
  let message = `Requested scopes [${extra.join(', ')}] must be a subset of the principal's scopes [${allowed.join(', ')}].`;
  const notHeld = extra.filter((s) => s !== INHERIT && target.includes(s));
  if (notHeld.length > 0) message += ` The credential making this request does not hold [${notHeld.join(', ')}], and a key never grants more than the credential that creates it.`;
  if (extra.includes(INHERIT)) {
    const lacking = scopesForRoles(targetRoles).filter((s) => !callerScopes.includes(s));
    message += ` "inherit" needs a credential that holds every scope of the principal; this one lacks [${lacking.join(', ')}].`;
  }
  return message;
}

/**
 * Why a key cannot get these access tags, or null when it can. As Tiled (since 2026), a key that
 * follows its owner's scopes (`inherit`) or mints keys (`admin:apikeys`) cannot be tag-restricted.
 * And, as with scopes, a key never mints a broader key: a tag-restricted calling credential may
 * only mint keys restricted to some of its own tags (an untagged key would see everything).
 */
export function accessTagsRefusal(
  requestedScopes: readonly string[],
  requestedTags: readonly string[] | null,
  callerTags: readonly string[] | null,
): string | null {
  if (requestedTags !== null && (requestedScopes.includes(INHERIT) || requestedScopes.includes('admin:apikeys'))) {
    return 'Scopes "inherit" and "admin:apikeys" cannot be combined with access tag restrictions (access_tags); list the scopes the key needs instead.';
  }
  if (callerTags === null) return null;
  if (requestedTags === null) {
    return `The credential making this request is restricted to the access tags [${callerTags.join(', ')}]; a key it creates must be restricted to some of them too (access_tags).`;
  }
  const extra = requestedTags.filter((tag) => !callerTags.includes(tag));
  if (extra.length > 0) {
    return `Requested access tags [${extra.join(', ')}] are not among the tags of the credential making this request [${callerTags.join(', ')}], and a key never grants more than the credential that creates it.`;
  }
  return null;
}
