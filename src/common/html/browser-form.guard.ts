import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { AppError } from '../errors/app-error';
import type { LatchkeyRequest } from '../http/request-context';

/**
 * The forms of the pages act only for a browser login (the `lk_session` cookie). A browser sends
 * that cookie on its own, so CsrfCheck checks every such post against the `tiled_csrf`
 * cookie: taking no other credential here means no form action escapes the CSRF check, and API
 * clients keep using the API routes. Runs after the global guards (the principal is known).
 * No constructor dependencies (docs/guards.md: guards applied with @UseGuards).
 */
@Injectable()
export class BrowserFormGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const principal = context.switchToHttp().getRequest<LatchkeyRequest>().principal;
    if (principal?.kind === 'user' && principal.credential.type === 'browser_session') return true;
    throw new AppError('SESSION_REQUIRED', 'This form is for a browser login (log in at /login); API clients use the /api/v1 routes.');
  }
}
