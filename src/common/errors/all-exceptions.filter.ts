import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { apiBase } from '../http/base-url';
import type { LatchkeyRequest } from '../http/request-context';
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
 * One JSON error shape for everything: AppErrors, Nest HttpExceptions, body-parser errors,
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
    const res = ctx.getResponse<Response>();
    const { body, headers } = this.toResponse(exception, req);
    // For the request log line and the auth-failure metric (never the message: it may quote input).
    if (res.locals) (res.locals as { errorCode?: string }).errorCode = body.code;

    if (res.headersSent) {
      res.end();
      return;
    }
    const redirect = exception instanceof AppError ? exception.options.browserRedirect : undefined;
    if (redirect && isBrowserNavigation(req)) {
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(303, redirect);
      return;
    }
    if (body.statusCode === 401) {
      headers['X-Tiled-Root'] = apiBase(req, this.config.publicUrl, this.config.trustProxy);
    }
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    res.status(body.statusCode).json(body);
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
      if (status >= 500) this.logger.error(`${req?.method} ${req?.path} [${requestId}]: ${exception.message}`, exception.stack);
      return { body: { statusCode: status, code: codeForStatus(status), message, detail: message, requestId }, headers: {} };
    }
    const parserError = bodyParserError(exception);
    if (parserError) return { body: { ...parserError, requestId }, headers: {} };

    if (isDatabaseUnavailable(exception) || isQueryTimeout(exception)) {
      this.logger.warn(`${req?.method} ${req?.path} [${requestId}]: database unavailable: ${(exception as Error)?.message}`);
      const message = 'The service is temporarily unavailable. Retry shortly.';
      return {
        body: { statusCode: 503, code: 'SERVICE_UNAVAILABLE', message, detail: message, requestId },
        headers: { 'Retry-After': '5' },
      };
    }
    this.logger.error(
      `${req?.method} ${req?.path} [${requestId}]: ${(exception as Error)?.message ?? String(exception)}`,
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
  return (req.method === 'GET' || req.method === 'HEAD') && req.accepts(['json', 'html']) === 'html';
}

/**
 * Errors raised by Express's body parsers carry `type` and `status`, except one kind: a body
 * that is not what its `Content-Encoding` says (gzip, deflate, br) makes the zlib stream fail,
 * and body-parser passes that error on with status 400 and no `type`.
 */
function bodyParserError(exception: unknown): Omit<ErrorBody, 'requestId'> | undefined {
  const e = exception as { type?: unknown; status?: unknown; expose?: unknown; limit?: unknown; code?: unknown };
  if (!e || typeof e !== 'object' || typeof e.status !== 'number') return undefined;
  const type = typeof e.type === 'string' ? e.type : isDecompressionError(e) ? 'entity.decompress.failed' : undefined;
  if (!type) return undefined;
  const table: Record<string, [ErrorCode, string]> = {
    'entity.parse.failed': ['MALFORMED_JSON', 'The request body is not valid JSON.'],
    'entity.too.large': ['PAYLOAD_TOO_LARGE', `The request body is larger than ${e.limit ?? 'the limit'} bytes.`],
    'encoding.unsupported': ['UNSUPPORTED_MEDIA_TYPE', 'The request body encoding is not supported.'],
    'charset.unsupported': ['UNSUPPORTED_MEDIA_TYPE', 'The request body charset is not supported.'],
    'request.size.invalid': ['BAD_REQUEST', 'The request body size does not match Content-Length.'],
    'request.aborted': ['BAD_REQUEST', 'The request was aborted.'],
    'parameters.too.many': ['PAYLOAD_TOO_LARGE', 'The request body has too many parameters.'],
    'entity.decompress.failed': ['BAD_REQUEST', 'The request body could not be decoded with its Content-Encoding.'],
  };
  const [code, message] = table[type] ?? [codeForStatus(e.status), 'The request body could not be read.'];
  const statusCode = e.status >= 400 && e.status < 500 ? e.status : 400;
  return { statusCode, code, message, detail: message };
}

/** A zlib/brotli stream error (`Z_DATA_ERROR`, `Z_BUF_ERROR`, `ERR__ERROR_FORMAT_…`) that body-parser marked 400. */
function isDecompressionError(e: { status?: unknown; code?: unknown }): boolean {
  return (
    e instanceof Error &&
    e.status === 400 &&
    typeof e.code === 'string' &&
    /^(Z_|ERR__ERROR_|ERR_BROTLI_|ZSTD_|ERR_ZSTD_)/.test(e.code)
  );
}
