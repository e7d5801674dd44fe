/**
 * A return path after a login or logout: only a local absolute path ("/account?x=1"), never
 * another origin ("//evil", "https://…", "/\evil"), at most 2048 visible ASCII characters.
 */
export const LOCAL_PATH = /^\/(?![/\\])[\x21-\x7e]*$/;

export function isLocalPath(path: unknown): path is string {
  return typeof path === 'string' && path.length <= 2048 && LOCAL_PATH.test(path);
}

/** Where a browser lands after logging in when it did not say. */
export const DEFAULT_LANDING = '/account';
