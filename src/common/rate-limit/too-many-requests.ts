import { AppError } from '../errors/app-error';

/** 429 with `Retry-After` in whole seconds (at least 1). */
export function tooManyRequests(retryAfterSeconds: number, message = 'Too many requests.'): AppError {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return new AppError('TOO_MANY_REQUESTS', `${message} Retry in ${seconds} s.`, {
    headers: { 'Retry-After': String(seconds) },
  });
}
