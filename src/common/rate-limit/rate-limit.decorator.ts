import { SetMetadata } from '@nestjs/common';

/**
 * The route classes Latchkey limits (the limits themselves: RATE_LIMIT_*, `config.rateLimit`):
 * - `login`: password logins and device-code polls, per client IP;
 * - `refresh`: refresh-token exchanges, per client IP;
 * - `create`: minting a credential (API key, deploy token, rotation), per user;
 * - `public`: the other anonymous routes (handshake, OIDC redirects, device start, logout), per IP.
 * Per-username login limits and the failed-login slowdown are not route classes: the username is
 * only known once the body is parsed, so `LoginThrottle` applies them in the password provider.
 */
export const RATE_LIMIT_CLASSES = ['login', 'refresh', 'create', 'public'] as const;
export type RateLimitClass = (typeof RATE_LIMIT_CLASSES)[number];

export const RATE_LIMIT_METADATA = 'latchkey:rate-limit';

/** Puts a route (or every route of a controller) under the limits of one or more classes. */
export const RateLimit = (...classes: RateLimitClass[]) => SetMetadata(RATE_LIMIT_METADATA, classes);
