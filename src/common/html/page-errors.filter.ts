import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import { AllExceptionsFilter, isBrowserNavigation } from '../errors/all-exceptions.filter';
import { AppError } from '../errors/app-error';
import { pathOf, prefersHtml, type LatchkeyReply, type LatchkeyRequest } from '../http/request-context';
import { AppConfig, InjectConfig } from '../../config/app.config';
import { PagesService } from './pages.service';

/** 401s that mean "nobody (valid) is logged in here": a page load goes to the login page instead. */
const LOG_IN_FIRST = new Set(['AUTH_REQUIRED', 'SESSION_EXPIRED', 'AUTH_INVALID_TOKEN', 'AUTH_TOKEN_EXPIRED', 'AUTH_USER_INACTIVE']);

/**
 * Errors of the page routes. A browser (it asks for HTML first) gets a page: a page load without
 * a login goes to `/login?next=…`; an ended IdP session takes its silent-login/logout path (the
 * error's `browserRedirect`, as the JSON filter does); anything else is an error page with the
 * same status and message as the JSON error, and a link back. Every other client (no `Accept:
 * text/html`, e.g. scripts and the malformed-input suite) gets the one JSON error shape from
 * AllExceptionsFilter, unchanged.
 */
@Catch()
export class PageErrorsFilter implements ExceptionFilter {
  private readonly json: AllExceptionsFilter;

  constructor(
    private readonly pages: PagesService,
    @InjectConfig() config: AppConfig,
  ) {
    this.json = new AllExceptionsFilter(config);
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<LatchkeyRequest>();
    const res = host.switchToHttp().getResponse<LatchkeyReply>();
    const known = exception instanceof AppError || exception instanceof HttpException;
    if (!known || res.sent || !prefersHtml(req)) return this.json.catch(exception, host);

    const status = exception instanceof AppError ? exception.status : exception.getStatus();
    const code = exception instanceof AppError ? exception.code : undefined;
    req.errorCode = code ?? String(status);
    if (exception instanceof AppError && exception.options.browserRedirect && isBrowserNavigation(req)) {
      return this.json.catch(exception, host); // redirects
    }
    if (code && LOG_IN_FIRST.has(code) && isBrowserNavigation(req)) {
      res.header('Cache-Control', 'no-store').redirect(`/login?next=${encodeURIComponent(req.url)}`, 303);
      return;
    }
    const message = exception instanceof AppError ? exception.message : httpMessage(exception);
    const headers: Record<string, string> = exception instanceof AppError ? { ...exception.options.headers } : {};
    delete headers['WWW-Authenticate'];
    if (code === 'REAUTH_REQUIRED' || (code && LOG_IN_FIRST.has(code))) {
      const back = pageOf(pathOf(req));
      this.pages.error(res, status, 'Please log in again', message, { href: `/login?next=${encodeURIComponent(back)}`, label: 'Log in again' }, { headers });
      return;
    }
    this.pages.error(res, status, titleFor(status), message, { href: pageOf(pathOf(req)), label: 'Back' }, { headers });
  }
}

function httpMessage(e: HttpException): string {
  const body = e.getResponse();
  if (typeof body === 'string') return body;
  const message = (body as { message?: unknown }).message;
  return Array.isArray(message) ? message.join('; ') : String(message ?? e.message);
}

function titleFor(status: number): string {
  if (status === 403) return 'Not allowed';
  if (status === 404) return 'Not found';
  if (status === 422 || status === 400) return 'Please check the form';
  if (status === 429) return 'Too many requests';
  if (status === 409) return 'That did not work';
  return status >= 500 ? 'Something went wrong' : 'That did not work';
}

/** The page a form was on: `/account/api-keys/…` → `/account`, `/plugins/x/tokens/…` and `/plugins/x/trusted-publishers/…` → `/plugins/x/tokens`. */
export function pageOf(path: string): string {
  const tokens = /^\/plugins\/([^/]+)\/(?:tokens|trusted-publishers)(\/|$)/.exec(path);
  if (tokens) return `/plugins/${tokens[1]}/tokens`;
  const top = /^\/(account|admin|plugins|login)(\/|$)/.exec(path);
  return top ? `/${top[1]}` : '/account';
}
