/**
 * The one identity every credential resolves to. A discriminated union on `kind`:
 * a user (reached through an access token, an API key or an IdP token), or a plugin deploy
 * token (which acts for a plugin, not for a person).
 */
export type Principal = UserPrincipal | PluginTokenPrincipal;

export interface UserPrincipal {
  readonly kind: 'user';
  readonly userId: string;
  readonly username: string;
  readonly roles: readonly string[];
  readonly groups: readonly string[];
  readonly scopes: readonly string[];
  /** How the request authenticated. */
  readonly credential: UserCredentialRef;
}

export type UserCredentialRef =
  | { readonly type: 'access_token'; readonly sessionId: string; readonly authTime?: number }
  | { readonly type: 'browser_session'; readonly sessionId: string; readonly authTime?: number }
  /** `accessTags`: the Tiled access tags the key is restricted to (null: no restriction). */
  | { readonly type: 'api_key'; readonly id: string; readonly accessTags: readonly string[] | null }
  /** An IdP offline token, exchanged at the IdP. */
  | { readonly type: 'oidc'; readonly provider: string }
  /** The IdP's own JWT access token, verified locally (OIDC_<P>_ACCEPT_ACCESS_TOKENS). */
  | { readonly type: 'idp_access_token'; readonly provider: string };

export interface PluginTokenPrincipal {
  readonly kind: 'plugin_token';
  readonly tokenId: string;
  readonly pluginId: string;
  readonly description: string;
  /**
   * Who acts, as versions, the audit log and introspection name it: `Token {description}`, or for
   * a token a trusted publisher's CI job got, the publisher (`Trusted publisher owner/repo · release.yml`).
   */
  readonly label: string;
  readonly scopes: readonly string[];
}

/** PluginTokenPrincipal.label of a token with this description. */
export function pluginTokenLabel(description: string, fromTrustedPublisher: boolean): string {
  return fromTrustedPublisher ? description : `Token ${description}`;
}

export type PrincipalKind = Principal['kind'];

/**
 * When the interactive login behind the request happened (Unix seconds): the `auth_time` of an
 * access token, the creation of a browser session. Undefined for API keys, deploy tokens, IdP
 * offline tokens, and access tokens minted before the claim existed.
 */
export function authTimeOf(principal: Principal): number | undefined {
  if (principal.kind !== 'user') return undefined;
  const c = principal.credential;
  return c.type === 'access_token' || c.type === 'browser_session' ? c.authTime : undefined;
}

/** The login session behind the request: an access token's or a browser session cookie's. */
export function sessionIdOf(principal: Principal): string | undefined {
  if (principal.kind !== 'user') return undefined;
  const c = principal.credential;
  return c.type === 'access_token' || c.type === 'browser_session' ? c.sessionId : undefined;
}

/**
 * The Tiled access tags the request is restricted to, or null when it is not restricted (every
 * credential but an API key created with `access_tags`). A consumer module that tags its data
 * shows a caller only the entries whose tags are in this list (docs/guards.md).
 */
export function accessTagsOf(principal: Principal): readonly string[] | null {
  return principal.kind === 'user' && principal.credential.type === 'api_key' ? principal.credential.accessTags : null;
}
