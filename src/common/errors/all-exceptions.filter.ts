import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { apiBase } from '../http/base-url';
import { pathOf, prefersHtml, type LatchkeyReply, type LatchkeyRequest } from '../http/request-context';
import { AppConfig, InjectConfig } from '../../config/app.config';
import { AppError } from './app-error';
import { isDatabaseUnavailable } from './database-errors';
import { codeForStatus, ErrorCode } from './error-codes';

export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  message: string;
  /** Tiled clients read `detail`; usually the message, sometimes a structured object. */
  detail: unknown;
  requestId: string;
  errors?: { field: string; message: string }[];
}

/**
 * One JSON error shape for everything: AppErrors, Nest HttpExceptions (Fastify's own errors included), undecodable bodies,
 * an unreachable database (503 + Retry-After) and unknown errors (500, logged with stack,
 * generic message so nothing internal leaks).
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger(AllExceptionsFilter.name);

  constructor(@InjectConfig() private readonly config: AppConfig) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<LatchkeyRequest>();
    const reply = ctx.getResponse<LatchkeyReply>();
    const { body, headers } = this.toResponse(exception, req);
    // For the request log line and the auth-failure metric (never the message: it may quote input).
    if (req) req.errorCode = body.code;

    if (reply.sent || reply.raw.headersSent) {
      if (!reply.raw.writableEnded) reply.raw.end();
      return;
    }
    const redirect = exception instanceof AppError ? exception.options.browserRedirect : undefined;
    if (redirect && isBrowserNavigation(req)) {
      reply.header('Cache-Control', 'no-store').redirect(redirect, 303);
      return;
    }
    if (body.statusCode === 401) {
      headers['X-Tiled-Root'] = apiBase(req, this.config.publicUrl, this.config.trustProxy);
    }
    reply.code(body.statusCode).headers(headers).send(body);
  }

  private toResponse(exception: unknown, req: LatchkeyRequest): { body: ErrorBody; headers: Record<string, string> } {
    const requestId = req?.id ?? '';
    if (exception instanceof AppError) {
      return {
        body: {
          statusCode: exception.status,
          code: exception.code,
          message: exception.message,
          detail: exception.options.detail ?? exception.message,
          requestId,
          ...(exception.options.errors ? { errors: exception.options.errors } : {}),
        },
        headers: { ...exception.options.headers },
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const message =
        typeof response === 'string'
          ? response
          : Array.isArray((response as { message?: unknown }).message)
            ? ((response as { message: string[] }).message.join('; '))
            : String((response as { message?: unknown }).message ?? exception.message);
      if (status >= 500) this.logger.error(`${req?.method} ${req && pathOf(req)} [${requestId}]: ${exception.message}`, exception.stack);
      return { body: { statusCode: status, code: codeForStatus(status), message, detail: message, requestId }, headers: {} };
    }
    const undecodable = decompressionError(exception);
    if (undecodable) return { body: { ...undecodable, requestId }, headers: {} };

    if (isDatabaseUnavailable(exception) || isQueryTimeout(exception)) {
      this.logger.warn(`${req?.method} ${req && pathOf(req)} [${requestId}]: database unavailable: ${(exception as Error)?.message}`);
      const message = 'The service is temporarily unavailable. Retry shortly.';
      return {
        body: { statusCode: 503, code: 'SERVICE_UNAVAILABLE', message, detail: message, requestId },
        headers: { 'Retry-After': '5' },
      };
    }
    this.logger.error(
      `${req?.method} ${req && pathOf(req)} [${requestId}]: ${(exception as Error)?.message ?? String(exception)}`,
      (exception as Error)?.stack,
    );
    const message = 'Internal server error';
    return { body: { statusCode: 500, code: 'INTERNAL_ERROR', message, detail: message, requestId }, headers: {} };
  }
}

/**
 * pg's client-side timeout (`QUERY_TIMEOUT_MS` in database/data-source.ts): the database did not
 * answer in time, e.g. behind a network partition. Unavailable, like a refused connection.
 */
function isQueryTimeout(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    if ((e as { message?: unknown }).message === 'Query read timeout') return true;
    e = (e as { driverError?: unknown }).driverError ?? (e as { cause?: unknown }).cause;
  }
  return false;
}

/** A page load (GET asking for HTML first), not an API call: it may be answered with a redirect. */
export function isBrowserNavigation(req: LatchkeyRequest): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && prefersHtml(req);
}

/**
 * A body that is not what its `Content-Encoding` says: the zlib stream fails while the body is
 * read. (Fastify's own errors, `FST_ERR_…` with a 4xx status, reach this filter as HttpExceptions:
 * Nest maps them, keeping Fastify's fixed messages, which never quote the input.)
 */
function decompressionError(exception: unknown): Omit<ErrorBody, 'requestId'> | undefined {
  const code = (exception as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !isDecompressionError(code)) return undefined;
  const message = 'The request body could not be decoded with its Content-Encoding.';
  return { statusCode: 400, code: 'BAD_REQUEST', message, detail: message };
}

/** A zlib/brotli stream error (`Z_DATA_ERROR`, `Z_BUF_ERROR`, `ERR__ERROR_FORMAT_…`). */
function isDecompressionError(code: string): boolean {
  return /^(Z_|ERR__ERROR_|ERR_BROTLI_|ZSTD_|ERR_ZSTD_)/.test(code);
}
