import { HttpException } from '@nestjs/common';

/**
 * Latchkey's error shape (`statusCode`, `code`, `message`, `detail`), so a client sees the same
 * body from Latchkey and from a service it protects.
 */
export function latchkeyError(status: number, code: string, message: string, headers?: Record<string, string>): HttpException {
  const error = new HttpException({ statusCode: status, code, message, detail: message }, status);
  if (headers) (error as HttpException & { headers?: Record<string, string> }).headers = headers;
  return error;
}

export const notAuthenticated = () => latchkeyError(401, 'AUTH_REQUIRED', 'Not authenticated. Send "Authorization: Bearer <token>" or an API key.');
export const invalidCredential = (message = 'Could not validate credentials') => latchkeyError(401, 'AUTH_INVALID_TOKEN', message);
export const latchkeyUnavailable = () =>
  latchkeyError(503, 'SERVICE_UNAVAILABLE', 'The authentication service cannot be reached to check this credential. Retry shortly.');
