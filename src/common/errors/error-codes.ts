/**
 * Every stable error code Latchkey answers with, and its HTTP status. Services throw
 * `AppError(code, …)`; the exception filter looks the status up here. Clients may rely on codes.
 */
export const ERROR_CODES = {
  // 400
  BAD_REQUEST: 400,
  MALFORMED_JSON: 400,
  MALFORMED_AUTHORIZATION: 400,
  SESSION_LIMIT_REACHED: 400,
  API_KEY_LIMIT_REACHED: 400,
  INVALID_VERSION: 400,
  FILE_REQUIRED: 400,
  /** A device-code login polled before anyone approved it (Tiled: `detail.error = "authorization_pending"`). */
  DEVICE_AUTHORIZATION_PENDING: 400,
  /** A JSON body nested deeper than 32 arrays/objects (refused before it is parsed). */
  JSON_TOO_DEEP: 400,
  // 401
  AUTH_REQUIRED: 401,
  AUTH_INVALID_CREDENTIALS: 401,
  AUTH_INVALID_TOKEN: 401,
  AUTH_TOKEN_EXPIRED: 401,
  AUTH_USER_INACTIVE: 401,
  SESSION_EXPIRED: 401,
  CREDENTIAL_NOT_ACCEPTED: 401,
  /** A missing scope on a Tiled-compatible route: Tiled answers 401, and its clients expect it. */
  INSUFFICIENT_SCOPE_TILED: 401,
  API_KEY_REQUIRED: 401,
  /** A browser session whose IdP session is over: log in again (`detail.login_url`). */
  IDP_SESSION_EXPIRED: 401,
  /** The IdP refused or failed the login (error in the callback, bad code, tampered state). */
  EXTERNAL_LOGIN_FAILED: 401,
  /** A polled device code that is not hex (Tiled: "Invalid device code"). */
  DEVICE_CODE_INVALID: 401,
  /** A user code that matches no pending device-code login (unknown, expired or already used). */
  USER_CODE_INVALID: 401,
  /** A device-code approval without a recent IdP login in this browser (its sealed cookie). */
  IDP_LOGIN_REQUIRED: 401,
  /** A sensitive action (`@RecentLogin()`) after a login older than RECENT_LOGIN_MAX_AGE: log in again. */
  REAUTH_REQUIRED: 401,
  /** A secret-scanning report whose signature is missing, or not GitHub's by a configured key. */
  SIGNATURE_INVALID: 401,
  /** Trusted publishing: a CI ID token from no configured issuer, badly signed, for another audience, expired or without the claims of a CI job. */
  TRUSTED_PUBLISHING_TOKEN_INVALID: 401,
  /** Trusted publishing: a good CI ID token whose job (repository, workflow, environment, ref) no publisher of the plugin names. */
  TRUSTED_PUBLISHING_NO_PUBLISHER: 401,
  /** Trusted publishing: a CI ID token (`jti`) exchanged before. */
  TRUSTED_PUBLISHING_TOKEN_REPLAYED: 401,
  // 403
  FORBIDDEN: 403,
  INSUFFICIENT_ROLE: 403,
  INSUFFICIENT_SCOPE: 403,
  CSRF_FAILED: 403,
  PASSWORD_INCORRECT: 403,
  SESSION_REQUIRED: 403,
  PLUGIN_MAINTAINER_REQUIRED: 403,
  PLUGIN_TOKEN_SCOPE_DENIED: 403,
  /** A service principal tried to log in (password, IdP, device flow) or to link an IdP account: it uses API keys only. */
  SERVICE_PRINCIPAL_NO_LOGIN: 403,
  /** An offline token asked for with an IdP account that is not linked to the caller: link it first. */
  IDENTITY_NOT_LINKED: 403,
  /** A pending IdP link that is missing, expired, already confirmed, or started by another browser session. */
  IDENTITY_LINK_INVALID: 403,
  // 404
  NOT_FOUND: 404,
  SESSION_NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  ROLE_NOT_FOUND: 404,
  API_KEY_NOT_FOUND: 404,
  PLUGIN_NOT_FOUND: 404,
  NOT_A_MAINTAINER: 404,
  VERSION_NOT_FOUND: 404,
  PLUGIN_TOKEN_NOT_FOUND: 404,
  PROVIDER_NOT_FOUND: 404,
  /** A polled device code that matches no pending login (unknown, expired or already collected). */
  DEVICE_CODE_NOT_FOUND: 404,
  /** No pending invitation with this id for the caller (unknown, someone else's, revoked, declined, accepted). */
  INVITATION_NOT_FOUND: 404,
  /** A linked IdP identity that does not exist (or is not this user's). */
  IDENTITY_NOT_FOUND: 404,
  // 405 / 409 / 413 / 415 / 422 / 429
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  USERNAME_TAKEN: 409,
  SESSION_UNKNOWN: 409,
  PLUGIN_NAME_TAKEN: 409,
  LAST_MAINTAINER: 409,
  IDENTITY_LINKED_ELSEWHERE: 409,
  /** Linking an IdP account that is already linked to a Latchkey user (this one or another). */
  IDENTITY_ALREADY_LINKED: 409,
  /** Unlinking the last IdP identity of a user who has no password would leave no way to log in. */
  LAST_LOGIN_METHOD: 409,
  VERSION_EXISTS: 409,
  /** The change would leave no active administrator (disable, delete, or drop the admin role). */
  LAST_ADMIN: 409,
  /** Deleting a custom role someone holds. */
  ROLE_IN_USE: 409,
  /** Changing, deleting or re-creating a built-in role (user, admin, introspector). */
  BUILT_IN_ROLE: 409,
  /** The caller's own invitation to maintain a plugin has expired: ask a maintainer for a new one. */
  INVITATION_EXPIRED: 410,
  /** A revocation-feed cursor older than the feed's history (or from another feed): re-sync. */
  REVOCATION_CURSOR_EXPIRED: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  VALIDATION_FAILED: 422,
  PASSWORD_POLICY: 422,
  TOO_MANY_REQUESTS: 429,
  // 5xx
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The code used for a Nest HttpException that carries no code of its own. */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'BAD_REQUEST';
    case 401:
      return 'AUTH_REQUIRED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 405:
      return 'METHOD_NOT_ALLOWED';
    case 409:
      return 'CONFLICT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 422:
      return 'VALIDATION_FAILED';
    case 429:
      return 'TOO_MANY_REQUESTS';
    case 503:
      return 'SERVICE_UNAVAILABLE';
    default:
      return status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST';
  }
}
