import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Response } from 'express';
import { AppError } from '../errors/app-error';
import { safeEqual } from '../auth/token-format';
import { CREDENTIAL_COOKIES } from '../auth/credentials';
import { randomFromPool } from '../crypto/random-pool';
import type { LatchkeyRequest } from './request-context';

export const CSRF_COOKIE = 'tiled_csrf';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * Double-submit CSRF protection as in the Tiled contract §11.
 * - Every response to a request without a `tiled_csrf` cookie sets one (43 url-safe chars,
 *   HttpOnly, SameSite=Lax, Path=/). The Tiled client requires it after the handshake.
 * - A state-changing request that carries a credential cookie (API key or browser session: a
 *   browser sends those on its own) must echo the cookie's value in `x-csrf` (or `?csrf=`, or
 *   a `csrf` form field). Clients that send `Authorization` and no credential cookie are never
 *   checked: a browser cannot forge that header.
 */
@Injectable()
export class CsrfMiddleware implements NestMiddleware {
  use(req: LatchkeyRequest, res: Response, next: NextFunction): void {
    const cookies = (req.cookies ?? {}) as Record<string, unknown>;
    const cookie = typeof cookies[CSRF_COOKIE] === 'string' ? (cookies[CSRF_COOKIE] as string) : undefined;
    req.csrfToken = cookie;
    if (!cookie) {
      req.csrfToken = randomFromPool(32).toString('base64url');
      res.cookie(CSRF_COOKIE, req.csrfToken, { httpOnly: true, sameSite: 'lax', path: '/' });
    }
    if (!SAFE_METHODS.has(req.method) && CREDENTIAL_COOKIES.some((name) => typeof cookies[name] === 'string')) {
      if (!cookie) throw new AppError('CSRF_FAILED', 'Expected tiled_csrf cookie');
      // A form post of Latchkey's own pages sends it as the `csrf` field.
      const field = (req.body as Record<string, unknown> | undefined)?.csrf;
      const header = req.headers['x-csrf'] ?? req.query?.csrf ?? field;
      if (typeof header !== 'string' || header.length === 0) {
        throw new AppError('CSRF_FAILED', 'Expected csrf query parameter or x-csrf header');
      }
      if (!safeEqual(header, cookie)) throw new AppError('CSRF_FAILED', 'Double-submit CSRF tokens do not match');
    }
    next();
  }
}
