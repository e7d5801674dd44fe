/** What `LatchkeyModule.forRoot()` takes. */
export interface LatchkeyOptions {
  /** Latchkey's origin, e.g. `https://auth.example.org` (where `/.well-known/…` and `/api/v1` are). */
  url: string;
  /**
   * An API key holding `introspect` (an `introspector` service principal's, made by a Latchkey
   * administrator). Needed to accept API keys, deploy tokens and IdP tokens (introspection) and to
   * follow revocations; without it only access tokens are accepted, and revoked ones until they expire.
   */
  apiKey?: string;
  /** The `aud` access tokens must carry. Default: Latchkey's issuer (its default audience). */
  audience?: string;
  /** Seconds an introspection answer is reused (default 10; 0: ask every time). */
  introspectionCacheTtl?: number;
  /** Install `LatchkeyGuard` for every route (default true); `@Public()` opens a route. */
  global?: boolean;
  /** Milliseconds to wait for Latchkey on each call (default 5000). */
  timeoutMs?: number;
}

export const LATCHKEY_OPTIONS = Symbol('LATCHKEY_OPTIONS');

/** Latchkey's RFC 8414 metadata, the parts this package uses. */
export interface LatchkeyMetadata {
  issuer: string;
  jwks_uri: string;
  introspection_endpoint: string;
  revocation_feed_endpoint: string;
}
