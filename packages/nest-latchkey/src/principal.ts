/** Who a request acts for, whatever credential it carried. */
export interface LatchkeyPrincipal {
  /** `user` (a person or a service principal), or `plugin_token` (a deploy token, acting for a plugin). */
  kind: 'user' | 'plugin_token';
  /** The user's id; a deploy token's own id. */
  sub: string;
  /** The username; "Token {description}" for a deploy token. */
  username: string;
  scopes: readonly string[];
  roles: readonly string[];
  groups: readonly string[];
  /** How the request authenticated: Latchkey's `token_type` (`access_token`, `api_key`, `deploy_token`, …). */
  credential: string;
  /** The login session of an access token. */
  sid?: string;
  /** The plugin a deploy token acts for. */
  plugin?: { id: string; name: string };
  /** The Tiled access tags an API key is restricted to. */
  accessTags?: readonly string[];
}
