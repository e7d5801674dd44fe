import { Inject, Injectable, type LoggerService } from '@nestjs/common';
import type { Level, Logger } from 'pino';
import { ROOT_LOGGER } from './logger';

/**
 * Nest's `Logger` routed through pino (installed by `configureApp` with `app.useLogger`), so
 * `new Logger(Context).warn(…)` anywhere becomes one JSON line with `context` and, during a
 * request, its `reqId`. Levels: fatal, error, warn, log → info, debug, verbose → trace.
 */
@Injectable()
export class PinoLoggerService implements LoggerService {
  constructor(@Inject(ROOT_LOGGER) private readonly root: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params, true);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /**
   * Nest calls `error(message, stack?, context)` and the others `(message, ...extra, context)`;
   * a contextual Logger always appends its context as the last argument.
   */
  private write(level: Level, message: unknown, params: unknown[], isError = false): void {
    if (!this.root.isLevelEnabled(level)) return;
    const rest = [...params];
    let stack: string | undefined;
    let context: string | undefined;
    if (isError && rest.length === 1 && typeof rest[0] === 'string' && /\n\s+at /.test(rest[0])) {
      stack = rest.shift() as string;
    } else {
      if (rest.length > 0 && typeof rest[rest.length - 1] === 'string') context = rest.pop() as string;
      if (isError && rest.length > 0 && (typeof rest[0] === 'string' || rest[0] === undefined)) stack = rest.shift() as string | undefined;
    }
    const fields: Record<string, unknown> = {};
    if (context) fields.context = context;
    if (stack) fields.stack = stack;
    if (rest.length > 0) fields.extra = rest;
    if (message instanceof Error) {
      this.root[level]({ ...fields, err: message }, message.message);
    } else if (message !== null && typeof message === 'object') {
      this.root[level]({ ...(message as Record<string, unknown>), ...fields });
    } else {
      this.root[level](fields, context === 'RoutesResolver' ? servedPrefixOnly(String(message)) : String(message));
    }
  }
}

/**
 * Nest heads each controller's routes with `Name {/api/v1/path}:`, the global prefix included
 * even where the routes are excluded from it (pages, health, metrics, .well-known). The
 * `Mapped {…}` lines under it give each route's path as served, so the heading keeps the name only.
 */
function servedPrefixOnly(message: string): string {
  return message.replace(/^(\S+) \{[^}]*\}:$/, '$1:');
}
