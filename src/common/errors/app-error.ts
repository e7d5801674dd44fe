import { ERROR_CODES, ErrorCode } from './error-codes';

/**
 * A domain error with a stable code. Transport-free: the HTTP status comes from
 * `ERROR_CODES`, the body shape from `AllExceptionsFilter`.
 */
export class AppError extends Error {
  override readonly name = 'AppError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly options: {
      /** Replaces `detail` in the body (Tiled clients read structured details, e.g. `{error: …}`). */
      detail?: unknown;
      /** Extra response headers, e.g. `WWW-Authenticate` or `Retry-After`. */
      headers?: Record<string, string>;
      /** Field-level problems (validation). */
      errors?: { field: string; message: string }[];
      /** Where a browser navigating with GET goes instead of seeing the JSON error (e.g. a login). */
      browserRedirect?: string;
    } = {},
  ) {
    super(message);
  }

  get status(): number {
    return ERROR_CODES[this.code];
  }
}

/** 401 with the `WWW-Authenticate: Bearer` challenge clients expect. */
export function unauthorized(code: ErrorCode, message: string): AppError {
  return new AppError(code, message, { headers: { 'WWW-Authenticate': 'Bearer' } });
}
