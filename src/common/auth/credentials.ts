import { AppError } from '../errors/app-error';
import type { LatchkeyRequest } from '../http/request-context';

/** Longest secret accepted anywhere (an IdP offline token is the largest we expect). */
export const MAX_CREDENTIAL_LENGTH = 4096;

export const API_KEY_COOKIE = 'tiled_api_key';
/** The browser session cookie (HttpOnly, SameSite=Lax): set by a browser login through an IdP. */
export const SESSION_COOKIE = 'lk_session';
/** Cookies that carry a credential: a state-changing request with one needs the CSRF check. */
export const CREDENTIAL_COOKIES: readonly string[] = [API_KEY_COOKIE, SESSION_COOKIE];

export type PresentedCredential =
  | { readonly scheme: 'apikey'; readonly secret: string; readonly source: 'query' | 'header' | 'cookie' }
  | { readonly scheme: 'bearer'; readonly secret: string; readonly source: 'header' }
  | { readonly scheme: 'session'; readonly secret: string; readonly source: 'cookie' };

const SCHEME_MESSAGE =
  "Authorization header must include the authorization type followed by a space and then the secret, as in 'Bearer SECRET' or 'Apikey SECRET'. ";

/**
 * Finds the credential a request presents, in the Tiled order (§3): `?api_key=`, then
 * `Authorization: Apikey`, then the `tiled_api_key` cookie, then `Authorization: Bearer`, and
 * last the browser session cookie (an explicit credential always wins over the ambient cookie).
 * Returns undefined when there is none. Malformed input is a 400 here, before any lookup.
 */
export function extractCredential(req: LatchkeyRequest): PresentedCredential | undefined {
  const header = req.headers.authorization;
  let scheme: string | undefined;
  let headerSecret: string | undefined;
  if (header !== undefined) {
    const space = header.indexOf(' ');
    if (space <= 0) throw malformed(SCHEME_MESSAGE);
    scheme = header.slice(0, space).toLowerCase();
    headerSecret = header.slice(space + 1).trim();
    if (scheme !== 'bearer' && scheme !== 'apikey') throw malformed(SCHEME_MESSAGE);
    if (headerSecret.length === 0) throw malformed(SCHEME_MESSAGE);
  }

  // The query string is read only when there is one.
  const query = req.url.includes('?') ? req.query?.api_key : undefined;
  if (query !== undefined) {
    if (typeof query !== 'string') throw malformed('Give api_key at most once, as a plain string.');
    return { scheme: 'apikey', secret: checked(query), source: 'query' };
  }
  if (scheme === 'apikey') return { scheme: 'apikey', secret: checked(headerSecret!), source: 'header' };
  const cookie = (req.cookies as Record<string, unknown> | undefined)?.[API_KEY_COOKIE];
  if (typeof cookie === 'string' && cookie.length > 0) return { scheme: 'apikey', secret: checked(cookie), source: 'cookie' };
  if (scheme === 'bearer') return { scheme: 'bearer', secret: checked(headerSecret!), source: 'header' };
  const session = (req.cookies as Record<string, unknown> | undefined)?.[SESSION_COOKIE];
  if (typeof session === 'string' && session.length > 0) return { scheme: 'session', secret: checked(session), source: 'cookie' };
  return undefined;
}

const VISIBLE_ASCII = /^[\x21-\x7e]*$/;

/** A value any verifier may look at: at most MAX_CREDENTIAL_LENGTH characters, visible ASCII only. */
export function isPresentableSecret(secret: string): boolean {
  return secret.length <= MAX_CREDENTIAL_LENGTH && VISIBLE_ASCII.test(secret);
}

/** Rejects oversize secrets and anything outside visible ASCII before it reaches a verifier. */
function checked(secret: string): string {
  if (secret.length > MAX_CREDENTIAL_LENGTH) {
    throw malformed(`The credential is longer than ${MAX_CREDENTIAL_LENGTH} characters.`);
  }
  if (!VISIBLE_ASCII.test(secret)) throw malformed('The credential contains characters that are not allowed.');
  return secret;
}

function malformed(message: string): AppError {
  return new AppError('MALFORMED_AUTHORIZATION', message);
}
