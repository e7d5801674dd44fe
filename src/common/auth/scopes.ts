/**
 * Roles and the scopes they grant (Tiled contract §8, plus Latchkey's own). A credential's
 * scopes are fixed when it is minted (access token) or resolved from its owner's roles.
 */
export const ROLE_SCOPES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  user: [
    'read:metadata',
    'read:data',
    'create:node',
    'write:metadata',
    'write:data',
    'delete:revision',
    'delete:node',
    'create:apikeys',
    'revoke:apikeys',
    // Latchkey's own: create plugins, manage their maintainers and deploy tokens, upload.
    'write:plugins',
    // Read plugins, their versions and maintainer-only views (audit).
    'read:plugins',
    // The caller's own account: read it (profile, sessions, keys, audit), change it (revoke a session…).
    'read:account',
    'write:account',
  ],
  admin: [
    'read:metadata',
    'read:data',
    'create:node',
    'register',
    'write:metadata',
    'write:data',
    'delete:revision',
    'delete:node',
    'admin:apikeys',
    'read:principals',
    'write:principals',
    'metrics',
    'read:webhooks',
    'write:webhooks',
    'read:plugins',
    'read:account',
    'write:account',
    // Latchkey's own: RFC 7662 introspection and the revocation feed, for other services.
    'introspect',
  ],
  /**
   * For a service principal that checks other people's credentials (another service's API
   * gateway): introspection and the revocation feed, nothing else. An administrator makes one
   * (`POST /auth/principal?role=introspector`) and an API key for it with the `introspect` scope.
   */
  introspector: ['introspect'],
});

/** The built-in roles (code); administrators add custom ones (`src/roles`), which cannot take these names. */
export const BUILT_IN_ROLES = Object.freeze(Object.keys(ROLE_SCOPES));
/** @deprecated the built-in roles only; use `isKnownRole()` / `knownRoles()`, which include custom roles. */
export const KNOWN_ROLES = BUILT_IN_ROLES;

/** What a role or scope name may look like: lower case, `:`, `.`, `_`, `-` (e.g. `notes:read`, `editor`). */
export const ROLE_NAME = /^[a-z][a-z0-9_.-]{0,63}$/;
export const SCOPE_NAME = /^[a-z][a-z0-9_.-]*(:[a-z0-9_.*-]+)*$/;

/** Custom roles (name → scopes), as `RolesService` last loaded them; replaced whole, never mutated. */
let customRoles: ReadonlyMap<string, readonly string[]> = new Map();

/** Installs the custom roles (RolesService, at boot and after every change on any instance). */
export function setCustomRoles(roles: ReadonlyMap<string, readonly string[]>): void {
  customRoles = roles;
  memo.clear();
}

export function roleScopes(role: string): readonly string[] | undefined {
  return ROLE_SCOPES[role] ?? customRoles.get(role);
}

export function isKnownRole(role: string): boolean {
  return role in ROLE_SCOPES || customRoles.has(role);
}

/** Built-in roles, then custom ones. */
export function knownRoles(): string[] {
  return [...BUILT_IN_ROLES, ...customRoles.keys()];
}

export const Role = Object.freeze({ User: 'user', Admin: 'admin', Introspector: 'introspector' } as const);

const memo = new Map<string, readonly string[]>();

/**
 * Union of the scopes of the given roles, sorted, unknown roles ignored. Memoised: it runs on
 * every API-key request, and there are only a few distinct role sets. The array is shared and
 * frozen: copy it to change it.
 */
export function scopesForRoles(roles: readonly string[]): readonly string[] {
  const key = roles.join('\0');
  let scopes = memo.get(key);
  if (!scopes) {
    const out = new Set<string>();
    for (const role of roles) for (const scope of roleScopes(role) ?? []) out.add(scope);
    scopes = Object.freeze([...out].sort());
    if (memo.size < 1000) memo.set(key, scopes);
  }
  return scopes;
}
